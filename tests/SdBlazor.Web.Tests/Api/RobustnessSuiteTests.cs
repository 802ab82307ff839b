using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Shared;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Api;

/// <summary>
/// Issue 27's robustness suite: 1,000 generated hostile files through every upload path — gallery inspect and
/// import and A1111's png-info over real HTTP (Kestrel, loopback), and the init-image check of every submit door
/// in-process. Each must get a 4xx (a valid image: 2xx), the process must not grow by 256 MB, and no thread may
/// keep a CPU busy after the last request.
/// </summary>
[Collection(SdApiCollection.Name)]
public sealed class RobustnessSuiteTests(ITestOutputHelper output)
{
    private const int CorpusSize = 1000;

    [Fact]
    public async Task A_thousand_hostile_files_get_4xx_on_every_upload_path_without_growing_or_pinning_the_server()
    {
        var corpus = HostileCorpus.Generate(CorpusSize);
        Assert.True(corpus.Count >= 1000);
        // The owner's own loopback requests are rate-limited like anyone's today (issue 27 item 15, another change).
        await using var app = new AppFactory(settings: new Dictionary<string, string?> { ["Sharing:UploadsPerMinute"] = "10000", ["Sharing:GenerationsPerMinute"] = "10000" });
        app.UseKestrel();
        app.StartServer();
        var baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Assert.StartsWith("http://127.0.0.1:", baseUrl);
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
        var validator = app.Services.GetRequiredService<SubmissionValidator>();

        var failures = new List<string>();
        var slowest = TimeSpan.Zero;
        async Task Check(HostileFile file)
        {
            var clock = Stopwatch.StartNew();
            foreach (var path in new[] { "/api/gallery/inspect", "/api/gallery/import" })
            {
                using var form = new MultipartFormDataContent();
                var content = new ByteArrayContent(file.Bytes);
                content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                form.Add(content, "file", file.Name + ".png");
                using var response = await http.PostAsync(path, form);
                Expect(file, path, response.StatusCode, await response.Content.ReadAsStringAsync());
            }
            using (var json = new StringContent(JsonSerializer.Serialize(new { image = Convert.ToBase64String(file.Bytes) }), System.Text.Encoding.UTF8, "application/json"))
            using (var response = await http.PostAsync("/sdapi/v1/png-info", json))
                Expect(file, "png-info", response.StatusCode, await response.Content.ReadAsStringAsync());

            // The init image check every submit door runs (REST, A1111, hub, form) before anything is queued.
            var errors = validator.Validate(new GenerationRequest { Prompt = "x", Steps = 1, InitImage = file.Bytes, Strength = 0.5 });
            if (file.Valid != (errors.Count == 0)) failures.Add($"{file.Name} init image: {string.Join(" ", errors)}");
            if (clock.Elapsed > slowest) slowest = clock.Elapsed;
        }

        void Expect(HostileFile file, string path, HttpStatusCode status, string body)
        {
            var code = (int)status;
            var success = path is "png-info" or "/api/gallery/inspect" ? file.HeaderValid : file.Valid;
            var ok = success ? code is >= 200 and < 300 : code is >= 400 and < 500;
            if (!ok) failures.Add($"{file.Name} {path}: {code} {body[..Math.Min(body.Length, 200)]}");
        }

        // Warm up (JIT, pools, the gallery database) before the baseline.
        foreach (var file in corpus.Take(40)) await Check(file);
        var baseline = SettledRss();

        var total = Stopwatch.StartNew();
        foreach (var file in corpus) await Check(file);
        total.Stop();
        if (Environment.GetEnvironmentVariable("SDBLAZOR_CORPUS_PASSES") is { } passes)
        {
            for (var p = 1; p < int.Parse(passes); p++)
            {
                SettledRss();
                foreach (var file in corpus) await Check(file);
            }
        }

        var growth = SettledRss() - baseline;
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        await Task.Delay(2000);
        process.Refresh();
        var cpuAfter = process.TotalProcessorTime - cpuBefore;

        output.WriteLine($"{corpus.Count} files × 4 paths in {total.Elapsed.TotalSeconds:0.0} s, slowest file {slowest.TotalMilliseconds:0} ms; RSS growth {growth / 1048576.0:0.0} MB; CPU in the 2 s after the last request {cpuAfter.TotalMilliseconds:0} ms");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(30)));
        Assert.True(growth < 256L << 20, $"RSS grew by {growth / 1048576.0:0.0} MB");
        Assert.True(cpuAfter < TimeSpan.FromSeconds(1), $"{cpuAfter.TotalMilliseconds:0} ms of CPU in the 2 s after the last request");
        Assert.True(slowest < TimeSpan.FromSeconds(20), $"one file took {slowest}");
    }

    /// <summary>RSS once garbage is collected and the GC has given back what it keeps for reuse (what the process really holds).</summary>
    private long SettledRss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        using var process = Process.GetCurrentProcess();
        output.WriteLine($"RSS {process.WorkingSet64 / 1048576.0:0} MB, managed heap {GC.GetTotalMemory(false) / 1048576.0:0} MB, GC committed {GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0:0} MB");
        return process.WorkingSet64;
    }
}
