using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;

namespace SdBlazor.Engine.Tests;

/// <summary>The denoising loop reuses its buffers: managed allocations per step stay far below one latent tensor.</summary>
public sealed class AllocationTests
{
    private sealed class AllocationSink : IStepProgressSink
    {
        public List<long> Allocated { get; } = [];
        public void OnStep(in StepProgress progress) => Allocated.Add(GC.GetAllocatedBytesForCurrentThread());
    }

    [Theory]
    [InlineData("Euler", false)]
    [InlineData("DPM++ 2M", false)]
    [InlineData("Euler a", false)]
    [InlineData("DPM++ 2M SDE", false)]
    [InlineData("Heun", false)]
    [InlineData("LMS", false)]
    [InlineData("DDIM", false)]
    [InlineData("LCM", false)]
    [InlineData("Euler", true)]
    public async Task Steps_do_not_allocate_latent_sized_buffers(string sampler, bool float16)
    {
        using var harness = new EngineHarness(new TinyModelOptions { Float16 = float16 });
        var request = new GenerationRequest { Prompt = "a cat", Seed = 1, Steps = 12, Width = 512, Height = 512, Sampler = sampler };
        using (await harness.Engine.GenerateAsync(request with { Steps = 2 }, null, CancellationToken.None)) { }

        var sink = new AllocationSink();
        using var result = await harness.Engine.GenerateAsync(request, sink, CancellationToken.None);

        // Skip the first steps (multistep history, first-call JIT); one latent tensor here is 4×64×64 floats = 64 KB.
        var perStep = sink.Allocated.Zip(sink.Allocated.Skip(1), (a, b) => b - a).Skip(3).ToArray();
        Assert.True(perStep.Max() < 8 * 1024, $"{sampler}{(float16 ? " fp16" : "")}: up to {perStep.Max()} bytes allocated per step");
    }
}
