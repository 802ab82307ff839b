using SdBlazor.Shared;
using SdBlazor.Web.Components.Generation;

namespace SdBlazor.Web.Tests.Components;

/// <summary>Gallery links ("use these settings", "img2img from this") fill the form through <see cref="GenerateFormModel.Fill"/>.</summary>
public sealed class GenerateFormModelTests
{
    [Fact]
    public void Filling_from_a_request_gives_that_request_back_with_its_seed_fixed()
    {
        var request = new GenerationRequest
        {
            Prompt = "a red circle, top left", NegativePrompt = "blurry", Model = "sdblazor-mini", Sampler = "DPM++ 2M",
            ScheduleType = "Karras", Steps = 33, CfgScale = 5.5, Seed = 1234, Width = 128, Height = 96,
            BatchCount = 3, BatchSize = 2, InitImage = [1, 2, 3], Strength = 0.4,
        };
        var form = new GenerateFormModel();

        form.Fill(request);

        Assert.Equal(SeedMode.Fixed, form.SeedMode);
        Assert.Equal(request, form.ToRequest(lastSeed: 99) with { InitImage = request.InitImage });
        Assert.Same(request.InitImage, form.ToRequest(null).InitImage);
    }

    [Fact]
    public void A_random_seed_stays_random_and_a_missing_size_keeps_the_forms_size()
    {
        var form = new GenerateFormModel { Width = 64, Height = 64, Model = "kept" };

        form.Fill(new GenerationRequest { Prompt = "x", Seed = -1 });

        Assert.Equal(SeedMode.Random, form.SeedMode);
        var request = form.ToRequest(lastSeed: 5);
        Assert.Equal(-1, request.Seed);
        Assert.Equal((64, 64), (request.Width, request.Height));
        Assert.Equal("kept", request.Model);
        Assert.Null(request.InitImage);
    }

    [Fact]
    public void A_painted_mask_goes_out_with_the_inpaint_fields_and_only_masked()
    {
        var form = new GenerateFormModel
        {
            Prompt = "x", InitImage = [1, 2, 3], InpaintEnabled = true, Mask = [4, 5], MaskBlur = 7, InpaintingFill = 2,
            InpaintingMaskInvert = true, InpaintFullRes = true, InpaintFullResPadding = 48,
        };

        var request = form.ToRequest(null);

        Assert.Equal([4, 5], request.Mask);
        Assert.Equal((7, 2, true, true, 48), (request.MaskBlur, request.InpaintingFill, request.InpaintingMaskInvert, request.InpaintFullRes, request.InpaintFullResPadding));
        // The switch off: plain img2img, whatever was painted before.
        form.InpaintEnabled = false;
        Assert.Null(form.ToRequest(null).Mask);
    }
}
