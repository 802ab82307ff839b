using SdBlazor.Web.Sharing;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Web.Generation;

namespace SdBlazor.Web.Tests.Api;

[Collection(SdApiCollection.Name)]
public sealed class ProgressAndControlTests(SdApiFactory factory) : IClassFixture<SdApiFactory>
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Progress_while_idle_reports_nothing_running()
    {
        var reply = await factory.Api().GetJsonAsync("/sdapi/v1/progress");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(0, reply.Body.GetProperty("progress").GetDouble());
        Assert.Equal(0, reply.Body.GetProperty("eta_relative").GetDouble());
        Assert.Equal(0, reply.Body.GetProperty("state").GetProperty("job_count").GetInt32());
        Assert.Equal(JsonValueKind.Null, reply.Body.GetProperty("current_image").ValueKind);
    }

    [Fact]
    public async Task Polling_progress_during_a_job_shows_steps_and_a_jpeg_preview_and_interrupt_stops_it()
    {
        var api = factory.Api();
        // Long enough (10 batches × 150 steps at 256×256) that it is certainly still running when interrupted.
        var generation = api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "a long job", "seed": 5, "steps": 150, "n_iter": 10, "width": 256, "height": 256}""");

        var running = await PollUntil(api, generation, p => p.GetProperty("state").GetProperty("sampling_step").GetInt32() >= 2 && p.GetProperty("current_image").ValueKind == JsonValueKind.String);
        var state = running.GetProperty("state");
        Assert.Equal(10, state.GetProperty("job_count").GetInt32());
        Assert.Equal(150, state.GetProperty("sampling_steps").GetInt32());
        var jobNo = state.GetProperty("job_no").GetInt32();
        Assert.InRange(jobNo, 0, 9);
        Assert.False(state.GetProperty("interrupted").GetBoolean());
        Assert.False(state.GetProperty("skipped").GetBoolean());
        Assert.Matches("^[0-9]{14}$", state.GetProperty("job_timestamp").GetString());
        // A1111's formula: 0.01 + finished batches / batches + this batch's share.
        var expected = 0.01 + jobNo / 10.0 + state.GetProperty("sampling_step").GetInt32() / 150.0 / 10;
        Assert.Equal(expected, running.GetProperty("progress").GetDouble(), 9);
        Assert.True(running.GetProperty("eta_relative").GetDouble() > 0);
        var jpeg = Convert.FromBase64String(running.GetProperty("current_image").GetString()!);
        Assert.Equal([0xFF, 0xD8, 0xFF], jpeg[..3]);
        Assert.False(string.IsNullOrEmpty(running.GetProperty("textinfo").GetString()));

        // The same running job is the one the UI queue shows.
        var queue = factory.Services.GetRequiredService<GenerationQueue>();
        Assert.Contains(queue.List(10, AccountScope.Everything), j => j.Status == Shared.JobStatus.Running && j.Request.Prompt == "a long job");

        var withoutImage = (await api.GetJsonAsync("/sdapi/v1/progress?skip_current_image=true")).Body;
        Assert.Equal(JsonValueKind.Null, withoutImage.GetProperty("current_image").ValueKind);

        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/interrupt", "")).Status);
        var reply = await generation.WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Empty(reply.Images);
        Assert.Equal(Shared.JobStatus.Cancelled, queue.List(10, AccountScope.Everything).First(j => j.Request.Prompt == "a long job").Status);
        Assert.Equal(0, (await api.GetJsonAsync("/sdapi/v1/progress")).Body.GetProperty("state").GetProperty("job_count").GetInt32());
    }

    [Fact]
    public async Task Skip_abandons_the_current_batch_and_the_job_goes_on_with_the_next()
    {
        var api = factory.Api();
        var generation = api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "skip me", "seed": 500, "steps": 150, "n_iter": 2, "width": 256, "height": 256}""");

        await PollUntil(api, generation, p => p.GetProperty("state").GetProperty("sampling_step").GetInt32() >= 2 && p.GetProperty("state").GetProperty("job_no").GetInt32() == 0);
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/skip", "")).Status);

        var reply = await generation.WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        // Batch 0 (seed 500) was skipped; batch 1 (seed 501) finished.
        Assert.Single(reply.Images);
        Assert.Equal([501L], Txt2ImgTests.Longs(reply.Info, "all_seeds"));
        Assert.Contains("Seed: 501,", Png.Parameters(reply.Images[0]));
    }

    [Fact]
    public async Task Interrupt_and_skip_with_nothing_running_are_harmless()
    {
        var api = factory.Api();
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/interrupt", "")).Status);
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/skip", "")).Status);
        var after = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "still works", "steps": 2}""");
        Assert.Single(after.Images);
    }

    // Stops as soon as the generation itself has ended, with its reply, so a refused or finished job fails here
    // with its reason instead of after two minutes of polling.
    private static async Task<JsonElement> PollUntil(HttpClient api, Task<ApiReply> generation, Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (generation.IsCompleted)
            {
                var ended = await generation;
                throw new Xunit.Sdk.XunitException($"The generation ended ({(int)ended.Status}: {ended.Text[..Math.Min(ended.Text.Length, 300)]}) before the progress endpoint showed the expected state.");
            }
            var progress = (await api.GetJsonAsync("/sdapi/v1/progress")).Body;
            if (condition(progress)) return progress;
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException("The progress endpoint never showed the expected state.");
    }
}
