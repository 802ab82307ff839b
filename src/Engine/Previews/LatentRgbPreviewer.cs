using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SdBlazor.Engine.Previews;

/// <summary>
/// The cheap preview: a fixed linear latent → RGB projection (ComfyUI's latent2rgb, A1111's "Approx cheap"), upscaled
/// ×<see cref="Upscale"/> and JPEG-encoded. Costs a few hundred microseconds at 64×64 latents; no model call.
/// </summary>
public sealed class LatentRgbPreviewer(LatentRgbFactors factors, int upscale = 4, int jpegQuality = 80) : ILatentPreviewer
{
    private readonly JpegEncoder _encoder = new() { Quality = jpegQuality };

    public int Upscale { get; } = upscale;
    public LatentRgbFactors Factors { get; } = factors;

    public byte[] RenderJpeg(ReadOnlySpan<float> latents, int batchItem, int latentHeight, int latentWidth)
    {
        using var image = Project(latents, batchItem, latentHeight, latentWidth);
        if (Upscale > 1) image.Mutate(x => x.Resize(latentWidth * Upscale, latentHeight * Upscale, KnownResamplers.Triangle));
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream, _encoder);
        return stream.ToArray();
    }

    /// <summary>The projected image at latent resolution (one pixel per latent position).</summary>
    public Image<Rgb24> Project(ReadOnlySpan<float> latents, int batchItem, int latentHeight, int latentWidth)
    {
        var channels = Factors.Channels;
        var plane = latentHeight * latentWidth;
        var itemLength = channels * plane;
        if (latents.Length < (batchItem + 1) * itemLength)
            throw new ArgumentException($"latents hold {latents.Length} values; item {batchItem} of [{channels}, {latentHeight}, {latentWidth}] needs {(batchItem + 1) * itemLength}.", nameof(latents));
        var item = latents.Slice(batchItem * itemLength, itemLength);

        var image = new Image<Rgb24>(latentWidth, latentHeight);
        var pixels = new Rgb24[plane];
        var f = Factors.Factors;
        var bias = Factors.Bias;
        for (var p = 0; p < plane; p++)
        {
            float r = bias[0], g = bias[1], b = bias[2];
            for (var c = 0; c < channels; c++)
            {
                var v = item[c * plane + p];
                r += v * f[c][0];
                g += v * f[c][1];
                b += v * f[c][2];
            }
            pixels[p] = new Rgb24(ToByte(r), ToByte(g), ToByte(b));
        }
        image.Frames.RootFrame.ProcessPixelRows(accessor =>
        {
            for (var y = 0; y < latentHeight; y++) pixels.AsSpan(y * latentWidth, latentWidth).CopyTo(accessor.GetRowSpan(y));
        });
        return image;
    }

    // Projection output is roughly [-1, 1]: map to [0, 255] like the VAE output.
    private static byte ToByte(float v) => (byte)Math.Clamp(MathF.Round((v + 1f) * 127.5f), 0f, 255f);
}
