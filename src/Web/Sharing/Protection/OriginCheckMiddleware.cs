namespace SdBlazor.Web.Sharing.Protection;

/// <summary>
/// Same-origin only for anything that changes state or opens a socket: hub and circuit connections (cross-site
/// WebSocket hijacking) and every non-GET request (CSRF; the local owner is recognised without a cookie, so
/// SameSite cookies alone would not protect them). Browsers always send Origin or Sec-Fetch-Site on these
/// requests; non-browser clients send neither and must authenticate anyway. "Origin: null" is refused: this
/// app's pages send their real origin (Referrer-Policy same-origin), so null comes from elsewhere, e.g. a sandboxed
/// cross-site frame. Forms carry antiforgery tokens as well: over plain HTTP on a LAN, Chromium sends no
/// Sec-Fetch-* headers, so Origin is the only browser-set signal here.
/// </summary>
public sealed class OriginCheckMiddleware(RequestDelegate next, ILogger<OriginCheckMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var guarded = !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !HttpMethods.IsOptions(request.Method)
            || request.Path.StartsWithSegments("/hubs") || request.Path.StartsWithSegments("/_blazor");
        if (guarded && !IsSameOrigin(request))
        {
            logger.LogWarning("Refused a cross-origin {Method} {Path} from {Origin}", request.Method, request.Path, request.Headers.Origin.ToString());
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return Task.CompletedTask;
        }
        return next(context);
    }

    public static bool IsSameOrigin(HttpRequest request)
    {
        if (string.Equals(request.Headers["Sec-Fetch-Site"].ToString(), "cross-site", StringComparison.OrdinalIgnoreCase)) return false;
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0) return true;
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)) return false;
        return string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
