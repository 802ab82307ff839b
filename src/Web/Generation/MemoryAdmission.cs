using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Options;
using SdBlazor.Engine;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;

namespace SdBlazor.Web.Generation;

/// <param name="NeedBytes">Estimated peak with <paramref name="ImagesPerUNetBatch"/> images per UNet batch.</param>
/// <param name="ImagesPerUNetBatch">The request's batch size, or fewer when the whole batch does not fit (the images are the same).</param>
public sealed record AdmissionPlan(long NeedBytes, long BudgetBytes, int ImagesPerUNetBatch);

/// <summary>
/// Memory admission control: a job is queued only when its estimated peak (<see cref="JobMemoryEstimator"/>) fits the
/// budget of whoever submitted it; a batch that does not fit whole runs as smaller UNet batches when that fits (each
/// image has its own seeded generator, so the images are the same). Everything else is refused at submit, with the
/// need and the budget in the message, instead of letting the kernel kill the server mid-run. A single-file checkpoint
/// counts as the fp32 folder it becomes, and before its first use as the larger of that and its conversion's peak.
/// </summary>
public sealed class MemoryAdmission(IGenerationEngine engine, ModelRegistry registry, IOptionsMonitor<GenerationOptions> options, IOptions<EngineOptions> engineOptions)
{
    private readonly ConcurrentDictionary<string, (long Bytes, bool Fused)> _models = new(StringComparer.Ordinal);

    /// <param name="owner">The owner's budget (<see cref="GenerationOptions.MemoryBudgetBytes"/>) or a member's (smaller by default).</param>
    /// <exception cref="GenerationValidationException">Not even one image per UNet batch fits.</exception>
    public AdmissionPlan Plan(GenerationRequest request, bool owner, long initImagePixels = 0)
    {
        var name = string.IsNullOrWhiteSpace(request.Model) ? engineOptions.Value.DefaultModel : request.Model;
        var model = engine.ListModels().FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
        var width = request.Width ?? model?.NativeWidth ?? 512;
        var height = request.Height ?? model?.NativeHeight ?? 512;
        var profile = options.CurrentValue.MemoryProfile;
        var checkpoint = model?.FileName is null ? null : registry.FindCheckpoint(model.Name);
        long modelBytes;
        bool fused;
        var conversionBytes = 0L;
        if (checkpoint?.Layout is { } layout)
        {
            // Not the .safetensors size: the engine runs the fp32 folder it converts into (and widens f16 files).
            modelBytes = CheckpointMemory.Fp32ModelBytes(checkpoint);
            fused = _models.GetOrAdd(layout.GraphSet.Path, path => (0, HasFusedAttention(path))).Fused;
            if (!registry.Checkpoints.IsConverted(checkpoint)) conversionBytes = CheckpointMemory.ConversionPeakBytes(checkpoint, profile.RuntimeBytes);
        }
        else
        {
            (modelBytes, fused) = model is null ? (0, false) : _models.GetOrAdd(model.Path, path => (FolderBytes(path), HasFusedAttention(path)));
        }
        var budget = Budget(owner);

        // Hires fix's second pass runs at the target size: the estimate takes the larger of the two passes.
        var upscale = 1.0;
        if (request.EnableHr && request.InitImage is null && width > 0 && height > 0)
        {
            var (hw, hh) = HiresSize.UpscaleTo(width, height, request);
            upscale = Math.Max(1.0, Math.Sqrt((double)hw * hh / ((double)width * height)));
        }

        // The conversion finishes (and frees its mapped file and test session) before the job's sessions are made.
        long Need(int images) => Math.Max(conversionBytes, JobMemoryEstimator.PeakBytes(
            new JobMemoryInput(modelBytes, width, height, images, request.InitImage is not null, initImagePixels, fused, upscale), profile));

        var batch = Math.Max(1, request.BatchSize);
        for (var images = batch; images >= 1; images--)
        {
            var need = Need(images);
            if (need <= budget) return new AdmissionPlan(need, budget, images);
        }
        var one = Need(1);
        var who = owner ? "a job of the owner" : "a member's job";
        var converting = conversionBytes >= one;
        throw new GenerationValidationException(
            $"This job needs about {GiB(one)} of memory{(batch > 1 && !converting ? " even one image at a time" : "")} ({width}x{height}, model {name}" +
            $"{(converting ? ", converted from its checkpoint file on first use" : "")}), " +
            $"but the server allows {GiB(budget)} for {who} (setting Generation:{(owner ? "MemoryBudgetBytes" : "MemberMemoryBudgetBytes")}). " +
            (converting ? "Choose a smaller model." : "Choose a smaller width and height."));
    }

    /// <summary>What keeping a loaded model costs, counted as the job estimate counts a model (the process's own runtime is not the model's).</summary>
    /// <param name="folderPath">The folder its sessions were made from.</param>
    public long ResidentBytes(string folderPath) =>
        (long)(options.CurrentValue.MemoryProfile.ResidentPerModelByte * _models.GetOrAdd(folderPath, path => (FolderBytes(path), HasFusedAttention(path))).Bytes);

    /// <summary>The owner's budget: the configured bytes, or a share of the memory this process may use (container limits included).</summary>
    public long Budget(bool owner)
    {
        var o = options.CurrentValue;
        var total = o.MemoryBudgetBytes > 0
            ? o.MemoryBudgetBytes
            : (long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * Math.Clamp(o.MemoryBudgetPercent, 1, 100) / 100.0);
        if (owner) return total;
        return o.MemberMemoryBudgetBytes > 0 ? Math.Min(o.MemberMemoryBudgetBytes, total) : (long)(total * Math.Clamp(o.MemberMemoryBudgetPercent, 1, 100) / 100.0);
    }

    public static string GiB(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB");

    /// <summary>
    /// Whether the UNet graph uses ONNX Runtime's fused attention: the op type is a plain string in the protobuf, so
    /// a byte search finds it without parsing the graph (an unknown or unreadable graph counts as not fused: the larger estimate).
    /// </summary>
    private static bool HasFusedAttention(string modelPath)
    {
        ReadOnlySpan<byte> needle = "MultiHeadAttention"u8;
        try
        {
            using var file = File.OpenRead(Path.Combine(modelPath, "unet", "model.onnx"));
            var buffer = new byte[1 << 20];
            var kept = 0;
            int read;
            while ((read = file.Read(buffer, kept, buffer.Length - kept)) > 0)
            {
                var filled = kept + read;
                if (buffer.AsSpan(0, filled).IndexOf(needle) >= 0) return true;
                // Keep the tail, in case the name straddles two reads.
                kept = Math.Min(needle.Length - 1, filled);
                buffer.AsSpan(filled - kept, kept).CopyTo(buffer);
            }
            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long FolderBytes(string path)
    {
        try
        {
            return new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories)
                .Where(f => f.Name.Contains(".onnx", StringComparison.OrdinalIgnoreCase) || f.Extension is ".data" or ".pb" or ".bin")
                .Sum(f => f.Length);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
