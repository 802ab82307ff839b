using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// The engine as the web layer sees it: models by name, and one generation call.
/// Implementations are thread-safe; callers run one generation at a time per device (the queue worker does).
/// </summary>
public interface IGenerationEngine
{
    /// <summary>Models found under <c>Engine:ModelsPath</c> (a model's name is its folder name).</summary>
    IReadOnlyList<ModelDescriptor> ListModels();

    /// <summary>Re-scan the models folder (new folders appear, removed ones disappear; loaded sessions of removed models are released).</summary>
    void RefreshModels();

    /// <summary>
    /// Loads a model's sessions now (the default model when <paramref name="modelName"/> is null) instead of at the first
    /// request, and warms it up when <c>Engine:WarmUpOnLoad</c> is set. Waits for a running generation.
    /// </summary>
    /// <param name="warmUpSize">Pixels (square) to warm up at; null: the model's native size.</param>
    Task<PreloadTimings> PreloadAsync(string? modelName = null, int? warmUpSize = null, CancellationToken cancellationToken = default);

    /// <summary>Models whose sessions are loaded now, least recently used first.</summary>
    IReadOnlyList<LoadedModelInfo> LoadedModels() => [];

    /// <summary>Releases the sessions of the loaded model whose folder is <paramref name="nameOrPath"/> (or of every loaded variant with that name), unless a generation uses it.</summary>
    UnloadOutcome UnloadModel(string nameOrPath) => UnloadOutcome.NotLoaded;

    /// <summary>Releases every loaded model; one a generation uses is released when that generation ends (A1111's unload-checkpoint).</summary>
    void UnloadAll()
    {
    }

    /// <summary>
    /// Runs txt2img (or img2img when <see cref="GenerationRequest.InitImage"/> is set): all batches, all images.
    /// Throws <see cref="GenerationValidationException"/> for bad input (before any work starts) and
    /// <see cref="OperationCanceledException"/> when cancelled (between steps, or by aborting an in-flight ONNX run);
    /// <see cref="GenerationCancelledException"/> when images of earlier batches were already finished.
    /// </summary>
    /// <param name="progress">Called synchronously on the engine thread once per step; see <see cref="StepProgress"/>.</param>
    /// <param name="skipImage">Checked between steps: when it returns true the current image (batch) is abandoned and the next starts.</param>
    /// <param name="imagesPerUNetBatch">
    /// At most this many images per UNet batch (0: the whole batch). A batch is then denoised in parts one after
    /// another, with the same seeds, so the images are the same; memory admission uses it when a whole batch would not fit.
    /// </param>
    Task<GenerationResult> GenerateAsync(
        GenerationRequest request,
        IStepProgressSink? progress,
        CancellationToken cancellationToken,
        Func<bool>? skipImage = null,
        int imagesPerUNetBatch = 0);
}

/// <summary>A model the engine can load: a diffusers-ONNX folder, or a single-file checkpoint (converted on first use).</summary>
/// <param name="Name">Folder name or the checkpoint's file name without extension: the model's identity in requests.</param>
/// <param name="Path">The folder, or the checkpoint file.</param>
/// <param name="NativeWidth">Pixels; from <c>unet/config.json</c> <c>sample_size</c> × 8 (512 when absent), or the checkpoint's architecture.</param>
/// <param name="Sha256">SHA-256 of <c>unet/model.onnx</c>, or of the checkpoint file (hex, lower case), for A1111-style model hashes; null until computed.</param>
/// <param name="FileName">For a checkpoint, its file name (<c>NAME.safetensors</c>, as A1111 titles it); null for a folder.</param>
/// <param name="Error">Why this model cannot be used (a pickle file, a damaged or unknown checkpoint), naming it; null when usable.</param>
/// <param name="IsSdxl">SDXL family (base or refiner): what a refiner must match.</param>
public sealed record ModelDescriptor(string Name, string Path, int NativeWidth, int NativeHeight, bool SupportsImg2Img, string? Sha256,
    string? FileName = null, string? Error = null, bool IsSdxl = false);

/// <summary>
/// Receives per-step progress. Called synchronously on the engine thread: implementations must be fast
/// (copy or render what they need and return) because the latents buffer is reused by the next step.
/// </summary>
public interface IStepProgressSink
{
    void OnStep(in StepProgress progress);

    /// <summary>Work before the first step that takes a while, by phase (<c>"Converting unet"</c>: a checkpoint's first use); <paramref name="total"/> 0 when unknown.</summary>
    void OnPhase(string phase, int done, int total)
    {
    }
}

