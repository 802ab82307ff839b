using Microsoft.Playwright;
using SdBlazor.Web.Tests.Gallery;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// Issue 33, item 11: a PNG dragged from the desktop onto the Generate page fills the form with the A1111 settings
/// in it. The drag is real browser input (the DevTools protocol's drag events with a file on disk), not a script
/// that fakes a drop event.
/// </summary>
public sealed class PngInfoDropBrowserTests
{
    [Fact]
    public async Task Dropping_a_png_fills_the_form_and_one_without_settings_is_refused()
    {
        var folder = AppFactory.NewDataFolder();
        var withSettings = Path.Combine(folder, "castle.png");
        await File.WriteAllBytesAsync(withSettings, TestGallery.ForeignPng(("parameters",
            "a castle on a hill\nNegative prompt: fog\nSteps: 7, Sampler: Euler a, CFG scale: 5.5, Seed: 4242, Size: 96x64, Model: a-model-not-here")));
        var without = Path.Combine(folder, "plain.png");
        await File.WriteAllBytesAsync(without, TestGallery.ForeignPng());

        await using var app = await BrowserApp.StartAsync();
        var page = app.Page;
        await app.OpenAsync();
        var cdp = await page.Context.NewCDPSessionAsync(page);

        await DropAsync(cdp, withSettings, 900, 300);
        await Assertions.Expect(page.GetByTestId("png-info")).ToContainTextAsync("castle.png");
        await Assertions.Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToHaveValueAsync("a castle on a hill");
        await Assertions.Expect(page.GetByLabel("Negative prompt", new() { Exact = true })).ToHaveValueAsync("fog");
        await Assertions.Expect(page.GetByLabel("Steps", new() { Exact = true })).ToHaveValueAsync("7");
        await Assertions.Expect(page.GetByLabel("Seed", new() { Exact = true })).ToHaveValueAsync("4242");
        await Assertions.Expect(page.GetByLabel("Width", new() { Exact = true })).ToHaveValueAsync("96");
        await Assertions.Expect(page.GetByLabel("Height", new() { Exact = true })).ToHaveValueAsync("64");
        // The image's model is not installed: the chosen one stays, and the user is told.
        await Assertions.Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("a-model-not-here");
        await Assertions.Expect(page.Locator(".mud-select").Filter(new() { HasText = "Model" }).First).ToContainTextAsync("sdblazor-mini");

        await DropAsync(cdp, without, 900, 300);
        await Assertions.Expect(page.Locator(".mud-snackbar").Filter(new() { HasText = "plain.png holds no generation settings" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToHaveValueAsync("a castle on a hill");
        app.AssertNoProblems();
    }

    private static async Task DropAsync(ICDPSession cdp, string file, double x, double y)
    {
        var data = new Dictionary<string, object> { ["items"] = Array.Empty<object>(), ["files"] = new[] { file }, ["dragOperationsMask"] = 1 };
        foreach (var type in new[] { "dragEnter", "dragOver", "drop" })
            await cdp.SendAsync("Input.dispatchDragEvent", new() { ["type"] = type, ["x"] = x, ["y"] = y, ["data"] = data });
    }
}
