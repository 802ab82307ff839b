using System.Security.Cryptography;
using System.Text;

namespace SdBlazor.Web.Sharing;

/// <summary>Unguessable link tokens: 128 random bits, base64url in links, stored only as their SHA-256.</summary>
public static class SecretTokens
{
    public const int Bytes = 16;

    public static string New() => Base64Url(RandomNumberGenerator.GetBytes(Bytes));

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Cheap shape check before any lookup: exactly what <see cref="New"/> produces.</summary>
    public static bool LooksValid(string? token) =>
        token is { Length: 22 } && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
