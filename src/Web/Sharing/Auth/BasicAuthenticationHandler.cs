using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using SdBlazor.Web.Sharing.Accounts;

namespace SdBlazor.Web.Sharing.Auth;

/// <summary>
/// HTTP Basic with an owner or member account, for A1111-style API clients (<c>--api-auth</c>). Goes through the
/// same throttle as the login page; a correct name and password are remembered for a short while (hashed), so
/// clients that send them with every request cost one password hash, not one per request.
/// </summary>
public sealed class BasicAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions, ILoggerFactory logger, UrlEncoder encoder, AccountStore accounts)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!TryRead(Request.Headers.Authorization.ToString(), out var user, out var password)) return Task.FromResult(AuthenticateResult.NoResult());
        var result = accounts.VerifyApiLogin(user, password, LoginOrigin.Of(Context));
        if (result.Outcome != LoginOutcome.Success) return Task.FromResult(AuthenticateResult.Fail("Incorrect username or password"));
        if (result.Account!.Role < SharingRole.Member) return Task.FromResult(AuthenticateResult.Fail("Viewers cannot use the API"));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(SharingClaims.For(result.Account, Scheme.Name), Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        // A1111 clients expect the Basic challenge. A page's own fetch gets a bare 401: with the challenge, browsers
        // hold the request open behind a credentials prompt.
        if (!IsScriptInBrowser(Request)) Response.Headers.WWWAuthenticate = "Basic realm=\"SdBlazor\", charset=\"UTF-8\"";
        return Task.CompletedTask;
    }

    /// <summary>
    /// A browser's fetch/XHR/subresource rather than a navigation or an API client. Sec-Fetch-Mode says so where
    /// browsers send it (HTTPS and localhost only); on plain-HTTP LAN addresses, a browser user agent that does not
    /// ask for a page.
    /// </summary>
    public static bool IsScriptInBrowser(HttpRequest request)
    {
        var mode = request.Headers["Sec-Fetch-Mode"].ToString();
        if (mode.Length > 0) return mode != "navigate";
        return request.Headers.UserAgent.ToString().StartsWith("Mozilla/", StringComparison.Ordinal)
            && !request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
    }

    public static bool TryRead(string header, out string user, out string password)
    {
        user = password = "";
        if (!AuthenticationHeaderValue.TryParse(header, out var value)
            || !string.Equals(value.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) || value.Parameter is null || value.Parameter.Length > 1024)
            return false;
        var buffer = new byte[value.Parameter.Length];
        if (!Convert.TryFromBase64String(value.Parameter, buffer, out var written)) return false;
        var text = Encoding.UTF8.GetString(buffer, 0, written);
        var colon = text.IndexOf(':');
        if (colon < 0) return false;
        user = text[..colon];
        password = text[(colon + 1)..];
        return true;
    }
}
