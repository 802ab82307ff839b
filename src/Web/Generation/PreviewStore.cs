using System.Collections.Concurrent;

namespace SdBlazor.Web.Generation;

/// <summary>The newest preview JPEG of a job.</summary>
public sealed record PreviewFrame(long FrameNo, byte[] Jpeg);

/// <summary>
/// Latest frame wins: one slot per job, overwritten on every new frame, so a slow viewer simply fetches a later
/// frame and memory never grows with the number of steps or viewers. The last frames of a few finished jobs are
/// kept so a browser still fetching them does not get a 404.
/// </summary>
public sealed class PreviewStore
{
    private const int FinishedJobsKept = 16;
    private readonly ConcurrentDictionary<string, PreviewFrame> _frames = new();
    private readonly ConcurrentQueue<string> _finished = new();

    public void Set(string jobId, PreviewFrame frame) => _frames[jobId] = frame;

    public PreviewFrame? Get(string jobId) => _frames.GetValueOrDefault(jobId);

    public void Retire(string jobId)
    {
        if (!_frames.ContainsKey(jobId)) return;
        _finished.Enqueue(jobId);
        while (_finished.Count > FinishedJobsKept && _finished.TryDequeue(out var old)) _frames.TryRemove(old, out _);
    }
}
