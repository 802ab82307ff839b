using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using SdBlazor.Engine.Hosting;
using SdBlazor.Web.Tests.Api;
using static SdBlazor.Web.Tests.Models.ModelImportHarness;

namespace SdBlazor.Web.Tests.Models;

/// <summary>
/// The restart test as a crash: the app runs as its own process and is killed (SIGKILL, nothing flushed or
/// stopped) during a throttled download; the next start finishes the same import from the bytes on disk.
/// </summary>
[Collection(SdApiCollection.Name)]
public sealed class ImportKillTests
{
    [Fact]
    public async Task A_download_killed_with_the_app_process_resumes_after_the_next_start_under_the_same_id()
    {
        await using var hub = await FakeHub.StartAsync();
        var data = HubImportTests.RandomBytes(3_000_000);
        hub.Add("slow/model", new FakeHub.Repo { Files = { ["big.safetensors"] = data } });
        hub.BytesPerSecond = 400_000;
        var dataPath = Directory.CreateTempSubdirectory("import-kill-").FullName;
        var modelsPath = Directory.CreateTempSubdirectory("import-kill-models-").FullName;
        Directory.CreateSymbolicLink(Path.Combine(modelsPath, DefaultModel.Name), DefaultModel.Folder);
        try
        {
            string id;
            var port = FreePort();
            using (var process = StartApp(hub, dataPath, modelsPath, port, out var lines))
            {
                try
                {
                    var watch = Stopwatch.StartNew();
                    while (!lines.Any(l => l.Contains("Now listening on", StringComparison.Ordinal)) && watch.Elapsed < TimeSpan.FromSeconds(90) && !process.HasExited)
                        await Task.Delay(100);
                    Assert.True(lines.Any(l => l.Contains("Now listening on", StringComparison.Ordinal)), string.Join('\n', lines));
                    using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
                    id = await StartAsync(api, """{"source": "slow/model", "name": "survivor"}""");
                    await WaitAsync(api, id, s => s.GetProperty("bytes").GetInt64() > 500_000);
                }
                finally
                {
                    // Process.Kill is SIGKILL on Linux: no shutdown hooks, no flush, exactly a crash.
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
            var part = Path.Combine(dataPath, "downloads", id, "survivor.safetensors.part");
            var kept = new FileInfo(part).Length;
            Assert.InRange(kept, 1, data.Length - 1);
            var before = hub.StorageRequests.Count();
            hub.BytesPerSecond = 0;

            await AssertResumesAfterStartAsync(hub, dataPath, id, data, kept, before);
        }
        finally
        {
            try { Directory.Delete(dataPath, recursive: true); } catch (IOException) { }
            try { Directory.Delete(modelsPath, recursive: true); } catch (IOException) { }
        }
    }

    private static Process StartApp(FakeHub hub, string dataPath, string modelsPath, int port, out ConcurrentQueue<string> lines)
    {
        var root = RepositoryRoot.Find() ?? throw new InvalidOperationException("not in the checkout");
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<Configuration>/net10.0
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList =
            {
                "run", "--project", "src/Web", "-c", configuration, "--no-build", "--",
                "--urls", $"http://127.0.0.1:{port}", $"--Gallery:DataPath={dataPath}", $"--Engine:ModelsPath={modelsPath}",
                $"--Engine:DefaultModel={DefaultModel.Name}", "--Engine:ExecutionProvider=Cpu", "--Gallery:ReconcileOnStartup=false",
                "--Engine:PreloadDefaultModel=false", $"--Models:HuggingFaceEndpoint={hub.Endpoint}", "--Models:HuggingFaceToken=",
                "--Models:RetryDelayMilliseconds=20", "--Models:MaxRetries=3", "--Models:MinFreeDiskBytes=0",
            },
        };
        var output = new ConcurrentQueue<string>();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lines = output;
        return process;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
