using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using SdBlazor.Web.Sharing.Accounts;

namespace SdBlazor.Web.Sharing.Auth;

/// <summary>
/// Three ways in, picked per request by one policy scheme: the local owner (loopback, no login), HTTP Basic
/// (API clients) and the login cookie (browsers).
/// </summary>
public static class SharingAuthentication
{
    public const string Scheme = "SdBlazor";
    public const string LoopbackScheme = "Loopback";
    public const string BasicScheme = "Basic";
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string CookieName = "sdblazor.auth";

    public static IServiceCollection AddSharingAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "SdBlazor", o =>
            {
                o.ForwardDefaultSelector = SelectScheme;
                o.ForwardChallenge = null;
            })
            .AddScheme<AuthenticationSchemeOptions, LoopbackOwnerHandler>(LoopbackScheme, null)
            .AddScheme<AuthenticationSchemeOptions, BasicAuthenticationHandler>(BasicScheme, null)
            .AddCookie(CookieScheme, o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                // Strict: a cross-site page can never ride on the login (CSRF against uploads and forms).
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.LoginPath = "/login";
                o.AccessDeniedPath = "/login";
                o.SlidingExpiration = true;
                o.Events = new CookieAuthenticationEvents
                {
                    OnRedirectToLogin = c => Answer(c, StatusCodes.Status401Unauthorized),
                    OnRedirectToAccessDenied = c => Answer(c, StatusCodes.Status403Forbidden),
                    OnValidatePrincipal = ValidateAccountStillExists,
                };
            });
        services.AddOptions<CookieAuthenticationOptions>(CookieScheme)
            .Configure<IOptions<SharingOptions>>((o, sharing) => o.ExpireTimeSpan = TimeSpan.FromDays(sharing.Value.LoginDays));

        services.AddAuthorizationBuilder()
            .AddPolicy(SharingPolicies.Owner, p => p.RequireRole(nameof(SharingRole.Owner)))
            .AddPolicy(SharingPolicies.Member, p => p.RequireRole(nameof(SharingRole.Owner), nameof(SharingRole.Member)))
            .AddPolicy(SharingPolicies.Viewer, p => p.RequireRole(nameof(SharingRole.Owner), nameof(SharingRole.Member), nameof(SharingRole.Viewer)))
            // Anything that forgot to name a policy is closed to the anonymous; the authorization matrix test
            // additionally fails for every endpoint that relies on this.
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        services.AddCascadingAuthenticationState();
        return services;
    }

    private static string SelectScheme(HttpContext http)
    {
        var sharing = http.RequestServices.GetRequiredService<IOptions<SharingOptions>>().Value;
        if (!sharing.RequireLoginOnLoopback && LocalRequests.IsLocal(http)) return LoopbackScheme;
        if (http.Request.Headers.Authorization.ToString().StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return BasicScheme;
        // API clients get a Basic challenge (A1111 clients understand it); browsers go to the login page.
        if (IsApiPath(http.Request.Path) && !http.Request.Cookies.ContainsKey(CookieName) && http.Request.Path.StartsWithSegments("/sdapi"))
            return BasicScheme;
        return CookieScheme;
    }

    /// <summary>Paths that answer 401/403 instead of redirecting to the login page.</summary>
    public static bool IsApiPath(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments("/sdapi") || path.StartsWithSegments("/hubs")
        || path.StartsWithSegments("/openapi") || path.StartsWithSegments("/_blazor") || path.StartsWithSegments("/s");

    private static Task Answer(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (IsApiPath(context.Request.Path) || !HttpMethods.IsGet(context.Request.Method))
            context.Response.StatusCode = status;
        else
            context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }

    // A deleted account, or one whose role changed, loses its existing logins at once; so does a cookie whose
    // session ended (logged out, or the password changed elsewhere), even if someone kept a copy of it.
    private static Task ValidateAccountStillExists(CookieValidatePrincipalContext context)
    {
        var services = context.HttpContext.RequestServices;
        var principal = context.Principal;
        var account = principal is null ? null : services.GetRequiredService<AccountStore>().Find(principal.AccountId());
        if (account is null || principal!.Role() != account.Role
            || !services.GetRequiredService<LoginSessions>().IsValid(principal!.SessionToken(), account.Id))
            context.RejectPrincipal();
        return Task.CompletedTask;
    }
}
