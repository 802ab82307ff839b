using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Generation;

namespace SdBlazor.Web.Sharing.Shares;

/// <summary>
/// What a live share shows: the newest preview frame of the job running now. Viewers poll it over HTTP through
/// their share link only; they never join the generation hub, so they can neither see job ids nor act on jobs.
/// </summary>
public sealed class LiveFeed : IDisposable
{
    private readonly PreviewStore _previews;
    private readonly IDisposable _subscription;
    private volatile string? _runningJob;
    private long _generation;

    public LiveFeed(JobNotifier notifier, PreviewStore previews)
    {
        _previews = previews;
        _subscription = notifier.SubscribeAll(OnEvent);
    }

    public sealed record State(bool Running, long Generation, long Frame, int Step, int Steps);

    private volatile int _step, _steps;

    public State Current()
    {
        var job = _runningJob;
        var frame = job is null ? null : _previews.Get(job);
        return new State(job is not null, Interlocked.Read(ref _generation), frame?.FrameNo ?? 0, _step, _steps);
    }

    public byte[]? Frame() => _runningJob is { } job ? _previews.Get(job)?.Jpeg : null;

    private void OnEvent(JobEvent e)
    {
        switch (e)
        {
            case JobStartedEvent:
                _runningJob = e.JobId;
                _step = 0;
                Interlocked.Increment(ref _generation);
                break;
            case JobStepEvent step when step.JobId == _runningJob:
                _step = step.Step;
                _steps = step.TotalSteps;
                break;
            case JobCompletedEvent or JobFailedEvent or JobCancelledEvent when e.JobId == _runningJob:
                _runningJob = null;
                break;
        }
    }

    public void Dispose() => _subscription.Dispose();
}
