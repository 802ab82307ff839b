namespace SdBlazor.Shared.Hubs;

/// <summary>
/// What the server calls on clients of <c>/hubs/generation</c>. Clients receive the events of the jobs they submitted
/// or subscribed to. Hub methods (client → server): <c>Submit(GenerationRequest) → job id</c>,
/// <c>Subscribe(jobId) → JobSnapshot?</c>, <c>Unsubscribe(jobId)</c>, <c>Cancel(jobId) → bool</c>, <c>Skip(jobId) → bool</c>,
/// <c>Resubmit(jobId) → new job id</c>.
/// </summary>
public interface IGenerationClient
{
    Task JobQueued(JobQueuedEvent e);
    Task JobStarted(JobStartedEvent e);
    Task JobStep(JobStepEvent e);
    Task JobCompleted(JobCompletedEvent e);
    Task JobFailed(JobFailedEvent e);
    Task JobCancelled(JobCancelledEvent e);
}

public static class GenerationHubPaths
{
    public const string Hub = "/hubs/generation";

    public static string JobGroup(string jobId) => $"job:{jobId}";
}
