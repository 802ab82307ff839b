using Microsoft.AspNetCore.Antiforgery;
using SdBlazor.Web.Sharing.Auth;

namespace SdBlazor.Web.Sharing.Accounts;

public static class AccountEndpoints
{
    /// <summary>Login, setup, invites and password changes are pages (static forms with antiforgery); logging out is a POST.</summary>
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        // The form carries an antiforgery token like every other form. The framework checks tokens only for endpoints
        // that bind form fields, and this one binds none, hence the explicit check.
        app.MapPost("/logout", async (HttpContext http, IAntiforgery antiforgery) =>
        {
            if (!await antiforgery.IsRequestValidAsync(http))
                return Results.Problem("The logout form's antiforgery token is missing or invalid; reload the page.", statusCode: StatusCodes.Status400BadRequest);
            await CookieLogins.SignOutAsync(http);
            return Results.Redirect("/login");
        }).RequireAuthorization(SharingPolicies.Viewer).ExcludeFromDescription();
        return app;
    }

    /// <summary>Only same-site paths: never redirect to another host after logging in.</summary>
    public static string SafeReturnUrl(string? returnUrl) =>
        returnUrl is { Length: > 0 and < 2048 } && returnUrl[0] == '/' && !returnUrl.StartsWith("//", StringComparison.Ordinal)
        && !returnUrl.StartsWith("/\\", StringComparison.Ordinal) && !returnUrl.Contains('\0') ? returnUrl : "/";
}
