using Microsoft.Playwright;
using SdBlazor.Web.Tests.Sharing.Browser;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// Issue 33, item 18 and its "done when": on a 390×844 touch phone, Generate → viewer → img2img → gallery → share
/// link → the shared page, by taps, without a dead end and without the page scrolling sideways anywhere.
/// </summary>
public sealed class PhoneWalkthroughBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Generate_view_img2img_gallery_and_share_work_on_a_phone()
    {
        await using var remote = await RemoteBrowser.StartAsync();
        var context = await remote.Browser.NewContextAsync(new()
        {
            ViewportSize = new() { Width = 390, Height = 844 }, IsMobile = true, HasTouch = true, DeviceScaleFactor = 3,
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        var problems = new List<string>();
        page.PageError += (_, error) => problems.Add($"page error: {error}");
        var artifacts = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;

        async Task NoSidewaysScroll(string where)
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, $"phone-{where}.png"), FullPage = true });
            var (scroll, width) = (await page.EvaluateAsync<int>("document.documentElement.scrollWidth"), await page.EvaluateAsync<int>("window.innerWidth"));
            Assert.True(scroll <= width + 1, $"{where}: the page is {scroll} px wide on a {width} px phone");
        }

        await page.GotoAsync($"{remote.LocalUrl}/");
        await page.Locator("[data-interactive='true']").WaitForAsync();
        await NoSidewaysScroll("generate");
        await page.GetByLabel("Prompt", new() { Exact = true }).TapAsync();
        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a paper boat on a pond");
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("3");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).TapAsync();
        var result = page.GetByRole(AriaRole.Button, new() { Name = "Open image 1 in the viewer" });
        await result.WaitForAsync(new() { Timeout = 120_000 });
        await NoSidewaysScroll("result");

        await result.TapAsync();
        await page.GetByTestId("image-viewer").WaitForAsync();
        await NoSidewaysScroll("viewer");
        await page.GetByRole(AriaRole.Button, new() { Name = "img2img from this" }).TapAsync();
        await page.WaitForURLAsync(url => url.Contains("img2img="));
        await page.Locator("[data-interactive='true']").WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToHaveValueAsync("a paper boat on a pond");
        await NoSidewaysScroll("img2img");

        await page.GotoAsync($"{remote.LocalUrl}/gallery");
        await page.Locator(".sd-gallery[data-interactive='true']").WaitForAsync();
        await Assertions.Expect(page.Locator(".sd-gallery-open")).ToHaveCountAsync(1);
        await NoSidewaysScroll("gallery");
        await page.GetByRole(AriaRole.Link, new() { Name = "Share these" }).TapAsync();
        await page.Locator("[data-testid='link-origin'][data-live='true']").WaitForAsync();
        await NoSidewaysScroll("shares");
        await page.GetByRole(AriaRole.Button, new() { Name = "Make link" }).TapAsync();
        var link = await page.GetByTestId("share-link").GetAttributeAsync("href") ?? throw new Xunit.Sdk.XunitException("no share link");
        output.WriteLine(link);

        await page.GotoAsync(link);
        await Assertions.Expect(page.Locator("img[alt*='paper boat']").First).ToBeVisibleAsync();
        await NoSidewaysScroll("shared");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }
}
