using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Tests.Api;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Hubs;

/// <summary>
/// Issue 27, item 1: a job whose estimated peak memory is over the budget is refused at submit on every door (REST,
/// A1111 API, hub), with the need and the budget in the message; a batch that does not fit whole is split instead.
/// The budget is set small so that sizes this CPU can run show it (1024² needs about 1.6 GiB on the embedded model).
/// </summary>
public sealed class MemoryAdmissionTests
{
    private const long Budget = 600L << 20;

    private static AppFactory App(long? memberBudget = null) => new(settings: new Dictionary<string, string?>
    {
        ["Generation:MemoryBudgetBytes"] = Budget.ToString(),
        ["Generation:MemberMemoryBudgetBytes"] = (memberBudget ?? 0).ToString(),
    });

    [Fact]
    public async Task Too_large_a_job_is_refused_at_submit_on_every_door_with_need_and_budget()
    {
        await using var app = App();
        using var client = app.CreateClient();

        using var rest = await client.PostAsJsonAsync("/api/jobs", new GenerationRequest { Prompt = "x", Width = 1024, Height = 1024, Steps = 1 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, rest.StatusCode);
        var message = await rest.Content.ReadAsStringAsync();
        Assert.Contains("needs about", message);
        Assert.Contains("allows 0.59 GiB", message);

        var txt2img = await client.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "x", "width": 1024, "height": 1024, "steps": 1}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, txt2img.Status);
        Assert.Contains("allows 0.59 GiB", txt2img.Text);

        var init = Convert.ToBase64String(Png.Gradient(64, 64));
        var img2img = await client.PostJsonAsync("/sdapi/v1/img2img", $$"""{"prompt": "x", "width": 1024, "height": 1024, "steps": 1, "init_images": ["{{init}}"]}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, img2img.Status);
        Assert.Contains("allows 0.59 GiB", img2img.Text);

        await using var hub = app.Connect(HttpTransportType.WebSockets);
        await hub.StartAsync();
        var refused = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<string>("Submit", new GenerationRequest { Prompt = "x", Width = 1024, Height = 1024, Steps = 1 }));
        Assert.Contains("allows 0.59 GiB", refused.Message);

        var queue = app.Services.GetRequiredService<GenerationQueue>();
        Assert.Empty(queue.List(100, Web.Sharing.AccountScope.Everything));
    }

    [Fact]
    public async Task Hires_fix_is_counted_at_its_target_size()
    {
        await using var app = App();
        using var client = app.CreateClient();

        // 512² alone fits the 0.59 GiB budget; its hires pass at 1024² does not.
        var plain = await client.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "x", "width": 512, "height": 512, "steps": 1, "send_images": false}""");
        Assert.Equal(HttpStatusCode.OK, plain.Status);
        var hires = await client.PostJsonAsync("/sdapi/v1/txt2img",
            """{"prompt": "x", "width": 512, "height": 512, "steps": 1, "enable_hr": true, "hr_scale": 2, "denoising_strength": 0.5}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, hires.Status);
        Assert.Contains("allows 0.59 GiB", hires.Text);
    }

    [Fact]
    public async Task A_member_has_a_smaller_budget_than_the_owner()
    {
        await using var app = App(memberBudget: 300L << 20);
        var queue = app.Services.GetRequiredService<GenerationQueue>();
        var request = new GenerationRequest { Prompt = "x", Width = 512, Height = 512, Steps = 1 };

        var member = Assert.Throws<GenerationValidationException>(() => queue.Enqueue(request, account: "member-1"));
        Assert.Contains("allows 0.29 GiB for a member's job", member.Message);
        var owner = queue.Enqueue(request with { Width = 64, Height = 64 });
        for (var i = 0; i < 600 && !(queue.Get(owner.Id)?.Status.IsFinished() ?? false); i++) await Task.Delay(100);
        Assert.Equal(JobStatus.Completed, queue.Get(owner.Id)!.Status);
        // The owner's 512² passes (about 440 MB, under 600 MB).
        var ownerBig = queue.Enqueue(request);
        Assert.True(queue.Cancel(ownerBig.Id, Web.Sharing.AccountScope.Everything));
    }

    [Fact]
    public async Task A_batch_that_does_not_fit_whole_runs_in_smaller_unet_batches()
    {
        await using var app = App();
        var admission = app.Services.GetRequiredService<MemoryAdmission>();
        var request = new GenerationRequest { Prompt = "x", Width = 576, Height = 576, Steps = 1, BatchSize = 4 };

        var plan = admission.Plan(request, owner: true);
        Assert.Equal(1, plan.ImagesPerUNetBatch);
        Assert.True(plan.NeedBytes <= Budget);
        Assert.Equal(4, admission.Plan(request with { Width = 64, Height = 64 }, owner: true).ImagesPerUNetBatch);

        // Admitted, not refused: queued (and cancelled, so the CPU is spared a 576² batch of 4).
        var queue = app.Services.GetRequiredService<GenerationQueue>();
        var job = queue.Enqueue(request);
        queue.Cancel(job.Id, Web.Sharing.AccountScope.Everything);
    }

    [Fact]
    public void The_estimate_follows_the_measured_peaks_of_the_embedded_model()
    {
        // Peak RSS measured with scripts/measure-memory.sh (docs/performance.md): size, batch, fused attention, bytes.
        (int Size, int Batch, bool Fused, long Peak)[] measured =
        [
            (256, 1, true, 222_896_128), (384, 4, true, 391_454_720), (512, 1, true, 437_964_800), (512, 4, true, 615_133_184),
            (768, 1, true, 737_341_440), (1024, 1, true, 1_463_533_568),
            // The same weights with MatMul → Softmax → MatMul attention (the embedded model before issue 27).
            (256, 1, false, 253_906_944), (384, 2, false, 678_494_208), (512, 1, false, 967_159_808), (512, 4, false, 2_724_077_568),
        ];
        var profile = new MemoryProfile();
        foreach (var (size, batch, fused, peak) in measured)
        {
            var estimate = JobMemoryEstimator.PeakBytes(new JobMemoryInput(17_460_000, size, size, batch, false, FusedAttention: fused), profile);
            // Never under the measurement, and not wildly over it (the safety factor is 1.2 on the job's part).
            Assert.InRange(estimate, peak, peak * 1.35);
        }
        // 1024² batch 8 with MatMul attention (the reported single 32 GiB buffer) is far beyond any default budget.
        Assert.True(JobMemoryEstimator.PeakBytes(new JobMemoryInput(17_460_000, 1024, 1024, 8, false, FusedAttention: false), profile) > 64L << 30);
        Assert.True(JobMemoryEstimator.PeakBytes(new JobMemoryInput(17_460_000, 512, 512, 1, false, UpscaleFactor: 2), profile)
            >= JobMemoryEstimator.PeakBytes(new JobMemoryInput(17_460_000, 1024, 1024, 1, false), profile));
    }
}
