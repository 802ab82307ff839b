using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Tests.Api;

namespace SdBlazor.Web.Tests.Support;

/// <summary>
/// The real app (real engine, real default model, real LiteDB) in a test host, with its own data folder.
/// Several factories may share one folder one after another (restart tests); the folder is deleted by its owner.
/// </summary>
public sealed class AppFactory : WebApplicationFactory<Program>
{
    private readonly bool _ownsDataFolder;
    private readonly IReadOnlyDictionary<string, string?> _settings;

    public AppFactory(string? dataPath = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        _ownsDataFolder = dataPath is null;
        DataPath = dataPath ?? NewDataFolder();
        _settings = settings ?? new Dictionary<string, string?>();
    }

    public string DataPath { get; }

    public static string NewDataFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "sdblazor-web-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// The <c>urls</c> setting for tests that run the app on Kestrel. Use it with <c>UseKestrel()</c>, never
    /// <c>UseKestrel(port)</c>: code-defined endpoints are bound in addition to the app's own (config) ones.
    /// </summary>
    public const string FreeLoopbackPort = "http://127.0.0.1:0";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("Gallery:DataPath", DataPath);
        // The same model folder the API tests use (SDBLAZOR_TEST_MODELS or the checkout's models/), on the CPU.
        builder.UseSetting("Engine:ModelsPath", Path.GetDirectoryName(DefaultModel.Folder));
        builder.UseSetting("Engine:DefaultModel", DefaultModel.Name);
        builder.UseSetting("Engine:ExecutionProvider", "Cpu");
        // With UseKestrel() the app binds its own endpoints (Sharing/Lan/ListenAddresses): a free loopback port here.
        builder.UseSetting("urls", FreeLoopbackPort);
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        // TestServer requests have no remote address; these tests are the local owner (see TestRemoteAddress).
        builder.ConfigureServices(s => s.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter>(new TestRemoteAddress(System.Net.IPAddress.Loopback)));
    }

    public HubConnection Connect(HttpTransportType transport)
    {
        var server = Server;
        return new HubConnectionBuilder()
            .WithUrl(new Uri(server.BaseAddress, GenerationHubPaths.Hub), options =>
            {
                options.Transports = transport;
                options.SkipNegotiation = transport == HttpTransportType.WebSockets;
                options.HttpMessageHandlerFactory = _ => server.CreateHandler();
                options.WebSocketFactory = async (context, cancellationToken) =>
                    await server.CreateWebSocketClient().ConnectAsync(context.Uri, cancellationToken);
            })
            .AddMessagePackProtocol()
            .Build();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_ownsDataFolder) TryDelete(DataPath);
    }

    public static void TryDelete(string path)
    {
        try { Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
