using Microsoft.Playwright;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Tests.Gallery;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>Issue 33, defect 8: "-red" leaves out red, "exact phrase" and field filters work in the gallery's search box.</summary>
public sealed class GallerySearchBrowserTests
{
    [Fact]
    public async Task Exclusions_phrases_and_fields_narrow_the_grid_and_the_help_says_how()
    {
        await using var browser = await BrowserApp.StartAsync();
        var store = browser.Service<GalleryStore>();
        foreach (var (prompt, model, seed) in new[] { ("a red fox in snow", "model-a", 1L), ("a blue fox in snow", "model-b", 2L), ("fox, red scarf", "model-a", 3L) })
        {
            using var image = TestGallery.MakeImage();
            await store.SaveAsync(image, TestGallery.Parameters(prompt, model, seed));
        }
        var page = browser.Page;
        await browser.OpenAsync("/gallery", ".sd-gallery[data-interactive='true']");
        var tiles = page.Locator(".sd-gallery-open img");
        await Assertions.Expect(tiles).ToHaveCountAsync(3);

        async Task Shows(string search, params string[] prompts)
        {
            await page.GetByLabel("Search").FillAsync(search);
            await Assertions.Expect(tiles).ToHaveCountAsync(prompts.Length);
            foreach (var prompt in prompts) await Assertions.Expect(page.Locator($"img[alt^='{prompt}']")).ToHaveCountAsync(1);
        }

        await Shows("-red", "a blue fox in snow");
        await Shows("\"red fox\"", "a red fox in snow");
        await Shows("fox -\"red fox\"", "a blue fox in snow", "fox, red scarf");
        await Shows("model:model-a", "a red fox in snow", "fox, red scarf");
        await Shows("seed:3", "fox, red scarf");

        await page.GetByRole(AriaRole.Button, new() { Name = "Syntax help" }).HoverAsync();
        var help = page.GetByTestId("search-help");
        await Assertions.Expect(help).ToBeVisibleAsync();
        await Assertions.Expect(help).ToContainTextAsync("-red");
        await Assertions.Expect(help).ToContainTextAsync("seed:");
        browser.AssertNoProblems();
    }
}
