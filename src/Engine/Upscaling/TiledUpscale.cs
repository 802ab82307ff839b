using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Upscaling;

/// <summary>
/// Runs a fixed-factor super-resolution model over an image in overlapping tiles, so memory is bounded by the tile,
/// not the image (an ESRGAN pass over a whole 1024² image needs tens of GB of activations). Neighbouring tiles are
/// blended with weights that are 0 over the outer quarter of each overlap (where a tile's border effects live) and
/// rise linearly to 1 — the weights of two neighbours sum to 1, so a model without border effects stitches exactly.
/// Output rows are written as soon as no later tile touches them: the accumulator holds one row of tiles.
/// </summary>
public static class TiledUpscale
{
    /// <summary>The model: input [1, 3, h, w] in 0..1 → output [1, 3, scale·h, scale·w] in 0..1.</summary>
    public delegate float[] TileModel(float[] input, int height, int width, CancellationToken cancellationToken);

    public static Image<Rgb24> Run(Image<Rgb24> source, int scale, int tile, int overlap, TileModel model, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tile, 8);
        if (overlap < 0 || overlap >= tile) throw new ArgumentOutOfRangeException(nameof(overlap), overlap, "The overlap must be smaller than the tile.");
        int width = source.Width, height = source.Height;
        var pixels = new Rgb24[width * height];
        source.CopyPixelDataTo(pixels);
        var xs = Starts(width, tile, overlap);
        var ys = Starts(height, tile, overlap);
        int outWidth = width * scale, outHeight = height * scale;
        var result = new Image<Rgb24>(outWidth, outHeight);
        try
        {
            var bandRows = Math.Min(tile, height) * scale;
            var band = new float[3 * bandRows * outWidth];
            var weights = new float[bandRows * outWidth];
            var bandTop = 0; // output row of band[0]
            for (var r = 0; r < ys.Count; r++)
            {
                int y0 = ys[r], th = Math.Min(tile, height - y0);
                for (var c = 0; c < xs.Count; c++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int x0 = xs[c], tw = Math.Min(tile, width - x0);
                    var output = model(TileInput(pixels, width, x0, y0, tw, th), th, tw, cancellationToken);
                    if (output.Length != 3 * th * scale * tw * scale)
                        throw new InvalidOperationException($"The upscaler returned {output.Length} values for a {tw}×{th} tile; expected {3 * th * scale * tw * scale} (3 × {scale}× the tile).");
                    // Interior edges blend over the overlap actually shared with the neighbour.
                    var left = c > 0 ? xs[c - 1] + Math.Min(tile, width - xs[c - 1]) - x0 : 0;
                    var right = c < xs.Count - 1 ? x0 + tw - xs[c + 1] : 0;
                    var top = r > 0 ? ys[r - 1] + Math.Min(tile, height - ys[r - 1]) - y0 : 0;
                    var bottom = r < ys.Count - 1 ? y0 + th - ys[r + 1] : 0;
                    Accumulate(output, tw * scale, th * scale, x0 * scale, y0 * scale - bandTop, outWidth, bandRows,
                        Ramp(tw * scale, left * scale, right * scale), Ramp(th * scale, top * scale, bottom * scale), band, weights);
                }
                // Rows above the next tile row are final: write them and move the rest of the band up.
                var done = r < ys.Count - 1 ? ys[r + 1] * scale : outHeight;
                Flush(band, weights, bandTop, done, outWidth, bandRows, result);
                var keep = bandRows - (done - bandTop);
                if (keep > 0)
                {
                    for (var ch = 0; ch < 3; ch++)
                        band.AsSpan((ch * bandRows + done - bandTop) * outWidth, keep * outWidth).CopyTo(band.AsSpan(ch * bandRows * outWidth));
                    weights.AsSpan((done - bandTop) * outWidth, keep * outWidth).CopyTo(weights);
                }
                var cleared = Math.Max(keep, 0);
                for (var ch = 0; ch < 3; ch++) band.AsSpan((ch * bandRows + cleared) * outWidth, (bandRows - cleared) * outWidth).Clear();
                weights.AsSpan(cleared * outWidth).Clear();
                bandTop = done;
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>Tile origins along one axis: every tile − overlap pixels, the last one flush with the end.</summary>
    internal static List<int> Starts(int length, int tile, int overlap)
    {
        var starts = new List<int> { 0 };
        while (starts[^1] + tile < length) starts.Add(Math.Min(starts[^1] + tile - overlap, length - tile));
        return starts;
    }

    private static float[] Ramp(int length, int before, int after)
    {
        var ramp = new float[length];
        for (var i = 0; i < length; i++) ramp[i] = Math.Min(Edge(i, before), Edge(length - 1 - i, after));
        return ramp;
    }

    // Distance d (pixels) into an overlap of n: 0 for the outer quarter, then linear to 1 at three quarters.
    private static float Edge(int d, int n)
    {
        if (n <= 0) return 1f;
        var t = (d + 0.5f - n / 4f) / (n / 2f);
        return Math.Clamp(t, 0f, 1f);
    }

    private static float[] TileInput(Rgb24[] pixels, int width, int x0, int y0, int tw, int th)
    {
        var plane = tw * th;
        var input = new float[3 * plane];
        for (var y = 0; y < th; y++)
        {
            for (var x = 0; x < tw; x++)
            {
                var p = pixels[(y0 + y) * width + x0 + x];
                var i = y * tw + x;
                input[i] = p.R / 255f;
                input[plane + i] = p.G / 255f;
                input[2 * plane + i] = p.B / 255f;
            }
        }
        return input;
    }

    private static void Accumulate(float[] output, int ow, int oh, int ox, int oy, int outWidth, int bandRows,
        float[] rampX, float[] rampY, float[] band, float[] weights)
    {
        var plane = ow * oh;
        for (var y = 0; y < oh; y++)
        {
            var row = (oy + y) * outWidth + ox;
            for (var x = 0; x < ow; x++)
            {
                // A corner keeps a tiny weight so pixels covered only by tile corners never divide by zero.
                var w = Math.Max(rampX[x] * rampY[y], 1e-6f);
                var i = y * ow + x;
                weights[row + x] += w;
                band[row + x] += w * output[i];
                band[bandRows * outWidth + row + x] += w * output[plane + i];
                band[2 * bandRows * outWidth + row + x] += w * output[2 * plane + i];
            }
        }
    }

    private static void Flush(float[] band, float[] weights, int bandTop, int done, int outWidth, int bandRows, Image<Rgb24> result)
    {
        result.ProcessPixelRows(accessor =>
        {
            for (var y = bandTop; y < done; y++)
            {
                var row = accessor.GetRowSpan(y);
                var b = (y - bandTop) * outWidth;
                for (var x = 0; x < outWidth; x++)
                {
                    var w = weights[b + x];
                    row[x] = new Rgb24(ToByte(band[b + x] / w), ToByte(band[bandRows * outWidth + b + x] / w), ToByte(band[2 * bandRows * outWidth + b + x] / w));
                }
            }
        });
    }

    private static byte ToByte(float v) => (byte)MathF.Round(Math.Clamp(v, 0f, 1f) * 255f);
}
