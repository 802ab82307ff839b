using Microsoft.Playwright;
using SdBlazor.Shared;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>Issue 33, defect 3: cancelling a batch keeps the images already finished (A1111 does), and the job is Cancelled.</summary>
public sealed class CancelBatchBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Cancelling_in_the_second_batch_keeps_the_first_batch_image()
    {
        await using var browser = await BrowserApp.StartAsync();
        var page = browser.Page;
        await browser.OpenAsync();
        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a green square");
        // Each batch takes a few seconds at this size with the default model: time to cancel in the second one.
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("60");
        await page.GetByLabel("Width", new() { Exact = true }).FillAsync("256");
        await page.GetByLabel("Height", new() { Exact = true }).FillAsync("256");
        await page.GetByLabel("Batch count", new() { Exact = true }).FillAsync("4");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();

        await page.GetByText("batch 2 of 4").WaitForAsync(new() { Timeout = 120_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true }).ClickAsync();

        var kept = page.Locator("img[alt^='Generated image']");
        await Assertions.Expect(kept.First).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("img => img.complete && img.naturalWidth === 256", await kept.First.ElementHandleAsync());
        await Assertions.Expect(page.GetByText("finished image(s) are kept")).ToBeVisibleAsync();
        var shown = await kept.CountAsync();
        Assert.InRange(shown, 1, 3);

        var job = Assert.Single(browser.Service<GenerationQueue>().List(10, AccountScope.Everything));
        Assert.Equal(JobStatus.Cancelled, job.Status);
        Assert.Equal(shown, job.ImageIds.Count);
        var gallery = browser.Service<GalleryIndex>().Query(new GalleryQuery()).Items;
        Assert.Equal(job.ImageIds.Order(), gallery.Select(i => i.Key).Order());
        output.WriteLine($"{shown} image(s) kept of 4");
        browser.AssertNoProblems();
    }
}
