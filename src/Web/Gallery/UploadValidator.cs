using Microsoft.Extensions.Options;
using SdBlazor.Engine.Imaging;
using SixLabors.ImageSharp;

namespace SdBlazor.Web.Gallery;

public enum UploadFormat
{
    Png,
    Jpeg,
    Webp,
}

/// <summary>Bad input to the gallery (an upload or import); the message says what is allowed. Nothing was stored.</summary>
public sealed class GalleryInputException(string message, Exception? inner = null) : Exception(message, inner);

/// <param name="Probe">Size and text chunks as read (with limits) before decoding.</param>
public sealed record ValidatedUpload(byte[] Bytes, UploadFormat Format, int Width, int Height, ImageProbe Probe);

/// <summary>
/// Checks uploads before anything decodes them: the format by its magic bytes (PNG, JPEG, WebP — never the file
/// name or the client's content type), the byte size, and then <see cref="SafeImage.Probe"/>: the pixel size from the
/// header alone and text chunks inflated with a cap (so neither kind of decompression bomb gets far).
/// </summary>
public sealed class UploadValidator(IOptions<GalleryOptions> options)
{
    private static readonly byte[] PngMagic = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static UploadFormat? Sniff(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith(PngMagic)) return UploadFormat.Png;
        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) return UploadFormat.Jpeg;
        if (bytes.Length >= 12 && bytes[..4].SequenceEqual("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8)) return UploadFormat.Webp;
        return null;
    }

    /// <summary>Reads at most <see cref="GalleryOptions.MaxUploadBytes"/> from a stream; longer input is refused.</summary>
    public async Task<byte[]> ReadLimitedAsync(Stream stream, CancellationToken ct)
    {
        var max = options.Value.MaxUploadBytes;
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > max) throw new GalleryInputException($"The file is larger than the limit of {FormatBytes(max)}.");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    public ValidatedUpload Validate(byte[] bytes)
    {
        var o = options.Value;
        if (bytes.Length == 0) throw new GalleryInputException("The file is empty.");
        if (bytes.Length > o.MaxUploadBytes) throw new GalleryInputException($"The file is larger than the limit of {FormatBytes(o.MaxUploadBytes)}.");
        var format = Sniff(bytes) ?? throw new GalleryInputException("Only PNG, JPEG and WebP images can be uploaded (the file's content is none of these).");

        ImageProbe probe;
        try
        {
            probe = SafeImage.Probe(bytes, new ImageLimits { MaxSide = o.MaxUploadSide, MaxPixels = o.MaxUploadPixels });
        }
        catch (ImageFormatException ex)
        {
            throw new GalleryInputException($"The {format} file is damaged or not allowed: {ex.Message}", ex);
        }
        return new ValidatedUpload(bytes, format, probe.Width, probe.Height, probe);
    }

    private static string FormatBytes(long bytes) => bytes >= 1024 * 1024 ? $"{bytes / (1024.0 * 1024):0.#} MB" : $"{bytes / 1024.0:0.#} KB";
}
