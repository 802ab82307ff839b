using Xunit;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests;

public sealed class Txt2ImgTests : IDisposable
{
    private readonly EngineHarness _harness = new();

    private static GenerationRequest Request(long seed = 42, int steps = 4, double cfg = 7.5, int batchSize = 1, int batchCount = 1, string sampler = "Euler") => new()
    {
        Prompt = "a red cat",
        NegativePrompt = "dog",
        Seed = seed,
        Steps = steps,
        CfgScale = cfg,
        BatchSize = batchSize,
        BatchCount = batchCount,
        Sampler = sampler,
    };

    [Fact]
    public async Task Produces_images_of_the_native_size_with_resolved_parameters()
    {
        using var result = await _harness.Engine.GenerateAsync(Request(), null, CancellationToken.None);

        var image = Assert.Single(result.Images);
        Assert.Equal((64, 64), (image.Image.Width, image.Image.Height));
        Assert.Equal(42, image.Seed);
        var p = result.Parameters;
        Assert.Equal(("tiny", "Euler", "Automatic", 4, 7.5, 42L, 64, 64), (p.Model, p.Sampler, p.ScheduleType, p.Steps, p.CfgScale, p.Seed, p.Width, p.Height));
        Assert.Equal("CPU", p.Rng);
        Assert.Equal("CPU", p.ExecutionProvider);
        Assert.Null(p.Strength);
        Assert.Contains("scaled_linear", p.SchedulerConfigJson);
        Assert.Matches("^[0-9a-f]{64}$", p.ModelSha256!);
        Assert.False(string.IsNullOrEmpty(p.EngineVersion));
        Assert.True(p.Duration > TimeSpan.Zero);
        // Not a flat image: the tiny graphs make structure from the noise.
        Assert.True(DistinctColours(image.Image) > 10);
    }

    [Fact]
    public async Task Same_seed_gives_the_same_image_and_another_seed_a_different_one()
    {
        using var a = await _harness.Engine.GenerateAsync(Request(seed: 7), null, CancellationToken.None);
        using var b = await _harness.Engine.GenerateAsync(Request(seed: 7), null, CancellationToken.None);
        using var c = await _harness.Engine.GenerateAsync(Request(seed: 8), null, CancellationToken.None);

        Assert.Equal(Pixels(a.Images[0].Image), Pixels(b.Images[0].Image));
        Assert.NotEqual(Pixels(a.Images[0].Image), Pixels(c.Images[0].Image));
    }

    [Fact]
    public async Task Image_i_of_a_batch_uses_seed_plus_i()
    {
        using var batch = await _harness.Engine.GenerateAsync(Request(seed: 100, batchSize: 2, batchCount: 2), null, CancellationToken.None);
        Assert.Equal([100L, 101, 102, 103], batch.Images.Select(i => i.Seed));
        Assert.Equal([0, 1, 2, 3], batch.Images.Select(i => i.Index));

        using var single = await _harness.Engine.GenerateAsync(Request(seed: 103), null, CancellationToken.None);
        Assert.Equal(Pixels(single.Images[0].Image), Pixels(batch.Images[3].Image));
    }

    [Fact]
    public async Task Reports_progress_every_step_with_the_current_latents()
    {
        var sink = new RecordingSink();
        using var result = await _harness.Engine.GenerateAsync(Request(steps: 5, batchSize: 2), sink, CancellationToken.None);

        Assert.Equal([1, 2, 3, 4, 5], sink.Steps.Select(s => s.Step));
        Assert.All(sink.Steps, s => Assert.Equal(5, s.TotalSteps));
        Assert.All(sink.Latents, l => Assert.Equal(2 * 4 * 8 * 8, l.Length));
        Assert.Equal((8, 8), (sink.Steps[0].LatentHeight, sink.Steps[0].LatentWidth));
        // Timesteps descend and the latents change from step to step.
        Assert.True(sink.Steps[0].Timestep > sink.Steps[^1].Timestep);
        Assert.NotEqual(sink.Latents[0], sink.Latents[1]);
    }

    private static byte[] Pixels(Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }

    private static int DistinctColours(Image<Rgb24> image)
    {
        var set = new HashSet<Rgb24>();
        image.ProcessPixelRows(a => { for (var y = 0; y < a.Height; y++) foreach (var p in a.GetRowSpan(y)) set.Add(p); });
        return set.Count;
    }

    public void Dispose() => _harness.Dispose();
}
