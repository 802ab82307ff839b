using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// A1111's "Inpaint area: Only masked" (<c>inpaint_full_res</c>): the masked area's bounding box plus
/// <c>inpaint_full_res_padding</c>, widened to the generation's aspect ratio (<c>masking.expand_crop_region</c>), is
/// cut out of the image and mask and scaled to the generation size ("resize and fill"); the result is scaled back
/// ("crop and resize"), pasted at the box and blended over the original with the blurred mask — so every pixel
/// outside the box is the original's, exactly. The output keeps the original image's size.
/// </summary>
/// <param name="Original">The init image at its own size (owned).</param>
/// <param name="OverlayMask">The blurred mask at the original size, 0..1 (not doubled: A1111 overlays the crop with it as it is).</param>
public sealed record InpaintCrop(int X, int Y, int Width, int Height, Image<Rgb24> Original, float[] OverlayMask) : IDisposable
{
    /// <summary>
    /// The crop for <paramref name="blurredMask"/> (already inverted and blurred, at the image's size) and the generation size;
    /// null when the mask is empty (A1111 then inpaints the whole picture).
    /// </summary>
    public static (int X1, int Y1, int X2, int Y2)? Region(Image<L8> blurredMask, int padding, int width, int height)
    {
        int x1 = int.MaxValue, y1 = int.MaxValue, x2 = -1, y2 = -1;
        blurredMask.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    if (row[x].PackedValue == 0) continue;
                    x1 = Math.Min(x1, x); x2 = Math.Max(x2, x + 1);
                    y1 = Math.Min(y1, y); y2 = Math.Max(y2, y + 1);
                }
            }
        });
        if (x2 < 0) return null;
        int imageWidth = blurredMask.Width, imageHeight = blurredMask.Height;
        // masking.get_crop_region_v2: PIL's getbbox plus the padding, inside the image.
        (x1, y1, x2, y2) = (Math.Max(x1 - padding, 0), Math.Max(y1 - padding, 0), Math.Min(x2 + padding, imageWidth), Math.Min(y2 + padding, imageHeight));
        return Expand(x1, y1, x2, y2, width, height, imageWidth, imageHeight);
    }

    /// <summary>A1111's <c>masking.expand_crop_region</c>: grow the short side to the generation's aspect ratio, shifted back inside the image.</summary>
    internal static (int, int, int, int) Expand(int x1, int y1, int x2, int y2, int processingWidth, int processingHeight, int imageWidth, int imageHeight)
    {
        var ratioCrop = (double)(x2 - x1) / (y2 - y1);
        var ratioProcessing = (double)processingWidth / processingHeight;
        if (ratioCrop > ratioProcessing)
        {
            var diff = (int)((x2 - x1) / ratioProcessing - (y2 - y1));
            y1 -= diff / 2;
            y2 += diff - diff / 2;
            if (y2 >= imageHeight) { var d = y2 - imageHeight; y2 -= d; y1 -= d; }
            if (y1 < 0) { y2 -= y1; y1 = 0; }
            if (y2 >= imageHeight) y2 = imageHeight;
        }
        else
        {
            var diff = (int)((y2 - y1) * ratioProcessing - (x2 - x1));
            x1 -= diff / 2;
            x2 += diff - diff / 2;
            if (x2 >= imageWidth) { var d = x2 - imageWidth; x2 -= d; x1 -= d; }
            if (x1 < 0) { x2 -= x1; x1 = 0; }
            if (x2 >= imageWidth) x2 = imageWidth;
        }
        return (x1, y1, x2, y2);
    }

    /// <summary>The generated image scaled back into the box and blended over the original: a new image of the original's size.</summary>
    public Image<Rgb24> PasteBack(Image<Rgb24> generated)
    {
        using var scaled = Resize(generated, Width, Height, fill: false);
        var result = Original.Clone();
        var o = new Rgb24[Original.Width * Original.Height];
        Original.CopyPixelDataTo(o);
        var g = new Rgb24[Width * Height];
        scaled.CopyPixelDataTo(g);
        result.ProcessPixelRows(rows =>
        {
            for (var y = Y; y < Y + Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = X; x < X + Width; x++)
                {
                    var i = y * Original.Width + x;
                    float m = OverlayMask[i];
                    Rgb24 a = o[i], b = g[(y - Y) * Width + (x - X)];
                    row[x] = new Rgb24(Mix(a.R, b.R, m), Mix(a.G, b.G, m), Mix(a.B, b.B, m));
                }
            }
        });
        return result;
    }

    private static byte Mix(byte original, byte generated, float m) => (byte)MathF.Round(Math.Clamp(original * (1 - m) + generated * m, 0, 255));

    /// <summary>
    /// A1111's <c>images.resize_image</c>: mode 2 "resize and fill" (<paramref name="fill"/>: fit inside, stretch the edge
    /// rows/columns over the rest) or mode 1 "crop and resize" (cover, centre-cropped).
    /// </summary>
    public static Image<TPixel> Resize<TPixel>(Image<TPixel> image, int width, int height, bool fill) where TPixel : unmanaged, IPixel<TPixel>
    {
        var ratio = (double)width / height;
        var sourceRatio = (double)image.Width / image.Height;
        var widthFirst = fill ? ratio < sourceRatio : ratio > sourceRatio;
        var sw = widthFirst ? width : image.Width * height / image.Height;
        var sh = widthFirst ? image.Height * width / image.Width : height;
        using var resized = image.Clone(x => x.Resize(Math.Max(sw, 1), Math.Max(sh, 1), KnownResamplers.Lanczos3));
        var canvas = new Image<TPixel>(width, height);
        var at = new Point(width / 2 - sw / 2, height / 2 - sh / 2);
        canvas.Mutate(x => x.DrawImage(resized, at, 1f));
        if (!fill) return canvas;
        if (ratio < sourceRatio && height / 2 - sh / 2 is var fh and > 0)
        {
            using var top = resized.Clone(x => x.Crop(new Rectangle(0, 0, sw, 1)).Resize(width, fh));
            using var bottom = resized.Clone(x => x.Crop(new Rectangle(0, sh - 1, sw, 1)).Resize(width, fh));
            canvas.Mutate(x => x.DrawImage(top, new Point(0, 0), 1f).DrawImage(bottom, new Point(0, fh + sh), 1f));
        }
        else if (ratio > sourceRatio && width / 2 - sw / 2 is var fw and > 0)
        {
            using var left = resized.Clone(x => x.Crop(new Rectangle(0, 0, 1, sh)).Resize(fw, height));
            using var right = resized.Clone(x => x.Crop(new Rectangle(sw - 1, 0, 1, sh)).Resize(fw, height));
            canvas.Mutate(x => x.DrawImage(left, new Point(0, 0), 1f).DrawImage(right, new Point(fw + sw, 0), 1f));
        }
        return canvas;
    }

    public void Dispose() => Original.Dispose();
}
