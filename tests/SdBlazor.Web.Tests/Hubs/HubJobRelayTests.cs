using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Generation;

namespace SdBlazor.Web.Tests.Hubs;

/// <summary>Latest frame wins on the hub path: a stalled group gets the newest step, never a backlog.</summary>
public sealed class HubJobRelayTests
{
    [Fact]
    public async Task A_stalled_receiver_skips_stale_steps_but_keeps_every_control_event_in_order()
    {
        var sent = new List<JobEvent>();
        var gate = new TaskCompletionSource();
        var finished = new TaskCompletionSource();
        var relay = new HubJobRelay(async e =>
        {
            await gate.Task;
            lock (sent) sent.Add(e);
        }, ex => throw ex, () => finished.TrySetResult());

        relay.Post(new JobStartedEvent { JobId = "j" });
        for (var step = 1; step <= 100; step++) relay.Post(new JobStepEvent { JobId = "j", Step = step });
        relay.Post(new JobCompletedEvent { JobId = "j" });
        relay.Post(new JobStepEvent { JobId = "j", Step = 101 }); // after the end: ignored
        gate.SetResult();
        await finished.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.IsType<JobStartedEvent>(sent[0]);
        Assert.IsType<JobCompletedEvent>(sent[^1]);
        var steps = sent.OfType<JobStepEvent>().Select(s => s.Step).ToList();
        Assert.Equal(100, steps[^1]);
        Assert.True(steps.Count <= 2, $"expected stale frames to be dropped, got {steps.Count}");
    }
}
