using System.Diagnostics;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Shared;
using SdBlazor.Shared.Hubs;

namespace SdBlazor.Web.Bench;

/// <summary>
/// Generation time on the default model with previews off, and with a preview every step watched by 1 and by 10
/// SignalR viewers (each receiving every frame's JPEG bytes over WebSockets + MessagePack).
/// </summary>
internal static class PreviewBenchmark
{
    public sealed record Result(string Mode, double MedianEngineSeconds, double MedianWallSeconds, int Frames);

    public static async Task<Result> RunAsync(string mode, int previewEvery, int viewers, int steps, int runs)
    {
        await using var app = new KestrelApp(new() { ["Generation:PreviewEveryNSteps"] = previewEvery.ToString() });
        var connections = new List<HubConnection>();
        var frames = 0;
        try
        {
            for (var i = 0; i < Math.Max(viewers, 1); i++)
            {
                var connection = new HubConnectionBuilder()
                    .WithUrl(new Uri(app.Address, GenerationHubPaths.Hub), o => { o.Transports = HttpTransportType.WebSockets; o.SkipNegotiation = true; })
                    .AddMessagePackProtocol().Build();
                connection.On<JobStepEvent>(nameof(IGenerationClient.JobStep), e => { if (e.Preview is not null) Interlocked.Increment(ref frames); });
                await connection.StartAsync();
                connections.Add(connection);
            }

            var engineTimes = new List<double>();
            var wallTimes = new List<double>();
            for (var run = -1; run < runs; run++) // run −1 warms up (model load, JIT)
            {
                var (engineSeconds, wallSeconds) = await OneJobAsync(connections, viewers, steps, seed: 1000 + run);
                if (run < 0) continue;
                engineTimes.Add(engineSeconds);
                wallTimes.Add(wallSeconds);
            }
            return new Result(mode, Median(engineTimes), Median(wallTimes), frames);
        }
        finally
        {
            foreach (var connection in connections) await connection.DisposeAsync();
        }
    }

    private static async Task<(double Engine, double Wall)> OneJobAsync(List<HubConnection> connections, int viewers, int steps, int seed)
    {
        var submitter = connections[0];
        var done = new TaskCompletionSource<JobCompletedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = submitter.On<JobCompletedEvent>(nameof(IGenerationClient.JobCompleted), e => done.TrySetResult(e));
        var clock = Stopwatch.StartNew();
        var id = await submitter.InvokeAsync<string>("Submit", new GenerationRequest { Prompt = "a red circle on a blue background", Steps = steps, Seed = seed });
        // The other viewers join at once (a real watcher opens the job the same way).
        if (viewers > 1) await Task.WhenAll(connections.Skip(1).Select(c => c.InvokeAsync<JobSnapshot?>("Subscribe", id)));
        var completed = await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
        return (completed.Parameters!.DurationSeconds, clock.Elapsed.TotalSeconds);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
