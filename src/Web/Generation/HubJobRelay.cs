using SdBlazor.Shared.Hubs;

namespace SdBlazor.Web.Generation;

/// <summary>
/// Sends one job's events to its SignalR group, in order, on its own task. Control events are never dropped;
/// a step event still waiting to be sent is replaced by a newer one, so a slow group gets fewer frames while the
/// engine (which only posts here) never waits and pending memory stays at one frame per job.
/// </summary>
internal sealed class HubJobRelay(Func<JobEvent, Task> send, Action<Exception> onError, Action onFinished)
{
    private readonly object _gate = new();
    private readonly List<JobEvent> _pending = [];
    private bool _pumping;
    private bool _finished;

    public void Post(JobEvent e)
    {
        lock (_gate)
        {
            if (_finished) return;
            if (e is JobStepEvent && _pending.Count > 0 && _pending[^1] is JobStepEvent) _pending[^1] = e;
            else _pending.Add(e);
            if (e is JobCompletedEvent or JobFailedEvent or JobCancelledEvent) _finished = true;
            if (_pumping) return;
            _pumping = true;
        }
        _ = Task.Run(PumpAsync);
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            JobEvent next;
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _pumping = false;
                    if (_finished) onFinished();
                    return;
                }
                next = _pending[0];
                _pending.RemoveAt(0);
            }
            try
            {
                await send(next);
            }
            catch (Exception ex)
            {
                onError(ex);
            }
        }
    }
}
