using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Tests.Support;
using Xunit;

namespace SdBlazor.Web.Tests.Gallery;

/// <summary>
/// The gallery in a real browser (Debian's chromium driven by Playwright) against the real app on Kestrel:
/// find an image by a prompt word, open it, "use these settings". (The full generate → gallery flow needs the
/// Generate page and the default model and is covered once those are on main.)
/// </summary>
public sealed class GalleryBrowserTests : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sdblazor-gallery-e2e", Guid.NewGuid().ToString("N"));
    private WebApplicationFactory<Program> _factory = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private string _baseUrl = "";
    private List<string> _output = [];

    public async Task InitializeAsync()
    {
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Gallery:DataPath", _folder).UseSetting("urls", AppFactory.FreeLoopbackPort));
        _factory.UseKestrel();
        _factory.StartServer();
        _baseUrl = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        lock (_output) foreach (var line in _output) Console.WriteLine("[browser] " + line);
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _factory.DisposeAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Find_by_prompt_word_open_and_use_these_settings()
    {
        var store = _factory.Services.GetRequiredService<GalleryStore>();
        using var image = TestGallery.MakeImage();
        var lighthouse = await store.SaveAsync(image, TestGallery.Parameters("a lighthouse on a cliff, stormy sea", seed: 4242));
        await store.SaveAsync(image, TestGallery.Parameters("a quiet forest path"));

        var page = await _browser.NewPageAsync();
        // Generous: the build machine is shared and a Blazor circuit can take many seconds to start there.
        page.SetDefaultTimeout(120_000);
        Assertions.SetDefaultExpectTimeout(60_000);
        var console = new List<string>();
        page.Console += (_, m) => { lock (console) console.Add($"{m.Type}: {m.Text}"); };
        page.PageError += (_, e) => { lock (console) console.Add($"page error: {e}"); };
        _output = console;
        await page.GotoAsync(_baseUrl + "/gallery");
        await Assertions.Expect(page.Locator(".sd-gallery[data-interactive='true']")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("img[alt^='a quiet forest path']")).ToBeVisibleAsync();

        await page.GetByLabel("Search").FillAsync("lighthouse");
        await Assertions.Expect(page.Locator("img[alt^='a quiet forest path']")).ToHaveCountAsync(0);
        var thumbnail = page.Locator("img[alt^='a lighthouse on a cliff']");
        await Assertions.Expect(thumbnail).ToHaveCountAsync(1);

        await thumbnail.ClickAsync();
        await Assertions.Expect(page.GetByText("4242").First).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Use these settings" }).ClickAsync();

        // Blazor navigates in-document (history API), so poll the URL rather than wait for a load event.
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/\\?fromImage={lighthouse.Key}$"));
    }
}
