using System.Globalization;
using SdBlazor.Shared;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Api.Models;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Api;

/// <summary>
/// A1111's global <c>shared.state</c>, rebuilt from the queue's job events: the running job (whoever submitted it),
/// its batch (<c>job_no</c> of <c>job_count</c> = n_iter) and step, whether it was interrupted or its current batch
/// skipped, and the newest preview frame. One job runs at a time, as in A1111. A member sees (and stops) only their
/// own running job and counts only their own queued ones; someone else's run looks idle to them.
/// </summary>
public sealed class SdApiProgress : IDisposable
{
    private readonly object _gate = new();
    private readonly GenerationQueue _queue;
    private readonly PreviewStore _previews;
    private readonly TimeProvider _time;
    private readonly IDisposable _subscription;
    private RunState? _current;

    public SdApiProgress(JobNotifier notifier, GenerationQueue queue, PreviewStore previews, TimeProvider time)
    {
        _queue = queue;
        _previews = previews;
        _time = time;
        _subscription = notifier.SubscribeAll(OnEvent);
    }

    /// <summary>The job the worker is running now, if <paramref name="scope"/> may see it.</summary>
    public string? RunningJobId(AccountScope scope) => _queue.Running() is { } job && scope.Sees(job.Account) ? job.Id : null;

    /// <summary>Asks the running job to stop (A1111 <c>interrupt</c>); false when nothing (of the caller's) runs.</summary>
    public bool Interrupt(AccountScope scope)
    {
        if (RunningJobId(scope) is not { } id) return false;
        lock (_gate) if (_current?.JobId == id) _current.Interrupted = true;
        return _queue.Cancel(id, scope);
    }

    /// <summary>Abandons the running job's current batch (A1111 <c>skip</c>); false when nothing (of the caller's) runs.</summary>
    public bool Skip(AccountScope scope)
    {
        if (RunningJobId(scope) is not { } id) return false;
        lock (_gate) if (_current?.JobId == id) _current.Skipped = true;
        return _queue.Skip(id, scope);
    }

    public ProgressResponse Snapshot(bool skipCurrentImage, AccountScope scope)
    {
        RunState? run;
        lock (_gate) run = _current?.Copy();
        if (run is not null && _queue.Get(run.JobId, scope) is null) run = null;
        var queued = _queue.QueuedCount(scope);
        if (run is null)
            return new ProgressResponse(0, 0, new ProgressState(false, false, false, "", 0, "0", 0, 0, 0, queued), null,
                queued > 0 ? $"{queued} job(s) queued" : null);

        // A1111's estimate: share of finished batches plus the share of the current one, never 0.
        var progress = 0.01 + (double)run.JobNo / run.JobCount + (run.SamplingSteps > 0 ? (double)run.SamplingStep / run.SamplingSteps / run.JobCount : 0);
        var elapsed = (_time.GetUtcNow() - run.StartedUtc).TotalSeconds;
        var eta = Math.Max(0, elapsed / progress - elapsed);
        var image = !skipCurrentImage && _previews.Get(run.JobId) is { } frame ? Convert.ToBase64String(frame.Jpeg) : null;
        var state = new ProgressState(run.Skipped, run.Interrupted, false, $"Batch {run.JobNo + 1} out of {run.JobCount}", run.JobCount,
            run.StartedLocal.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture), run.JobNo, run.SamplingStep, run.SamplingSteps, queued);
        return new ProgressResponse(Math.Min(progress, 1), eta, state, image,
            run.SamplingSteps > 0 ? $"Sampling step {run.SamplingStep}/{run.SamplingSteps}" : "Starting");
    }

    private void OnEvent(JobEvent e)
    {
        lock (_gate)
        {
            switch (e)
            {
                case JobStartedEvent:
                    var request = _queue.Get(e.JobId)?.Request;
                    _current = new RunState
                    {
                        JobId = e.JobId,
                        StartedUtc = _time.GetUtcNow(),
                        StartedLocal = _time.GetLocalNow(),
                        JobCount = Math.Max(1, request?.BatchCount ?? 1),
                        SamplingSteps = request?.Steps ?? 0,
                    };
                    break;
                case JobStepEvent step when _current?.JobId == e.JobId && step.Phase is null:
                    if (step.BatchIndex != _current.JobNo) _current.Skipped = false;
                    _current.JobNo = step.BatchIndex;
                    _current.JobCount = Math.Max(1, step.BatchCount);
                    _current.SamplingStep = step.Step;
                    _current.SamplingSteps = step.TotalSteps;
                    break;
                case JobCompletedEvent or JobFailedEvent or JobCancelledEvent when _current?.JobId == e.JobId:
                    _current = null;
                    break;
            }
        }
    }

    public void Dispose() => _subscription.Dispose();

    private sealed class RunState
    {
        public string JobId { get; init; } = "";
        public DateTimeOffset StartedUtc { get; init; }
        public DateTimeOffset StartedLocal { get; init; }
        public int JobCount { get; set; } = 1;
        public int JobNo { get; set; }
        public int SamplingStep { get; set; }
        public int SamplingSteps { get; set; }
        public bool Interrupted { get; set; }
        public bool Skipped { get; set; }

        public RunState Copy() => (RunState)MemberwiseClone();
    }
}
