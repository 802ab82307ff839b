using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace SdBlazor.Engine.Tests;

public sealed class Img2ImgTests : IDisposable
{
    private readonly EngineHarness _harness = new();

    private static byte[] InitPng(int width = 80, int height = 48)
    {
        using var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(a =>
        {
            for (var y = 0; y < a.Height; y++)
            {
                var row = a.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++) row[x] = new Rgb24((byte)(x * 3), (byte)(y * 5), (byte)(255 - x * 2));
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    private static GenerationRequest Request(double strength, int steps = 10, long seed = 11, string sampler = "Euler") => new()
    {
        Prompt = "a red cat",
        InitImage = InitPng(),
        Strength = strength,
        Steps = steps,
        Seed = seed,
        Sampler = sampler,
    };

    [Theory]
    [InlineData(1.0, 10)]
    [InlineData(0.75, 7)]
    [InlineData(0.5, 5)]
    [InlineData(0.05, 0)]
    public async Task Runs_int_steps_times_strength_steps(double strength, int expectedSteps)
    {
        var sink = new RecordingSink();
        using var result = await _harness.Engine.GenerateAsync(Request(strength), sink, CancellationToken.None);

        Assert.Equal(Enumerable.Range(1, expectedSteps), sink.Steps.Select(s => s.Step));
        Assert.All(sink.Steps, s => Assert.Equal(expectedSteps, s.TotalSteps));
        Assert.Equal(strength, result.Parameters.Strength);
        Assert.Equal((64, 64), (result.Images[0].Image.Width, result.Images[0].Image.Height));
    }

    [Fact]
    public async Task Denoising_starts_at_the_first_kept_timestep_of_the_schedule()
    {
        var full = new RecordingSink();
        using (await _harness.Engine.GenerateAsync(Request(1.0), full, CancellationToken.None)) { }
        var half = new RecordingSink();
        using (await _harness.Engine.GenerateAsync(Request(0.5), half, CancellationToken.None)) { }

        Assert.Equal(full.Steps.Skip(5).Select(s => s.Timestep), half.Steps.Select(s => s.Timestep));
    }

    [Fact]
    public async Task Strength_0_returns_the_encoded_image_unchanged_and_depends_on_the_seed_only_through_vae_sampling()
    {
        using var a = await _harness.Engine.GenerateAsync(Request(0.0, seed: 1), null, CancellationToken.None);
        using var b = await _harness.Engine.GenerateAsync(Request(0.0, seed: 1), null, CancellationToken.None);
        using var c = await _harness.Engine.GenerateAsync(Request(0.0, seed: 2), null, CancellationToken.None);
        Assert.Equal(GenerationBehaviourTests.Pixels(a), GenerationBehaviourTests.Pixels(b));
        // The encoder outputs mean ‖ logvar: each seed samples the latent distribution differently.
        Assert.NotEqual(GenerationBehaviourTests.Pixels(a), GenerationBehaviourTests.Pixels(c));
    }

    [Fact]
    public async Task Lower_strength_stays_closer_to_the_init_image()
    {
        using var roundTrip = await _harness.Engine.GenerateAsync(Request(0.0), null, CancellationToken.None);
        using var low = await _harness.Engine.GenerateAsync(Request(0.2), null, CancellationToken.None);
        using var high = await _harness.Engine.GenerateAsync(Request(1.0), null, CancellationToken.None);

        var reference = GenerationBehaviourTests.Pixels(roundTrip);
        Assert.True(Distance(reference, GenerationBehaviourTests.Pixels(low)) < Distance(reference, GenerationBehaviourTests.Pixels(high)));
    }

    [Fact]
    public async Task Encoder_with_latent_sample_output_works_too()
    {
        using var harness = new EngineHarness(new TinyModelOptions { VaeEncoder = VaeEncoderKind.LatentSample });
        using var a = await harness.Engine.GenerateAsync(Request(0.0, seed: 1), null, CancellationToken.None);
        using var b = await harness.Engine.GenerateAsync(Request(0.0, seed: 2), null, CancellationToken.None);
        // Nothing to sample: strength 0 gives the same round trip for every seed.
        Assert.Equal(GenerationBehaviourTests.Pixels(a), GenerationBehaviourTests.Pixels(b));
    }

    [Fact]
    public async Task Model_without_vae_encoder_refuses_img2img_clearly()
    {
        using var harness = new EngineHarness(new TinyModelOptions { VaeEncoder = VaeEncoderKind.None });
        var error = await Assert.ThrowsAsync<GenerationValidationException>(() => harness.Engine.GenerateAsync(Request(0.5), null, CancellationToken.None));
        Assert.Contains("vae_encoder", error.Message);
        Assert.Contains("img2img", error.Message);
        Assert.False(harness.Engine.ListModels().Single().SupportsImg2Img);
    }

    private static double Distance(byte[] a, byte[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Average();

    public void Dispose() => _harness.Dispose();
}
