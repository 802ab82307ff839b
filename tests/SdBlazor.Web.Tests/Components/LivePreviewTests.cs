using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor.Services;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Components.Generation;

namespace SdBlazor.Web.Tests.Components;

public sealed class LivePreviewTests
{
    private static BunitContext NewContext()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.SetRendererInfo(new RendererInfo("Server", true));
        return ctx;
    }

    private static JobStepEvent Step(int step, long frame) => new()
    {
        JobId = "job1", Step = step, TotalSteps = 40, FrameNo = frame, BatchCount = 1, ItPerSecond = 12.5, EtaSeconds = 75,
    };

    [Fact]
    public async Task Each_step_swaps_the_image_url_and_never_inlines_the_bytes()
    {
        await using var ctx = NewContext();
        var preview = ctx.Render<LivePreview>(p => p.Add(x => x.JobId, "job1").Add(x => x.Progress, Step(3, 3)));
        Assert.Equal("api/jobs/job1/preview?v=3", preview.Find("img[alt='Live preview']").GetAttribute("src"));
        Assert.Contains("Step 3 of 40", preview.Markup);
        Assert.Contains("12.5 it/s", preview.Markup);
        Assert.Contains("ETA 1:15", preview.Markup);

        await preview.Find("img[alt='Live preview']").TriggerEventAsync("onload", EventArgs.Empty);
        preview.Render(p => p.Add(x => x.Progress, Step(4, 4)));
        Assert.Equal("api/jobs/job1/preview?v=4", preview.Find("img[alt='Live preview']").GetAttribute("src"));
        Assert.Contains("Step 4 of 40", preview.Markup);
        Assert.DoesNotContain("data:image", preview.Markup);
    }

    [Fact]
    public async Task Frames_arriving_while_one_loads_are_skipped_and_the_newest_follows()
    {
        await using var ctx = NewContext();
        var preview = ctx.Render<LivePreview>(p => p.Add(x => x.JobId, "job1").Add(x => x.Progress, Step(1, 1)));
        string Src() => preview.Find("img[alt='Live preview']").GetAttribute("src")!;
        Assert.EndsWith("?v=1", Src());

        // Steps 2..5 arrive before the browser has loaded frame 1: the src must not move (it would abort the fetch).
        for (var i = 2; i <= 5; i++) preview.Render(p => p.Add(x => x.Progress, Step(i, i)));
        Assert.EndsWith("?v=1", Src());
        Assert.Contains("Step 5 of 40", preview.Markup);

        // Frame 1 loaded: the newest frame (5) is requested next, never the skipped 2..4.
        await preview.Find("img[alt='Live preview']").TriggerEventAsync("onload", EventArgs.Empty);
        Assert.EndsWith("?v=5", Src());

        // A failed fetch also lets the next frame through, so one lost frame does not freeze the preview.
        preview.Render(p => p.Add(x => x.Progress, Step(6, 6)));
        Assert.EndsWith("?v=5", Src());
        await preview.Find("img[alt='Live preview']").TriggerEventAsync("onerror", new Microsoft.AspNetCore.Components.Web.ErrorEventArgs());
        Assert.EndsWith("?v=6", Src());

        // A new job starts from its own first frame.
        preview.Render(p => p.Add(x => x.JobId, "job2").Add(x => x.Progress, Step(1, 1) with { JobId = "job2" }));
        Assert.Equal("api/jobs/job2/preview?v=1", Src());
    }

    [Fact]
    public async Task No_image_before_the_first_frame_and_nothing_to_cancel_when_idle()
    {
        await using var ctx = NewContext();
        var preview = ctx.Render<LivePreview>(p => p.Add(x => x.JobId, "job1"));
        Assert.Empty(preview.FindAll("img"));
        Assert.Contains("Waiting for the first step", preview.Markup);

        preview.Render(p => p.Add(x => x.JobId, (string?)null));
        Assert.DoesNotContain(preview.FindAll("button"), b => b.TextContent.Trim() == "Cancel");
    }

    [Fact]
    public async Task Cancel_and_skip_call_back()
    {
        await using var ctx = NewContext();
        var calls = new List<string>();
        var preview = ctx.Render<LivePreview>(p => p
            .Add(x => x.JobId, "job1").Add(x => x.Progress, Step(1, 1))
            .Add(x => x.OnCancel, () => calls.Add("cancel"))
            .Add(x => x.OnSkip, () => calls.Add("skip")));
        await preview.FindAll("button").Single(b => b.TextContent.Trim() == "Skip").ClickAsync(new MouseEventArgs());
        await preview.FindAll("button").Single(b => b.TextContent.Trim() == "Cancel").ClickAsync(new MouseEventArgs());
        Assert.Equal(["skip", "cancel"], calls);
    }

    [Fact]
    public async Task Finished_images_have_alt_text_parameters_and_a_gallery_link()
    {
        await using var ctx = NewContext();
        var images = ctx.Render<GeneratedImages>(p => p
            .Add(x => x.ImageIds, ["abc-0", "abc-1"])
            .Add(x => x.Parameters, new GenerationSummary { Prompt = "fox", Seed = 10, Steps = 20, Sampler = "Euler", Width = 64, Height = 64, Model = "m" }));
        var imgs = images.FindAll("img");
        Assert.Equal(["Generated image 1 of 2, seed 10", "Generated image 2 of 2, seed 11"], imgs.Select(i => i.GetAttribute("alt")));
        Assert.Equal("api/images/abc-1", imgs[1].GetAttribute("src"));
        Assert.Contains("Seed: 10", images.Markup);
        Assert.Contains(images.FindAll("a"), a => a.GetAttribute("href") == "gallery?image=abc-0");
    }
}
