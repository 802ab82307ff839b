using SdBlazor.Engine.Models;
using SdBlazor.Engine.Schedulers;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Pipelines;

/// <summary>A request that passed validation, with every default resolved (model, size, sampler spelling). Owns the decoded init image.</summary>
public sealed record ValidatedRequest(
    GenerationRequest Request,
    ModelFolder Model,
    SamplerChoice Sampler,
    int Width,
    int Height,
    Image<Rgb24>? InitImage) : IDisposable
{
    public bool IsImg2Img => InitImage is not null;

    /// <summary>Hires fix: the second pass's size and settings (null without hires fix). Memory estimates count its size.</summary>
    public HiresPlan? Hires { get; init; }

    /// <summary>SDXL refiner model (null without one).</summary>
    public ModelFolder? Refiner { get; init; }

    /// <summary>Inpainting: the mask prepared at Width×Height (null for plain img2img and txt2img).</summary>
    public InpaintMask? Inpaint { get; init; }

    /// <summary>"Only masked": where the generation goes back into the original image (which it owns); null otherwise.</summary>
    public InpaintCrop? Crop { get; init; }

    public void Dispose()
    {
        InitImage?.Dispose();
        Crop?.Dispose();
    }
}

/// <summary>A validated hires-fix second pass.</summary>
/// <param name="Width">Final width in pixels (multiple of 8): what the second pass denoises and decodes.</param>
/// <param name="UpscaleWidth">The first pass is upscaled to this size, then centre-cropped to Width×Height (A1111's truncate).</param>
/// <param name="Steps">Second-pass steps as requested (A1111: exactly these many steps are run).</param>
public sealed record HiresPlan(int Width, int Height, int UpscaleWidth, int UpscaleHeight, string Upscaler, SamplerChoice Sampler, int Steps)
{
    public bool IsLatent => ImageToolsLimits.IsLatentUpscaler(Upscaler);
}
