using Microsoft.Playwright;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>Issue 33, defect 4: a reload or a second tab sees the running job, and the form keeps its values.</summary>
public sealed class ReloadAndSecondTabBrowserTests
{
    [Fact]
    public async Task The_form_survives_a_reload_and_a_running_job_shows_in_a_reloaded_page_and_a_second_tab()
    {
        await using var browser = await BrowserApp.StartAsync();
        var page = browser.Page;
        await browser.OpenAsync();
        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a lighthouse in a storm");
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("150");
        await page.GetByLabel("Width", new() { Exact = true }).FillAsync("256");
        await page.GetByLabel("Height", new() { Exact = true }).FillAsync("256");
        await page.GetByLabel("Batch count", new() { Exact = true }).FillAsync("3");
        // Saved every two seconds when changed.
        await page.WaitForTimeoutAsync(3000);

        await page.ReloadAsync();
        await page.Locator("[data-interactive='true']").WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToHaveValueAsync("a lighthouse in a storm");
        await Assertions.Expect(page.GetByLabel("Steps", new() { Exact = true })).ToHaveValueAsync("150");
        await Assertions.Expect(page.GetByLabel("Width", new() { Exact = true })).ToHaveValueAsync("256");

        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
        await page.GetByText("of 150 · batch").WaitForAsync(new() { Timeout = 120_000 });

        // A reload while it runs: progress, previews and Cancel are back.
        await page.ReloadAsync();
        await page.Locator("[data-interactive='true']").WaitForAsync();
        await Assertions.Expect(page.GetByText("of 150 · batch")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("img[alt='Live preview']")).ToBeVisibleAsync(new() { Timeout = 60_000 });

        // A second tab of the same browser, opened while it runs.
        var second = await page.Context.NewPageAsync();
        await second.GotoAsync(browser.Address);
        await second.Locator("[data-interactive='true']").WaitForAsync();
        await Assertions.Expect(second.GetByText("of 150 · batch")).ToBeVisibleAsync(new() { Timeout = 60_000 });

        // Cancelled from the second tab: the first tab hears of it too.
        await second.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true })).ToHaveCountAsync(0, new() { Timeout = 60_000 });
        var job = Assert.Single(browser.Service<GenerationQueue>().List(5, AccountScope.Everything));
        Assert.Equal(SdBlazor.Shared.JobStatus.Cancelled, job.Status);
        browser.AssertNoProblems();
    }
}
