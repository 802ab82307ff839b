using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Imaging;

/// <summary>An untrusted image's format, pixel size and text metadata, read without decoding pixels.</summary>
/// <param name="Format">"png", "jpeg" or "webp" (<see cref="ImageFormatSniffer"/>).</param>
public sealed record ImageProbe(string Format, int Width, int Height, IReadOnlyDictionary<string, string> Texts);

/// <summary>
/// The one way untrusted image bytes (uploads, imports, init images, png-info) reach ImageSharp: the format by magic
/// bytes, the size and text from the header within <see cref="ImageLimits"/> (PNG by <see cref="PngChunkReader"/>,
/// whose checks ImageSharp 2.x lacks), and only then a decode, with metadata parsing off.
/// Every failure is an <see cref="ImageFormatException"/> whose message is fit for the user.
/// </summary>
public static class SafeImage
{
    // Metadata was read by Probe already; the decoders must not parse (or inflate) it a second time.
    private static readonly Configuration Decoding = CreateDecodingConfiguration();

    // JPEG/WebP headers are identified with their metadata (EXIF UserComment carries A1111 parameters), unpooled.
    private static readonly Configuration Identifying = CreateIdentifyingConfiguration();

    public static ImageProbe Probe(byte[] bytes, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        var format = ImageFormatSniffer.Detect(bytes) ?? throw new UnknownImageFormatException("The file is not a PNG, JPEG or WebP image.");
        if (format == "png")
        {
            var png = PngChunkReader.Read(bytes, limits);
            return new ImageProbe(format, png.Width, png.Height, png.Texts);
        }
        if (format == "webp" && IsAnimatedWebp(bytes)) throw new InvalidImageContentException("Animated WebP images are not accepted.");

        IImageInfo? info;
        try
        {
            info = Image.Identify(Identifying, new MemoryStream(bytes, writable: false));
        }
        catch (Exception ex) when (IsDecoderFailure(ex))
        {
            throw new InvalidImageContentException($"The {format.ToUpperInvariant()} file is damaged.", ex);
        }
        if (info is null || info.Width <= 0 || info.Height <= 0) throw new InvalidImageContentException($"The {format.ToUpperInvariant()} file is damaged.");
        limits.CheckSize(info.Width, info.Height);
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        if (info.Metadata.ExifProfile?.GetValue(ExifTag.UserComment)?.Value.Text?.TrimEnd('\0') is { Length: > 0 } comment)
        {
            if (comment.Length > limits.MaxTextChunkBytes) throw new InvalidImageContentException("The image's EXIF comment is too long.");
            // ImageSharp decodes the 8-byte character-code prefix (A1111 writes "UNICODE" via piexif).
            texts[PngTextChunks.ParametersKeyword] = comment;
        }
        return new ImageProbe(format, info.Width, info.Height, texts);
    }

    /// <summary>Probes, then decodes the first frame as RGB. Throws <see cref="ImageFormatException"/> for anything bad.</summary>
    public static Image<Rgb24> Decode(byte[] bytes, ImageLimits? limits = null) => Decode(bytes, Probe(bytes, limits));

    /// <summary>Decodes bytes that <see cref="Probe"/> accepted.</summary>
    public static Image<Rgb24> Decode(byte[] bytes, ImageProbe probe) => Decode<Rgb24>(bytes, probe);

    /// <summary>Probes, then decodes the first frame in <typeparamref name="TPixel"/> (masks: <see cref="L8"/>).</summary>
    public static Image<TPixel> Decode<TPixel>(byte[] bytes, ImageLimits limits) where TPixel : unmanaged, IPixel<TPixel> =>
        Decode<TPixel>(bytes, Probe(bytes, limits));

    private static Image<TPixel> Decode<TPixel>(byte[] bytes, ImageProbe probe) where TPixel : unmanaged, IPixel<TPixel>
    {
        try
        {
            var image = Image.Load<TPixel>(Decoding, bytes);
            if (image.Width != probe.Width || image.Height != probe.Height)
            {
                image.Dispose();
                throw new InvalidImageContentException("The image's header and its data disagree about its size.");
            }
            return image;
        }
        catch (Exception ex) when (IsDecoderFailure(ex))
        {
            throw new InvalidImageContentException($"The {probe.Format.ToUpperInvariant()} file is damaged and cannot be decoded.", ex);
        }
    }

    /// <summary>
    /// Anything a decoder throws on hostile bytes (ImageSharp 2 can fail with index, argument, null-reference or
    /// overflow errors on crafted headers) means "damaged file", except running out of memory or being cancelled.
    /// </summary>
    private static bool IsDecoderFailure(Exception ex) =>
        ex is not (ImageFormatException or OutOfMemoryException or OperationCanceledException or InsufficientExecutionStackException);

    /// <summary>VP8X's animation flag (RIFF header, then "VP8X", size, flags at byte 20).</summary>
    private static bool IsAnimatedWebp(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 21 && bytes.Slice(12, 4).SequenceEqual("VP8X"u8) && (bytes[20] & 0x02) != 0;

    // No pooling: buffers of hostile uploads go back to the GC instead of staying in ImageSharp's pools.
    private static Configuration CreateIdentifyingConfiguration() => new(new PngConfigurationModule(), new JpegConfigurationModule(), new WebpConfigurationModule())
    {
        MemoryAllocator = new SixLabors.ImageSharp.Memory.SimpleGcMemoryAllocator(),
    };

    private static Configuration CreateDecodingConfiguration()
    {
        // A new configuration, not Configuration.Default.Clone(): ImageSharp 2's clone shares the format manager, so
        // SetDecoder below would switch metadata off for the whole process.
        var configuration = CreateIdentifyingConfiguration();
        configuration.ImageFormatsManager.SetDecoder(PngFormat.Instance, new PngDecoder { IgnoreMetadata = true });
        configuration.ImageFormatsManager.SetDecoder(JpegFormat.Instance, new JpegDecoder { IgnoreMetadata = true });
        configuration.ImageFormatsManager.SetDecoder(WebpFormat.Instance, new WebpDecoder { IgnoreMetadata = true });
        return configuration;
    }
}
