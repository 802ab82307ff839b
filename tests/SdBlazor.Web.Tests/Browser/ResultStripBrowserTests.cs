using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// Issue 33, item 10: after a job, its images sit in a strip; each opens the viewer (arrow keys step through the
/// strip), and "New seed" and "Vary" queue the job again, changed as they say.
/// </summary>
public sealed partial class ResultStripBrowserTests
{
    [Fact]
    public async Task The_strip_opens_the_viewer_and_new_seed_and_vary_run_again()
    {
        await using var app = await BrowserApp.StartAsync();
        var page = app.Page;
        await app.OpenAsync();
        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a teal kite");
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("3");
        await page.GetByLabel("Seed", new() { Exact = true }).FillAsync("1234");
        await page.GetByLabel("Batch size", new() { Exact = true }).FillAsync("2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();

        var strip = page.Locator("img[alt^='Generated image']");
        await Assertions.Expect(strip).ToHaveCountAsync(2, new() { Timeout = 120_000 });
        await Assertions.Expect(strip.Nth(1)).ToHaveAttributeAsync("alt", "Generated image 2 of 2, seed 1235");

        // The viewer: the image's full parameters; → is the strip's next image.
        await page.GetByRole(AriaRole.Button, new() { Name = "Open image 1 in the viewer" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("detail-prompt")).ToHaveTextAsync("a teal kite");
        var seedRow = page.Locator(".sd-gallery-params tr").Filter(new() { HasText = "Seed" }).Locator("td");
        await Assertions.Expect(seedRow).ToHaveTextAsync("1234");
        await page.Keyboard.PressAsync("ArrowRight");
        await Assertions.Expect(seedRow).ToHaveTextAsync("1235");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Next image" })).ToBeDisabledAsync();
        await page.Locator(".mud-dialog-actions").GetByRole(AriaRole.Button, new() { Name = "Close", Exact = true }).ClickAsync();

        // New seed: the same settings, a random seed, two images again.
        await page.GetByRole(AriaRole.Button, new() { Name = "New seed" }).ClickAsync();
        await Assertions.Expect(strip.First).Not.ToHaveAttributeAsync("alt", "Generated image 1 of 2, seed 1234", new() { Timeout = 120_000 });
        await Assertions.Expect(strip).ToHaveCountAsync(2);
        var newSeed = long.Parse(SeedOf().Match(await strip.First.GetAttributeAsync("alt") ?? "").Groups[1].Value);
        Assert.NotEqual(1234, newSeed);

        // Vary image 2: one image with that image's seed and a variation seed.
        await page.GetByRole(AriaRole.Button, new() { Name = "Vary image 2" }).ClickAsync();
        await Assertions.Expect(strip).ToHaveCountAsync(1, new() { Timeout = 120_000 });
        await Assertions.Expect(strip.First).ToHaveAttributeAsync("alt", $"Generated image 1 of 1, seed {newSeed + 1}");
        var varied = app.Service<GenerationQueue>().List(10, AccountScope.Everything).First(j => j.Request.SubseedStrength > 0);
        Assert.Equal(newSeed + 1, varied.Request.Seed);
        Assert.Equal(SdBlazor.Web.Components.Generation.ResultRerun.VaryStrength, varied.Request.SubseedStrength);
        app.AssertNoProblems();
    }

    [GeneratedRegex(@"seed (-?\d+)$")]
    private static partial Regex SeedOf();
}
