using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Schedulers;
using SdBlazor.Engine.Tests.Schedulers;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests.ImageTools;

/// <summary>Inpainting with an ordinary (4-channel) model: per-step latent blend, masked content, final overlay.</summary>
public sealed class InpaintingTests : IDisposable
{
    private readonly EngineHarness _harness = new();

    private static byte[] Png<T>(Image<T> image) where T : unmanaged, IPixel<T>
    {
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    private static Image<Rgb24> InitImage()
    {
        var image = new Image<Rgb24>(64, 64);
        for (var y = 0; y < 64; y++)
            for (var x = 0; x < 64; x++)
                image[x, y] = new Rgb24((byte)(x * 4), (byte)(y * 4), (byte)((x + y) * 2));
        return image;
    }

    /// <summary>White (repaint) on the left <paramref name="columns"/> columns.</summary>
    private static byte[] LeftMask(int columns)
    {
        using var mask = new Image<L8>(64, 64);
        for (var y = 0; y < 64; y++)
            for (var x = 0; x < columns; x++)
                mask[x, y] = new L8(255);
        return Png(mask);
    }

    private static GenerationRequest Request(byte[] init, byte[]? mask, int fill = 1, bool invert = false) => new()
    {
        Prompt = "a dog", Steps = 6, Seed = 4, Sampler = "Euler", InitImage = init, Strength = 0.9,
        Mask = mask, MaskBlur = 2, InpaintingFill = fill, InpaintingMaskInvert = invert,
    };

    private static int MaxDifference(Image<Rgb24> a, Image<Rgb24> b, int x0, int x1)
    {
        var max = 0;
        for (var y = 0; y < a.Height; y++)
            for (var x = x0; x < x1; x++)
            {
                Rgb24 p = a[x, y], q = b[x, y];
                max = Math.Max(max, Math.Max(Math.Abs(p.R - q.R), Math.Max(Math.Abs(p.G - q.G), Math.Abs(p.B - q.B))));
            }
        return max;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task The_unmasked_region_is_preserved_and_the_masked_one_repainted(int fill)
    {
        using var init = InitImage();
        using var result = await _harness.Engine.GenerateAsync(Request(Png(init), LeftMask(24), fill), null, CancellationToken.None);
        var image = result.Images[0].Image;

        // Beyond the blur (2 px, so its kernel reaches ~6 px) the original comes back exactly.
        Assert.Equal(0, MaxDifference(image, init, 32, 64));
        Assert.True(MaxDifference(image, init, 0, 16) > 20, "the masked area should be repainted");
    }

    [Fact]
    public async Task Mask_blur_and_noise_multiplier_are_recorded_as_A1111_writes_them()
    {
        using var init = InitImage();
        using var result = await _harness.Engine.GenerateAsync(Request(Png(init), LeftMask(24)) with { InitialNoiseMultiplier = 0.9 }, null, CancellationToken.None);
        var infotext = Infotext.Format(ResolvedParametersExtensions.ToImageParameters(result.Parameters, 4));
        Assert.Contains("Mask blur: 2, Noise multiplier: 0.9", infotext);
        var parsed = Infotext.ToParameters(Infotext.Parse(infotext));
        Assert.Equal((2, 0.9), (parsed.MaskBlur, parsed.NoiseMultiplier));
    }

    [Fact]
    public async Task Invert_repaints_the_black_area_instead()
    {
        using var init = InitImage();
        using var result = await _harness.Engine.GenerateAsync(Request(Png(init), LeftMask(24), invert: true), null, CancellationToken.None);
        Assert.Equal(0, MaxDifference(result.Images[0].Image, init, 0, 16));
        Assert.True(MaxDifference(result.Images[0].Image, init, 32, 64) > 20);
    }

    [Fact]
    public async Task Masked_content_modes_start_from_different_latents()
    {
        using var init = InitImage();
        using var original = await _harness.Engine.GenerateAsync(Request(Png(init), LeftMask(24), 1), null, CancellationToken.None);
        using var nothing = await _harness.Engine.GenerateAsync(Request(Png(init), LeftMask(24), 3), null, CancellationToken.None);
        Assert.True(MaxDifference(original.Images[0].Image, nothing.Images[0].Image, 0, 16) > 0);
    }

    [Fact]
    public async Task Bad_masks_are_refused_with_clear_messages()
    {
        using var init = InitImage();
        var black = await Assert.ThrowsAsync<GenerationValidationException>(() =>
            _harness.Engine.GenerateAsync(Request(Png(init), LeftMask(0)), null, CancellationToken.None));
        Assert.Contains("all black", black.Message);

        var notImage = await Assert.ThrowsAsync<GenerationValidationException>(() =>
            _harness.Engine.GenerateAsync(Request(Png(init), "hello"u8.ToArray()), null, CancellationToken.None));
        Assert.StartsWith("Mask must be a PNG, JPEG or WebP image", notImage.Message);

        var noInit = await Assert.ThrowsAsync<GenerationValidationException>(() =>
            _harness.Engine.GenerateAsync(new GenerationRequest { Prompt = "x", Mask = LeftMask(8) }, null, CancellationToken.None));
        Assert.StartsWith("Mask needs an init image", noInit.Message);
    }

    [Fact]
    public async Task A_mask_of_another_size_is_resized_to_the_image()
    {
        using var init = InitImage();
        using var mask = new Image<L8>(32, 32);
        for (var y = 0; y < 32; y++) for (var x = 0; x < 12; x++) mask[x, y] = new L8(255);
        using var result = await _harness.Engine.GenerateAsync(Request(Png(init), Png(mask)), null, CancellationToken.None);
        Assert.Equal(0, MaxDifference(result.Images[0].Image, init, 40, 64));
    }

    [Fact]
    public void Fill_paints_the_masked_area_with_the_colours_around_it()
    {
        using var image = new Image<Rgb24>(64, 64, new Rgb24(200, 30, 30));
        using var mask = new Image<L8>(64, 64);
        for (var y = 24; y < 40; y++)
            for (var x = 24; x < 40; x++)
            {
                image[x, y] = new Rgb24(0, 255, 0);
                mask[x, y] = new L8(255);
            }
        using var filled = Inpainting.Fill(image, InpaintMask.Create(mask, 64, 64, 0, false));

        var centre = filled[32, 32];
        Assert.True(Math.Abs(centre.R - 200) <= 8 && centre.G <= 38 && Math.Abs(centre.B - 30) <= 8, $"centre is {centre}");
        Assert.Equal(new Rgb24(200, 30, 30), filled[5, 5]);
    }

    [Fact]
    public void Per_step_blend_matches_the_diffusers_formula()
    {
        // Independent restatement: latents = (1 − m)·(init + σ_next·noise) + m·latents for Euler; init itself after the last step.
        var scheduler = SchedulerFactory.Create("Euler", "Automatic", SchedulerTestConfigs.Sd15);
        scheduler.SetTimesteps(10);
        scheduler.SetBeginIndex(3);
        const int plane = 4;
        float[] mask = [0, 1, 0.25f, 1];
        var init = Enumerable.Range(0, 4 * plane).Select(i => (float)Math.Sin(i)).ToArray();
        var noise = Enumerable.Range(0, 4 * plane).Select(i => (float)Math.Cos(i * 0.7)).ToArray();
        var latents = Enumerable.Range(0, 4 * plane).Select(i => (float)(i * 0.1)).ToArray();
        var blend = new InpaintBlend(init, noise, mask, 4);

        // Step once so the scheduler's index is at 4, as it is after a real step.
        var model = new float[latents.Length];
        scheduler.Step(model, scheduler.Timesteps[3], latents, null);
        var before = (float[])latents.Clone();
        blend.AfterStep(latents, scheduler, 4);

        var sigma = scheduler.Sigmas[4];
        for (var i = 0; i < latents.Length; i++)
        {
            var m = mask[i % plane];
            Assert.Equal((1 - m) * (init[i] + sigma * noise[i]) + m * before[i], latents[i], 1e-5f);
        }

        var last = (float[])before.Clone();
        new InpaintBlend(init, noise, mask, 4).AfterStep(last, scheduler, scheduler.Timesteps.Count);
        for (var i = 0; i < last.Length; i++)
            Assert.Equal((1 - mask[i % plane]) * init[i] + mask[i % plane] * before[i], last[i], 1e-6f);
    }

    public void Dispose() => _harness.Dispose();
}
