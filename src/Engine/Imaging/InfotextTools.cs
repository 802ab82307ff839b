using System.Globalization;
using System.Text.RegularExpressions;

namespace SdBlazor.Engine.Imaging;

/// <summary>
/// The infotext keys of variation seeds and hires fix, written and read as A1111's <c>create_infotext</c> and
/// <c>parse_generation_parameters</c> do (kept apart from <see cref="Infotext"/> so that file stays small).
/// </summary>
internal static partial class InfotextTools
{
    [GeneratedRegex(@"^(\d+)x(\d+)$")]
    private static partial Regex SizeRegex();

    public static IEnumerable<KeyValuePair<string, string>> VariationPairs(ImageParameters p)
    {
        if (p.SubseedStrength is { } strength && strength != 0)
        {
            if (p.Subseed is { } subseed) yield return new("Variation seed", Invariant(subseed));
            yield return new("Variation seed strength", Invariant(strength));
        }
        if (p.SeedResizeFromWidth is > 0 and var w && p.SeedResizeFromHeight is > 0 and var h)
            yield return new("Seed resize from", $"{Invariant(w)}x{Invariant(h)}");
    }

    public static IEnumerable<KeyValuePair<string, string>> HiresPairs(ImageParameters p)
    {
        if (p.Hires is not { } hires) yield break;
        if (hires.ResizeWidth is { } rw && hires.ResizeHeight is { } rh) yield return new("Hires resize", $"{Invariant(rw)}x{Invariant(rh)}");
        else yield return new("Hires upscale", Invariant(hires.Scale ?? 2));
        if (hires.Steps is { } steps) yield return new("Hires steps", Invariant(steps));
        yield return new("Hires upscaler", hires.Upscaler);
        if (!string.IsNullOrEmpty(hires.Sampler)) yield return new("Hires sampler", hires.Sampler);
        if (!string.IsNullOrEmpty(hires.Prompt)) yield return new("Hires prompt", hires.Prompt);
        if (!string.IsNullOrEmpty(hires.NegativePrompt)) yield return new("Hires negative prompt", hires.NegativePrompt);
    }

    public static IEnumerable<KeyValuePair<string, string>> InpaintPairs(ImageParameters p)
    {
        if (p.ConditionalMaskWeight is { } weight) yield return new("Conditional mask weight", Invariant(weight));
        if (p.MaskBlur is { } blur) yield return new("Mask blur", Invariant(blur));
        if (p.MaskedAreaPadding is { } padding)
        {
            yield return new("Inpaint area", "Only masked");
            yield return new("Masked area padding", Invariant(padding));
        }
        if (p.NoiseMultiplier is { } multiplier && multiplier != 1) yield return new("Noise multiplier", Invariant(multiplier));
        // A1111's apply_refiner adds both when the refiner took over.
        if (!string.IsNullOrEmpty(p.Refiner))
        {
            yield return new("Refiner", p.Refiner);
            if (p.RefinerSwitchAt is { } at) yield return new("Refiner switch at", Invariant(at));
        }
    }

    public static ImageParameters Read(InfotextData data, ImageParameters p)
    {
        long? subseed = long.TryParse(data.Get("Variation seed"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : null;
        var strength = ParseDouble(data.Get("Variation seed strength"));
        int? resizeW = null, resizeH = null;
        if (data.Get("Seed resize from") is { } resize && SizeRegex().Match(resize) is { Success: true } m)
            (resizeW, resizeH) = (ParseInt(m.Groups[1].Value), ParseInt(m.Groups[2].Value));

        HiresSettings? hires = null;
        var upscale = ParseDouble(data.Get("Hires upscale"));
        var hiresResize = data.Get("Hires resize") is { } hr ? SizeRegex().Match(hr) : null;
        var upscaler = data.Get("Hires upscaler");
        if (upscale is not null || hiresResize is { Success: true } || upscaler is not null)
        {
            hires = new HiresSettings
            {
                Scale = upscale,
                ResizeWidth = hiresResize is { Success: true } ? ParseInt(hiresResize.Groups[1].Value) : null,
                ResizeHeight = hiresResize is { Success: true } ? ParseInt(hiresResize.Groups[2].Value) : null,
                Steps = int.TryParse(data.Get("Hires steps"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var steps) ? steps : null,
                Upscaler = upscaler ?? "Latent",
                Sampler = data.Get("Hires sampler"),
                Prompt = data.Get("Hires prompt"),
                NegativePrompt = data.Get("Hires negative prompt"),
            };
        }
        return p with
        {
            Subseed = strength is null or 0 ? null : subseed,
            SubseedStrength = strength is null or 0 ? null : strength,
            SeedResizeFromWidth = resizeW,
            SeedResizeFromHeight = resizeH,
            Hires = hires,
            MaskBlur = int.TryParse(data.Get("Mask blur"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var blur) ? blur : null,
            NoiseMultiplier = ParseDouble(data.Get("Noise multiplier")),
            ConditionalMaskWeight = ParseDouble(data.Get("Conditional mask weight")),
            MaskedAreaPadding = data.Get("Inpaint area") == "Only masked"
                ? int.TryParse(data.Get("Masked area padding"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var padding) ? padding : 0
                : null,
            Refiner = data.Get("Refiner"),
            RefinerSwitchAt = ParseDouble(data.Get("Refiner switch at")),
        };
    }

    private static string Invariant(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);

    private static int ParseInt(string s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;

    private static double? ParseDouble(string? s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
}
