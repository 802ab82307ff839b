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
    private readonly Lock _cancelGate = new();
    private int _stepAtCancel = -1;
    private int _cancelRequested;

    internal RunningJob(string jobId, CancellationToken stopping, Action onDispose)
    {
        JobId = jobId;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _onDispose = onDispose;
    }

    public string JobId { get; }
    public CancellationToken Token => _cts.Token;
    public bool CancelRequested => Volatile.Read(ref _cancelRequested) == 1;

    /// <summary>Steps finished (over the whole job) when the cancel took hold; −1 when no cancel was asked for.</summary>
    public int StepAtCancel
    {
        get { lock (_cancelGate) return _stepAtCancel; }
    }

    /// <summary>
    /// Steps finished so far over the whole job, counted across batches: a per-batch step number would make
    /// "how far did it run after the cancel" meaningless when the cancel lands on a batch boundary.
    /// </summary>
    public int LastStep
    {
        get => Volatile.Read(ref _lastStep);
        set => Volatile.Write(ref _lastStep, value);
    }

    public void Cancel()
    {
        // The flag goes up before the token fires, so the worker always knows why the engine stopped. The step is
        // read after the token fires: read before, a step could finish in between (this thread preempted on a busy
        // machine) and the next start unhindered, so the job would seem to run two steps past the request.
        // The gate makes a reader of StepAtCancel wait for this write.
        lock (_cancelGate)
        {
            if (Interlocked.Exchange(ref _cancelRequested, 1) == 1) return;
            _cts.Cancel();
            _stepAtCancel = LastStep;
        }
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
