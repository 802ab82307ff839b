using System.Diagnostics;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared.Hubs;

namespace SdBlazor.Web.Generation;

/// <summary>
/// The worker's <see cref="IStepProgressSink"/>: on the engine thread it renders the preview JPEG (latents are only
/// valid during the callback), puts it in the latest-frame slot and posts a step event. Nothing here waits on a viewer.
/// </summary>
internal sealed class StepProgressRelay(RunningJob run, PreviewStore previews, JobNotifier notifier, int previewEveryNSteps, int batchCount)
    : IStepProgressSink
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _stepsDone;
    private long _frameNo;

    public void OnPhase(string phase, int done, int total) => notifier.Publish(new JobStepEvent
    {
        JobId = run.JobId,
        BatchCount = batchCount,
        FrameNo = _frameNo,
        Phase = total > 1 ? $"{phase} ({done}/{total})" : phase,
    });

    public void OnStep(in StepProgress progress)
    {
        run.LastStep = ++_stepsDone;

        byte[]? jpeg = null;
        if (previewEveryNSteps > 0 && (progress.Step % previewEveryNSteps == 0 || progress.Step == progress.TotalSteps))
        {
            jpeg = progress.Previewer.RenderJpeg(progress.Latents.Span, 0, progress.LatentHeight, progress.LatentWidth);
            previews.Set(run.JobId, new PreviewFrame(++_frameNo, jpeg));
        }

        var rate = _stepsDone / Math.Max(_clock.Elapsed.TotalSeconds, 1e-6);
        var remaining = progress.TotalSteps * batchCount - (progress.BatchIndex * progress.TotalSteps + progress.Step);
        notifier.Publish(new JobStepEvent
        {
            JobId = run.JobId,
            ImageIndex = progress.ImageIndex,
            BatchIndex = progress.BatchIndex,
            BatchCount = batchCount,
            Step = progress.Step,
            TotalSteps = progress.TotalSteps,
            FrameNo = _frameNo,
            ItPerSecond = rate,
            EtaSeconds = Math.Max(remaining, 0) / rate,
            Preview = jpeg,
        });
    }
}
