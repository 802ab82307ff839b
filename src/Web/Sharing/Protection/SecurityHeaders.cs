namespace SdBlazor.Web.Sharing.Protection;

/// <summary>Response headers that keep pages from being framed, sniffed or fed foreign scripts.</summary>
public sealed class SecurityHeadersMiddleware(RequestDelegate next)
{
    // Blazor Server needs no inline script or eval (blazor.web.js and MudBlazor's script are files); MudBlazor sets
    // inline styles, hence 'unsafe-inline' for styles only. 'self' also covers the ws(s) circuit and hub sockets.
    // No outside origin at all: the app loads no web font or CDN file.
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
        "font-src 'self' data:; img-src 'self' data: blob:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    // The Scalar API page is built from inline scripts; it is a members-only developer page.
    private const string ApiPagePolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; " +
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments("/scalar") ? ApiPagePolicy : ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            // same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on this app's own form
            // posts, which the origin check must refuse (a sandboxed cross-site page sends null too). Other sites
            // still learn nothing of the path (share tokens are in paths).
            headers["Referrer-Policy"] = "same-origin";
            // Browsers ignore (and log an error for) COOP on plain-HTTP LAN origins; send it where it applies.
            if (context.Request.IsHttps || LocalRequests.IsLoopbackHost(context.Request.Host.Host)) headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
            return Task.CompletedTask;
        });
        return next(context);
    }
}
