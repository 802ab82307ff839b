using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Sharing.Browser;

/// <summary>
/// The app on real Kestrel at 127.0.0.1, opened by Chromium under host names that Chromium maps to 127.0.0.1
/// (<c>--host-resolver-rules</c>): <see cref="LanHost"/> is another device on the LAN to the app (its Host header
/// is not a loopback name, so it must log in, as <see cref="SdBlazor.Web.Sharing.LocalRequests"/> decides), and
/// a plain-HTTP, non-local origin to Chromium, which then sends no Sec-Fetch-* headers, as on a real LAN.
/// <see cref="EvilHost"/> is another site.
/// </summary>
public sealed class RemoteBrowser : IAsyncDisposable
{
    public const string LanHost = "lan.test";
    public const string EvilHost = "evil.test";

    private RemoteBrowser(SharingFactory app, int port, IPlaywright playwright, IBrowser browser, LogCapture logs)
    {
        App = app;
        Port = port;
        Playwright = playwright;
        Browser = browser;
        Logs = logs;
    }

    public SharingFactory App { get; }
    public int Port { get; }
    public IPlaywright Playwright { get; }
    public IBrowser Browser { get; }
    public LogCapture Logs { get; }

    /// <summary>The app as another device sees it.</summary>
    public string LanUrl => $"http://{LanHost}:{Port}";

    /// <summary>The app as this machine's own browser sees it (the local owner, no login).</summary>
    public string LocalUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Form posts that got a 4xx/5xx, in every context: a working flow has none unless the test expects them.</summary>
    public ConcurrentQueue<string> FailedPosts { get; } = new();

    public static async Task<RemoteBrowser> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var logs = new LogCapture();
        var app = new SharingFactory(settings) { TestServices = s => s.AddSingleton<ILoggerProvider>(logs) };
        app.UseKestrel();
        app.StartServer();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
            .First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await Chromium.LaunchAsync(playwright,
            $"--host-resolver-rules=MAP {LanHost} 127.0.0.1, MAP {EvilHost} 127.0.0.1",
            // Typed http:// URLs would otherwise be tried over HTTPS first.
            "--disable-features=HttpsUpgrades");
        return new RemoteBrowser(app, new Uri(address).Port, playwright, browser, logs);
    }

    /// <summary>A fresh browser profile (its own cookies): one person's device.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> NewDeviceAsync()
    {
        var context = await Browser.NewContextAsync(new() { AcceptDownloads = true });
        context.Response += (_, response) =>
        {
            if (response.Request.Method == "POST" && response.Status >= 400) FailedPosts.Enqueue($"{response.Status} POST {response.Url}");
        };
        return (context, await context.NewPageAsync());
    }

    /// <summary>Fills a static form's fields by their names (what the user types) and presses its submit button.</summary>
    public static async Task SubmitAsync(IPage page, string button, params (string Name, string Value)[] fields)
    {
        foreach (var (name, value) in fields) await page.Locator($"input[name='{name}']").FillAsync(value);
        await page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.DOMContentLoaded);
    }

    public async Task LogInAsync(IPage page, string user, string password)
    {
        await page.GotoAsync($"{LanUrl}/login");
        await SubmitAsync(page, "Log in", ("Input.UserName", user), ("Input.Password", password));
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
        await App.DisposeAsync();
    }
}

/// <summary>Keeps the app's log lines, e.g. the set-up link it prints for a headless machine.</summary>
public sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose() { }

    private sealed class Logger(LogCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) owner.Lines.Enqueue(formatter(state, exception));
        }
    }
}
