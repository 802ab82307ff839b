namespace SdBlazor.Engine.Randomness;

/// <summary>A1111's variation-seed settings for one request (strength 0 and no resize: plain seeded noise).</summary>
/// <param name="ResizeFromWidth">"Resize seed from" in pixels; 0 (with <paramref name="ResizeFromHeight"/>) is off.</param>
public sealed record VariationSettings(double Strength, int ResizeFromWidth, int ResizeFromHeight)
{
    public bool IsResized => ResizeFromWidth > 0 && ResizeFromHeight > 0;

    public bool IsActive => Strength != 0 || IsResized;
}

/// <summary>
/// The starting noise of one image as A1111's <c>ImageRNG.first</c> makes it with the CPU RNG: the seed's noise
/// slerped towards the variation seed's noise, optionally drawn at another size and pasted centred.
/// </summary>
public static class VariationNoise
{
    // A1111 falls back to (its) lerp when the noises are this close to parallel on average.
    private const double ParallelDot = 0.9995;

    /// <summary>Fills <paramref name="destination"/> ([channels, height, width], C order).</summary>
    /// <param name="generator">The image's generator, seeded with <paramref name="seed"/>; advanced as A1111 advances it.</param>
    public static void Fill(TorchGenerator generator, long seed, long subseed, VariationSettings settings,
        int channels, int height, int width, Span<float> destination)
    {
        if (destination.Length != channels * height * width)
            throw new ArgumentException($"Expected {channels * height * width} values, got {destination.Length}.", nameof(destination));
        int noiseHeight = height, noiseWidth = width;
        if (settings.IsResized) (noiseHeight, noiseWidth) = (settings.ResizeFromHeight / 8, settings.ResizeFromWidth / 8);
        var resized = noiseHeight != height || noiseWidth != width;

        // A1111 draws the resized seed noise with a fresh torch.manual_seed(seed), not the image's generator.
        var noise = resized ? new float[channels * noiseHeight * noiseWidth] : destination;
        (resized ? new TorchGenerator((ulong)seed) : generator).FillNormal(noise);
        if (settings.Strength != 0)
        {
            var subnoise = new float[noise.Length];
            new TorchGenerator((ulong)subseed).FillNormal(subnoise);
            Slerp(settings.Strength, noise, subnoise, channels, noiseHeight, noiseWidth, noise);
        }
        if (!resized) return;

        generator.FillNormal(destination);
        Paste(noise, channels, noiseHeight, noiseWidth, destination, height, width);
    }

    /// <summary>One image's noise: the variation recipe when <paramref name="job"/> has one, else a plain draw.</summary>
    internal static void FillItem(TorchGenerator generator, Pipelines.BatchJob job, int item, int channels, int height, int width, Span<float> destination)
    {
        if (job.Variation is { IsActive: true } variation && job.Subseeds is { } subseeds)
            Fill(generator, job.Seeds[item], subseeds[item], variation, channels, height, width, destination);
        else generator.FillNormal(destination);
    }

    /// <summary>
    /// A1111's <c>slerp(val, low, high)</c> on one image's noise [C, H, W]: normalised along H (torch <c>dim=1</c>), so
    /// each (channel, column) pair gets its own angle; when the mean cosine exceeds 0.9995 it returns
    /// <c>low·val + high·(1 − val)</c> instead (A1111's fallback, weights as written there).
    /// </summary>
    public static void Slerp(double val, ReadOnlySpan<float> low, ReadOnlySpan<float> high, int channels, int height, int width, Span<float> destination)
    {
        var columns = channels * width;
        var dots = new double[columns];
        var dotSum = 0.0;
        for (var c = 0; c < channels; c++)
        {
            for (var x = 0; x < width; x++)
            {
                double lowNorm = 0, highNorm = 0, dot = 0;
                for (var y = 0; y < height; y++)
                {
                    var i = (c * height + y) * width + x;
                    lowNorm += (double)low[i] * low[i];
                    highNorm += (double)high[i] * high[i];
                    dot += (double)low[i] * high[i];
                }
                var cosine = dot / (Math.Sqrt(lowNorm) * Math.Sqrt(highNorm));
                dots[c * width + x] = cosine;
                dotSum += cosine;
            }
        }

        if (dotSum / columns > ParallelDot)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = (float)(low[i] * val + high[i] * (1 - val));
            return;
        }
        for (var c = 0; c < channels; c++)
        {
            for (var x = 0; x < width; x++)
            {
                // torch.acos of a float32 cosine rounded above 1 would be NaN; A1111 never meets that short of the fallback.
                var omega = Math.Acos(Math.Clamp(dots[c * width + x], -1, 1));
                var so = Math.Sin(omega);
                double a = Math.Sin((1 - val) * omega) / so, b = Math.Sin(val * omega) / so;
                for (var y = 0; y < height; y++)
                {
                    var i = (c * height + y) * width + x;
                    destination[i] = (float)(a * low[i] + b * high[i]);
                }
            }
        }
    }

    // ImageRNG.first: the smaller of the two grids is centred in the larger; the overlap is copied.
    private static void Paste(ReadOnlySpan<float> noise, int channels, int noiseHeight, int noiseWidth, Span<float> x, int height, int width)
    {
        int dx = (width - noiseWidth) >> 1, dy = (height - noiseHeight) >> 1; // Python's // floors negatives too
        var w = dx >= 0 ? noiseWidth : noiseWidth + 2 * dx;
        var h = dy >= 0 ? noiseHeight : noiseHeight + 2 * dy;
        int tx = Math.Max(dx, 0), ty = Math.Max(dy, 0);
        int sx = Math.Max(-dx, 0), sy = Math.Max(-dy, 0);
        for (var c = 0; c < channels; c++)
            for (var y = 0; y < h; y++)
                noise.Slice((c * noiseHeight + sy + y) * noiseWidth + sx, w).CopyTo(x.Slice((c * height + ty + y) * width + tx, w));
    }
}
