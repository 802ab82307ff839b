using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using Xunit;

namespace SdBlazor.Engine.Tests;

/// <summary>Element types and shapes are read from the sessions: the same tiny model exported differently gives the same pictures.</summary>
public sealed class ModelVariantTests
{
    // DDIM has integer timesteps, so int64 timestep inputs see exactly the same values as float ones.
    private static readonly GenerationRequest Request = new() { Prompt = "a red cat", Seed = 3, Steps = 4, Sampler = "DDIM", BatchSize = 2 };

    private static async Task<byte[]> Generate(TinyModelOptions options, GenerationRequest? request = null)
    {
        using var harness = new EngineHarness(options);
        using var result = await harness.Engine.GenerateAsync(request ?? Request, null, CancellationToken.None);
        return GenerationBehaviourTests.Pixels(result);
    }

    [Theory]
    [InlineData(true, TimestepLayout.One, false)]
    [InlineData(false, TimestepLayout.Batch, false)]
    [InlineData(false, TimestepLayout.Scalar, false)]
    [InlineData(true, TimestepLayout.Batch, true)]
    [InlineData(false, TimestepLayout.One, true)]
    public async Task Int64_timesteps_timestep_shapes_and_int64_input_ids_give_the_same_image(bool int64Timestep, TimestepLayout layout, bool int64Ids)
    {
        var reference = await Generate(new TinyModelOptions());
        var variant = await Generate(new TinyModelOptions { Int64Timestep = int64Timestep, Timestep = layout, Int64InputIds = int64Ids });
        Assert.Equal(reference, variant);
    }

    [Fact]
    public async Task Float16_model_matches_the_float32_model_within_half_precision()
    {
        var euler = Request with { Sampler = "Euler", BatchSize = 1 };
        var reference = await Generate(new TinyModelOptions(), euler);
        var half = await Generate(new TinyModelOptions { Float16 = true }, euler);

        var differences = reference.Zip(half, (a, b) => Math.Abs(a - b)).ToArray();
        Assert.True(differences.Max() <= 6, $"max difference {differences.Max()}");
        Assert.True(differences.Average() < 1.0, $"mean difference {differences.Average()}");
    }

    [Fact]
    public async Task Float16_img2img_runs()
    {
        using var harness = new EngineHarness(new TinyModelOptions { Float16 = true });
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(64, 64);
        using var png = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, png);
        using var result = await harness.Engine.GenerateAsync(Request with { InitImage = png.ToArray(), Strength = 0.5 }, null, CancellationToken.None);
        Assert.Equal(2, result.Images.Count);
    }
}
