using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace SdBlazor.Engine.Tests;

/// <summary>Guidance, cancellation, skip, random seeds and samplers through the real engine and tiny graphs.</summary>
public sealed class GenerationBehaviourTests : IDisposable
{
    private readonly EngineHarness _harness = new();

    private static GenerationRequest Request(double cfg = 7.5, string negative = "dog", int steps = 4, long seed = 5) => new()
    {
        Prompt = "a red cat",
        NegativePrompt = negative,
        CfgScale = cfg,
        Steps = steps,
        Seed = seed,
    };

    [Fact]
    public async Task Guidance_above_1_runs_uncond_and_cond_and_the_negative_prompt_matters()
    {
        using var withDog = await _harness.Engine.GenerateAsync(Request(negative: "dog"), null, CancellationToken.None);
        Assert.Equal(2, _harness.Engine.Resident!.UNet.Batch);
        using var withCat = await _harness.Engine.GenerateAsync(Request(negative: "cat"), null, CancellationToken.None);
        Assert.NotEqual(Pixels(withDog), Pixels(withCat));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    public async Task Guidance_at_or_below_1_skips_the_unconditional_half(double cfg)
    {
        using var withDog = await _harness.Engine.GenerateAsync(Request(cfg, negative: "dog"), null, CancellationToken.None);
        Assert.Equal(1, _harness.Engine.Resident!.UNet.Batch);
        using var withCat = await _harness.Engine.GenerateAsync(Request(cfg, negative: "cat"), null, CancellationToken.None);
        Assert.Equal(Pixels(withDog), Pixels(withCat));
    }

    [Fact]
    public async Task Empty_negative_prompt_is_the_unconditional_prompt()
    {
        using var empty = await _harness.Engine.GenerateAsync(Request(negative: ""), null, CancellationToken.None);
        using var dog = await _harness.Engine.GenerateAsync(Request(negative: "dog"), null, CancellationToken.None);
        Assert.NotEqual(Pixels(empty), Pixels(dog));
    }

    [Fact]
    public async Task Cancelling_between_steps_stops_the_run()
    {
        using var cts = new CancellationTokenSource();
        var sink = new RecordingSink(p => { if (p.Step == 2) cts.Cancel(); });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _harness.Engine.GenerateAsync(Request(steps: 10), sink, cts.Token));
        Assert.Equal([1, 2], sink.Steps.Select(s => s.Step));

        // The engine is usable again afterwards.
        using var next = await _harness.Engine.GenerateAsync(Request(), null, CancellationToken.None);
        Assert.Single(next.Images);
    }

    [Fact]
    public async Task Skip_abandons_the_current_batch_and_continues_with_the_next()
    {
        var skipBatch0 = false;
        var sink = new RecordingSink(p => skipBatch0 = p.BatchIndex == 0 && p.Step == 2);
        var request = Request() with { BatchCount = 3 };

        using var result = await _harness.Engine.GenerateAsync(request, sink, CancellationToken.None, () => { var s = skipBatch0; skipBatch0 = false; return s; });

        Assert.Equal([1, 2], result.Images.Select(i => i.Index));
        Assert.Equal([6L, 7L], result.Images.Select(i => i.Seed));
        Assert.Equal(2, sink.Steps.Count(s => s.BatchIndex == 0));
    }

    [Fact]
    public async Task Seed_minus_1_picks_a_random_seed_and_reports_it()
    {
        using var random = await _harness.Engine.GenerateAsync(Request(seed: -1), null, CancellationToken.None);
        var seed = random.Parameters.Seed;
        Assert.InRange(seed, 0, uint.MaxValue - 1);
        Assert.Equal(seed, random.Images[0].Seed);

        using var again = await _harness.Engine.GenerateAsync(Request(seed: seed), null, CancellationToken.None);
        Assert.Equal(Pixels(random), Pixels(again));
    }

    [Theory]
    [InlineData("Euler a", "Automatic")]
    [InlineData("DPM++ 2M", "Karras")]
    [InlineData("DPM++ 2M SDE", "Karras")]
    [InlineData("DDIM", "Automatic")]
    [InlineData("LMS", "Automatic")]
    [InlineData("LCM", "Automatic")]
    public async Task Every_sampler_runs_deterministically_per_seed(string sampler, string schedule)
    {
        var request = Request() with { Sampler = sampler, ScheduleType = schedule };
        using var a = await _harness.Engine.GenerateAsync(request, null, CancellationToken.None);
        using var b = await _harness.Engine.GenerateAsync(request, null, CancellationToken.None);
        Assert.Equal(Pixels(a), Pixels(b));
        Assert.Equal((sampler, schedule), (a.Parameters.Sampler, a.Parameters.ScheduleType));
    }

    [Fact]
    public async Task Heun_reports_one_progress_call_per_user_step()
    {
        var sink = new RecordingSink();
        using var result = await _harness.Engine.GenerateAsync(Request(steps: 4) with { Sampler = "Heun" }, sink, CancellationToken.None);
        Assert.Equal([1, 2, 3, 4], sink.Steps.Select(s => s.Step));
        Assert.All(sink.Steps, s => Assert.Equal(4, s.TotalSteps));
    }

    [Fact]
    public async Task Old_combined_sampler_spelling_selects_the_karras_schedule()
    {
        using var result = await _harness.Engine.GenerateAsync(Request() with { Sampler = "DPM++ 2M Karras" }, null, CancellationToken.None);
        Assert.Equal(("DPM++ 2M", "Karras"), (result.Parameters.Sampler, result.Parameters.ScheduleType));
    }

    [Fact]
    public async Task Explicit_size_is_honoured()
    {
        using var result = await _harness.Engine.GenerateAsync(Request() with { Width = 96, Height = 72 }, null, CancellationToken.None);
        Assert.Equal((96, 72), (result.Images[0].Image.Width, result.Images[0].Image.Height));
    }

    [Fact]
    public async Task Previewer_renders_a_small_jpeg_of_the_current_latents()
    {
        byte[]? jpeg = null;
        var sink = new RecordingSink(p => jpeg ??= p.Previewer.RenderJpeg(p.Latents.Span, 0, p.LatentHeight, p.LatentWidth));
        using var result = await _harness.Engine.GenerateAsync(Request(), sink, CancellationToken.None);

        Assert.NotNull(jpeg);
        using var preview = Image.Load<Rgb24>(jpeg);
        Assert.Equal((16, 16), (preview.Width, preview.Height));
        Assert.Equal("JPEG", Image.DetectFormat(jpeg)!.Name);
    }

    internal static byte[] Pixels(SdBlazor.Engine.Pipelines.GenerationResult result)
    {
        var image = result.Images[0].Image;
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }

    public void Dispose() => _harness.Dispose();
}
