using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR.Client;
using SdBlazor.Shared.Hubs;

namespace SdBlazor.Web.Tests.Support;

/// <summary>Records every job event a hub connection receives, in arrival order.</summary>
public sealed class EventRecorder
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private readonly ConcurrentQueue<JobEvent> _events = new();
    private readonly ConcurrentDictionary<(string, Type), TaskCompletionSource<JobEvent>> _first = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JobEvent>> _finished = new();

    public EventRecorder(HubConnection connection, Func<JobStepEvent, Task>? onStep = null)
    {
        connection.On<JobQueuedEvent>(nameof(IGenerationClient.JobQueued), Add);
        connection.On<JobStartedEvent>(nameof(IGenerationClient.JobStarted), Add);
        connection.On<JobStepEvent>(nameof(IGenerationClient.JobStep), async e =>
        {
            Add(e);
            if (onStep is not null) await onStep(e);
        });
        connection.On<JobCompletedEvent>(nameof(IGenerationClient.JobCompleted), Add);
        connection.On<JobFailedEvent>(nameof(IGenerationClient.JobFailed), Add);
        connection.On<JobCancelledEvent>(nameof(IGenerationClient.JobCancelled), Add);
    }

    public IReadOnlyList<JobEvent> All => [.. _events];

    public IReadOnlyList<JobEvent> For(string jobId) => [.. _events.Where(e => e.JobId == jobId)];

    public Task<JobEvent> Finished(string jobId) =>
        _finished.GetOrAdd(jobId, _ => NewSource()).Task.WaitAsync(Timeout);

    public Task<JobEvent> First<T>(string jobId) where T : JobEvent =>
        _first.GetOrAdd((jobId, typeof(T)), _ => NewSource()).Task.WaitAsync(Timeout);

    private void Add(JobEvent e)
    {
        _events.Enqueue(e);
        _first.GetOrAdd((e.JobId, e.GetType()), _ => NewSource()).TrySetResult(e);
        if (e is JobCompletedEvent or JobFailedEvent or JobCancelledEvent)
            _finished.GetOrAdd(e.JobId, _ => NewSource()).TrySetResult(e);
    }

    private static TaskCompletionSource<JobEvent> NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
