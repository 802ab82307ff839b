using SdBlazor.Web.Sharing.Accounts;

namespace SdBlazor.Web.Sharing.Protection;

/// <summary>
/// Until an owner password exists, other machines get only the setup page (which still wants the console token)
/// and the files it needs: this is what "LAN mode cannot be turned on before setup" means at run time.
/// </summary>
public sealed class SetupGateMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context, SetupGate gate)
    {
        if (gate.SetupDone || LocalRequests.IsLocal(context) || IsSetupRequest(context.Request))
        {
            await next(context);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync("SdBlazor is not set up for other devices yet: its owner must first set a password " +
            "(on that computer, or with the setup link printed in its console log).");
    }

    private static bool IsSetupRequest(HttpRequest request) =>
        request.Path.StartsWithSegments("/setup") || request.Path.StartsWithSegments("/_framework")
        || request.Path.StartsWithSegments("/_content") || request.Path.StartsWithSegments("/css") || request.Path == "/app.css";
}
