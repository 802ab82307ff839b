using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SdBlazor.Engine.Imaging;

/// <summary>Conversions between ImageSharp images and NCHW float tensors in [-1, 1] (the VAE's range).</summary>
public static class ImageTensors
{
    /// <summary>
    /// VAE output [3, H, W] (item <paramref name="batchItem"/> of a batch) → image, as diffusers does:
    /// <c>round(clamp(x / 2 + 0.5, 0, 1) · 255)</c>.
    /// </summary>
    public static Image<Rgb24> ToImage(ReadOnlySpan<float> tensor, int height, int width, int batchItem = 0)
    {
        var plane = height * width;
        var item = tensor.Slice(batchItem * 3 * plane, 3 * plane);
        var pixels = new Rgb24[plane];
        for (var p = 0; p < plane; p++)
        {
            pixels[p] = new Rgb24(ToByte(item[p]), ToByte(item[plane + p]), ToByte(item[2 * plane + p]));
        }
        var image = new Image<Rgb24>(width, height);
        image.Frames.RootFrame.ProcessPixelRows(accessor =>
        {
            for (var y = 0; y < height; y++) pixels.AsSpan(y * width, width).CopyTo(accessor.GetRowSpan(y));
        });
        return image;
    }

    /// <summary>
    /// Image → [1, 3, H, W] in [-1, 1] (<c>2·x/255 − 1</c>), resized to <paramref name="width"/>×<paramref name="height"/>
    /// with Lanczos like diffusers' <c>VaeImageProcessor</c> (PIL LANCZOS) when the size differs.
    /// </summary>
    public static float[] FromImage(Image<Rgb24> source, int width, int height)
    {
        using var resized = source.Width == width && source.Height == height
            ? source.Clone()
            : source.Clone(x => x.Resize(width, height, KnownResamplers.Lanczos3));
        var plane = width * height;
        var tensor = new float[3 * plane];
        resized.ProcessPixelRows(accessor =>
        {
            for (var y = 0; y < height; y++)
            {
                var row = accessor.GetRowSpan(y);
                for (var x = 0; x < width; x++)
                {
                    var p = y * width + x;
                    tensor[p] = row[x].R / 127.5f - 1f;
                    tensor[plane + p] = row[x].G / 127.5f - 1f;
                    tensor[2 * plane + p] = row[x].B / 127.5f - 1f;
                }
            }
        });
        return tensor;
    }

    private static byte ToByte(float v) => (byte)MathF.Round(Math.Clamp(v / 2f + 0.5f, 0f, 1f) * 255f);
}
