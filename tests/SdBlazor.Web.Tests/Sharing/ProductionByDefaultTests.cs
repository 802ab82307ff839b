using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using SdBlazor.Engine.Hosting;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Sharing.Accounts;
using SdBlazor.Web.Sharing.Auth;
using SdBlazor.Web.Storage;
using SdBlazor.Web.Tests.Api;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>
/// The README's command, <c>dotnet run --project src/Web</c>, run for real (built, not rebuilt) with <c>--lan</c>:
/// it must be the Production environment (launchSettings.json used to make it Development, whose exception page
/// shows stack traces to every LAN visitor), and Production must still serve its scripts and styles.
/// </summary>
public sealed class ProductionByDefaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Dotnet_run_starts_in_production_and_serves_lan_clients_its_files()
    {
        var lanAddress = LanBindingTests.MachineLanAddress();
        if (lanAddress is null)
        {
            output.WriteLine("no non-loopback address on this machine: LAN mode cannot be checked here");
            return;
        }
        var root = RepositoryRoot.Find() ?? throw new InvalidOperationException("not in the checkout");
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<Configuration>/net10.0
        var data = Directory.CreateTempSubdirectory("sdblazor-production-").FullName;
        var port = FreePort();
        try
        {
            CreateOwner(data);
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                ArgumentList =
                {
                    "run", "--project", "src/Web", "-c", configuration, "--no-build", "--",
                    "--lan", "--urls", $"http://127.0.0.1:{port}", $"--Gallery:DataPath={data}",
                    $"--Engine:ModelsPath={Path.GetDirectoryName(DefaultModel.Folder)}", "--Engine:ExecutionProvider=Cpu", "--Gallery:ReconcileOnStartup=false",
                },
            };
            // Whatever the test runner's environment says, the user's shell has none of it.
            start.Environment.Remove("ASPNETCORE_ENVIRONMENT");
            start.Environment.Remove("DOTNET_ENVIRONMENT");
            var lines = new ConcurrentQueue<string>();
            using var process = Process.Start(start)!;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                var lanUrl = $"http://{lanAddress}:{port}";
                var watch = Stopwatch.StartNew();
                while (!lines.Any(l => l.Contains($"Now listening on: {lanUrl}", StringComparison.Ordinal)) && watch.Elapsed < TimeSpan.FromSeconds(90) && !process.HasExited)
                    await Task.Delay(200);
                output.WriteLine(string.Join('\n', lines));
                Assert.Contains(lines, l => l.Contains("Hosting environment: Production", StringComparison.Ordinal));
                Assert.Contains(lines, l => l.Contains($"Now listening on: {lanUrl}", StringComparison.Ordinal));

                // Bound for real (the kernel's socket list; tests send no traffic to this machine's LAN address).
                Assert.True(LanBindingTests.Listens(lanUrl), $"nothing listens on {lanUrl}");

                // A LAN client's requests, over loopback under a non-loopback Host name (remote to the app).
                using var http = LanBindingTests.LanClient($"http://127.0.0.1:{port}", cookies: false);
                using var login = await http.GetAsync("/login");
                Assert.Equal(HttpStatusCode.OK, login.StatusCode);
                using var css = await http.GetAsync("/_content/MudBlazor/MudBlazor.min.css");
                Assert.Equal(HttpStatusCode.OK, css.StatusCode);
                using var script = await http.GetAsync("/_framework/blazor.web.js");
                Assert.Equal(HttpStatusCode.OK, script.StatusCode);
            }
            finally
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        finally
        {
            Support.AppFactory.TryDelete(data);
        }
    }

    [Fact]
    public async Task Detailed_circuit_errors_are_off_in_lan_mode_even_in_development()
    {
        // A developer's appsettings.Development.json may ask for them (the template's does).
        await using var developer = new SharingFactory(new() { ["DetailedErrors"] = "true" }, environment: "Development", defaultRemote: IPAddress.Loopback);
        await using var lan = new SharingFactory(new() { ["DetailedErrors"] = "true", ["Sharing:LanMode"] = "true" }, environment: "Development");
        var onlyThisMachine = developer.Services.GetRequiredService<IOptions<CircuitOptions>>().Value.DetailedErrors;
        output.WriteLine($"Development, loopback only: detailed circuit errors {onlyThisMachine}");
        Assert.True(onlyThisMachine);
        Assert.False(lan.Services.GetRequiredService<IOptions<CircuitOptions>>().Value.DetailedErrors);
    }

    private static void CreateOwner(string data)
    {
        var options = Options.Create(new SharingOptions());
        using var db = new SharingDatabase(new DataFolder(Options.Create(new DataFolderOptions { DataPath = data }), new HostingEnvironment { ContentRootPath = data }));
        using var throttle = new LoginThrottle(options, TimeProvider.System);
        new AccountStore(db, throttle, new VerifiedCredentials(TimeProvider.System), TimeProvider.System).CreateOwner(SharingFactory.OwnerName, SharingFactory.Password);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
