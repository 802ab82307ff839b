using System.Diagnostics;
using Microsoft.Playwright;
using SdBlazor.Web.Api.Extras;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// The Generate page with a hostile styles.csv, in Chromium: the page opens, the prompt stays responsive, the picker
/// offers what is usable and a message beside it says what was left out and why.
/// </summary>
public sealed class HostileStylesBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_hundred_thousand_styles_leave_the_page_responsive_with_a_message()
    {
        var data = AppFactory.NewDataFolder();
        HostileStyleFiles.Many(Path.Combine(data, PromptStyleStore.FileName), 100_000);
        try
        {
            await using var app = await BrowserApp.StartAsync(dataPath: data);
            var clock = Stopwatch.StartNew();
            await app.OpenAsync();
            output.WriteLine($"page interactive after {clock.ElapsedMilliseconds} ms");
            var page = app.Page;
            await Assertions.Expect(page.Locator(".styles-problem")).ToHaveTextAsync("styles.csv: only the first 1,000 styles are offered (99,000 more left out).");

            clock.Restart();
            var prompt = page.GetByLabel("Prompt", new() { Exact = true });
            await prompt.ClickAsync();
            await prompt.PressSequentiallyAsync("red red");
            await Assertions.Expect(page.Locator(".prompt-tokens")).ToHaveTextAsync("2/75", new() { Timeout = 10_000 });
            output.WriteLine($"typing 7 characters and seeing the count: {clock.ElapsedMilliseconds} ms");

            clock.Restart();
            await page.Locator(".mud-select").Filter(new() { HasText = "Styles" }).First.ClickAsync();
            await page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Style 000002" }).ClickAsync(new() { Timeout = 10_000 });
            output.WriteLine($"opening the picker and choosing a style: {clock.ElapsedMilliseconds} ms");
            await Assertions.Expect(page.GetByRole(AriaRole.Option)).ToHaveCountAsync(PromptStyleStore.MaxStyles);
            app.AssertNoProblems();
        }
        finally
        {
            AppFactory.TryDelete(data);
        }
    }

    [Fact]
    public async Task A_huge_file_binary_junk_and_broken_quoting_each_get_a_clear_message()
    {
        var data = AppFactory.NewDataFolder();
        var styles = Path.Combine(data, PromptStyleStore.FileName);
        HostileStyleFiles.Huge(styles, 50L * 1024 * 1024);
        try
        {
            await using var app = await BrowserApp.StartAsync(dataPath: data);
            await app.OpenAsync();
            var page = app.Page;
            var problem = page.Locator(".styles-problem");
            var picker = page.Locator(".mud-select").Filter(new() { HasText = "Styles" });
            await Assertions.Expect(problem).ToHaveTextAsync("styles.csv is 50.0 MB; files over 4 MB are not read, so no styles are offered.");
            await Assertions.Expect(picker).ToHaveCountAsync(0);

            // The owner replaces the file: the next visit reads it again.
            HostileStyleFiles.BinaryJunk(styles, 1024 * 1024, withHeader: false);
            await app.OpenAsync();
            await Assertions.Expect(problem).ToContainTextAsync("has no header line with a \"name\" column");
            await Assertions.Expect(picker).ToHaveCountAsync(0);

            HostileStyleFiles.BrokenQuoting(styles);
            await app.OpenAsync();
            await Assertions.Expect(problem).ToContainTextAsync("line 4: style \"Broken\" has a prompt of");
            await picker.First.ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Option)).ToHaveTextAsync(["First", "Stray"]);
            app.AssertNoProblems();
        }
        finally
        {
            AppFactory.TryDelete(data);
        }
    }
}
