using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Api.Models;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Api;

/// <summary>
/// Runs an A1111 txt2img/img2img call through the shared persistent queue (so UI users see it, with previews) and
/// waits for the job to end. The caller picks the job id and subscribes before queueing, so no event can be missed.
/// An interrupted job answers 200 with no images (A1111 returns the partial images; our engine does not keep them).
/// </summary>
public sealed class SdApiGenerator(GenerationQueue queue, JobNotifier notifier, ApiJobTickets tickets, TimeProvider time, ILogger<SdApiGenerator> logger)
{
    public const string Owner = "sdapi";

    /// <param name="caller">Whose job it is: its images go to that account's gallery.</param>
    public async Task<IResult> RunAsync(MappedRequest mapped, AccountScope caller, CancellationToken requestAborted)
    {
        var id = Job.NewId();
        var ticket = tickets.Open(id, mapped.SaveImages);
        var ended = new TaskCompletionSource<JobEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = time.GetLocalNow();
        try
        {
            using var subscription = notifier.Subscribe(id, e =>
            {
                if (e is JobStartedEvent) started = time.GetLocalNow();
                if (e is JobCompletedEvent or JobFailedEvent or JobCancelledEvent) ended.TrySetResult(e);
            });
            try
            {
                queue.Enqueue(mapped.Request, Owner, id, account: caller.AccountForNewItems);
            }
            catch (GenerationValidationException ex)
            {
                return SdApiResults.Validation([new ValidationErrorItem(["body"], ex.Message, "value_error")]);
            }

            JobEvent end;
            try
            {
                end = await ended.Task.WaitAsync(requestAborted);
            }
            catch (OperationCanceledException) when (requestAborted.IsCancellationRequested)
            {
                // Nobody will read the images: stop wasting the device on them, unless they were meant for the gallery.
                if (!mapped.SaveImages && queue.Cancel(id, caller)) logger.LogInformation("API client left; cancelled job {JobId}", id);
                return Results.Empty;
            }

            return end switch
            {
                JobCompletedEvent => Results.Json(SdApiInfo.Response(mapped, ticket.Output, started)),
                JobCancelledEvent => Results.Json(SdApiInfo.Response(mapped, null, started)),
                JobFailedEvent failed => SdApiResults.Error(StatusCodes.Status500InternalServerError, failed.Reason, "GenerationFailed"),
                _ => throw new InvalidOperationException($"Unexpected end event {end.GetType().Name}."),
            };
        }
        finally
        {
            tickets.Close(id);
        }
    }
}
