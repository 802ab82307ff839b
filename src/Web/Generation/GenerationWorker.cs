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
        catch (OperationCanceledException) when (run.CancelRequested)
        {
            queue.MarkCancelled(job.Id);
            notifier.Publish(new JobCancelledEvent { JobId = job.Id, StepAtRequest = run.StepAtCancel, LastStep = run.LastStep });
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            queue.MarkInterrupted(job.Id);
            logger.LogWarning("Job {JobId} interrupted by shutdown", job.Id);
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
