using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;

namespace SdBlazor.Engine.Upscaling;

/// <summary>A1111's built-in upscalers ("Lanczos", "Nearest", plus bicubic), resizing in one step with ImageSharp.</summary>
public sealed class ResamplerUpscaler(string name, IResampler resampler) : IImageUpscaler
{
    public static IReadOnlyList<ResamplerUpscaler> BuiltIn { get; } =
    [
        new("Lanczos", KnownResamplers.Lanczos3),
        new("Nearest", KnownResamplers.NearestNeighbor),
        new("Bicubic", KnownResamplers.Bicubic),
    ];

    public string Name => name;

    public int? Scale => null;

    public Image<Rgb24> Upscale(Image<Rgb24> source, int width, int height, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return source.Width == width && source.Height == height ? source.Clone() : source.Clone(x => x.Resize(width, height, resampler));
    }
}
