using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.AspNetCore.SignalR;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Hubs;

namespace SdBlazor.Web.Generation;

/// <summary>
/// Fans job events out: synchronously to in-process subscribers (Blazor components, which marshal with
/// <c>InvokeAsync</c>) and, through a per-job <see cref="HubJobRelay"/>, to the SignalR group <c>job:{id}</c>.
/// In-process step events carry no bytes: components fetch the frame over HTTP.
/// </summary>
public sealed class JobNotifier(IHubContext<GenerationHub, IGenerationClient> hub, ILogger<JobNotifier> logger)
{
    private readonly ConcurrentDictionary<string, ImmutableList<Action<JobEvent>>> _byJob = new();
    private readonly ConcurrentDictionary<string, HubJobRelay> _relays = new();
    private ImmutableList<Action<JobEvent>> _all = [];
    private ImmutableList<Action> _queueChanged = [];

    /// <summary>Events of one job. Dispose the result to stop.</summary>
    public IDisposable Subscribe(string jobId, Action<JobEvent> handler)
    {
        _byJob.AddOrUpdate(jobId, _ => [handler], (_, list) => list.Add(handler));
        return new Subscription(() =>
        {
            _byJob.AddOrUpdate(jobId, _ => [], (_, list) => list.Remove(handler));
            _byJob.TryRemove(KeyValuePair.Create(jobId, ImmutableList<Action<JobEvent>>.Empty));
        });
    }

    /// <summary>Called whenever a job is added, changes status or moves (for queue panels).</summary>
    public IDisposable SubscribeQueueChanged(Action handler)
    {
        ImmutableInterlocked.Update(ref _queueChanged, l => l.Add(handler));
        return new Subscription(() => ImmutableInterlocked.Update(ref _queueChanged, l => l.Remove(handler)));
    }

    /// <summary>Every event of every job (without preview bytes).</summary>
    public IDisposable SubscribeAll(Action<JobEvent> handler)
    {
        ImmutableInterlocked.Update(ref _all, l => l.Add(handler));
        return new Subscription(() => ImmutableInterlocked.Update(ref _all, l => l.Remove(handler)));
    }

    public void Publish(JobEvent e)
    {
        var local = e is JobStepEvent { Preview: not null } step ? step with { Preview = null } : e;
        if (_byJob.TryGetValue(e.JobId, out var handlers))
            foreach (var handler in handlers) Invoke(handler, local);
        foreach (var handler in _all) Invoke(handler, local);
        if (e is not JobStepEvent) QueueChanged();
        RelayFor(e.JobId).Post(e);
    }

    public void QueueChanged()
    {
        foreach (var handler in _queueChanged)
        {
            try { handler(); }
            catch (Exception ex) { logger.LogWarning(ex, "A queue subscriber failed"); }
        }
    }

    private HubJobRelay RelayFor(string jobId) => _relays.GetOrAdd(jobId, id => new HubJobRelay(
        e => Send(hub.Clients.Group(GenerationHubPaths.JobGroup(id)), e),
        ex => logger.LogWarning(ex, "Sending an event of job {JobId} to hub clients failed", id),
        () => _relays.TryRemove(id, out _)));

    private static Task Send(IGenerationClient clients, JobEvent e) => e switch
    {
        JobQueuedEvent x => clients.JobQueued(x),
        JobStartedEvent x => clients.JobStarted(x),
        JobStepEvent x => clients.JobStep(x),
        JobCompletedEvent x => clients.JobCompleted(x),
        JobFailedEvent x => clients.JobFailed(x),
        JobCancelledEvent x => clients.JobCancelled(x),
        _ => Task.CompletedTask,
    };

    private void Invoke(Action<JobEvent> handler, JobEvent e)
    {
        // A broken subscriber must never fail the job or reach the engine thread.
        try { handler(e); }
        catch (Exception ex) { logger.LogWarning(ex, "A subscriber of job {JobId} failed", e.JobId); }
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;
        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}
