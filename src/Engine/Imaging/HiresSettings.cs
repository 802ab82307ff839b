namespace SdBlazor.Engine.Imaging;

/// <summary>
/// Hires fix as A1111 records it in infotext (<c>extra_generation_params</c>): "Hires upscale" or "Hires resize",
/// "Hires steps" (only when set apart from Steps), "Hires upscaler", and sampler/prompts only where they differ
/// from the first pass. Its "Denoising strength" is the image's <see cref="ImageParameters.Strength"/>.
/// </summary>
public sealed record HiresSettings
{
    public double? Scale { get; init; }
    public int? ResizeWidth { get; init; }
    public int? ResizeHeight { get; init; }
    public int? Steps { get; init; }
    public string Upscaler { get; init; } = "Latent";
    public string? Sampler { get; init; }
    public string? Prompt { get; init; }
    public string? NegativePrompt { get; init; }
}
