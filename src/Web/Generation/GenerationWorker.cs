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
    MemoryAdmission admission,
    LoadedModelCache loadedModels,
    IDiskSpace disk,
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
            try
            {
                if (queue.TryStartNext(stoppingToken) is not var (job, run))
                {
                    await queue.WaitForWorkAsync(stoppingToken);
                    continue;
                }
                using (run)
                {
                    if (LowDiskMessage() is { } full)
                    {
                        Fail(job, full);
                        logger.LogWarning("Job {JobId} not started: {Reason}", job.Id, full);
                        await WaitForDiskSpaceAsync(stoppingToken);
                        continue;
                    }
                    await RunAsync(job, run, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Whatever broke (a full disk under the queue database, say), the worker must outlive it: an exception
                // leaving ExecuteAsync would stop the host or leave the queue dead until a restart.
                logger.LogError(ex, "The generation worker hit an error; carrying on in a moment");
                try { await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>A message for the user when the data folder's drive is below <see cref="GenerationOptions.MinFreeDiskBytes"/>; null when there is room.</summary>
    private string? LowDiskMessage()
    {
        var minimum = options.CurrentValue.MinFreeDiskBytes;
        if (minimum <= 0 || disk.FreeBytes() is not { } free || free >= minimum) return null;
        return $"The server's disk is almost full ({free / 1048576.0:0.#} MB free; at least {minimum / 1048576.0:0.#} MB is needed to save images), " +
            "so this job was not started. Queued jobs wait and start by themselves when space is freed.";
    }

    private async Task WaitForDiskSpaceAsync(CancellationToken stoppingToken)
    {
        while (LowDiskMessage() is not null) await Task.Delay(options.CurrentValue.DiskRecheckInterval, stoppingToken);
        logger.LogInformation("Disk space is back; the queue goes on");
    }

    private async Task RunAsync(Job job, RunningJob run, CancellationToken stoppingToken)
    {
        var request = job.Request;
        notifier.Publish(new JobStartedEvent { JobId = job.Id, ImageCount = request.BatchCount * request.BatchSize });
        var sink = new StepProgressRelay(run, previews, notifier, options.CurrentValue.PreviewEveryNSteps, request.BatchCount);
        try
        {
            // The engine computes on the calling thread; keep that off the host's start-up path.
            // Checked again at start (the budget may have changed since submit): a batch that no longer fits whole runs in parts.
            var plan = admission.Plan(request, owner: job.Account is null);
            if (plan.ImagesPerUNetBatch < request.BatchSize)
                logger.LogInformation("Job {JobId}: {Images} image(s) per UNet batch to stay within {Budget}", job.Id, plan.ImagesPerUNetBatch, MemoryAdmission.GiB(plan.BudgetBytes));
            loadedModels.MakeRoom(request.Model, plan.NeedBytes);
            using var result = await Task.Run(() => engine.GenerateAsync(request, sink, run.Token, run.ConsumeSkip, plan.ImagesPerUNetBatch), CancellationToken.None);
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
            // The user sees what happened in plain words; paths, types and stack traces stay in the log.
            logger.LogError(ex, "Job {JobId} failed", job.Id);
            Fail(job, ex switch
            {
                IOException io when IsDiskFull(io) => "The images could not be saved: the server's disk is full.",
                IOException => "The images could not be saved (a file error on the server; its log has the details).",
                OutOfMemoryException => "The server ran out of memory for this job; try a smaller size or batch.",
                _ => $"Generation failed on the server (job {job.Id}); its log has the details.",
            });
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
        try
        {
            queue.Fail(job.Id, reason);
        }
        catch (Exception ex)
        {
            // The queue database may sit on the full disk too; the listeners still hear about it.
            logger.LogError(ex, "Job {JobId} could not be recorded as failed", job.Id);
        }
        notifier.Publish(new JobFailedEvent { JobId = job.Id, Reason = reason });
    }

    // ENOSPC (28) on Unix, ERROR_DISK_FULL (112) / ERROR_HANDLE_DISK_FULL (39) on Windows.
    private static bool IsDiskFull(IOException ex) => (ex.HResult & 0xFFFF) is 28 or 39 or 112;

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
