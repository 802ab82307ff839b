using Microsoft.AspNetCore.Antiforgery;
using SdBlazor.Web.Sharing.Auth;

namespace SdBlazor.Web.Sharing.Protection;

/// <summary>
/// Antiforgery for API endpoints that scripts call too (multipart uploads): a request that rides on the login
/// cookie is a browser, and must carry a token (form field or <c>RequestVerificationToken</c> header) like any form;
/// HTTP Basic and this machine's owner carry no ambient credential a cross-site page could use, so they need none.
/// The framework's own check is off for these endpoints because it cannot tell the two apart.
/// </summary>
public static class CookieAntiforgery
{
    public const string HeaderName = "RequestVerificationToken";

    public static TBuilder RequireAntiforgeryForCookieLogins<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (http.User.Identity?.AuthenticationType != SharingAuthentication.CookieScheme) return await next(context);
            var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
            if (await antiforgery.IsRequestValidAsync(http)) return await next(context);
            return Results.Problem(
                $"A signed-in browser must send an antiforgery token (form field __RequestVerificationToken or header {HeaderName}); scripts can use HTTP Basic instead.",
                statusCode: StatusCodes.Status400BadRequest, title: "Antiforgery token missing or invalid");
        });
}
