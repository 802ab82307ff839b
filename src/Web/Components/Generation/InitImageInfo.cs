using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SdBlazor.Web.Gallery;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Processing;

namespace SdBlazor.Web.Components.Generation;

/// <summary>What the drop zone shows of an init image, read with the same guarded decoder the engine uses.</summary>
public static class InitImageInfo
{
    /// <summary>A small PNG data URL and the image's size; <see cref="GenerationValidationException"/> for a file the engine would refuse.</summary>
    public static (string DataUrl, int Width, int Height) Thumbnail(byte[] bytes, int side)
    {
        using var image = RequestValidator.DecodeInitImage(bytes);
        var (width, height) = (image.Width, image.Height);
        var scale = Math.Min(1.0, (double)side / Math.Max(width, height));
        image.Mutate(x => x.Resize(Math.Max(1, (int)(width * scale)), Math.Max(1, (int)(height * scale))));
        using var png = new MemoryStream();
        image.SaveAsPng(png);
        return ("data:image/png;base64," + Convert.ToBase64String(png.ToArray()), width, height);
    }

    /// <summary>The A1111 parameters a file carries (PNG text, JPEG/WebP EXIF) as a request, or null.</summary>
    public static GenerationRequest? ReadParameters(byte[] bytes)
    {
        try
        {
            var texts = SafeImage.Probe(bytes, RequestValidator.InitImageLimits).Texts;
            return EmbeddedMetadata.From(texts).Parameters is { } p ? GalleryPrefill.ToRequest(p) : null;
        }
        catch (ImageFormatException)
        {
            return null;
        }
    }
}
