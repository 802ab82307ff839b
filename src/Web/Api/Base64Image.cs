namespace SdBlazor.Web.Api;

/// <summary>Base64 image text as A1111 clients send it: bare, or as a data URL (<c>data:image/png;base64,...</c>).</summary>
public static class Base64Image
{
    /// <returns>The bytes, or <c>null</c> when the text is not base64.</returns>
    public static byte[]? Decode(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var payload = text.Trim();
        if (payload.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var comma = payload.IndexOf(',');
            if (comma < 0) return null;
            payload = payload[(comma + 1)..];
        }
        var buffer = new byte[payload.Length * 3 / 4 + 3];
        return Convert.TryFromBase64String(payload, buffer, out var written) ? buffer[..written] : null;
    }
}
