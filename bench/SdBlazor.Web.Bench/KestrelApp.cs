using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace SdBlazor.Web.Bench;

/// <summary>The real app on a real Kestrel port, with its own data folder and extra settings.</summary>
internal sealed class KestrelApp : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "sdblazor-web-bench", Guid.NewGuid().ToString("N"));

    public KestrelApp(Dictionary<string, string?> settings)
    {
        _settings = settings;
        // WebApplicationFactory otherwise guesses the content root from the assembly name (SdBlazor.Web/), which is
        // not where the project lives; the variable is the factory's documented override.
        if (SdBlazor.Engine.Hosting.RepositoryRoot.Find() is { } root)
            Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_SDBLAZOR_WEB", Path.Combine(root, "src", "Web"));
        UseKestrel(0);
        StartServer();
        Address = new Uri(Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
    }

    public Uri Address { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Development: static web assets (blazor.web.js, MudBlazor) are served from the build, not a publish folder.
        builder.UseEnvironment("Development");
        builder.UseSetting("Gallery:DataPath", _dataPath);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try { Directory.Delete(_dataPath, recursive: true); } catch (IOException) { }
    }
}
