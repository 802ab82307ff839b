using Microsoft.AspNetCore.DataProtection;

namespace SdBlazor.Web.Sharing.Shares;

/// <summary>
/// Resolves a link token for a request and remembers a correct PIN in a cookie scoped to <c>/s/</c>, bound to
/// the one share (data-protected, so it cannot be forged or moved to another share).
/// </summary>
public sealed class ShareAccess(ShareStore shares, IDataProtectionProvider protection, TimeProvider time)
{
    private readonly IDataProtector _protector = protection.CreateProtector("SdBlazor.Sharing.SharePin.v1");

    public enum Verdict { Granted, NeedsPin, NotFound }

    public (Verdict Verdict, Share? Share) Check(HttpContext http, string? token)
    {
        var share = shares.Resolve(token);
        if (share is null) return (Verdict.NotFound, null);
        if (share.PinHash is null || HasPinCookie(http, share)) return (Verdict.Granted, share);
        return (Verdict.NeedsPin, share);
    }

    public void RememberPin(HttpContext http, Share share) =>
        http.Response.Cookies.Append(CookieName(share), _protector.Protect(share.Id + "|" + share.TokenHash), new CookieOptions
        {
            Path = "/s/",
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = http.Request.IsHttps,
            Expires = share.ExpiresUtc is { } e ? new DateTimeOffset(e, TimeSpan.Zero) : time.GetUtcNow().AddDays(30),
        });

    private bool HasPinCookie(HttpContext http, Share share)
    {
        if (!http.Request.Cookies.TryGetValue(CookieName(share), out var value) || value is null) return false;
        try
        {
            return _protector.Unprotect(value) == share.Id + "|" + share.TokenHash;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }

    private static string CookieName(Share share) => "sdshare." + share.Id[..12];
}
