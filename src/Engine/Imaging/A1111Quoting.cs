using System.Globalization;
using System.Text;

namespace SdBlazor.Engine.Imaging;

/// <summary>
/// Value quoting of the infotext's last line, the way AUTOMATIC1111 does it: a value containing a comma, a colon
/// or a newline is written as a JSON string (Python <c>json.dumps(ensure_ascii=False)</c>), other values as they are.
/// </summary>
internal static class A1111Quoting
{
    public static bool NeedsQuotes(string value) =>
        value.Contains(',') || value.Contains('\n') || value.Contains(':');

    public static string Quote(string value) => NeedsQuotes(value) ? JsonString(value) : value;

    /// <summary>Python's json.dumps for a str with ensure_ascii=False: escapes quotes, backslashes and control characters only.</summary>
    public static string JsonString(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>A1111's unquote: a value in double quotes is JSON-decoded; when that fails the raw text is kept.</summary>
    public static string Unquote(string value)
    {
        if (value.Length < 2 || value[0] != '"' || value[^1] != '"') return value;
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<string>(value) ?? value;
        }
        catch (System.Text.Json.JsonException)
        {
            return value;
        }
    }
}
