using SdBlazor.Shared;

namespace SdBlazor.Web.Components.Generation;

/// <summary>Inpainting on the img2img part of the form (A1111's inpaint tab fields).</summary>
public sealed partial class GenerateFormModel
{
    /// <summary>The mask editor is shown; without a painted mask the job is plain img2img.</summary>
    public bool InpaintEnabled { get; set; }

    /// <summary>The painted mask (PNG, white repaints), taken from the editor when the form is submitted.</summary>
    public byte[]? Mask { get; set; }

    public int MaskBlur { get; set; } = 4;

    /// <summary>A1111's "Masked content": 0 fill, 1 original, 2 latent noise, 3 latent nothing.</summary>
    public int InpaintingFill { get; set; } = 1;

    /// <summary>A1111's "Mask mode": false "Inpaint masked", true "Inpaint not masked".</summary>
    public bool InpaintingMaskInvert { get; set; }

    /// <summary>A1111's "Inpaint area": false "Whole picture", true "Only masked" (inpaint_full_res).</summary>
    public bool InpaintFullRes { get; set; }

    public int InpaintFullResPadding { get; set; } = 32;

    private GenerationRequest WithInpainting(GenerationRequest request) =>
        !InpaintEnabled || InitImage is null || Mask is null
            ? request
            : request with { Mask = Mask, MaskBlur = MaskBlur, InpaintingFill = InpaintingFill, InpaintingMaskInvert = InpaintingMaskInvert,
                InpaintFullRes = InpaintFullRes, InpaintFullResPadding = InpaintFullResPadding };
}
