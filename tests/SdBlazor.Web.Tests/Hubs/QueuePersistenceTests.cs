using SdBlazor.Web.Sharing;
using LiteDB;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Shared;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Hubs;

/// <summary>The queue lives in LiteDB: it outlives the process, and jobs cut off by a stop are marked Interrupted.</summary>
public sealed class QueuePersistenceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Queued_jobs_survive_a_restart_and_run_after_it_while_the_cut_off_job_is_interrupted()
    {
        var data = AppFactory.NewDataFolder();
        try
        {
            string longJob, first, second;
            await using (var before = new AppFactory(data))
            {
                await using var connection = before.Connect(HttpTransportType.WebSockets);
                var recorder = new EventRecorder(connection);
                await connection.StartAsync();
                longJob = await connection.InvokeAsync<string>("Submit", new GenerationRequest { Prompt = "very long", Steps = GenerationLimits.MaxSteps, BatchCount = 50, Width = 256, Height = 256 });
                first = await connection.InvokeAsync<string>("Submit", new GenerationRequest { Prompt = "after restart 1", Steps = 5, Seed = 1 });
                second = await connection.InvokeAsync<string>("Submit", new GenerationRequest { Prompt = "after restart 2", Steps = 5, Seed = 2 });
                await recorder.First<JobStepEvent>(longJob);
                Assert.Equal(JobStatus.Queued, before.Services.GetRequiredService<GenerationQueue>().Get(first)!.Status);
            } // host stops here, mid-job

            await using var after = new AppFactory(data);
            var queue = after.Services.GetRequiredService<GenerationQueue>();
            var done = await WaitUntil(() => queue.Get(second) is { Status: JobStatus.Completed } ? queue.Get(second) : null,
                () => string.Join("; ", queue.List(10, AccountScope.Everything).Select(j => $"{j.Request.Prompt}: {j.Status} {j.Error}")));

            var interrupted = queue.Get(longJob)!;
            Assert.Equal(JobStatus.Interrupted, interrupted.Status);
            Assert.Contains("stopped", interrupted.Error);
            var firstJob = queue.Get(first)!;
            Assert.Equal(JobStatus.Completed, firstJob.Status);
            Assert.True(firstJob.StartedUtc <= done.StartedUtc, "queued jobs keep their order across the restart");
            using var client = after.CreateClient();
            Assert.Equal("image/png", (await client.GetAsync($"/api/images/{done.ImageIds.Single()}")).Content.Headers.ContentType!.MediaType);

            // One click (one call) resubmits the interrupted job with the same request.
            var resubmitted = queue.Resubmit(longJob, AccountScope.Everything);
            Assert.Equal(interrupted.Request, queue.Get(resubmitted.Id)!.Request);
            Assert.Equal(longJob, resubmitted.ResubmittedFrom);
            Assert.True(queue.Cancel(resubmitted.Id, AccountScope.Everything));
        }
        finally
        {
            AppFactory.TryDelete(data);
        }
    }

    [Fact]
    public async Task A_job_left_running_by_a_dead_process_is_marked_interrupted_at_start()
    {
        var data = AppFactory.NewDataFolder();
        try
        {
            // What a killed process leaves behind: a Running row nobody will finish.
            using (var db = new LiteDatabase(Path.Combine(data, "queue.db")))
            {
                db.GetCollection<Job>("jobs").Insert(new Job
                {
                    Id = "0123456789abcdef0123456789abcdef",
                    Request = new GenerationRequest { Prompt = "crashed", Steps = 4 },
                    Status = JobStatus.Running,
                    Order = 1,
                    CreatedUtc = DateTime.UtcNow,
                    StartedUtc = DateTime.UtcNow,
                });
            }

            await using var app = new AppFactory(data);
            var queue = app.Services.GetRequiredService<GenerationQueue>();
            var job = await WaitUntil(() => queue.Get("0123456789abcdef0123456789abcdef") is { Status: JobStatus.Interrupted } j ? j : null,
                () => $"{queue.Get("0123456789abcdef0123456789abcdef")?.Status}");
            Assert.Equal("The server stopped while this job was running.", job.Error);

            await using var connection = app.Connect(HttpTransportType.LongPolling);
            var recorder = new EventRecorder(connection);
            await connection.StartAsync();
            var again = await connection.InvokeAsync<string>("Resubmit", job.Id);
            var completed = Assert.IsType<JobCompletedEvent>(await recorder.Finished(again));
            Assert.Equal("crashed", completed.Parameters!.Prompt);
        }
        finally
        {
            AppFactory.TryDelete(data);
        }
    }

    [Fact]
    public async Task Queued_jobs_can_be_reordered_and_cancelled()
    {
        await using var app = new AppFactory();
        var queue = app.Services.GetRequiredService<GenerationQueue>();
        await using var connection = app.Connect(HttpTransportType.WebSockets);
        var recorder = new EventRecorder(connection);
        await connection.StartAsync();
        // Keep the worker busy so the others stay queued.
        var busy = await connection.InvokeAsync<string>("Submit", new GenerationRequest { Prompt = "busy", Steps = GenerationLimits.MaxSteps, BatchCount = 50, Width = 256, Height = 256 });
        await recorder.First<JobStepEvent>(busy);

        var a = queue.Enqueue(new GenerationRequest { Prompt = "a" });
        var b = queue.Enqueue(new GenerationRequest { Prompt = "b" });
        var c = queue.Enqueue(new GenerationRequest { Prompt = "c" });
        Assert.Equal([1, 2, 3], new[] { a, b, c }.Select(j => queue.PositionOf(j.Id)));

        Assert.True(queue.Move(c.Id, -2, AccountScope.Everything));
        Assert.Equal([2, 3, 1], new[] { a, b, c }.Select(j => queue.PositionOf(j.Id)));
        Assert.False(queue.Move(c.Id, -1, AccountScope.Everything));
        Assert.Equal(["busy", "c", "a", "b"], queue.List(0, AccountScope.Everything).Select(j => j.Request.Prompt));

        Assert.True(queue.Cancel(a.Id, AccountScope.Everything));
        Assert.Equal(JobStatus.Cancelled, queue.Get(a.Id)!.Status);
        Assert.Equal([0, 2, 1], new[] { a, b, c }.Select(j => queue.PositionOf(j.Id)));
        Assert.True(queue.Cancel(busy, AccountScope.Everything));
        Assert.IsType<JobCancelledEvent>(await recorder.Finished(busy));
        foreach (var job in new[] { b, c }) queue.Cancel(job.Id, AccountScope.Everything);
    }

    private static async Task<T> WaitUntil<T>(Func<T?> probe, Func<string> describe) where T : class
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (probe() is { } value) return value;
            await Task.Delay(50);
        }
        throw new TimeoutException($"The expected queue state never came: {describe()}");
    }
}
