using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SdBlazor.Web.Hubs;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Sharing.Auth;

namespace SdBlazor.Web.Generation;

/// <summary>HTTP side of generation: the latest preview frame of a job, and a small REST API onto the same queue.</summary>
public static class GenerationEndpoints
{
    public static IEndpointRouteBuilder MapGenerationEndpoints(this IEndpointRouteBuilder app)
    {
        // The page swaps ?v={frameNo} on each step; the frame number only defeats caches, the newest frame is always served.
        // Members see their own jobs only; someone else's job id answers exactly like an unknown one (404).
        app.MapGet("/api/jobs/{id}/preview", (string id, HttpContext http, GenerationQueue queue, PreviewStore previews) =>
        {
            http.Response.Headers.CacheControl = "no-store";
            return queue.Get(id, http.User.Scope()) is not null && previews.Get(id) is { } frame ? Results.Bytes(frame.Jpeg, "image/jpeg") : Results.NotFound();
        }).RequireAuthorization(SharingPolicies.Member);

        var jobs = app.MapGroup("/api/jobs").RequireAuthorization(SharingPolicies.Member);
        jobs.MapGet("/", (HttpContext http, GenerationQueue queue, Microsoft.Extensions.Options.IOptions<GenerationOptions> options) =>
            Results.Ok(queue.List(options.Value.RecentJobsShown, http.User.Scope()).Select(j => Snapshot.Of(j, queue))));
        jobs.MapPost("/", async (HttpContext http, GenerationQueue queue) =>
        {
            var (request, problem) = await JobRequestReader.ReadAsync(http);
            if (problem is not null) return problem;
            try
            {
                var job = queue.Enqueue(request!, owner: "rest", account: http.User.Scope().AccountForNewItems);
                return Results.Created($"/api/jobs/{job.Id}", Snapshot.Of(job, queue));
            }
            catch (GenerationValidationException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Invalid generation request");
            }
        }).Accepts<GenerationRequest>("application/json");
        jobs.MapGet("/{id}", (string id, HttpContext http, GenerationQueue queue) =>
            queue.Get(id, http.User.Scope()) is { } job ? Results.Ok(Snapshot.Of(job, queue)) : Results.NotFound());
        jobs.MapDelete("/{id}", (string id, HttpContext http, GenerationQueue queue) =>
            queue.Cancel(id, http.User.Scope()) ? Results.Accepted() : Results.NotFound());
        return app;
    }
}
