using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using SdBlazor.Web.Sharing.Accounts;

namespace SdBlazor.Web.Sharing.Auth;

/// <summary>One browser login. The cookie carries a random token; the table keeps only its SHA-256.</summary>
public sealed class LoginSession
{
    public string Id { get; set; } = "";
    public string AccountId { get; set; } = "";
    public DateTime CreatedUtc { get; set; }
    public DateTime LastSeenUtc { get; set; }
}

/// <summary>
/// The session table behind login cookies: a cookie is only as good as its row, so logging out (or changing the
/// password, which ends the account's other sessions) stops a copied cookie at once, although the cookie itself
/// is still validly signed.
/// </summary>
public sealed class LoginSessions(SharingDatabase db, IOptions<SharingOptions> options, TimeProvider time)
{
    // Writing LastSeen on every request would turn each page view into a database write.
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(10);

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    public string Start(string accountId)
    {
        var token = SecretTokens.New();
        var now = Now;
        db.Sessions.Insert(new LoginSession { Id = SecretTokens.Hash(token), AccountId = accountId, CreatedUtc = now, LastSeenUtc = now });
        // A plain value, not now.AddDays(...), in the query: LiteDB translated that call wrongly and deleted every session.
        var stale = now.AddDays(-options.Value.LoginDays);
        db.Sessions.DeleteMany(s => s.AccountId == accountId && s.LastSeenUtc < stale);
        return token;
    }

    public bool IsValid(string? token, string accountId)
    {
        if (!SecretTokens.LooksValid(token)) return false;
        var session = db.Sessions.FindById(SecretTokens.Hash(token!));
        if (session is null || session.AccountId != accountId) return false;
        var now = Now;
        if (session.LastSeenUtc < now.AddDays(-options.Value.LoginDays))
        {
            db.Sessions.Delete(session.Id);
            return false;
        }
        if (now - session.LastSeenUtc > TouchInterval)
        {
            session.LastSeenUtc = now;
            db.Sessions.Update(session);
        }
        return true;
    }

    public void End(string? token)
    {
        if (SecretTokens.LooksValid(token)) db.Sessions.Delete(SecretTokens.Hash(token!));
    }

    /// <summary>Ends every session of the account except <paramref name="keepToken"/>'s; returns how many ended.</summary>
    public int EndAll(string accountId, string? keepToken = null)
    {
        var keep = SecretTokens.LooksValid(keepToken) ? SecretTokens.Hash(keepToken!) : null;
        return db.Sessions.DeleteMany(s => s.AccountId == accountId && s.Id != keep);
    }

    public int Count(string accountId) => db.Sessions.Count(s => s.AccountId == accountId);
}

/// <summary>Signing a browser in and out: always with a session row, so that the cookie can be revoked.</summary>
public static class CookieLogins
{
    public static async Task SignInAsync(HttpContext http, Account account)
    {
        var sessions = http.RequestServices.GetRequiredService<LoginSessions>();
        // Logging in over an earlier login (another account, or again) ends that one: it is no longer in any cookie.
        sessions.End(http.User.SessionToken());
        var token = sessions.Start(account.Id);
        await http.SignInAsync(SharingAuthentication.CookieScheme, SharingClaims.For(account, SharingAuthentication.CookieScheme, token),
            new AuthenticationProperties { IsPersistent = true });
    }

    public static async Task SignOutAsync(HttpContext http)
    {
        http.RequestServices.GetRequiredService<LoginSessions>().End(http.User.SessionToken());
        await http.SignOutAsync(SharingAuthentication.CookieScheme);
    }
}
