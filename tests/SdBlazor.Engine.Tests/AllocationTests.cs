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

    [Fact]
    public async Task Inpainting_steps_through_the_loops_hook_do_not_allocate_either()
    {
        using var harness = new EngineHarness();
        using var init = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(512, 512);
        using var mask = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>(512, 512);
        for (var y = 0; y < 512; y++) for (var x = 0; x < 200; x++) mask[x, y] = new SixLabors.ImageSharp.PixelFormats.L8(255);
        static byte[] Png<T>(SixLabors.ImageSharp.Image<T> image) where T : unmanaged, SixLabors.ImageSharp.PixelFormats.IPixel<T>
        {
            using var stream = new MemoryStream();
            SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, stream);
            return stream.ToArray();
        }
        var request = new GenerationRequest
        {
            Prompt = "a cat", Seed = 1, Steps = 12, Width = 512, Height = 512, Sampler = "Euler", InitImage = Png(init), Strength = 1,
            Mask = Png(mask), MaskBlur = 0, InpaintingFill = 1,
        };
        using (await harness.Engine.GenerateAsync(request with { Steps = 2 }, null, CancellationToken.None)) { }

        var sink = new AllocationSink();
        using var result = await harness.Engine.GenerateAsync(request, sink, CancellationToken.None);
        var perStep = sink.Allocated.Zip(sink.Allocated.Skip(1), (a, b) => b - a).Skip(3).ToArray();
        Assert.True(perStep.Max() < 8 * 1024, $"inpainting: up to {perStep.Max()} bytes allocated per step");
    }
}
