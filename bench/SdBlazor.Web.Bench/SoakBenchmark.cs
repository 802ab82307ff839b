using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Shared;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Bench;

/// <summary>
/// <c>--soak</c> (issue 27): the real app on Kestrel while viewers poll, members submit and the owner cancels and
/// reorders, for a while; then every completed job's images must be there. Prints requests, 5xx, jobs by outcome,
/// lost final images and peak RSS. All clients are loopback, so they act as the local owner; the owner's reordering
/// goes through the queue in-process (the page does the same; there is no REST route for it).
/// </summary>
internal static class SoakBenchmark
{
    public static async Task RunAsync(TimeSpan duration, int viewers, int members)
    {
        await using var app = new KestrelApp(new()
        {
            // Every client here is loopback: without this the owner's rate limit (60/min) would answer most with 429.
            ["Sharing:UploadsPerMinute"] = "10000",
            ["Sharing:GenerationsPerMinute"] = "10000",
            ["Generation:PreviewEveryNSteps"] = "1",
        });
        using var http = new HttpClient { BaseAddress = app.Address, Timeout = TimeSpan.FromMinutes(2) };
        var queue = app.Services.GetRequiredService<GenerationQueue>();
        var stats = new Stats();
        using var stop = new CancellationTokenSource(duration);
        var submitted = new System.Collections.Concurrent.ConcurrentBag<string>();
        var peakRss = 0L;
        var clock = Stopwatch.StartNew();

        async Task Call(Func<Task<HttpResponseMessage>> send)
        {
            try
            {
                using var response = await send();
                stats.Count(response.StatusCode);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                if (!stop.IsCancellationRequested) Interlocked.Increment(ref stats.Errors);
            }
        }

        var tasks = new List<Task>();
        for (var v = 0; v < viewers; v++)
        {
            var seed = v;
            tasks.Add(Task.Run(async () =>
            {
                var random = new Random(seed);
                while (!stop.IsCancellationRequested)
                {
                    await Call(() => http.GetAsync("/api/jobs"));
                    await Call(() => http.GetAsync("/api/gallery"));
                    if (queue.Running() is { } running) await Call(() => http.GetAsync($"/api/jobs/{running.Id}/preview"));
                    await Task.Delay(500 + random.Next(1000));
                }
            }));
        }
        for (var m = 0; m < members; m++)
        {
            var seed = 1000 + m;
            tasks.Add(Task.Run(async () =>
            {
                var random = new Random(seed);
                while (!stop.IsCancellationRequested)
                {
                    var request = new GenerationRequest { Prompt = $"a red circle, member {seed}", Steps = random.Next(2, 8), BatchSize = random.Next(1, 3), Seed = random.Next() };
                    try
                    {
                        using var response = await http.PostAsJsonAsync("/api/jobs", request, stop.Token);
                        stats.Count(response.StatusCode);
                        if (response.StatusCode == HttpStatusCode.Created) submitted.Add((await response.Content.ReadFromJsonAsync<JobSnapshot>())!.JobId);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException) { }
                    try { await Task.Delay(2000 + random.Next(6000), stop.Token); } catch (OperationCanceledException) { }
                }
            }));
        }
        tasks.Add(Task.Run(async () =>
        {
            var random = new Random(7);
            while (!stop.IsCancellationRequested)
            {
                var queued = queue.List(0, AccountScope.Everything).Where(j => j.Status == JobStatus.Queued).ToList();
                if (queued.Count > 1 && random.Next(2) == 0) queue.Move(queued[random.Next(queued.Count)].Id, random.Next(-3, 4), AccountScope.Everything);
                else if (queued.Count > 3) await Call(() => http.DeleteAsync($"/api/jobs/{queued[random.Next(queued.Count)].Id}"));
                else if (random.Next(10) == 0 && queue.Running() is { } running) await Call(() => http.DeleteAsync($"/api/jobs/{running.Id}"));
                using (var process = Process.GetCurrentProcess()) peakRss = Math.Max(peakRss, process.WorkingSet64);
                try { await Task.Delay(2000, stop.Token); } catch (OperationCanceledException) { }
            }
        }));
        await Task.WhenAll(tasks);

        // Let the queue drain (no new work), then check every completed job's images.
        foreach (var job in queue.List(0, AccountScope.Everything).Where(j => j.Status == JobStatus.Queued)) queue.Cancel(job.Id, AccountScope.Everything);
        for (var i = 0; i < 600 && queue.Running() is not null; i++) await Task.Delay(500);
        int completed = 0, failed = 0, cancelled = 0, images = 0, lost = 0;
        foreach (var id in submitted)
        {
            var job = queue.Get(id)!;
            switch (job.Status)
            {
                case JobStatus.Completed:
                    completed++;
                    if (job.ImageIds.Count != job.Request.BatchSize * job.Request.BatchCount) lost += job.Request.BatchSize * job.Request.BatchCount - job.ImageIds.Count;
                    foreach (var image in job.ImageIds)
                    {
                        images++;
                        using var response = await http.GetAsync($"/api/images/{image}");
                        if (response.StatusCode != HttpStatusCode.OK) lost++;
                    }
                    break;
                case JobStatus.Failed: failed++; break;
                case JobStatus.Cancelled: cancelled++; break;
            }
        }
        Console.WriteLine($"soak {clock.Elapsed.TotalMinutes:0.0} min, {viewers} viewers, {members} members, {Environment.ProcessorCount} cores");
        Console.WriteLine($"| requests | 2xx | 4xx | 5xx | transport errors | jobs submitted | completed | failed | cancelled | final images | lost | peak RSS |");
        Console.WriteLine($"| {stats.Total} | {stats.Ok} | {stats.Client} | {stats.Server} | {stats.Errors} | {submitted.Count} | {completed} | {failed} | {cancelled} | {images} | {lost} | {peakRss / 1048576} MB |");
    }

    private sealed class Stats
    {
        public int Total, Ok, Client, Server, Errors;

        public void Count(HttpStatusCode status)
        {
            Interlocked.Increment(ref Total);
            var code = (int)status;
            if (code >= 500) Interlocked.Increment(ref Server);
            else if (code >= 400) Interlocked.Increment(ref Client);
            else Interlocked.Increment(ref Ok);
        }
    }
}
