using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// The Generate page in Debian's Chromium (driven by Playwright, no browser download), against the app on a real
/// Kestrel port with the real engine and default model.
/// </summary>
public sealed class GeneratePageBrowserTests(ITestOutputHelper output)
{

    // Records every live-preview frame the browser actually finished loading (fast steps would slip past polling).
    private const string FrameRecorder = """
        window.__previewFrames = [];
        document.addEventListener('load', e => {
            const img = e.target;
            if (img.tagName === 'IMG' && img.alt === 'Live preview' && img.naturalWidth > 0) window.__previewFrames.push(img.src);
        }, true);
        """;

    // This test once saw 0 frames: the page swapped the img src on every step, faster than the browser could fetch a
    // frame, so every fetch was aborted. LivePreview now waits for the shown frame to load before moving on.
    [Fact]
    public async Task Typing_a_prompt_and_generating_shows_live_frames_then_the_final_image()
    {
        await using var app = new AppFactory();
        app.UseKestrel();
        app.StartServer();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var problems = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") problems.Add($"console: {message.Text} at {message.Location}"); };
        page.PageError += (_, error) => problems.Add($"page error: {error}");
        await page.AddInitScriptAsync(FrameRecorder);

        await page.GotoAsync(address);
        await page.Locator("[data-interactive='true']").WaitForAsync(new() { Timeout = 60_000 });
        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a red circle on a blue background");
        // The default model takes milliseconds per step at 64×64: a larger size and more steps make the run last a few
        // seconds, long enough for a person (and this test) to watch frames arrive, without delays in the product.
        // 150, not 60: the embedded UNet's fused attention (issue 27) made 60 steps at 256² too quick to see 5 frames.
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("150");
        await page.GetByLabel("Width", new() { Exact = true }).FillAsync("256");
        await page.GetByLabel("Height", new() { Exact = true }).FillAsync("256");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();

        var finalImage = page.Locator("img[alt^='Generated image']").First;
        await finalImage.WaitForAsync(new() { Timeout = 180_000 });
        await page.WaitForFunctionAsync("img => img.complete && img.naturalWidth > 0", await finalImage.ElementHandleAsync(), new() { Timeout = 30_000 });

        var frames = await page.EvaluateAsync<string[]>("window.__previewFrames");
        output.WriteLine($"{frames.Length} preview frames loaded, {frames.Distinct().Count()} distinct");
        Assert.True(frames.Distinct().Count() >= 5, $"saw only {frames.Distinct().Count()} distinct preview frames");
        Assert.All(frames, f => Assert.Contains("/preview?v=", f));
        Assert.Contains("Open in gallery", await page.ContentAsync());

        var artifacts = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "generate-desktop.png"), FullPage = true });

        // Phone-sized viewport: the form is usable and nothing overflows sideways.
        await page.SetViewportSizeAsync(390, 844);
        await page.ReloadAsync();
        await page.Locator("[data-interactive='true']").WaitForAsync(new() { Timeout = 60_000 });
        Assert.True(await page.GetByLabel("Prompt", new() { Exact = true }).IsVisibleAsync());
        Assert.True(await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).IsVisibleAsync());
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways on a phone");
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "generate-phone.png"), FullPage = true });
        output.WriteLine($"screenshots in {artifacts}");

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
