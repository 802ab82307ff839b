using System.Threading.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using SdBlazor.Web.Sharing.Auth;

namespace SdBlazor.Web.Sharing.Protection;

/// <summary>
/// Rate limits by kind of request, decided here in one place rather than on each endpoint: logins (per client
/// address), generations and uploads (per account, or per address when anonymous). Over the limit: 429. The limits
/// share the machine fairly among members and viewers; the owner (at this machine or logged in) and accounts the
/// owner marked as trusted are not limited: it is their machine, and their own scripts may queue hundreds of jobs.
/// </summary>
public static class SharingRateLimits
{
    public enum Kind { None, Login, Generation, Upload }

    public static IServiceCollection AddSharingRateLimits(this IServiceCollection services)
    {
        services.AddSingleton<GenerationLimiter>();
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, ct) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry))
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await context.HttpContext.Response.WriteAsync("Too many requests; wait a little and try again.", ct);
            };
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                var sharing = http.RequestServices.GetRequiredService<IOptions<SharingOptions>>().Value;
                var kind = Classify(http.Request);
                if (kind is Kind.Generation or Kind.Upload && IsUnlimited(http.User, http.RequestServices)) return RateLimitPartition.GetNoLimiter("unlimited");
                return kind switch
                {
                    Kind.Login => Window("login:" + Address(http), sharing.LoginAttemptsPerMinute),
                    Kind.Generation => Window("gen:" + Who(http), sharing.GenerationsPerMinute),
                    Kind.Upload => Window("upload:" + Who(http), sharing.UploadsPerMinute),
                    _ => RateLimitPartition.GetNoLimiter("none"),
                };
            });
        });
        return services;
    }

    public static Kind Classify(HttpRequest request)
    {
        var path = request.Path;
        if (HttpMethods.IsPost(request.Method))
        {
            if (path.StartsWithSegments("/login") || path.StartsWithSegments("/setup") || path.StartsWithSegments("/invite")) return Kind.Login;
            if (path.StartsWithSegments("/s") ) return Kind.Login; // share PIN attempts
            if (path.StartsWithSegments("/api/jobs") || path.StartsWithSegments("/sdapi/v1/txt2img") || path.StartsWithSegments("/sdapi/v1/img2img"))
                return Kind.Generation;
            if (path.StartsWithSegments("/api/gallery/import") || path.StartsWithSegments("/api/gallery/inspect") || path.StartsWithSegments("/sdapi/v1/png-info"))
                return Kind.Upload;
        }
        // HTTP Basic is not counted here: API clients poll /progress every second. Guessing through it meets the
        // per-account lockout instead.
        return Kind.None;
    }

    private static RateLimitPartition<string> Window(string key, int permits) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });

    /// <summary>The owner (local or logged in) and trusted accounts.</summary>
    public static bool IsUnlimited(System.Security.Claims.ClaimsPrincipal? user, IServiceProvider services) =>
        user?.Role() is { } role && (role == SharingRole.Owner
            || services.GetRequiredService<Accounts.AccountStore>().Find(user.AccountId()) is { Trusted: true });

    private static string Address(HttpContext http) => ClientAddresses.Key(http);

    private static string Who(HttpContext http) =>
        http.User.Identity?.IsAuthenticated == true ? "user:" + http.User.AccountId() : "ip:" + Address(http);
}

/// <summary>The same per-account generation budget for hub submissions, which bypass the HTTP limiter.</summary>
public sealed class GenerationLimiter(IOptions<SharingOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.GenerationsPerMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));

    public bool TryAcquire(string who)
    {
        using var lease = _limiter.AttemptAcquire(who);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}

/// <summary>Rate-limits the hub methods that queue work.</summary>
public sealed class GenerationRateLimitHubFilter(GenerationLimiter limiter, IServiceProvider services) : IHubFilter
{
    private static readonly HashSet<string> QueueingMethods = ["Submit", "Resubmit"];

    public ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (QueueingMethods.Contains(invocationContext.HubMethodName) && !SharingRateLimits.IsUnlimited(invocationContext.Context.User, services)
            && !limiter.TryAcquire(invocationContext.Context.User?.AccountId() is { Length: > 0 } id ? id : invocationContext.Context.ConnectionId))
            throw new HubException("Too many generation requests; wait a little and try again.");
        return next(invocationContext);
    }
}
