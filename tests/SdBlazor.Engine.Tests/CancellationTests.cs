using System.Diagnostics;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;

namespace SdBlazor.Engine.Tests;

/// <summary>Cancellation aborts an in-flight UNet run (RunOptions.Terminate) instead of waiting for it to finish.</summary>
public sealed class CancellationTests
{
    [Fact]
    public async Task Cancelling_during_a_slow_unet_run_aborts_it()
    {
        using var harness = new EngineHarness(new TinyModelOptions { SlowUNetMatMuls = 1500 });
        var request = new GenerationRequest { Prompt = "a cat", Steps = 1, Seed = 1, CfgScale = 1 };

        // Load the sessions first (session creation would inflate the timing), then learn how long one warm,
        // uncancelled run takes here.
        using (await harness.Engine.GenerateAsync(request, null, CancellationToken.None)) { }
        var full = TimeSpan.MaxValue;
        for (var i = 0; i < 2; i++)
        {
            var run = Stopwatch.StartNew();
            using (await harness.Engine.GenerateAsync(request, null, CancellationToken.None)) { }
            if (run.Elapsed < full) full = run.Elapsed;
        }
        var timer = new Stopwatch();

        var sink = new RecordingSink();
        using var cts = new CancellationTokenSource(full / 8);
        timer.Restart();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => harness.Engine.GenerateAsync(request, sink, cts.Token));

        // Had the run not been aborted, its step would have completed and been reported before the cancellation check.
        Assert.Empty(sink.Steps);
        Assert.True(timer.Elapsed < full * 0.75, $"cancelled after {timer.Elapsed.TotalMilliseconds:F0} ms; a full run takes {full.TotalMilliseconds:F0} ms");
    }
}
