using SdBlazor.Engine.Schedulers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// An inpainting mask prepared at the generation size, as A1111's <c>StableDiffusionProcessingImg2Img.init</c> makes
/// it: inverted if asked, Gaussian-blurred by <c>mask_blur</c>, resized to the image; the latent mask is that resized
/// to the latent grid and rounded (<c>mask_round</c>), the overlay mask is the blurred mask doubled and clipped.
/// Values are "repaint" weights in 0..1 (white = repaint).
/// </summary>
public sealed record InpaintMask(int Width, int Height, float[] Blurred, float[] Overlay, int LatentWidth, int LatentHeight, float[] Latent)
{
    /// <exception cref="GenerationValidationException">An all-black mask (nothing to repaint).</exception>
    public static InpaintMask Create(Image<L8> source, int width, int height, int blur, bool invert)
    {
        using var mask = source.Clone(x =>
        {
            if (invert) x.Invert();
            if (blur > 0) x.GaussianBlur(blur);
            if (source.Width != width || source.Height != height) x.Resize(width, height, KnownResamplers.Lanczos3);
        });
        var blurred = Read(mask);
        if (blurred.All(v => v == 0))
            throw new GenerationValidationException("The mask is all black: nothing would be repainted. White marks the area to repaint.");
        var overlay = blurred.Select(v => Math.Min(2 * v, 1f)).ToArray();
        int lw = width / Models.ModelFolder.VaeScale, lh = height / Models.ModelFolder.VaeScale;
        using var small = mask.Clone(x => x.Resize(lw, lh, KnownResamplers.Bicubic));
        var latent = Read(small).Select(v => MathF.Round(v, MidpointRounding.ToEven)).ToArray();
        return new InpaintMask(width, height, blurred, overlay, lw, lh, latent);
    }

    /// <summary>Checks a mask before queueing (readable, not too large, something to repaint); null when fine.</summary>
    public static string? Problem(byte[] bytes, bool invert)
    {
        try
        {
            using var mask = RequestValidator.DecodeMask(bytes);
            var pixels = new L8[mask.Width * mask.Height];
            mask.CopyPixelDataTo(pixels);
            return pixels.Any(p => invert ? p.PackedValue < 255 : p.PackedValue > 0)
                ? null
                : $"The mask is all {(invert ? "white (inverted)" : "black")}: nothing would be repainted. White marks the area to repaint.";
        }
        catch (GenerationValidationException ex)
        {
            return ex.Message;
        }
    }

