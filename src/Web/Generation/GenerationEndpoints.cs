using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SdBlazor.Web.Hubs;
using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Generation;

/// <summary>HTTP side of generation: the latest preview frame of a job, and a small REST API onto the same queue.</summary>
public static class GenerationEndpoints
{
    public static IEndpointRouteBuilder MapGenerationEndpoints(this IEndpointRouteBuilder app)
    {
        // The page swaps ?v={frameNo} on each step; the frame number only defeats caches, the newest frame is always served.
        app.MapGet("/api/jobs/{id}/preview", (string id, PreviewStore previews, HttpResponse response) =>
        {
            response.Headers.CacheControl = "no-store";
            return previews.Get(id) is { } frame ? Results.Bytes(frame.Jpeg, "image/jpeg") : Results.NotFound();
        }).RequireAuthorization(SharingPolicies.Member);

        var jobs = app.MapGroup("/api/jobs").RequireAuthorization(SharingPolicies.Member);
        jobs.MapPost("/", (GenerationRequest request, GenerationQueue queue) =>
        {
            try
            {
                var job = queue.Enqueue(request, owner: "rest");
                return Results.Created($"/api/jobs/{job.Id}", Snapshot.Of(job, queue));
            }
            catch (GenerationValidationException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Invalid generation request");
            }
        });
        jobs.MapGet("/{id}", (string id, GenerationQueue queue) =>
            queue.Get(id) is { } job ? Results.Ok(Snapshot.Of(job, queue)) : Results.NotFound());
        jobs.MapDelete("/{id}", (string id, GenerationQueue queue) =>
            queue.Cancel(id) ? Results.Accepted() : Results.NotFound());
        return app;
    }
}
