using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Imaging;

/// <summary>
/// Text chunks of PNG files through ImageSharp: written uncompressed as tEXt when the value is Latin-1 and as
/// iTXt (UTF-8) otherwise; read from tEXt, iTXt and zTXt without decoding pixels. JPEG/WebP carry A1111's
/// <c>parameters</c> in EXIF UserComment, which is read too.
/// </summary>
public static class PngTextChunks
{
    public const string ParametersKeyword = "parameters";

    // ImageSharp compresses text longer than this into zTXt/compressed iTXt; A1111 writes plain chunks, so never compress.
    private static readonly PngEncoder Encoder = new() { TextCompressionThreshold = int.MaxValue };

    public static void WritePng<TPixel>(Image<TPixel> image, Stream output, IEnumerable<KeyValuePair<string, string>> texts)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        var png = image.Metadata.GetPngMetadata();
        png.TextData.Clear();
        foreach (var (keyword, value) in texts) png.TextData.Add(new PngTextData(keyword, value, "", ""));
        image.SaveAsPng(output, Encoder);
    }

    /// <summary>
    /// Reads the text metadata of a PNG, JPEG or WebP stream (keyword → value; a repeated keyword keeps the first)
    /// through <see cref="SafeImage.Probe"/>, so text chunks are inflated with a cap and no pixels are decoded.
    /// Throws <see cref="UnknownImageFormatException"/> or <see cref="InvalidImageContentException"/> for bad files.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Read(Stream input, ImageLimits? limits = null)
    {
        using var copy = new MemoryStream();
        input.CopyTo(copy);
        var bytes = copy.ToArray();
        return SafeImage.Probe(bytes, limits).Texts;
    }
}
