using System.Text.Json;
using SdBlazor.Shared;
using SdBlazor.Web.Api.Models;

namespace SdBlazor.Web.Api;

/// <summary>
/// The prompt settings an A1111 request may carry in <c>override_settings</c>, under A1111's own names:
/// <c>CLIP_stop_at_last_layers</c> (clip skip, 1–12) and <c>emphasis</c> ("Original", "No norm", "Ignore", "None"; "None"
/// reads brackets and BREAK as literal text, for prompts that need real parentheses).
/// </summary>
public static class SdApiPromptSettings
{
    public const string ClipSkipKey = "CLIP_stop_at_last_layers";
    public const string EmphasisKey = "emphasis";

    public static (int ClipSkip, string Emphasis) Read(Dictionary<string, JsonElement>? overrides, List<ValidationErrorItem> errors)
    {
        var clipSkip = 1;
        var emphasis = "Original";
        if (overrides is null) return (clipSkip, emphasis);
        if (overrides.TryGetValue(ClipSkipKey, out var skip) && skip.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
        {
            // A1111's slider value arrives as 2 or 2.0.
            if (skip.ValueKind == JsonValueKind.Number && skip.TryGetDouble(out var value) && value == Math.Floor(value)
                && value is >= GenerationLimits.MinClipSkip and <= GenerationLimits.MaxClipSkip)
                clipSkip = (int)value;
            else
                errors.Add(new(["body", "override_settings", ClipSkipKey],
                    $"{ClipSkipKey} must be a whole number from {GenerationLimits.MinClipSkip} to {GenerationLimits.MaxClipSkip}.", "value_error"));
        }
        if (overrides.TryGetValue(EmphasisKey, out var mode) && mode.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
        {
            var name = mode.ValueKind == JsonValueKind.String ? mode.GetString() : null;
            var known = GenerationLimits.EmphasisModes.FirstOrDefault(m => string.Equals(m, name?.Trim(), StringComparison.OrdinalIgnoreCase));
            if (known is null)
                errors.Add(new(["body", "override_settings", EmphasisKey],
                    $"{EmphasisKey} must be one of: {string.Join(", ", GenerationLimits.EmphasisModes)}.", "value_error"));
            else emphasis = known;
        }
        return (clipSkip, emphasis);
    }
}
