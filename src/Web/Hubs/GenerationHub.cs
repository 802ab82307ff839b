using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Sharing.Auth;

namespace SdBlazor.Web.Hubs;

/// <summary>
/// Generation for non-Blazor clients. Holds no state: jobs live in <see cref="GenerationQueue"/>, events are pushed by
/// <see cref="JobNotifier"/> to the group <c>job:{id}</c>, which a connection joins by submitting or subscribing.
/// A member reaches only their own jobs: someone else's id is answered like an unknown one.
/// </summary>
[Authorize(Policy = SharingPolicies.Member)]
public sealed class GenerationHub(GenerationQueue queue) : Hub<IGenerationClient>
{
    /// <returns>The new job's id. Invalid requests fail with a <see cref="HubException"/> saying what is allowed.</returns>
    [Authorize(Policy = SharingPolicies.Member)]
    public Task<string> Submit(GenerationRequest request) =>
        QueueAndJoin(id => queue.Enqueue(request, owner: Context.ConnectionId, id: id, account: Scope.AccountForNewItems));

    /// <returns>The job's current state (events from now on follow), or <c>null</c> for an unknown id or someone else's job.</returns>
    [Authorize(Policy = SharingPolicies.Member)]
    public async Task<JobSnapshot?> Subscribe(string jobId)
    {
        if (queue.Get(jobId, Scope) is null) return null;
        await Groups.AddToGroupAsync(Context.ConnectionId, GenerationHubPaths.JobGroup(jobId));
        return queue.Get(jobId, Scope) is { } job ? Snapshot.Of(job, queue) : null;
    }

    [Authorize(Policy = SharingPolicies.Member)]
    public Task Unsubscribe(string jobId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, GenerationHubPaths.JobGroup(jobId));

    /// <summary>Queues a copy of a finished (e.g. Interrupted) job and joins its events.</summary>
    [Authorize(Policy = SharingPolicies.Member)]
    public Task<string> Resubmit(string jobId) =>
        QueueAndJoin(id => queue.Resubmit(jobId, Scope, owner: Context.ConnectionId, newId: id));

    [Authorize(Policy = SharingPolicies.Member)]
    public bool Cancel(string jobId) => queue.Cancel(jobId, Scope);

    [Authorize(Policy = SharingPolicies.Member)]
    public bool Skip(string jobId) => queue.Skip(jobId, Scope);

    private AccountScope Scope => (Context.User ?? new System.Security.Claims.ClaimsPrincipal()).Scope();

    private async Task<string> QueueAndJoin(Func<string, Job> enqueue)
    {
        var id = Job.NewId();
        // Join first: the worker may start the job the moment it is queued.
        await Groups.AddToGroupAsync(Context.ConnectionId, GenerationHubPaths.JobGroup(id));
        try
        {
            enqueue(id);
            return id;
        }
        catch (GenerationValidationException ex)
        {
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, GenerationHubPaths.JobGroup(id));
            throw new HubException(ex.Message);
        }
    }
}
