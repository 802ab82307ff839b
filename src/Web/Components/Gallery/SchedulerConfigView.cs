using System.Text.Json;

namespace SdBlazor.Web.Components.Gallery;

/// <summary>A scheduler_config.json (as stored in an image's metadata) as key/value rows for people, not raw JSON.</summary>
public static class SchedulerConfigView
{
    private const int MaxValueLength = 120;

    public static IReadOnlyList<(string Key, string Value)> Entries(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return [];
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return [("value", Shorten(json))];
            return doc.RootElement.EnumerateObject().Select(p => (p.Name, Shorten(Text(p.Value)))).ToList();
        }
        catch (JsonException)
        {
            return [("unreadable", Shorten(json))];
        }
    }

    private static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() ?? "",
        JsonValueKind.Null => "none",
        JsonValueKind.True => "yes",
        JsonValueKind.False => "no",
        JsonValueKind.Array => string.Join(", ", value.EnumerateArray().Select(Text)),
        JsonValueKind.Object => string.Join(", ", value.EnumerateObject().Select(p => $"{p.Name}: {Text(p.Value)}")),
        _ => value.GetRawText(),
    };

    private static string Shorten(string s) => s.Length > MaxValueLength ? s[..MaxValueLength] + "…" : s;
}
