using SdBlazor.Web.Sharing;
using System.Net;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Tests.Support;
using SixLabors.ImageSharp;

namespace SdBlazor.Web.Tests.Hubs;

/// <summary>The generation hub end to end: real SignalR connections (both transports), real queue, real engine on the default model.</summary>
public sealed class GenerationHubTests
{
    public static TheoryData<HttpTransportType> Transports => [HttpTransportType.LongPolling, HttpTransportType.WebSockets];

    private static GenerationRequest Request(string prompt, int steps, int batchCount = 1, int size = 64) =>
        new() { Prompt = prompt, Steps = steps, BatchCount = batchCount, Seed = 1234, Width = size, Height = size };

    [Fact]
    public async Task The_host_runs_the_real_engine_on_the_default_model()
    {
        await using var app = new AppFactory();
        var engine = app.Services.GetRequiredService<IGenerationEngine>();
        Assert.IsType<GenerationEngine>(engine);
        Assert.Contains(engine.ListModels(), m => m.Name == "sdblazor-mini");
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Step_events_arrive_in_order_with_previews_then_the_final_image(HttpTransportType transport)
    {
        await using var app = new AppFactory();
        await using var connection = app.Connect(transport);
        var recorder = new EventRecorder(connection);
        await connection.StartAsync();

        var id = await connection.InvokeAsync<string>("Submit", Request("a red apple on a table", steps: 16));
        var completed = Assert.IsType<JobCompletedEvent>(await recorder.Finished(id));

        var events = recorder.For(id);
        Assert.IsType<JobQueuedEvent>(events[0]);
        Assert.IsType<JobStartedEvent>(events[1]);
        Assert.Same(completed, events[^1]);
        var steps = events.OfType<JobStepEvent>().ToList();
        Assert.NotEmpty(steps);
        // Stale frames may be dropped for a slow connection, but order is kept and the last step always arrives.
        Assert.All(steps.Zip(steps.Skip(1)), pair => Assert.True(pair.Second.Step > pair.First.Step && pair.Second.FrameNo > pair.First.FrameNo));
        Assert.Equal(16, steps[^1].Step);
        Assert.All(steps, s =>
        {
            Assert.Equal(16, s.TotalSteps);
            Assert.NotNull(s.Preview);
            Assert.Equal([0xFF, 0xD8], s.Preview![..2]);
        });

        var imageId = Assert.Single(completed.ImageIds);
        Assert.Equal(1234, completed.Parameters!.Seed);
        using var client = app.CreateClient();
        var png = await client.GetByteArrayAsync($"/api/images/{imageId}");
        using var image = Image.Load(png);
        Assert.Equal((completed.Parameters.Width, completed.Parameters.Height), (image.Width, image.Height));
        Assert.Equal(64, image.Width);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Cancel_stops_the_running_job_within_one_step(HttpTransportType transport)
    {
        await using var app = new AppFactory();
        await using var connection = app.Connect(transport);
        var recorder = new EventRecorder(connection);
        await connection.StartAsync();

        // 256² so that one image takes seconds: at 64² the fused-attention UNet finished three whole images between
        // the first step event and the cancel over long polling, and no image may be done before the cancel.
        var id = await connection.InvokeAsync<string>("Submit", Request("a long walk", steps: GenerationLimits.MaxSteps, batchCount: 20, size: 256));
        await recorder.First<JobStepEvent>(id);
        Assert.True(await connection.InvokeAsync<bool>("Cancel", id));

        var cancelled = Assert.IsType<JobCancelledEvent>(await recorder.Finished(id));
        Assert.True(cancelled.StepAtRequest >= 1);
        Assert.InRange(cancelled.LastStep - cancelled.StepAtRequest, 0, 1);
        var snapshot = await connection.InvokeAsync<JobSnapshot?>("Subscribe", id);
        Assert.Equal(JobStatus.Cancelled, snapshot!.Status);
        Assert.Empty(snapshot.ImageIds);
        Assert.False(await connection.InvokeAsync<bool>("Cancel", id));
    }

    [Fact]
    public async Task Two_clients_each_get_only_their_own_jobs_events()
    {
        await using var app = new AppFactory();
        await using var alice = app.Connect(HttpTransportType.WebSockets);
        await using var bob = app.Connect(HttpTransportType.LongPolling);
        var aliceEvents = new EventRecorder(alice);
        var bobEvents = new EventRecorder(bob);
        await Task.WhenAll(alice.StartAsync(), bob.StartAsync());

        var submits = await Task.WhenAll(
            alice.InvokeAsync<string>("Submit", Request("alice's cat", steps: 10)),
            bob.InvokeAsync<string>("Submit", Request("bob's dog", steps: 10)));
        var (aliceJob, bobJob) = (submits[0], submits[1]);
        Assert.IsType<JobCompletedEvent>(await aliceEvents.Finished(aliceJob));
        Assert.IsType<JobCompletedEvent>(await bobEvents.Finished(bobJob));

        Assert.All(aliceEvents.All, e => Assert.Equal(aliceJob, e.JobId));
        Assert.All(bobEvents.All, e => Assert.Equal(bobJob, e.JobId));
        Assert.Contains(aliceEvents.All, e => e is JobStepEvent);
        Assert.Contains(bobEvents.All, e => e is JobStepEvent);
    }

    [Fact]
    public async Task Invalid_requests_are_refused_with_what_is_allowed_and_nothing_is_queued()
    {
        await using var app = new AppFactory();
        await using var connection = app.Connect(HttpTransportType.WebSockets);
        await connection.StartAsync();

        var error = await Assert.ThrowsAsync<HubException>(() =>
            connection.InvokeAsync<string>("Submit", new GenerationRequest { Prompt = "x", Steps = 500, Width = 100, Sampler = "Magic" }));
        Assert.Contains("Steps must be between 1 and 150 (got 500).", error.Message);
        Assert.Contains("Width must be a multiple of 8 between 64 and 2048 (got 100).", error.Message);
        Assert.Contains("Sampler 'Magic' is unknown", error.Message);

        var unknownModel = await Assert.ThrowsAsync<HubException>(() =>
            connection.InvokeAsync<string>("Submit", new GenerationRequest { Prompt = "x", Model = "no-such-model" }));
        Assert.Contains("Model 'no-such-model' is not installed; available: ", unknownModel.Message);
        Assert.Contains("sdblazor-mini", unknownModel.Message);

        var notAnImage = await Assert.ThrowsAsync<HubException>(() =>
            connection.InvokeAsync<string>("Submit", new GenerationRequest { Prompt = "x", InitImage = "GIF89a......"u8.ToArray() }));
        Assert.Contains("Init image must be a PNG, JPEG or WebP file.", notAnImage.Message);

        Assert.Empty(app.Services.GetRequiredService<GenerationQueue>().List(10, AccountScope.Everything));
    }

    [Fact]
    public async Task Latest_preview_frame_is_served_over_http_without_caching()
    {
        await using var app = new AppFactory();
        await using var connection = app.Connect(HttpTransportType.WebSockets);
        var recorder = new EventRecorder(connection);
        await connection.StartAsync();
        var id = await connection.InvokeAsync<string>("Submit", Request("preview", steps: 6));
        await recorder.Finished(id);
        var lastFrame = recorder.For(id).OfType<JobStepEvent>().Last();

        using var client = app.CreateClient();
        using var response = await client.GetAsync($"/api/jobs/{id}/preview?v={lastFrame.FrameNo}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/jpeg", response.Content.Headers.ContentType!.MediaType);
        Assert.True(response.Headers.CacheControl!.NoStore);
        Assert.Equal(lastFrame.Preview, await response.Content.ReadAsByteArrayAsync());

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/jobs/{Job.NewId()}/preview")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/images/..%2F..%2Fqueue.db")).StatusCode);
    }
}
