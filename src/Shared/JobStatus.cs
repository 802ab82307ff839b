namespace SdBlazor.Shared;

/// <summary>Life of a queued generation: Queued → Running → Completed / Failed / Cancelled, or Interrupted when the process stopped mid-run.</summary>
public enum JobStatus
{
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
    Interrupted,
}

public static class JobStatusExtensions
{
    public static bool IsFinished(this JobStatus status) => status is not (JobStatus.Queued or JobStatus.Running);
}
