using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace SdBlazor.Engine.Tests;

/// <summary>Loading a model ahead of the first request (<c>PreloadAsync</c>), with and without the warm-up run, and the CPU session options.</summary>
public sealed class PreloadTests
{
    private static readonly GenerationRequest Request = new() { Prompt = "a red cat", NegativePrompt = "dog", Seed = 3, Steps = 3, CfgScale = 7.5 };

    [Fact]
    public async Task Preload_loads_the_default_model_and_warms_the_unet_up_at_the_native_size_with_the_cfg_batch()
    {
        using var harness = new EngineHarness();
        Assert.Null(harness.Engine.ResidentModelName);

        var timings = await harness.Engine.PreloadAsync();

        Assert.True(timings.Loaded);
        Assert.True(timings.SessionCreation > TimeSpan.Zero);
        Assert.True(timings.WarmUp > TimeSpan.Zero);
        Assert.Equal("tiny", harness.Engine.ResidentModelName);
        var unet = harness.Engine.Resident!.UNet;
        Assert.Equal(2, unet.Batch);
        Assert.Equal(2 * 4 * 8 * 8, unet.Sample.Length); // 64×64 px native → 8×8 latents
        Assert.Contains(harness.Logs.Entries, e => e.Message.Contains("warmed up"));

        // Already resident: nothing to do.
        var again = await harness.Engine.PreloadAsync("tiny");
        Assert.False(again.Loaded);
        Assert.Equal(TimeSpan.Zero, again.SessionCreation + again.WarmUp);
    }

    [Fact]
    public async Task Warm_up_can_be_turned_off_and_can_target_another_size()
    {
        using (var off = new EngineHarness(configure: o => o.WarmUpOnLoad = false))
        {
            var timings = await off.Engine.PreloadAsync();
            Assert.True(timings.Loaded);
            Assert.Equal(TimeSpan.Zero, timings.WarmUp);
            Assert.Equal(0, off.Engine.Resident!.UNet.Batch); // no UNet call yet: buffers not prepared
        }

        using var sized = new EngineHarness();
        await sized.Engine.PreloadAsync(warmUpSize: 128);
        Assert.Equal(2 * 4 * 16 * 16, sized.Engine.Resident!.UNet.Sample.Length);
    }

    [Fact]
    public async Task The_first_image_after_a_warm_up_equals_the_image_of_an_engine_without_one()
    {
        using var warmed = new EngineHarness();
        using var cold = new EngineHarness(configure: o => o.WarmUpOnLoad = false);
        await warmed.Engine.PreloadAsync();

        using var a = await warmed.Engine.GenerateAsync(Request, null, CancellationToken.None);
        using var b = await cold.Engine.GenerateAsync(Request, null, CancellationToken.None);

        Assert.Equal(Pixels(b.Images[0].Image), Pixels(a.Images[0].Image));
    }

    [Fact]
    public async Task Preload_rejects_an_unknown_model_and_a_bad_size()
    {
        using var harness = new EngineHarness();
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => harness.Engine.PreloadAsync("nope"));
        Assert.Contains("Unknown model 'nope'", unknown.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => harness.Engine.PreloadAsync(warmUpSize: 100));
        Assert.Null(harness.Engine.ResidentModelName);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cpu_sessions_use_the_memory_pattern_only_when_configured(bool memoryPattern)
    {
        using var harness = new EngineHarness(configure: o => o.CpuMemoryPattern = memoryPattern);
        await harness.Engine.PreloadAsync();
        var model = harness.Engine.Resident!;

        foreach (var session in new[] { model.UNet.Session, model.TextEncoder.Session, model.VaeDecoder.Session })
        {
            Assert.Equal("CPU", session.ExecutionProvider);
            Assert.Equal(memoryPattern, session.Options.EnableMemoryPattern);
        }
        // Either way the model generates.
        using var result = await harness.Engine.GenerateAsync(Request, null, CancellationToken.None);
        Assert.Single(result.Images);
    }

    private static byte[] Pixels(Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }
}
