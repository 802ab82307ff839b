using System.Globalization;
using System.Text.RegularExpressions;

namespace SdBlazor.Engine.Loras;

/// <summary>One <c>&lt;lora:name:te:unet&gt;</c> of a prompt: the file name and the text-encoder and UNet multipliers.</summary>
public sealed record LoraTag(string Name, float TextEncoderMultiplier, float UNetMultiplier);

/// <summary>
/// A1111's extra-network tags (<c>&lt;type:arg:arg…&gt;</c>, <c>modules/extra_networks.py</c>): every tag is removed from
/// the prompt text before it is encoded; <c>lora</c> and <c>lyco</c> tags become <see cref="LoraTag"/>s, as A1111's
/// Lora extension reads them (positional <c>name:te:unet</c>, the UNet multiplier defaulting to the text-encoder one,
/// or named <c>te=</c>/<c>unet=</c>). Other types (hypernet, …) are removed with a warning, since SdBlazor has none.
/// </summary>
public static partial class LoraTags
{
    /// <summary>
    /// Multipliers outside ±this are applied as written, as A1111 applies any float, but reported: past it a LoRA
    /// usually burns the image, so a typo (<c>&lt;lora:x:15&gt;</c> for 1.5) should not go unnoticed. Clamping instead
    /// would make a different image than A1111 for the same prompt (slider LoRAs are used past ±10).
    /// </summary>
    public const float WarnMultiplier = 10f;

    [GeneratedRegex(@"<(\w+):([^>]+)>")]
    private static partial Regex ExtraNetwork();

    public static (string Text, IReadOnlyList<LoraTag> Tags) Extract(string? prompt, ICollection<string> warnings)
    {
        var tags = new List<LoraTag>();
        if (string.IsNullOrEmpty(prompt) || !prompt.Contains('<')) return (prompt ?? "", tags);
        var text = ExtraNetwork().Replace(prompt, m =>
        {
            var type = m.Groups[1].Value;
            var args = m.Groups[2].Value.Split(':');
            if (!type.Equals("lora", StringComparison.OrdinalIgnoreCase) && !type.Equals("lyco", StringComparison.OrdinalIgnoreCase))
            {
                warnings.Add($"Extra network type '{type}' in {m.Value} is not supported; the tag was removed from the prompt.");
                return "";
            }
            var name = args[0].Trim();
            if (name.Length == 0)
            {
                warnings.Add($"{m.Value} names no LoRA; ignored.");
                return "";
            }
            float? te = null, unet = null;
            var position = 0;
            foreach (var raw in args.Skip(1))
            {
                var arg = raw.Trim();
                string? key = null;
                var eq = arg.IndexOf('=');
                if (eq >= 0) (key, arg) = (arg[..eq].Trim().ToLowerInvariant(), arg[(eq + 1)..].Trim());
                else key = position++ switch { 0 => "te", 1 => "unet", _ => "dyn" };
                if (key == "dyn") continue; // A1111's dynamic dimension only trims the rank; a full-rank merge is its default.
                if (!float.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
                {
                    warnings.Add($"{m.Value}: '{arg}' is not a number; using 1.");
                    value = 1f;
                }
                if (Math.Abs(value) > WarnMultiplier)
                    warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{m.Value}: multiplier {value} is outside ±{WarnMultiplier}; applied as written, as A1111 does (such weights usually burn the image)."));
                if (key == "te") te = value;
                else if (key == "unet") unet = value;
                else warnings.Add($"{m.Value}: unknown argument '{key}'; ignored.");
            }
            var teValue = te ?? 1f;
            tags.Add(new LoraTag(name, teValue, unet ?? teValue));
            return "";
        });
        return (text, tags);
    }
}
