using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Shared;
using SdBlazor.Shared.Hubs;

namespace SdBlazor.Web.Bench;

/// <summary>
/// Generation time on the default model with previews off, and with a preview every step watched by 1 and by 10
/// SignalR viewers (each receiving every frame's JPEG bytes over WebSockets + MessagePack).
/// All modes are hosted at once and their runs are interleaved round by round (rotating which mode goes first), so a
/// change in machine load hits every mode alike; ratios are taken within a round and their median reported.
/// </summary>
internal static class PreviewBenchmark
{
    public sealed record Mode(string Name, int PreviewEvery, int Viewers);

    public sealed record Result(string Mode, double MedianEngineSeconds, double MedianWallSeconds, double MedianEngineRatio, double MedianWallRatio, long Frames);

    public static async Task<IReadOnlyList<Result>> RunAsync(IReadOnlyList<Mode> modes, int steps, int runs)
    {
        var hosts = new List<Host>();
        try
        {
            foreach (var mode in modes) hosts.Add(await Host.StartAsync(mode));
            foreach (var host in hosts) await host.OneJobAsync(steps, seed: 999); // warm-up: model load, JIT

            var engine = hosts.Select(_ => new List<double>()).ToList();
            var wall = hosts.Select(_ => new List<double>()).ToList();
            for (var round = 0; round < runs; round++)
            {
                for (var k = 0; k < hosts.Count; k++)
                {
                    var i = (round + k) % hosts.Count;
                    var (engineSeconds, wallSeconds) = await hosts[i].OneJobAsync(steps, seed: 1000 + round);
                    engine[i].Add(engineSeconds);
                    wall[i].Add(wallSeconds);
                }
                Console.Error.WriteLine($"round {round + 1}/{runs}: " + string.Join(", ", hosts.Select((h, i) => $"{h.Mode.Name} {engine[i][^1] * 1000:0} ms")));
            }

            return [.. hosts.Select((h, i) => new Result(
                h.Mode.Name,
                Median(engine[i]),
                Median(wall[i]),
                Median([.. engine[i].Zip(engine[0], (x, baseline) => x / baseline)]),
                Median([.. wall[i].Zip(wall[0], (x, baseline) => x / baseline)]),
                h.Frames))];
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>One app configured for a mode, with its viewers connected.</summary>
    private sealed class Host : IAsyncDisposable
    {
        private readonly KestrelApp _app;
        private readonly List<HubConnection> _connections = [];
        private long _frames;

        private Host(Mode mode, KestrelApp app)
        {
            Mode = mode;
            _app = app;
        }

        public Mode Mode { get; }
        public long Frames => Interlocked.Read(ref _frames);

        public static async Task<Host> StartAsync(Mode mode)
        {
            var host = new Host(mode, new KestrelApp(new() { ["Generation:PreviewEveryNSteps"] = mode.PreviewEvery.ToString() }));
            for (var i = 0; i < Math.Max(mode.Viewers, 1); i++)
            {
                var connection = new HubConnectionBuilder()
                    .WithUrl(new Uri(host._app.Address, GenerationHubPaths.Hub), o => { o.Transports = HttpTransportType.WebSockets; o.SkipNegotiation = true; })
                    .AddMessagePackProtocol().Build();
                connection.On<JobStepEvent>(nameof(IGenerationClient.JobStep), e => { if (e.Preview is not null) Interlocked.Increment(ref host._frames); });
                await connection.StartAsync();
                host._connections.Add(connection);
            }
            return host;
        }

        public async Task<(double Engine, double Wall)> OneJobAsync(int steps, int seed)
        {
            var submitter = _connections[0];
            var done = new TaskCompletionSource<JobCompletedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            using var subscription = submitter.On<JobCompletedEvent>(nameof(IGenerationClient.JobCompleted), e => done.TrySetResult(e));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var id = await submitter.InvokeAsync<string>("Submit", new GenerationRequest { Prompt = "a red circle on a blue background", Steps = steps, Seed = seed });
            // The other viewers join at once (a real watcher opens the job the same way).
            if (Mode.Viewers > 1) await Task.WhenAll(_connections.Skip(1).Select(c => c.InvokeAsync<JobSnapshot?>("Subscribe", id)));
            var completed = await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
            return (completed.Parameters!.DurationSeconds, clock.Elapsed.TotalSeconds);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var connection in _connections) await connection.DisposeAsync();
            await _app.DisposeAsync();
        }
    }
}