/// <param name="ImageIndex">Index of the first image of the current batch within the whole request.</param>
/// <param name="BatchIndex">Which batch (0-based) of <see cref="GenerationRequest.BatchCount"/>.</param>
/// <param name="Step">1-based step just completed.</param>
/// <param name="TotalSteps">Steps this batch will run (img2img: fewer than requested).</param>
/// <param name="Latents">Current latents [batch, 4, h/8, w/8], C order; valid only during the callback.</param>
/// <param name="Previewer">Renders <paramref name="Latents"/> as a small JPEG cheaply (latent → RGB projection).</param>
public readonly record struct StepProgress(
    int ImageIndex,
    int BatchIndex,
    int Step,
    int TotalSteps,
    float Timestep,
    TimeSpan Elapsed,
    ReadOnlyMemory<float> Latents,
    int LatentHeight,
    int LatentWidth,
    Previews.ILatentPreviewer Previewer);

/// <summary>The finished images plus exactly what was used to make them. Dispose to release the images.</summary>
public sealed class GenerationResult(IReadOnlyList<GeneratedImage> images, ResolvedParameters parameters) : IDisposable
{
    public IReadOnlyList<GeneratedImage> Images { get; } = images;
    public ResolvedParameters Parameters { get; } = parameters;

    public void Dispose()
    {
        foreach (var image in Images) image.Image.Dispose();
    }
}

/// <param name="Index">0-based index within the request (batch × batch size + position).</param>
/// <param name="Seed">The seed of this image (resolved seed + index).</param>
public sealed record GeneratedImage(int Index, long Seed, Image<Rgb24> Image);

/// <summary>Everything needed to reproduce a generation: the request with defaults and the random seed resolved.</summary>
public sealed record ResolvedParameters(
    string Prompt,
    string NegativePrompt,
    string Model,
    string? ModelSha256,
    string Sampler,
    string ScheduleType,
    int Steps,
    double CfgScale,
    long Seed,
    int Width,
    int Height,
    int BatchSize,
    int BatchCount,
    double? Strength,
    string SchedulerConfigJson,
    string Rng,
    string EngineVersion,
    string ExecutionProvider,
    TimeSpan Duration)
{
    /// <summary>What the engine ignored or could not apply (a negative prompt at CFG 1, an unknown LoRA or one of another architecture), for the result's info.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>A1111's "Clip skip" the prompts were encoded with.</summary>
    public int ClipSkip { get; init; } = 1;

    /// <summary>A1111's emphasis mode the prompts were parsed with.</summary>
    public string Emphasis { get; init; } = "Original";

    /// <summary>The resolved variation seed (image <c>i</c> uses Subseed + i; A1111 resolves it even at strength 0).</summary>
    public long Subseed { get; init; } = -1;

    /// <summary>Variation-seed settings when they changed the noise; null otherwise.</summary>
    public Randomness.VariationSettings? Variation { get; init; }

    /// <summary>Hires fix settings; Width/Height above are then the first pass's size and the images are larger.</summary>
    public Imaging.HiresSettings? Hires { get; init; }

    /// <summary>Inpainting's mask blur (null without a mask).</summary>
    public int? MaskBlur { get; init; }

    /// <summary>A1111's "Conditional mask weight": written whenever an inpainting model's conditioning was used.</summary>
    public double? ConditionalMaskWeight { get; init; }

    /// <summary>"Only masked" inpainting: A1111's "Masked area padding" (its "Inpaint area: Only masked"); null for the whole picture.</summary>
    public int? MaskedAreaPadding { get; init; }

    /// <summary>img2img noise multiplier when it is not 1.</summary>
    public double? NoiseMultiplier { get; init; }

    /// <summary>The refiner as A1111's infotext names it ("name [short hash]"), when it took over; null otherwise.</summary>
    public string? Refiner { get; init; }

    /// <summary>A1111's <c>refiner_switch_at</c>, when the refiner took over.</summary>
    public double? RefinerSwitchAt { get; init; }
}

/// <summary>
/// A generation cancelled after some of its images were finished: <see cref="Partial"/> holds them (the caller owns
/// and disposes it). Cancelled before any image was finished, the engine throws a plain <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class GenerationCancelledException(GenerationResult partial)
    : OperationCanceledException($"Cancelled after {partial.Images.Count} finished image(s).")
{
    public GenerationResult Partial { get; } = partial;
}

/// <summary>Bad input to a generation: the message says what is allowed. Nothing was run.</summary>
public sealed class GenerationValidationException(string message) : Exception(message);