    private static float[] Read(Image<L8> image)
    {
        var pixels = new L8[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        return pixels.Select(p => p.PackedValue / 255f).ToArray();
    }
}

/// <summary>The inpainting steps of the shared pipeline: masked content before encoding, per-step blend, final overlay.</summary>
public static class Inpainting
{
    /// <summary>
    /// A1111's <c>masking.fill</c> ("fill"): the masked area takes the colours around it, blurred at decreasing radii
    /// (256, 64, 16, 4, 2, 0 pixels) and composited over each other by their alpha.
    /// </summary>
    public static Image<Rgb24> Fill(Image<Rgb24> image, InpaintMask mask)
    {
        var width = image.Width;
        var visible = new Image<Rgba32>(width, image.Height);
        try
        {
            var pixels = new Rgb24[width * image.Height];
            image.CopyPixelDataTo(pixels);
            visible.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (var x = 0; x < width; x++)
                    {
                        var p = pixels[y * width + x];
                        row[x] = new Rgba32(p.R, p.G, p.B, (byte)MathF.Round(255 * (1 - mask.Blurred[y * width + x])));
                    }
                }
            });
            // Premultiplied accumulation: result = layer over result, per pass.
            var r = new float[pixels.Length];
            var g = new float[pixels.Length];
            var b = new float[pixels.Length];
            var a = new float[pixels.Length];
            foreach (var (radius, repeats) in new[] { (256, 1), (64, 1), (16, 2), (4, 4), (2, 2), (0, 1) })
            {
                using var layer = Blur(visible, radius);
                var layerPixels = new Rgba32[pixels.Length];
                layer.CopyPixelDataTo(layerPixels);
                for (var k = 0; k < repeats; k++)
                {
                    for (var i = 0; i < pixels.Length; i++)
                    {
                        var p = layerPixels[i];
                        float la = p.A / 255f, keep = 1 - la;
                        r[i] = p.R / 255f * la + r[i] * keep;
                        g[i] = p.G / 255f * la + g[i] * keep;
                        b[i] = p.B / 255f * la + b[i] * keep;
                        a[i] = la + a[i] * keep;
                    }
                }
            }
            var result = new Image<Rgb24>(width, image.Height);
            result.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (var x = 0; x < width; x++)
                    {
                        var i = y * width + x;
                        var alpha = a[i] > 0 ? a[i] : 1;
                        row[x] = new Rgb24(ToByte(r[i] / alpha), ToByte(g[i] / alpha), ToByte(b[i] / alpha));
                    }
                }
            });
            return result;
        }
        finally
        {
            visible.Dispose();
        }
    }

    // A wide Gaussian on a large image costs minutes at full size; its result is smooth, so blur a reduced copy
    // (σ at most 8 pixels there) and scale it back.
    private static Image<Rgba32> Blur(Image<Rgba32> image, int radius)
    {
        if (radius == 0) return image.Clone();
        if (radius <= 8) return image.Clone(x => x.GaussianBlur(radius));
        var factor = radius / 8.0;
        int w = Math.Max(1, (int)Math.Round(image.Width / factor)), h = Math.Max(1, (int)Math.Round(image.Height / factor));
        using var small = image.Clone(x => x.Resize(w, h, KnownResamplers.Box).GaussianBlur(8));
        return small.Clone(x => x.Resize(image.Width, image.Height, KnownResamplers.Bicubic));
    }

    /// <summary>
    /// A1111's final overlay: the original is pasted back over the result through the inverted overlay mask, so
    /// <c>out = original·(1 − m) + generated·m</c> with <c>m = min(2·blurred mask, 1)</c>.
    /// </summary>
    public static void Overlay(Image<Rgb24> generated, Image<Rgb24> original, InpaintMask mask)
    {
        using var resized = original.Width == generated.Width && original.Height == generated.Height
            ? original.Clone()
            : original.Clone(x => x.Resize(generated.Width, generated.Height, KnownResamplers.Lanczos3));
        var o = new Rgb24[generated.Width * generated.Height];
        var gen = new Rgb24[o.Length];
        resized.CopyPixelDataTo(o);
        generated.CopyPixelDataTo(gen);
        for (var i = 0; i < o.Length; i++)
        {
            var m = mask.Overlay[i];
            gen[i] = new Rgb24(Mix(o[i].R, gen[i].R, m), Mix(o[i].G, gen[i].G, m), Mix(o[i].B, gen[i].B, m));
        }
        generated.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++) gen.AsSpan(y * rows.Width, rows.Width).CopyTo(rows.GetRowSpan(y));
        });
    }

    private static byte Mix(byte original, byte generated, float m) => ToByte((original * (1 - m) + generated * m) / 255f);

    private static byte ToByte(float v) => (byte)MathF.Round(Math.Clamp(v, 0f, 1f) * 255f);
}

/// <summary>
/// The per-step hook of inpainting with an ordinary model (diffusers' legacy inpaint / 4-channel branch of
/// <c>StableDiffusionInpaintPipeline</c>): after every step the kept area is reset to the init latents noised to the
/// next timestep with the run's own noise (the clean init latents after the last step):
/// <c>latents = (1 − mask)·add_noise(init, noise, t_next) + mask·latents</c>, mask = 1 where repainted.
/// </summary>
public sealed class InpaintBlend(float[] initLatents, float[] noise, float[] latentMask, int channels)
{
    private readonly float[] _noised = new float[initLatents.Length];

    public void AfterStep(Span<float> latents, IScheduler scheduler, int nextIndex)
    {
        ReadOnlySpan<float> target = initLatents;
        var items = initLatents.Length / (channels * latentMask.Length);
        var itemLength = channels * latentMask.Length;
        if (nextIndex < scheduler.Timesteps.Count)
        {
            for (var i = 0; i < items; i++)
            {
                scheduler.AddNoise(initLatents.AsSpan(i * itemLength, itemLength), noise.AsSpan(i * itemLength, itemLength),
                    scheduler.Timesteps[nextIndex], _noised.AsSpan(i * itemLength, itemLength));
            }
            target = _noised;
        }
        Blend(latents, target, latentMask);
    }

    /// <summary><c>latents = (1 − m)·kept + m·latents</c> with m broadcast over channels and batch.</summary>
    public static void Blend(Span<float> latents, ReadOnlySpan<float> kept, ReadOnlySpan<float> latentMask)
    {
        for (var i = 0; i < latents.Length; i++)
        {
            var m = latentMask[i % latentMask.Length];
            latents[i] = (1 - m) * kept[i] + m * latents[i];
        }
    }
}
