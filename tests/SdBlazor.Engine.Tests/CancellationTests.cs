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
        var request = new GenerationRequest { Prompt = "a cat", Steps = 3, Seed = 1, CfgScale = 1 };
        // Load the sessions first: session creation would make the first step look slower than the others.
        using (await harness.Engine.GenerateAsync(request, null, CancellationToken.None)) { }

        // The step length is measured inside the cancelled run itself (step 1 → step 2 is one UNet run and nothing
        // else), so a machine that is busier or quieter than during some earlier run cannot move the cancel outside
        // step 3's UNet run (it did when the length came from separate warm-up runs under a loaded test host).
        using var cts = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        TimeSpan stepLength = default, cancelledAt = default, atStep1 = default;
        using var registration = cts.Token.Register(() => cancelledAt = clock.Elapsed);
        var sink = new RecordingSink(p =>
        {
            if (p.Step == 1) atStep1 = clock.Elapsed;
            if (p.Step != 2) return;
            stepLength = clock.Elapsed - atStep1;
            cts.CancelAfter(stepLength / 4);
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => harness.Engine.GenerateAsync(request, sink, cts.Token));
        var abortedAfter = clock.Elapsed - cancelledAt;

        // Had step 3's run not been aborted, it would have completed and been reported before the cancellation check.
        Assert.Equal([1, 2], sink.Steps.Select(s => s.Step));
        Assert.True(abortedAfter < stepLength * 0.6, $"aborted {abortedAfter.TotalMilliseconds:F0} ms after the cancel; one UNet step takes {stepLength.TotalMilliseconds:F0} ms");
    }
}
