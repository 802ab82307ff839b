using SdBlazor.Web.Api.Models;
using SdBlazor.Web.Sharing.Auth;

namespace SdBlazor.Web.Api;

/// <summary>
/// Extension point for A1111's <c>--api-auth</c>: when LAN sharing requires authentication, the sharing feature
/// registers an implementation and every <c>/sdapi/v1</c> call must carry matching HTTP Basic credentials.
/// With none registered (the loopback-only default) the API is open, as A1111 is without <c>--api-auth</c>.
/// </summary>
public interface ISdApiCredentials
{
    /// <summary>Whether this request needs credentials (e.g. false for loopback callers).</summary>
    bool IsRequired(HttpContext http);

    bool IsValid(string user, string password);
}

/// <summary>Checks HTTP Basic credentials on the A1111 endpoints; answers 401 with A1111's message and a Basic challenge.</summary>
internal sealed class SdApiBasicAuthFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.RequestServices.GetService<ISdApiCredentials>() is not { } credentials || !credentials.IsRequired(http))
            return await next(context);

        if (BasicAuthenticationHandler.TryRead(http.Request.Headers.Authorization.ToString(), out var user, out var password) && credentials.IsValid(user, password))
            return await next(context);

        http.Response.Headers.WWWAuthenticate = "Basic";
        return Results.Json(new ApiErrorResponse("HTTPException", "Incorrect username or password", "", ""), statusCode: StatusCodes.Status401Unauthorized);
    }
}

/// <summary>Last line of defence: an unexpected failure answers A1111's JSON error body, logged, never a stack trace.</summary>
internal sealed class SdApiExceptionFilter(ILogger<SdApiExceptionFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (OperationCanceledException) when (context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "A1111 API call {Path} failed", context.HttpContext.Request.Path);
            // The details (type, message with paths, stack) are in the log only.
            return SdApiResults.Error(StatusCodes.Status500InternalServerError, "The server could not complete the request; its log has the details.", "ServerError");
        }
    }
}
