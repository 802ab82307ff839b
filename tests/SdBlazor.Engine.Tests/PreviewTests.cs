using SdBlazor.Engine.Previews;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests;

public sealed class PreviewTests
{
    [Fact]
    public void Projection_maps_latents_through_the_factors_to_0_255()
    {
        var factors = new LatentRgbFactors([[1f, 0f, 0f], [0f, 1f, 0f], [0f, 0f, 1f], [0f, 0f, 0f]], [0f, 0f, -0.5f]);
        var previewer = new LatentRgbPreviewer(factors);
        // Two batch items of [4, 1, 2]; item 1: channel 0 = 1 (red), channel 1 = −1 (no green), channel 2 = 0.
        float[] latents = [0, 0, 0, 0, 0, 0, 0, 0, /* item 1 */ 1, 1, -1, -1, 0, 0, 9, 9];

        using var image = previewer.Project(latents, 1, 1, 2);
        Assert.Equal(new Rgb24(255, 0, 64), image[0, 0]);
        Assert.Equal(new Rgb24(255, 0, 64), image[1, 0]);
    }

    [Fact]
    public void Jpeg_is_upscaled_and_small()
    {
        var previewer = new LatentRgbPreviewer(LatentRgbFactors.StableDiffusion1);
        var latents = new float[4 * 64 * 64];
        for (var i = 0; i < latents.Length; i++) latents[i] = MathF.Sin(i * 0.01f);

        var jpeg = previewer.RenderJpeg(latents, 0, 64, 64);
        using var image = Image.Load<Rgb24>(jpeg);
        Assert.Equal((128, 128), (image.Width, image.Height));
        Assert.InRange(jpeg.Length, 100, 20_000);
    }

    [Fact]
    public async Task Model_folder_coefficients_replace_the_default()
    {
        const string json = """{"latent_rgb_factors": [[0,0,0],[0,0,0],[0,0,0],[0,0,0]], "latent_rgb_bias": [1, -1, 1]}""";
        using var harness = new EngineHarness(new TinyModelOptions { LatentPreviewJson = json });
        Rgb24? pixel = null;
        var sink = new RecordingSink(p =>
        {
            using var image = Image.Load<Rgb24>(p.Previewer.RenderJpeg(p.Latents.Span, 0, p.LatentHeight, p.LatentWidth));
            pixel ??= image[3, 3];
        });
        using var result = await harness.Engine.GenerateAsync(new GenerationRequest { Prompt = "a", Steps = 1, Seed = 1 }, sink, CancellationToken.None);

        // Factors all zero: every pixel is the bias, magenta (JPEG may move it by a level or two).
        Assert.InRange(pixel!.Value.R, 250, 255);
        Assert.InRange(pixel.Value.G, 0, 5);
        Assert.InRange(pixel.Value.B, 250, 255);
    }

    [Fact]
    public async Task Taesd_decoder_in_the_folder_is_used_for_previews()
    {
        using var harness = new EngineHarness();
        // Any decoder with the TAESD interface will do: reuse the tiny VAE decoder graph.
        var taesd = Path.Combine(harness.ModelPath, "taesd_decoder");
        Directory.CreateDirectory(taesd);
        File.Copy(Path.Combine(harness.ModelPath, "vae_decoder", "model.onnx"), Path.Combine(taesd, "model.onnx"));
        harness.Engine.RefreshModels();

        (int, int)? size = null;
        ILatentPreviewer? used = null;
        var sink = new RecordingSink(p =>
        {
            used = p.Previewer;
            using var image = Image.Load<Rgb24>(p.Previewer.RenderJpeg(p.Latents.Span, 0, p.LatentHeight, p.LatentWidth));
            size = (image.Width, image.Height);
        });
        using var result = await harness.Engine.GenerateAsync(new GenerationRequest { Prompt = "a", Steps = 1, Seed = 1 }, sink, CancellationToken.None);

        Assert.IsType<TaesdPreviewer>(used);
        Assert.Equal((64, 64), size);
    }
}
