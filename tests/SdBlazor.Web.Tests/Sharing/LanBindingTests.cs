using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Sharing.Lan;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>
/// The app on real Kestrel in LAN mode. Tests send traffic only to loopback (project rule): that LAN mode binds
/// this machine's own address is checked in the kernel's list of listening sockets, never by connecting; what
/// another device gets is checked over loopback with a non-loopback Host header (lan.test), which the app treats
/// as remote (<see cref="LocalRequests"/>).
/// </summary>
public sealed class LanBindingTests(ITestOutputHelper output)
{
    public const string LanHost = "lan.test";

    /// <summary>This machine's first IPv4 address that is not loopback (what LAN mode must bind), or null.</summary>
    public static IPAddress? MachineLanAddress() =>
        LanAddresses.MachineAddresses().FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);

    /// <summary>Whether a TCP socket listens on exactly this URL's address and port, asked of the kernel (no connection).</summary>
    public static bool Listens(string url)
    {
        var uri = new Uri(url);
        var address = IPAddress.Parse(uri.Host.Trim('[', ']'));
        return IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpListeners().Any(e => e.Port == uri.Port && e.Address.Equals(address));
    }

    /// <summary>A client that talks to the app over loopback but, by its Host header, is another device on the LAN.</summary>
    public static HttpClient LanClient(string loopbackUrl, bool cookies = true)
    {
        var uri = new Uri(loopbackUrl);
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(uri.Host.Trim('[', ']'))), $"{loopbackUrl} is not a loopback URL");
        var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = cookies }) { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Host = $"{LanHost}:{uri.Port}";
        return http;
    }

    /// <summary>
    /// LAN mode on real Kestrel; <paramref name="baseUrl"/> is its loopback URL. Login is required on loopback too,
    /// so a browser at 127.0.0.1 meets the app as another device would.
    /// </summary>
    public static SharingFactory StartOnLan(out string baseUrl, Action<IServiceCollection>? testServices = null)
    {
        var settings = new Dictionary<string, string?> { ["Sharing:LanMode"] = "true", ["Sharing:RequireLoginOnLoopback"] = "true" };
        var app = new SharingFactory(settings) { TestServices = testServices };
        app.UseKestrel();
        app.StartServer();
        baseUrl = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
            .First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));
        return app;
    }

    [Fact]
    public async Task Another_device_waits_for_setup_then_must_log_in()
    {
        await using var app = StartOnLan(out var baseUrl);
        var address = MachineLanAddress();
        output.WriteLine($"server at {baseUrl}; this machine's LAN address: {address?.ToString() ?? "none"}");
        using var http = LanClient(baseUrl);

        // No owner password yet: LAN mode is not on for anyone but the setup page.
        var before = await http.GetAsync("/api/gallery");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, before.StatusCode);
        Assert.Contains("not set up", await before.Content.ReadAsStringAsync());
        var setup = await http.GetStringAsync("/setup");
        Assert.Contains("console log", setup);
        Assert.DoesNotContain("Input.Password", setup);

        app.EnsureOwner();
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/gallery")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/sdapi/v1/sd-models")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("/hubs/generation/negotiate?negotiateVersion=1", null)).StatusCode);
        var page = await http.GetAsync("/gallery");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/login", page.Headers.Location!.PathAndQuery);

        using var login = await SharingFactory.LoginAsync(http, SharingFactory.OwnerName, SharingFactory.Password);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/gallery")).StatusCode);

        if (address is null)
        {
            output.WriteLine("no non-loopback address on this machine: the LAN listener not checked");
            return;
        }
        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        var lanUrl = await Eventually(() => addresses.Addresses.FirstOrDefault(a => a.StartsWith($"http://{address}:", StringComparison.Ordinal)));
        Assert.True(Listens(lanUrl), $"nothing listens on {lanUrl}");
        Assert.Contains(lanUrl + "/", app.Services.GetRequiredService<LanAddresses>().Urls());
    }

    [Fact]
    public async Task Lan_mode_is_switched_on_and_off_while_the_app_runs()
    {
        var address = MachineLanAddress();
        await using var app = new SharingFactory();
        app.UseKestrel();
        app.StartServer();
        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        output.WriteLine($"at start: {string.Join(", ", addresses.Addresses)}; this machine's LAN address: {address?.ToString() ?? "none"}");
        var loopbackOnly = Assert.Single(addresses.Addresses);
        Assert.StartsWith("http://127.0.0.1:", loopbackOnly);
        var port = new Uri(loopbackOnly).Port;
        Assert.True(Listens(loopbackOnly));
        Assert.False(Listens($"http://0.0.0.0:{port}"), "listens on every address before LAN mode");
        if (address is not null) Assert.False(Listens($"http://{address}:{port}"), "listens on the LAN address before LAN mode");
        using var http = LanClient(loopbackOnly);

        var lan = app.Services.GetRequiredService<LanModeSwitch>();
        Assert.Contains("owner password", lan.TrySet(true));
        Assert.False(lan.IsOn);
        Assert.False(LanPreference.Load(app.DataPath));

        app.EnsureOwner();
        Assert.Null(lan.TrySet(true));
        Assert.True(LanPreference.Load(app.DataPath));
        if (address is null)
        {
            // LAN mode binds this machine's own addresses; with none there is nothing to listen on.
            output.WriteLine("no non-loopback address on this machine: the LAN listener not checked");
            return;
        }
        var lanUrl = await Eventually(() => addresses.Addresses.FirstOrDefault(a => a.StartsWith($"http://{address}:", StringComparison.Ordinal)));
        output.WriteLine($"LAN on: {string.Join(", ", addresses.Addresses)}");
        Assert.True(Listens(lanUrl), $"nothing listens on {lanUrl}");
        // The loopback endpoint was not rebound: this machine's connections survive the switch.
        Assert.Contains(loopbackOnly, addresses.Addresses);
        Assert.True(Listens(loopbackOnly));
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/gallery")).StatusCode);

        Assert.Null(lan.TrySet(false));
        Assert.False(LanPreference.Load(app.DataPath));
        await Eventually(() => addresses.Addresses.All(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)) ? "ok" : null);
        // Kestrel closes the socket itself, not just its list of addresses.
        await Eventually(() => Listens(lanUrl) ? null : "closed");
        Assert.True(Listens(loopbackOnly));
    }

    [Fact]
    public async Task The_owner_turns_lan_mode_on_and_off_from_the_sharing_page()
    {
        await using var app = new SharingFactory(defaultRemote: IPAddress.Loopback);
        app.UseKestrel();
        app.StartServer();
        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        var baseUrl = addresses.Addresses.Single();
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await SdBlazor.Web.Tests.Support.Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();

        // No owner password yet: the switch refuses and nothing but loopback is bound.
        await page.GotoAsync($"{baseUrl}/sharing");
        await page.Locator("[data-interactive='true']").WaitForAsync();
        await page.Locator("[data-testid='lan-switch']").ClickAsync();
        await Microsoft.Playwright.Assertions.Expect(page.Locator("[data-testid='lan-error']")).ToContainTextAsync("owner password");
        Assert.Equal([baseUrl], addresses.Addresses);

        app.EnsureOwner();
        await page.ReloadAsync();
        await page.Locator("[data-interactive='true']").WaitForAsync();
        await page.Locator("[data-testid='lan-switch']").ClickAsync();
        await Microsoft.Playwright.Assertions.Expect(page.Locator("[data-testid='lan-status']")).ToContainTextAsync("LAN mode is on");
        if (MachineLanAddress() is not null)
        {
            var lanUrl = await Eventually(() => addresses.Addresses.FirstOrDefault(a => !a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)));
            Assert.True(Listens(lanUrl), $"nothing listens on {lanUrl}");
            // One QR code per LAN address, each naming a bound URL.
            await Microsoft.Playwright.Assertions.Expect(page.Locator("img[alt^='QR code of http']").First).ToBeVisibleAsync();
            var alt = await page.Locator("img[alt^='QR code of http']").First.GetAttributeAsync("alt");
            Assert.Contains(addresses.Addresses, a => alt!.EndsWith(a + "/", StringComparison.Ordinal));
        }
        Assert.True(LanPreference.Load(app.DataPath));

        // The page survives the rebind (its circuit came in over loopback, which LAN mode keeps).
        await page.Locator("[data-testid='lan-switch']").ClickAsync();
        await Microsoft.Playwright.Assertions.Expect(page.Locator("[data-testid='lan-status']")).ToContainTextAsync("Only this computer");
        await Eventually(() => addresses.Addresses.All(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)) ? "ok" : null);
        Assert.False(LanPreference.Load(app.DataPath));
    }

    [Fact]
    public void The_saved_lan_choice_survives_restarts_and_a_damaged_file_means_off()
    {
        var folder = Directory.CreateTempSubdirectory("sdblazor-lan-").FullName;
        try
        {
            var endpoints = new ListenEndpointsProvider();
            Assert.False(new ListenAddresses(null, new SharingOptions(), folder, endpoints).LanRequested);
            LanPreference.Save(folder, true);
            var restarted = new ListenAddresses(null, new SharingOptions(), folder, endpoints);
            Assert.True(restarted.LanRequested);
            // Requested, but no LAN endpoint until the app says an owner password exists.
            Assert.Equal(["http://localhost:5080"], restarted.Urls);
            restarted.AllowLan(true);
            Assert.Equal(restarted.Urls.Count, endpoints.GetChildKeys([], "Kestrel:Endpoints").Count());
            foreach (var address in LanAddresses.MachineAddresses())
                Assert.Contains(restarted.Urls, u => u.Contains(address.ToString(), StringComparison.Ordinal));
            restarted.SetLanMode(false);
            Assert.Equal(["http://localhost:5080"], restarted.Urls);
            Assert.True(endpoints.TryGet($"Kestrel:Endpoints:{ListenEndpointsProvider.EndpointName("http://localhost:5080")}:Url", out var url));
            Assert.Equal("http://localhost:5080", url);
            Assert.Single(endpoints.GetChildKeys([], "Kestrel:Endpoints"));

            File.WriteAllText(Path.Combine(folder, LanPreference.FileName), "{ not json");
            Assert.False(new ListenAddresses(null, new SharingOptions(), folder, endpoints).LanRequested);
            // The command-line switch still wins.
            Assert.True(new ListenAddresses(null, new SharingOptions { LanMode = true }, folder, endpoints).LanRequested);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<string> Eventually(Func<string?> probe)
    {
        for (var i = 0; i < 100; i++)
        {
            if (probe() is { } found) return found;
            await Task.Delay(100);
        }
        throw new TimeoutException("Kestrel did not rebind its endpoints within 10 s");
    }

    [Fact]
    public void Lan_mode_listens_everywhere_and_default_mode_only_on_loopback()
    {
        var options = new SharingOptions { Port = 5080 };
        IPAddress[] machine = [IPAddress.Parse("192.0.2.9"), IPAddress.Parse("2001:db8::9")];
        Assert.Equal(["http://localhost:5080"], ListenAddresses.Decide(null, options, lan: false, https: false, machine));
        Assert.Equal(["http://127.0.0.1:6000"], ListenAddresses.Decide("http://127.0.0.1:6000", options, lan: false, https: false, machine));
        // LAN mode keeps the loopback URL (launchSettings' included) and adds this machine's addresses on its port
        // (0 too: tests ask for free ports).
        Assert.Equal(["http://127.0.0.1:6000", "http://192.0.2.9:6000", "http://[2001:db8::9]:6000"],
            ListenAddresses.Decide("http://127.0.0.1:6000", options, lan: true, https: false, machine));
        Assert.Equal(["http://127.0.0.1:0", "http://192.0.2.9:0", "http://[2001:db8::9]:0"],
            ListenAddresses.Decide("http://127.0.0.1:0", options, lan: true, https: false, machine));
        Assert.Equal(["http://localhost:5080", "http://192.0.2.9:5080", "https://localhost:5443", "https://192.0.2.9:5443"],
            ListenAddresses.Decide(null, options, lan: true, https: true, machine[..1]));
        // An explicit non-loopback --urls is kept in both modes.
        Assert.Equal(["http://192.0.2.7:7000"], ListenAddresses.Decide("http://192.0.2.7:7000", options, lan: true, https: false, machine));
        Assert.Equal(["http://*:7000"], ListenAddresses.Decide("http://*:7000", options, lan: false, https: false, machine));
        // Endpoint names follow the URL, so an endpoint that stays is not rebound.
        Assert.Equal("SdBlazor_http___localhost_5080", ListenEndpointsProvider.EndpointName("http://localhost:5080"));
        Assert.Equal(["--Sharing:LanMode=true", "--urls", "x"], SharingCommandLine.Normalize(["--lan", "--urls", "x"]));
    }

    [Fact]
    public async Task The_self_signed_certificate_is_kept_and_serves_https()
    {
        var folder = Directory.CreateTempSubdirectory("sdblazor-cert-").FullName;
        try
        {
            using var first = LanCertificate.LoadOrCreate(folder);
            using var again = LanCertificate.LoadOrCreate(folder);
            Assert.Equal(LanCertificate.Fingerprint(first), LanCertificate.Fingerprint(again));
            Assert.True(first.HasPrivateKey);
            Assert.Matches("^([0-9A-F]{2}:){31}[0-9A-F]{2}$", LanCertificate.Fingerprint(first));

            // A real TLS handshake against Kestrel with this certificate; the client pins the fingerprint.
            var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(first)));
            await using var web = builder.Build();
            Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapGet(web, "/", () => "tls ok");
            await web.StartAsync();
            var url = web.Urls.First();
            string? seen = null;
            using var http = new HttpClient(new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, cert, _, _) => (seen = cert is null ? null : LanCertificate.Fingerprint(cert)) == LanCertificate.Fingerprint(first),
            });
            Assert.Equal("tls ok", await http.GetStringAsync(url));
            Assert.Equal(LanCertificate.Fingerprint(first), seen);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
