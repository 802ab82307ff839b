using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Sharing.Lan;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>
/// The app on real Kestrel bound to this machine's own non-loopback address (a real LAN address, so the client's
/// address is not loopback either); where the machine has none, 127.0.0.2 with login required on loopback.
/// </summary>
public sealed class LanBindingTests(ITestOutputHelper output)
{
    public static (IPAddress Address, bool RealLan) ServerAddress()
    {
        var lan = LanAddresses.MachineAddresses().FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
        return lan is not null ? (lan, true) : (IPAddress.Parse("127.0.0.2"), false);
    }

    public static SharingFactory StartOnLan(out string baseUrl, Action<IServiceCollection>? testServices = null)
    {
        var (address, realLan) = ServerAddress();
        var settings = new Dictionary<string, string?> { ["Sharing:LanMode"] = "true" };
        if (!realLan) settings["Sharing:RequireLoginOnLoopback"] = "true";
        var app = new SharingFactory(settings) { TestServices = testServices };
        app.UseKestrel(k => k.Listen(address, 0));
        app.StartServer();
        baseUrl = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return app;
    }

    [Fact]
    public async Task Another_device_waits_for_setup_then_must_log_in()
    {
        await using var app = StartOnLan(out var baseUrl);
        output.WriteLine($"server at {baseUrl} (real LAN address: {ServerAddress().RealLan})");
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = new Uri(baseUrl) };

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

        if (ServerAddress().RealLan)
            Assert.Contains(app.Services.GetRequiredService<LanAddresses>().Urls(), u => u.StartsWith(baseUrl, StringComparison.Ordinal));
    }

    [Fact]
    public void Lan_mode_listens_everywhere_and_default_mode_only_on_loopback()
    {
        var options = new SharingOptions { Port = 5080 };
        Assert.Equal(["http://localhost:5080"], ListenAddresses.Decide(null, options, https: false));
        Assert.Equal(["http://127.0.0.1:6000"], ListenAddresses.Decide("http://127.0.0.1:6000", options, https: false));
        options.LanMode = true;
        // launchSettings' loopback URL is widened, keeping its port.
        Assert.Equal(["http://*:6000"], ListenAddresses.Decide("http://127.0.0.1:6000", options, https: false));
        Assert.Equal(["http://*:5080", "https://*:5443"], ListenAddresses.Decide(null, options, https: true));
        Assert.Equal(["http://192.0.2.9:7000"], ListenAddresses.Decide("http://192.0.2.9:7000", options, https: false));
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
