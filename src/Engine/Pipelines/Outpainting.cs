using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// Outpainting as A1111's "Poor man's outpainting" prepares it (and ComfyUI's "Pad Image for Outpainting"): the canvas
/// grows by the requested pixels per side (rounded up to a multiple of 64 as A1111 rounds it — SD UNets halve the latent
/// three times — with the extra shared out in proportion, as A1111 shares it),
/// the new border is filled by stretching the image's edge pixels outwards, and the mask is white everywhere except over
/// the original, whose expanded sides are inset by the mask blur so the blurred seam lies on original pixels. Then it
/// is an ordinary inpaint of the whole canvas (its "masked content" fills the border; one pass instead of A1111's tiles).
/// </summary>
public static class Outpainting
{
    public static bool IsRequested(GenerationRequest request) =>
        request.OutpaintLeft > 0 || request.OutpaintRight > 0 || request.OutpaintUp > 0 || request.OutpaintDown > 0;

    /// <summary>The canvas size and where the original goes in it.</summary>
    public static (int Width, int Height, int Left, int Up) Canvas(int imageWidth, int imageHeight, GenerationRequest request)
    {
        var (width, left) = Side(imageWidth, request.OutpaintLeft, request.OutpaintRight);
        var (height, up) = Side(imageHeight, request.OutpaintUp, request.OutpaintDown);
        return (width, height, left, up);
    }

    public const int CanvasMultiple = 64;

    private static (int Size, int Before) Side(int size, int before, int after)
    {
        var target = (size + before + after + CanvasMultiple - 1) / CanvasMultiple * CanvasMultiple;
        if (before + after == 0) return (target, (target - size) / 2);
        // A1111's poor man's outpainting: the rounding's extra pixels go to the sides in proportion.
        return (target, before > 0 ? before * (target - size) / (before + after) : 0);
    }

    /// <summary>The padded canvas and its mask (white = generate) for <paramref name="image"/>.</summary>
    public static (Image<Rgb24> Canvas, Image<L8> Mask) Expand(Image<Rgb24> image, GenerationRequest request)
    {
        var (width, height, left, up) = Canvas(image.Width, image.Height, request);
        var canvas = new Image<Rgb24>(width, height);
        var source = new Rgb24[image.Width * image.Height];
        image.CopyPixelDataTo(source);
        canvas.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < height; y++)
            {
                var row = rows.GetRowSpan(y);
                var sy = Math.Clamp(y - up, 0, image.Height - 1);
                for (var x = 0; x < width; x++) row[x] = source[sy * image.Width + Math.Clamp(x - left, 0, image.Width - 1)];
            }
        });
        var inset = request.MaskBlur;
        int x1 = left + (left > 0 ? inset : 0), y1 = up + (up > 0 ? inset : 0);
        int x2 = left + image.Width - (width - left - image.Width > 0 ? inset : 0), y2 = up + image.Height - (height - up - image.Height > 0 ? inset : 0);
        var mask = new Image<L8>(width, height, new L8(255));
        mask.ProcessPixelRows(rows =>
        {
            for (var y = Math.Max(y1, 0); y < Math.Min(y2, height); y++) rows.GetRowSpan(y)[Math.Max(x1, 0)..Math.Max(Math.Min(x2, width), Math.Max(x1, 0))].Fill(new L8(0));
        });
        return (canvas, mask);
    }
}
