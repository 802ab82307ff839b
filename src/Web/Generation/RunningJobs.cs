using System.Collections.Concurrent;

namespace SdBlazor.Web.Generation;

/// <summary>Control handles of the jobs the worker is running right now (cancel, skip, how far they got).</summary>
public sealed class RunningJobs
{
    private readonly ConcurrentDictionary<string, RunningJob> _jobs = new();

    public RunningJob Start(string jobId, CancellationToken stopping)
    {
        var run = new RunningJob(jobId, stopping, () => _jobs.TryRemove(jobId, out _));
        _jobs[jobId] = run;
        return run;
    }

    public RunningJob? Find(string jobId) => _jobs.GetValueOrDefault(jobId);
}

public sealed class RunningJob : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly Action _onDispose;
    private int _skipRequested;
    private int _lastStep;
    private int _stepAtCancel = -1;

    internal RunningJob(string jobId, CancellationToken stopping, Action onDispose)
    {
        JobId = jobId;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _onDispose = onDispose;
    }

    public string JobId { get; }
    public CancellationToken Token => _cts.Token;
    public bool CancelRequested => Volatile.Read(ref _stepAtCancel) >= 0;

    /// <summary>The step finished when the cancel arrived; −1 when no cancel was asked for.</summary>
    public int StepAtCancel => Volatile.Read(ref _stepAtCancel);

    public int LastStep
    {
        get => Volatile.Read(ref _lastStep);
        set => Volatile.Write(ref _lastStep, value);
    }

    public void Cancel()
    {
        Interlocked.CompareExchange(ref _stepAtCancel, LastStep, -1);
        _cts.Cancel();
    }

    public void RequestSkip() => Volatile.Write(ref _skipRequested, 1);

    /// <summary>Handed to the engine as its skip check: true once per request.</summary>
    public bool ConsumeSkip() => Interlocked.Exchange(ref _skipRequested, 0) == 1;

    public void Dispose()
    {
        _onDispose();
        _cts.Dispose();
    }
}
