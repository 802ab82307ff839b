using Microsoft.Playwright;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Tests.Gallery;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// Issue 33, item 9: the gallery's viewer fits, shows 100 % and zooms (buttons, wheel) with crisp pixels for small
/// images, steps through the grid with the arrow keys, the buttons and a touch swipe, and compares two images.
/// </summary>
public sealed class ImageViewerBrowserTests
{
    [Fact]
    public async Task The_viewer_zooms_steps_with_keys_buttons_and_swipes_and_compares_two_images()
    {
        await using var browser = await BrowserApp.StartAsync();
        var store = browser.Service<GalleryStore>();
        foreach (var (text, tone) in new[] { ("first owl", (byte)40), ("second owl", (byte)120), ("third owl", (byte)200) })
        {
            using var image = TestGallery.MakeImage(64, 48, tone);
            await store.SaveAsync(image, TestGallery.Parameters(text));
        }
        var page = browser.Page;
        await browser.OpenAsync("/gallery", ".sd-gallery[data-interactive='true']");
        await page.Locator(".sd-gallery-open img[alt^='second owl']").ClickAsync();

        var prompt = page.GetByTestId("detail-prompt");
        await Assertions.Expect(prompt).ToHaveTextAsync("second owl");
        var picture = page.Locator(".sd-viewer-stage img");
        // Fit: the 64×48 image fills the stage, enlarged as square pixels, not smoothed.
        await page.WaitForFunctionAsync("() => document.querySelector('.sd-viewer-stage img')?.complete");
        Assert.True((await picture.BoundingBoxAsync())!.Width > 300, "a small image is not enlarged to fit");
        Assert.Equal("pixelated", await picture.EvaluateAsync<string>("img => getComputedStyle(img).imageRendering"));

        await page.GetByRole(AriaRole.Button, new() { Name = "100%" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("viewer-zoom")).ToHaveTextAsync("100%");
        Assert.Equal(64, (await picture.BoundingBoxAsync())!.Width, 1);
        await page.GetByRole(AriaRole.Button, new() { Name = "Zoom in" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("viewer-zoom")).ToHaveTextAsync("200%");
        Assert.Equal(128, (await picture.BoundingBoxAsync())!.Width, 1);
        var stage = (await page.Locator(".sd-viewer-stage").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(stage.X + stage.Width / 2, stage.Y + stage.Height / 2);
        await page.Mouse.WheelAsync(0, -120);
        await Assertions.Expect(page.GetByTestId("viewer-zoom")).ToHaveTextAsync("400%");
        Assert.Equal(256, (await picture.BoundingBoxAsync())!.Width, 1);

        // → is the next tile (older), ← the previous; another image starts fitted again.
        await page.Keyboard.PressAsync("ArrowRight");
        await Assertions.Expect(prompt).ToHaveTextAsync("first owl");
        await Assertions.Expect(page.GetByTestId("viewer-zoom")).ToHaveTextAsync("fit");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Next image" })).ToBeDisabledAsync();
        await page.Keyboard.PressAsync("ArrowLeft");
        await page.Keyboard.PressAsync("ArrowLeft");
        await Assertions.Expect(prompt).ToHaveTextAsync("third owl");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next image" }).ClickAsync();
        await Assertions.Expect(prompt).ToHaveTextAsync("second owl");

        // A finger swiping right to left on the picture: the next image (real touch input through the DevTools protocol).
        var cdp = await page.Context.NewCDPSessionAsync(page);
        await cdp.SendAsync("Emulation.setTouchEmulationEnabled", new() { ["enabled"] = true, ["maxTouchPoints"] = 1 });
        stage = (await page.Locator(".sd-viewer-stage").BoundingBoxAsync())!;
        var y = stage.Y + stage.Height / 2;
        await Touch(cdp, "touchStart", stage.X + stage.Width * 0.8, y);
        for (var step = 1; step <= 5; step++) await Touch(cdp, "touchMove", stage.X + stage.Width * (0.8 - 0.12 * step), y);
        await cdp.SendAsync("Input.dispatchTouchEvent", new() { ["type"] = "touchEnd", ["touchPoints"] = Array.Empty<object>() });
        await Assertions.Expect(prompt).ToHaveTextAsync("first owl");

        // Two selected: compared with a wipe slider, then side by side.
        await page.Locator(".mud-dialog-actions").GetByRole(AriaRole.Button, new() { Name = "Close", Exact = true }).ClickAsync();
        await Assertions.Expect(prompt).ToHaveCountAsync(0);
        await page.GetByLabel("Select first owl").CheckAsync();
        await page.GetByLabel("Select third owl").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Compare" }).ClickAsync();
        var top = page.GetByTestId("compare-top");
        await Assertions.Expect(top).ToHaveAttributeAsync("style", "clip-path: inset(0 50% 0 0)");
        await page.GetByLabel("Compare: how much of the first image shows").FillAsync("20");
        await Assertions.Expect(top).ToHaveAttributeAsync("style", "clip-path: inset(0 80% 0 0)");
        await page.GetByRole(AriaRole.Button, new() { Name = "Side by side" }).ClickAsync();
        await Assertions.Expect(page.Locator(".sd-compare-side img")).ToHaveCountAsync(2);
        browser.AssertNoProblems();
    }

    private static Task Touch(ICDPSession cdp, string type, double x, double y) =>
        cdp.SendAsync("Input.dispatchTouchEvent", new() { ["type"] = type, ["touchPoints"] = new[] { new Dictionary<string, object> { ["x"] = x, ["y"] = y } } });
}
