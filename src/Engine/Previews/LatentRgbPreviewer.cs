using System.Buffers;
using System.Numerics.Tensors;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SdBlazor.Engine.Previews;

/// <summary>
/// The cheap preview: a fixed linear latent → RGB projection (ComfyUI's latent2rgb, A1111's "Approx cheap"), upscaled
/// ×<see cref="Upscale"/> and JPEG-encoded. No model call; well under a millisecond of work at 64×64 latents.
/// Thread-safe (no per-call state is kept on the instance).
/// </summary>
public sealed class LatentRgbPreviewer(LatentRgbFactors factors, int upscale = 2, int jpegQuality = 80) : ILatentPreviewer
{
    // ImageSharp parallelises resizes by default; for images this small the thread hand-offs cost more than the work,
    // and they would compete with ONNX Runtime's threads.
    private static readonly Configuration Sequential = CreateSequential();

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

        var buffer = ArrayPool<float>.Shared.Rent(3 * plane);
        try
        {
            // rgb[k] = bias[k] + Σ_c latent[c] · factors[c][k], one vectorised pass per (channel, colour).
            for (var k = 0; k < 3; k++)
            {
                var colour = buffer.AsSpan(k * plane, plane);
                colour.Fill(Factors.Bias[k]);
                for (var c = 0; c < channels; c++)
                    TensorPrimitives.MultiplyAdd(item.Slice(c * plane, plane), Factors.Factors[c][k], colour, colour);
            }

            var image = new Image<Rgb24>(Sequential, latentWidth, latentHeight);
            image.ProcessPixelRows(accessor =>
            {
                for (var y = 0; y < latentHeight; y++)
                {
                    var row = accessor.GetRowSpan(y);
                    for (int x = 0, p = y * latentWidth; x < row.Length; x++, p++)
                        row[x] = new Rgb24(ToByte(buffer[p]), ToByte(buffer[plane + p]), ToByte(buffer[2 * plane + p]));
                }
            });
            return image;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    // Projection output is roughly [-1, 1]: map to [0, 255] like the VAE output.
    private static byte ToByte(float v) => (byte)Math.Clamp(v * 127.5f + 128f, 0f, 255f);

    private static Configuration CreateSequential()
    {
        var configuration = Configuration.Default.Clone();
        configuration.MaxDegreeOfParallelism = 1;
        return configuration;
    }
}
