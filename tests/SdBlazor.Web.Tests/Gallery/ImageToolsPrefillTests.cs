using SdBlazor.Engine.Imaging;
using SdBlazor.Web.Gallery;

namespace SdBlazor.Web.Tests.Gallery;

/// <summary>"Use these settings" on an A1111 image restores its variation seed and hires fix.</summary>
public sealed class ImageToolsPrefillTests
{
    [Fact]
    public void A1111_infotext_with_variation_and_hires_becomes_the_same_request()
    {
        const string text = "a castle\nNegative prompt: fog\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 512x768, " +
            "Model hash: 45dee52b, Model: v1-5, Variation seed: 1234, Variation seed strength: 0.3, Seed resize from: 640x640, " +
            "Denoising strength: 0.45, Hires upscale: 1.5, Hires steps: 12, Hires upscaler: Latent (bicubic), Version: v1.10.1";

        var request = GalleryPrefill.ToRequest(Infotext.ToParameters(Infotext.Parse(text)));

        Assert.Equal((42L, 512, 768), (request.Seed, request.Width!.Value, request.Height!.Value));
        Assert.Equal((1234L, 0.3, 640, 640), (request.Subseed, request.SubseedStrength, request.SeedResizeFromWidth, request.SeedResizeFromHeight));
        Assert.True(request.EnableHr);
        Assert.Equal((1.5, 12, "Latent (bicubic)", 0.45), (request.HrScale, request.HrSecondPassSteps, request.HrUpscaler, request.Strength));
    }

    [Fact]
    public void Hires_resize_and_formatting_round_trip()
    {
        var p = new ImageParameters
        {
            Prompt = "p", Steps = 10, Sampler = "Euler", CfgScale = 7, Seed = 1, Width = 512, Height = 512, Strength = 0.7,
            Hires = new HiresSettings { ResizeWidth = 1024, ResizeHeight = 768, Upscaler = "Lanczos", NegativePrompt = "blur, \"bad\"" },
        };
        var text = Infotext.Format(p);
        Assert.Contains("Denoising strength: 0.7", text);
        Assert.Contains("Hires resize: 1024x768, Hires upscaler: Lanczos, Hires negative prompt: \"blur, \\\"bad\\\"\"", text);
        Assert.Equal(p.Hires, Infotext.ToParameters(Infotext.Parse(text)).Hires);
    }
}
