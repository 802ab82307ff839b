using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests.ImageTools;

/// <summary>Variation seeds through the real engine and the tiny model.</summary>
public sealed class VariationSeedEngineTests : IDisposable
{
    private readonly EngineHarness _harness = new();

    private static GenerationRequest Request(long seed) => new() { Prompt = "a cat", Steps = 4, Seed = seed, Sampler = "Euler" };

    private static Rgb24[] Pixels(GeneratedImage image)
    {
        var pixels = new Rgb24[image.Image.Width * image.Image.Height];
        image.Image.CopyPixelDataTo(pixels);
        return pixels;
    }

    [Fact]
    public async Task Full_strength_gives_the_variation_seeds_own_image_and_half_strength_neither()
    {
        using var plain = await _harness.Engine.GenerateAsync(Request(77), null, CancellationToken.None);
        using var other = await _harness.Engine.GenerateAsync(Request(5), null, CancellationToken.None);
        using var full = await _harness.Engine.GenerateAsync(Request(5) with { Subseed = 77, SubseedStrength = 1 }, null, CancellationToken.None);
        using var half = await _harness.Engine.GenerateAsync(Request(5) with { Subseed = 77, SubseedStrength = 0.5 }, null, CancellationToken.None);

        Assert.Equal(Pixels(plain.Images[0]), Pixels(full.Images[0]));
        Assert.NotEqual(Pixels(plain.Images[0]), Pixels(half.Images[0]));
        Assert.NotEqual(Pixels(other.Images[0]), Pixels(half.Images[0]));
    }

    [Fact]
    public async Task Batch_images_use_subseed_plus_index_and_record_it_as_A1111_does()
    {
        using var batch = await _harness.Engine.GenerateAsync(
            Request(5) with { Subseed = 100, SubseedStrength = 0.3, BatchSize = 2, BatchCount = 2 }, null, CancellationToken.None);
        // Image 3 of the batch equals a single run of seed 8 with subseed 103.
        using var single = await _harness.Engine.GenerateAsync(Request(8) with { Subseed = 103, SubseedStrength = 0.3 }, null, CancellationToken.None);

        Assert.Equal(Pixels(single.Images[0]), Pixels(batch.Images[3]));
        var infotext = Infotext.Format(batch.Parameters.ToImageParameters(batch.Images[3].Seed));
        Assert.Contains("Seed: 8, Size: 64x64", infotext);
        Assert.Contains("Variation seed: 103, Variation seed strength: 0.3", infotext);
        var parsed = Infotext.ToParameters(Infotext.Parse(infotext));
        Assert.Equal((103L, 0.3), (parsed.Subseed, parsed.SubseedStrength));
    }

    [Fact]
    public async Task Seed_resize_from_is_recorded_and_changes_the_image()
    {
        using var plain = await _harness.Engine.GenerateAsync(Request(5), null, CancellationToken.None);
        using var resized = await _harness.Engine.GenerateAsync(Request(5) with { SeedResizeFromWidth = 96, SeedResizeFromHeight = 48 }, null, CancellationToken.None);

        Assert.NotEqual(Pixels(plain.Images[0]), Pixels(resized.Images[0]));
        var infotext = Infotext.Format(resized.Parameters.ToImageParameters(5));
        Assert.Contains("Seed resize from: 96x48", infotext);
        Assert.DoesNotContain("Variation seed", infotext);
        var parsed = Infotext.ToParameters(Infotext.Parse(infotext));
        Assert.Equal((96, 48), (parsed.SeedResizeFromWidth, parsed.SeedResizeFromHeight));
    }

    [Theory]
    [InlineData(-2, 0.5, 0, 0, "Variation seed")]
    [InlineData(1, 1.5, 0, 0, "Variation strength")]
    [InlineData(1, double.NaN, 0, 0, "Variation strength")]
    [InlineData(1, 0.5, 4, 64, "Resize seed from")]
    [InlineData(1, 0.5, 64, 0, "Resize seed from")]
    public async Task Bad_values_are_refused_before_any_work(long subseed, double strength, int w, int h, string start)
    {
        var ex = await Assert.ThrowsAsync<GenerationValidationException>(() => _harness.Engine.GenerateAsync(
            Request(1) with { Subseed = subseed, SubseedStrength = strength, SeedResizeFromWidth = w, SeedResizeFromHeight = h }, null, CancellationToken.None));
        Assert.StartsWith(start, ex.Message);
    }

    public void Dispose() => _harness.Dispose();
}
