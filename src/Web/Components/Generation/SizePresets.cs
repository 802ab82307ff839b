using SdBlazor.Shared;

namespace SdBlazor.Web.Components.Generation;

/// <summary>One aspect-ratio button: its label and the size it sets for the selected model.</summary>
public sealed record SizePreset(string Ratio, int Width, int Height)
{
    public string Size => $"{Width}×{Height}";
}

/// <summary>
/// Sizes that follow the selected model's native resolution (issue 33, item 14): the same pixel count as the model was
/// trained on, at common aspect ratios, as SDXL's training buckets do (1024² → 1152×896, 1344×768, …). Each side is
/// a multiple of 1/16 of the native side (64 px at 1024, 32 at 512, 8 for the 64-px embedded model), never off the
/// 8-px grid the VAE needs.
/// </summary>
public static class SizePresets
{
    private static readonly (string Label, int W, int H)[] Ratios =
        [("1:1", 1, 1), ("4:3", 4, 3), ("3:4", 3, 4), ("3:2", 3, 2), ("2:3", 2, 3), ("16:9", 16, 9), ("9:16", 9, 16)];

    public static IReadOnlyList<SizePreset> For(int nativeWidth, int nativeHeight)
    {
        var side = Math.Sqrt((double)nativeWidth * nativeHeight);
        var grid = Math.Max(GenerationLimits.SizeMultiple, (int)side / 16 / GenerationLimits.SizeMultiple * GenerationLimits.SizeMultiple);
        return Ratios.Select(r =>
        {
            var scale = Math.Sqrt((double)r.W / r.H);
            return new SizePreset(r.Label, Snap(side * scale, grid), Snap(side / scale, grid));
        }).ToList();
    }

    private static int Snap(double pixels, int grid) =>
        Math.Clamp((int)Math.Round(pixels / grid) * grid, GenerationLimits.MinSize, GenerationLimits.MaxSize);

    /// <summary>
    /// Why this size may disappoint, or null: far more pixels than the model was trained on repeat subjects (A1111's
    /// "two heads"), far fewer lose detail; the factor of 2 either way is where that becomes common.
    /// </summary>
    public static string? Warning(int width, int height, int nativeWidth, int nativeHeight)
    {
        if (width <= 0 || height <= 0 || nativeWidth <= 0 || nativeHeight <= 0) return null;
        var ratio = (double)width * height / ((double)nativeWidth * nativeHeight);
        if (ratio > 2)
            return $"{width}×{height} is {ratio:0.#}× the pixels this model was trained on ({nativeWidth}×{nativeHeight}): expect repeated subjects. Generate near {nativeWidth}×{nativeHeight} and use Hires. fix to go bigger.";
        if (ratio < 0.5)
            return $"{width}×{height} is far below this model's native {nativeWidth}×{nativeHeight}: expect smeared, detail-poor images.";
        return null;
    }
}
