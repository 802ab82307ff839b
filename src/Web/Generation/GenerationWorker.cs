using Microsoft.Extensions.Options;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared.Hubs;

namespace SdBlazor.Web.Generation;

/// <summary>
/// Runs queued jobs one at a time on the engine (one device). A failing job is recorded as Failed and the worker
/// carries on; stopping the host mid-job leaves that job Interrupted (resubmittable), queued jobs stay queued.
/// </summary>
public sealed class GenerationWorker(
    GenerationQueue queue,
    IGenerationEngine engine,
    IGenerationOutputStore outputs,
    PreviewStore previews,
    JobNotifier notifier,
    IOptionsMonitor<GenerationOptions> options,
    ILogger<GenerationWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting before the first (CPU-heavy) job.
        await Task.Yield();
        var abandoned = queue.MarkAbandonedRunsInterrupted();
        if (abandoned > 0) logger.LogWarning("{Count} job(s) were running when the server last stopped; marked Interrupted", abandoned);

        while (!stoppingToken.IsCancellationRequested)
        {
            if (queue.TryStartNext(stoppingToken) is not var (job, run))
            {
                try { await queue.WaitForWorkAsync(stoppingToken); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            using (run) await RunAsync(job, run, stoppingToken);
        }
    }

    private async Task RunAsync(Job job, RunningJob run, CancellationToken stoppingToken)
    {
        var request = job.Request;
        notifier.Publish(new JobStartedEvent { JobId = job.Id, ImageCount = request.BatchCount * request.BatchSize });
        var sink = new StepProgressRelay(run, previews, notifier, options.CurrentValue.PreviewEveryNSteps, request.BatchCount);
        try
        {
            // The engine computes on the calling thread; keep that off the host's start-up path.
            using var result = await Task.Run(() => engine.GenerateAsync(request, sink, run.Token, run.ConsumeSkip), CancellationToken.None);
            var ids = await outputs.SaveAsync(job, result, CancellationToken.None);
            var summary = Summarize(result.Parameters);
            queue.Complete(job.Id, ids, summary);
            notifier.Publish(new JobCompletedEvent { JobId = job.Id, ImageIds = [.. ids], Parameters = summary });
            logger.LogInformation("Job {JobId} finished: {Count} image(s) in {Seconds:0.00} s", job.Id, ids.Count, summary.DurationSeconds);
        }
        catch (OperationCanceledException ex) when (run.CancelRequested)
        {
            // Images finished before the cancel are kept (saved to the gallery, listed on the job), as A1111 does.
            var (ids, summary) = await SaveFinishedAsync(job, ex);
            queue.MarkCancelled(job.Id, ids, summary);
            notifier.Publish(new JobCancelledEvent
            {
                JobId = job.Id, StepAtRequest = run.StepAtCancel, LastStep = run.LastStep, ImageIds = [.. ids], Parameters = summary,
            });
        }
        catch (OperationCanceledException ex) when (stoppingToken.IsCancellationRequested)
        {
            var (ids, _) = await SaveFinishedAsync(job, ex);
            queue.MarkInterrupted(job.Id, ids);
            logger.LogWarning("Job {JobId} interrupted by shutdown after {Count} finished image(s)", job.Id, ids.Count);
        }
        catch (GenerationValidationException ex)
        {
            Fail(job, ex.Message);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Job {JobId} failed", job.Id);
            Fail(job, $"Generation failed: {ex.Message}");
        }
        finally
        {
            previews.Retire(job.Id);
        }
    }

    private async Task<(IReadOnlyList<string> Ids, GenerationSummary? Summary)> SaveFinishedAsync(Job job, OperationCanceledException ex)
    {
        if (ex is not GenerationCancelledException { Partial: var partial }) return ([], null);
        using (partial)
        {
            try
            {
                return (await outputs.SaveAsync(job, partial, CancellationToken.None), Summarize(partial.Parameters));
            }
            catch (Exception saveError)
            {
                logger.LogError(saveError, "Job {JobId}: saving the images finished before the cancel failed", job.Id);
                return ([], null);
            }
        }
    }

    private void Fail(Job job, string reason)
    {
        queue.Fail(job.Id, reason);
        notifier.Publish(new JobFailedEvent { JobId = job.Id, Reason = reason });
    }

    private static GenerationSummary Summarize(ResolvedParameters p) => new()
    {
        Prompt = p.Prompt,
        NegativePrompt = p.NegativePrompt,
        Model = p.Model,
        Sampler = p.Sampler,
        ScheduleType = p.ScheduleType,
        Steps = p.Steps,
        CfgScale = p.CfgScale,
        Seed = p.Seed,
        Width = p.Width,
        Height = p.Height,
        Strength = p.Strength,
        DurationSeconds = p.Duration.TotalSeconds,
    };
}
