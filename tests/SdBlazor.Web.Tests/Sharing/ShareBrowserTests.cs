using SdBlazor.Web.Sharing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SdBlazor.Shared;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Sharing.Shares;
using SdBlazor.Web.Tests.Api;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>
/// Share links in Debian's Chromium (Playwright), the app on real Kestrel at this machine's LAN address: a second
/// browser context, that of a visitor with nothing but the link, sees exactly what was shared.
/// </summary>
public sealed class ShareBrowserTests(ITestOutputHelper output)
{

    [Fact]
    public async Task A_visitor_sees_exactly_the_shared_images_cannot_guess_others_and_loses_access_on_revoke_and_expiry()
    {
        await using var app = LanBindingTests.StartOnLan(out var baseUrl);
        app.EnsureOwner();
        var images = await app.AddImagesAsync("shared one", "shared two", "shared three", "not shared four", "not shared five");
        var shares = app.Services.GetRequiredService<ShareStore>();
        var (share, token) = shares.Create(new() { Kind = ShareKind.Selection, ImageIds = [.. images.Take(3).Select(i => i.Key)] }, SharingFactory.OwnerName);
        var (_, shortToken) = shares.Create(new() { Kind = ShareKind.Selection, ImageIds = [images[0].Key], ExpiresIn = TimeSpan.FromSeconds(20) }, SharingFactory.OwnerName);
        var link = $"{baseUrl}/s/{token}";

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        // A phone-sized context with its own cookies: the visitor.
        await using var visitor = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 390, Height = 844 }, IsMobile = true });
        var page = await visitor.NewPageAsync();
        var problems = Watch(page);

        await page.GotoAsync(link);
        var thumbs = page.Locator("[data-testid='share-grid'] img");
        await Assertions.Expect(thumbs).ToHaveCountAsync(3);
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll(\"[data-testid='share-grid'] img\")].every(i => i.complete && i.naturalWidth > 0)");
        var shown = await page.Locator("[data-image-id]").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.imageId)");
        Assert.Equal(images.Take(3).Select(i => i.Key).Order(), shown.Order());
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the share page scrolls sideways on a phone");

        // Tap a thumbnail: the full image with its download link and parameters.
        await page.Locator($"a[data-image-id='{images[1].Key}']").ClickAsync();
        var full = page.Locator($"#i-{images[1].Key} img");
        await Assertions.Expect(full).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("img => img.complete && img.naturalWidth === 64", await full.ElementHandleAsync());
        Assert.Contains("shared two", await page.Locator($"#i-{images[1].Key}").InnerTextAsync());
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator($"#i-{images[1].Key} a[download]").ClickAsync());
        Assert.Equal($"{images[1].Key}.png", download.SuggestedFilename);
        Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(AppContext.BaseDirectory, "artifacts", "share-phone.png") });

        // Guessing other ids from the visitor's browser: through the link, the gallery API, the image API, the hub.
        foreach (var other in images.Skip(3))
        {
            Assert.Equal(404, await Status(page, $"/s/{token}/images/{other.Key}"));
            Assert.Equal(404, await Status(page, $"/s/{token}/images/{other.Key}/thumb"));
            Assert.Equal(401, await Status(page, $"/api/images/{other.Key}"));
        }
        Assert.Equal(401, await Status(page, "/api/gallery"));
        Assert.Equal(401, await Status(page, "/api/jobs/x"));
        Assert.Equal(401, await Status(page, "/sdapi/v1/options"));
        Assert.Equal(401, await Status(page, "/hubs/generation/negotiate?negotiateVersion=1", "POST"));
        await page.GotoAsync($"{baseUrl}/sharing");
        Assert.Contains("/login", page.Url);

        // Revoke: the open page's links die, and so does the page.
        shares.Revoke(share.Id);
        Assert.Equal(404, await Status(page, $"/s/{token}/images/{images[0].Key}"));
        await page.GotoAsync(link);
        await Assertions.Expect(page.GetByText("This link is not available")).ToBeVisibleAsync();

        // Expiry.
        await page.GotoAsync($"{baseUrl}/s/{shortToken}");
        await Assertions.Expect(page.Locator("[data-testid='share-grid'] img")).ToHaveCountAsync(1);
        var wait = shares.List(null).Single(s => s.TokenHash == SdBlazor.Web.Sharing.SecretTokens.Hash(shortToken)).ExpiresUtc!.Value - DateTime.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait + TimeSpan.FromMilliseconds(500));
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByText("This link is not available")).ToBeVisibleAsync();

        var unexpected = problems.Where(p => !p.Contains("404") && !p.Contains("401")).ToList();
        Assert.True(unexpected.Count == 0, string.Join('\n', unexpected));
    }

    [Fact]
    public async Task A_live_link_shows_the_previews_of_a_running_generation()
    {
        // The real engine and default model: it takes milliseconds per step at 64×64, so a larger size and more steps
        // keep the generation running for several seconds, long enough for the page's 400 ms polling to see frames.
        await using var app = LanBindingTests.StartOnLan(out var baseUrl);
        app.EnsureOwner();
        var (_, token) = app.Services.GetRequiredService<ShareStore>().Create(new() { Kind = ShareKind.Live }, SharingFactory.OwnerName);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        await using var visitor = await browser.NewContextAsync();
        var page = await visitor.NewPageAsync();
        var problems = Watch(page);
        await page.AddInitScriptAsync("""
            window.__frames = new Set();
            document.addEventListener('load', e => { const i = e.target; if (i.id === 'sd-live-frame' && i.naturalWidth > 0) window.__frames.add(i.src); }, true);
            """);
        await page.GotoAsync($"{baseUrl}/s/{token}");
        await Assertions.Expect(page.GetByText("Waiting for the next generation")).ToBeVisibleAsync();

        var job = app.Services.GetRequiredService<GenerationQueue>().Enqueue(new GenerationRequest { Prompt = "a lighthouse", Steps = 150, Width = 512, Height = 512, Model = DefaultModel.Name }, owner: "test");
        await Assertions.Expect(page.GetByText("Generating: step")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await page.WaitForFunctionAsync("() => window.__frames.size >= 3", null, new() { Timeout = 60_000 });
        var frames = await page.EvaluateAsync<int>("window.__frames.size");
        output.WriteLine($"{frames} distinct live frames shown");
        // The end of the run, not its length, is what the page must show: stop it rather than wait out 150 steps on a busy CPU.
        app.Services.GetRequiredService<GenerationQueue>().Cancel(job.Id, AccountScope.Everything);
        await Assertions.Expect(page.GetByText("Finished")).ToBeVisibleAsync(new() { Timeout = 30_000 });

        // The viewer learned no job id and cannot act on the job.
        Assert.DoesNotContain(job.Id, await page.ContentAsync());
        Assert.Equal(401, await Status(page, $"/api/jobs/{job.Id}", "DELETE"));
        Assert.Equal(401, await Status(page, $"/api/jobs/{job.Id}/preview"));
        // The two refused requests above log "401" in the console; nothing else may.
        var unexpected = problems.Where(p => !p.Contains("401")).ToList();
        Assert.True(unexpected.Count == 0, string.Join('\n', unexpected));
    }


    private static List<string> Watch(IPage page)
    {
        var problems = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") problems.Add($"console: {message.Text}"); };
        page.PageError += (_, error) => problems.Add($"page error: {error}");
        return problems;
    }

    private static Task<int> Status(IPage page, string path, string method = "GET") =>
        page.EvaluateAsync<int>("async ([p, m]) => (await fetch(p, { method: m, redirect: 'manual' })).status", new[] { path, method });
}
