namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// <c>torch.nn.functional.interpolate</c> on one latent [C, H, W] with a target size and <c>align_corners=False</c>,
/// for A1111's "Latent" hires upscalers: bilinear ("Latent"), bicubic (A = −0.75), nearest (torch's legacy floor
/// rule) and nearest-exact (centre rule). The antialiased modes differ from the plain ones only when shrinking, where
/// we fall back to the plain kernel.
/// </summary>
public static class LatentInterpolation
{
    public enum Mode { Bilinear, Bicubic, Nearest, NearestExact }

    /// <summary>The interpolation of an A1111 latent upscaler name ("Latent", "Latent (bicubic antialiased)", …).</summary>
    public static Mode ForUpscaler(string name) => name.ToLowerInvariant() switch
    {
        "latent (nearest)" => Mode.Nearest,
        "latent (nearest-exact)" => Mode.NearestExact,
        "latent (bicubic)" or "latent (bicubic antialiased)" => Mode.Bicubic,
        _ => Mode.Bilinear,
    };

    public static float[] Resize(ReadOnlySpan<float> source, int channels, int height, int width, int outHeight, int outWidth, Mode mode)
    {
        var result = new float[channels * outHeight * outWidth];
        double scaleY = (double)height / outHeight, scaleX = (double)width / outWidth;
        for (var c = 0; c < channels; c++)
        {
            var plane = source.Slice(c * height * width, height * width);
            for (var y = 0; y < outHeight; y++)
            {
                for (var x = 0; x < outWidth; x++)
                {
                    result[(c * outHeight + y) * outWidth + x] = mode switch
                    {
                        Mode.Nearest => plane[Nearest(y, scaleY, height, false) * width + Nearest(x, scaleX, width, false)],
                        Mode.NearestExact => plane[Nearest(y, scaleY, height, true) * width + Nearest(x, scaleX, width, true)],
                        Mode.Bicubic => Bicubic(plane, height, width, y, x, scaleY, scaleX),
                        _ => Bilinear(plane, height, width, y, x, scaleY, scaleX),
                    };
                }
            }
        }
        return result;
    }

    private static int Nearest(int dst, double scale, int size, bool exact) =>
        Math.Min((int)Math.Floor(exact ? (dst + 0.5) * scale : dst * scale), size - 1);

    private static float Bilinear(ReadOnlySpan<float> plane, int height, int width, int y, int x, double scaleY, double scaleX)
    {
        // area_pixel_compute_source_index: half-pixel centres, clamped at 0 for linear modes.
        var sy = Math.Max((y + 0.5) * scaleY - 0.5, 0);
        var sx = Math.Max((x + 0.5) * scaleX - 0.5, 0);
        int y0 = (int)sy, x0 = (int)sx;
        int y1 = Math.Min(y0 + 1, height - 1), x1 = Math.Min(x0 + 1, width - 1);
        double ly = sy - y0, lx = sx - x0;
        return (float)((1 - ly) * ((1 - lx) * plane[y0 * width + x0] + lx * plane[y0 * width + x1])
                       + ly * ((1 - lx) * plane[y1 * width + x0] + lx * plane[y1 * width + x1]));
    }

    private static float Bicubic(ReadOnlySpan<float> plane, int height, int width, int y, int x, double scaleY, double scaleX)
    {
        // Not clamped before the floor (torch's cubic path); taps are clamped to the border.
        var sy = (y + 0.5) * scaleY - 0.5;
        var sx = (x + 0.5) * scaleX - 0.5;
        int iy = (int)Math.Floor(sy), ix = (int)Math.Floor(sx);
        Span<double> wy = stackalloc double[4], wx = stackalloc double[4];
        Weights(sy - iy, wy);
        Weights(sx - ix, wx);
        var sum = 0.0;
        for (var j = 0; j < 4; j++)
        {
            var row = Math.Clamp(iy - 1 + j, 0, height - 1) * width;
            var line = 0.0;
            for (var i = 0; i < 4; i++) line += wx[i] * plane[row + Math.Clamp(ix - 1 + i, 0, width - 1)];
            sum += wy[j] * line;
        }
        return (float)sum;
    }

    // Keys' cubic convolution with A = −0.75 (torch's upsample_bicubic2d).
    private static void Weights(double t, Span<double> w)
    {
        const double a = -0.75;
        static double Near(double d) => ((a + 2) * d - (a + 3)) * d * d + 1;
        static double Far(double d) => ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
        w[0] = Far(t + 1);
        w[1] = Near(t);
        w[2] = Near(1 - t);
        w[3] = Far(2 - t);
    }
}
