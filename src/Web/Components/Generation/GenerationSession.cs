using SdBlazor.Shared.Hubs;

namespace SdBlazor.Web.Components.Generation;

/// <summary>
/// What one Generate page knows about its own jobs: which is running, its latest step, the last result.
/// Fed with job events (on the circuit's thread); returns a message to show when an event deserves one.
/// </summary>
public sealed class GenerationSession
{
    public string Owner { get; } = "circuit-" + Guid.NewGuid().ToString("N");
    public string? ActiveJobId { get; private set; }
    public JobStepEvent? Progress { get; private set; }
    public IReadOnlyList<string> ResultImageIds { get; private set; } = [];
    public GenerationSummary? ResultParameters { get; private set; }

    /// <summary>The job the shown result came from: what the result strip's "again", "new seed" and "vary" re-run.</summary>
    public string? ResultJobId { get; private set; }
    public long? LastSeed { get; private set; }

    /// <summary>A job already running when this page opened (a reload, a second tab): shown as if started here.</summary>
    public void Adopt(string jobId)
    {
        if (ActiveJobId is not null) return;
        ActiveJobId = jobId;
        Progress = null;
    }

    public (string Text, bool IsError)? Apply(JobEvent e)
    {
        switch (e)
        {
            case JobStartedEvent:
                ActiveJobId = e.JobId;
                Progress = null;
                return null;
            case JobStepEvent step when step.JobId == ActiveJobId:
                Progress = step;
                return null;
            case JobCompletedEvent done:
                EndIfActive(e.JobId);
                ResultImageIds = done.ImageIds;
                ResultJobId = done.JobId;
                ResultParameters = done.Parameters;
                if (done.Parameters is { } p) LastSeed = p.Seed;
                return null;
            case JobFailedEvent failed:
                EndIfActive(e.JobId);
                return (failed.Reason, true);
            case JobCancelledEvent { ImageIds.Length: > 0 } cancelled:
                EndIfActive(e.JobId);
                ResultImageIds = cancelled.ImageIds;
                ResultJobId = cancelled.JobId;
                ResultParameters = cancelled.Parameters;
                if (cancelled.Parameters is { } kept) LastSeed = kept.Seed;
                return ($"Generation cancelled; the {cancelled.ImageIds.Length} finished image(s) are kept.", false);
            case JobCancelledEvent:
                EndIfActive(e.JobId);
                return ("Generation cancelled.", false);
            default:
                return null;
        }
    }

    private void EndIfActive(string jobId)
    {
        if (jobId != ActiveJobId) return;
        ActiveJobId = null;
        Progress = null;
    }
}
