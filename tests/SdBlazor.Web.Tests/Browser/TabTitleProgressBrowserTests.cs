using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>Issue 33, item 13: the tab title shows step and percentage while a job runs, and goes back afterwards.</summary>
public sealed partial class TabTitleProgressBrowserTests(ITestOutputHelper output)
{
    // Every title the tab showed, however briefly (steps can be faster than any polling from the test).
    private const string TitleRecorder = """
        window.__titles = [];
        new MutationObserver(() => {
            if (window.__titles[window.__titles.length - 1] !== document.title) window.__titles.push(document.title);
        }).observe(document, { subtree: true, childList: true, characterData: true });
        """;

    [Fact]
    public async Task The_tab_title_counts_steps_while_generating_then_returns_to_the_page_name()
    {
        await using var app = await BrowserApp.StartAsync();
        var page = app.Page;
        await page.AddInitScriptAsync(TitleRecorder);
        await app.OpenAsync();
        await Assertions.Expect(page).ToHaveTitleAsync("Generate · SdBlazor");
        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a lighthouse at dusk");
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("150");
        await page.GetByLabel("Width", new() { Exact = true }).FillAsync("256");
        await page.GetByLabel("Height", new() { Exact = true }).FillAsync("256");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();

        await page.Locator("img[alt^='Generated image']").First.WaitForAsync(new() { Timeout = 180_000 });
        await Assertions.Expect(page).ToHaveTitleAsync("Generate · SdBlazor");
        var titles = await page.EvaluateAsync<string[]>("window.__titles");
        output.WriteLine(string.Join('\n', titles));
        var steps = titles.Select(t => StepTitle().Match(t)).Where(m => m.Success).ToList();
        Assert.True(steps.Count >= 2, "the tab title showed fewer than two steps");
        Assert.All(steps, m =>
        {
            Assert.Equal("150", m.Groups["total"].Value);
            Assert.Equal(int.Parse(m.Groups["step"].Value) * 100 / 150, int.Parse(m.Groups["percent"].Value));
        });
        app.AssertNoProblems();
    }

    [GeneratedRegex(@"^\[(?<percent>\d+)%\] Step (?<step>\d+)/(?<total>\d+) · SdBlazor$")]
    private static partial Regex StepTitle();
}
