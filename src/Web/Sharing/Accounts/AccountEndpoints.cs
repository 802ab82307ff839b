using Microsoft.AspNetCore.Authentication;
using SdBlazor.Web.Sharing.Auth;

namespace SdBlazor.Web.Sharing.Accounts;

public static class AccountEndpoints
{
    /// <summary>Login, setup and invites are pages (static forms with antiforgery); logging out is a POST.</summary>
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/logout", async (HttpContext http) =>
        {
            await http.SignOutAsync(SharingAuthentication.CookieScheme);
            return Results.Redirect("/login");
        }).RequireAuthorization(SharingPolicies.Viewer).ExcludeFromDescription();
        return app;
    }

    /// <summary>Only same-site paths: never redirect to another host after logging in.</summary>
    public static string SafeReturnUrl(string? returnUrl) =>
        returnUrl is { Length: > 0 and < 2048 } && returnUrl[0] == '/' && !returnUrl.StartsWith("//", StringComparison.Ordinal)
        && !returnUrl.StartsWith("/\\", StringComparison.Ordinal) && !returnUrl.Contains('\0') ? returnUrl : "/";
}
