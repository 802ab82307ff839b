using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace SdBlazor.Web.Tests.Support;

/// <summary>
/// The real app on Kestrel (loopback, so this browser is the owner) and a Chromium page on it, with console errors
/// and page errors collected in <see cref="Problems"/>.
/// </summary>
public sealed class BrowserApp : IAsyncDisposable
{
    private BrowserApp(AppFactory app, string address, IPlaywright playwright, IBrowser browser, IPage page)
    {
        App = app;
        Address = address;
        Playwright = playwright;
        Browser = browser;
        Page = page;
        page.Console += (_, message) => { if (message.Type == "error") Problems.Add($"console: {message.Text}"); };
        page.PageError += (_, error) => Problems.Add($"page error: {error}");
    }

    public AppFactory App { get; }
    public string Address { get; }
    public IPlaywright Playwright { get; }
    public IBrowser Browser { get; }
    public IPage Page { get; }
    public List<string> Problems { get; } = [];
    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    public static async Task<BrowserApp> StartAsync(IReadOnlyDictionary<string, string?>? settings = null, string? dataPath = null, params string[] browserArgs)
    {
        var app = new AppFactory(dataPath, settings);
        app.UseKestrel();
        app.StartServer();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await Chromium.LaunchAsync(playwright, browserArgs);
        // A context of its own (not Browser.NewPageAsync), so a test can open a second tab in it.
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        return new BrowserApp(app, address.TrimEnd('/'), playwright, browser, page);
    }

    /// <summary>Opens a page of the app and waits until its circuit is live.</summary>
    public async Task OpenAsync(string path = "/", string ready = "[data-interactive='true']")
    {
        await Page.GotoAsync(Address + path);
        await Page.Locator(ready).WaitForAsync();
    }

    public void AssertNoProblems(Func<string, bool>? expected = null)
    {
        var unexpected = Problems.Where(p => expected is null || !expected(p)).ToList();
        Assert.True(unexpected.Count == 0, string.Join('\n', unexpected));
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
        await App.DisposeAsync();
    }
}
