using System.Diagnostics;
using System.Globalization;
using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Upscaling;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Web.Gallery;

/// <summary>
/// The gallery's "Upscale" (A1111's "send to extras"): a gallery image through a built-in resampler or an upscaler
/// model, saved as a new gallery image whose parent is the source. The PNG keeps the source's generation parameters
/// (as A1111's extras tab does), so "use these settings" on the result still means the original generation.
/// One upscale runs at a time; more wait for their turn.
/// </summary>
public sealed class GalleryUpscaler(GalleryStore store, IUpscalerCatalog upscalers, ILogger<GalleryUpscaler> logger)
{
    public const double MinFactor = 1;
    public const double MaxFactor = 8;

    /// <summary>Largest result: the A1111 extras route's own limit (a 4× of 2048²).</summary>
    public const long MaxOutputPixels = Api.SdApiExtras.MaxOutputPixels;

    private readonly SemaphoreSlim _gate = new(1, 1);

    public IReadOnlyList<UpscalerInfo> List() => upscalers.List();

    public static (int Width, int Height) Target(int width, int height, double factor) =>
        ((int)Math.Round(width * factor), (int)Math.Round(height * factor));

    /// <param name="account">Whose the new image is (the person upscaling; null for the owner).</param>
    /// <param name="progress">Phase messages for the user ("Waiting…", "Upscaling …", "Saving…").</param>
    /// <exception cref="GalleryInputException">A bad factor or upscaler, a result too large, or an unreadable source; the message says which.</exception>
    public async Task<GalleryImage> UpscaleAsync(GalleryImage source, string upscalerName, double factor, string? account,
        IProgress<string>? progress = null, CancellationToken ct = default)
    {
        if (double.IsNaN(factor) || factor < MinFactor || factor > MaxFactor)
            throw new GalleryInputException($"The factor must be between {MinFactor} and {MaxFactor} (got {factor.ToString(CultureInfo.InvariantCulture)}).");
        var upscaler = Find(upscalerName);
        var (width, height) = Target(source.Width, source.Height, factor);
        if ((long)width * height > MaxOutputPixels)
            throw new GalleryInputException($"The result would be {width}×{height} ({(long)width * height / 1e6:0.#} megapixels); at most {MaxOutputPixels / 1e6:0.#} are allowed.");

        if (_gate.CurrentCount == 0) progress?.Report("Waiting for another upscale to finish…");
        await _gate.WaitAsync(ct);
        try
        {
            var clock = Stopwatch.StartNew();
            progress?.Report($"Upscaling {source.Width}×{source.Height} → {width}×{height} with {upscaler.Name}…");
            var parameters = store.ReadFileMetadata(source)?.Parameters ?? FromRow(source);
            using var result = await Task.Run(() =>
            {
                using var image = Read(source);
                return upscaler.Upscale(image, width, height, ct);
            }, ct);
            progress?.Report("Saving…");
            var saved = await store.SaveAsync(result, parameters with { ParentId = source.Key }, account, ct);
            logger.LogInformation("Upscaled {Source} to {Width}x{Height} with {Upscaler} in {Seconds:0.0} s: {Result}",
                source.Key, width, height, upscaler.Name, clock.Elapsed.TotalSeconds, saved.Key);
            return saved;
        }
        finally
        {
            _gate.Release();
        }
    }

    private IImageUpscaler Find(string name)
    {
        try
        {
            return upscalers.Find(name ?? "")
                ?? throw new GalleryInputException($"Upscaler '{name}' not found; available: {string.Join(", ", upscalers.List().Select(u => u.Name))}.");
        }
        catch (InvalidDataException ex)
        {
            throw new GalleryInputException(ex.Message, ex);
        }
    }

    // Through SafeImage like every other image the app reads: a gallery file can have been replaced on disk.
    private Image<Rgb24> Read(GalleryImage source)
    {
        using var stream = store.OpenFile(source) ?? throw new GalleryInputException("The image file is missing from the data folder.");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        try
        {
            return SafeImage.Decode(bytes.ToArray(), RequestValidator.InitImageLimits);
        }
        catch (ImageFormatException ex)
        {
            throw new GalleryInputException($"The image file could not be read: {ex.Message}", ex);
        }
    }

    private static ImageParameters FromRow(GalleryImage row) => new()
    {
        Prompt = row.Prompt, NegativePrompt = row.NegativePrompt, Seed = row.Seed, Steps = row.Steps, CfgScale = row.CfgScale,
        Sampler = row.Sampler, ScheduleType = row.ScheduleType, Width = row.Width, Height = row.Height, Model = row.Model,
        ModelHash = row.ModelHash, Strength = row.Strength,
    };
}
