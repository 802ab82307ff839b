using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Upscaling;

/// <summary>An image upscaler (A1111's <c>Upscaler</c>): a built-in resampler or a super-resolution model.</summary>
public interface IImageUpscaler
{
    /// <summary>The name users pick (A1111's <c>upscaler_1</c>, <c>hr_upscaler</c>): "Lanczos", "Nearest", or a model file's name.</summary>
    string Name { get; }

    /// <summary>The model's native factor (ESRGAN 4× …); null for resamplers, which reach any size in one go.</summary>
    int? Scale { get; }

    /// <summary>A new image of exactly <paramref name="width"/>×<paramref name="height"/>; the source is left as it is.</summary>
    Image<Rgb24> Upscale(Image<Rgb24> source, int width, int height, CancellationToken cancellationToken);
}

/// <summary>The upscalers a user can choose: built-in resamplers plus the models in <c>models/upscalers</c>.</summary>
public interface IUpscalerCatalog
{
    IReadOnlyList<UpscalerInfo> List();

    /// <summary>Case-insensitive lookup; null for an unknown name.</summary>
    IImageUpscaler? Find(string name);
}

/// <param name="ModelPath">The ONNX file of a model upscaler; null for built-ins.</param>
public sealed record UpscalerInfo(string Name, int? Scale, string? ModelPath);
