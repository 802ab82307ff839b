using SdBlazor.Shared;
using SdBlazor.Web.Api.Models;

namespace SdBlazor.Web.Api;

/// <summary>
/// The A1111 request fields of variation seeds and hires fix, mapped onto our request (defaults as A1111's API:
/// subseed −1, strength 0, seed_resize_from_* −1 = off; hires scale 2, upscaler "Latent", denoising 0.7 as its UI).
/// Range checks are the shared validator's (see <see cref="FieldErrors"/> for which field each message names).
/// </summary>
internal static class SdApiImageTools
{
    public const double DefaultHiresDenoising = 0.7;

    public static GenerationRequest Apply(Txt2ImgRequest body, GenerationRequest request, List<ValidationErrorItem> errors)
    {
        request = request with
        {
            Subseed = body.Subseed ?? -1,
            SubseedStrength = body.SubseedStrength ?? 0,
            SeedResizeFromWidth = Math.Max(body.SeedResizeFromW ?? 0, 0),
            SeedResizeFromHeight = Math.Max(body.SeedResizeFromH ?? 0, 0),
            RefinerCheckpoint = body.RefinerCheckpoint,
            RefinerSwitchAt = body.RefinerSwitchAt ?? 0.8,
        };
        if (body is Img2ImgRequest img2img) return Inpaint(img2img, request, errors);
        // A1111's img2img has no hires fix; its enable_hr field (inherited here) is ignored there as there.
        if (body.EnableHr != true) return request;

        var strength = body.DenoisingStrength ?? DefaultHiresDenoising;
        if (double.IsNaN(strength) || strength is < GenerationLimits.MinStrength or > GenerationLimits.MaxStrength)
            errors.Add(new(["body", "denoising_strength"], $"Denoising strength must be between {GenerationLimits.MinStrength} and {GenerationLimits.MaxStrength} (got {strength}).", "value_error"));
        return request with
        {
            EnableHr = true,
            Strength = strength,
            HrScale = body.HrScale ?? 2,
            HrUpscaler = string.IsNullOrWhiteSpace(body.HrUpscaler) ? "Latent" : body.HrUpscaler,
            HrSecondPassSteps = body.HrSecondPassSteps ?? 0,
            HrResizeX = body.HrResizeX ?? 0,
            HrResizeY = body.HrResizeY ?? 0,
            HrSampler = body.HrSamplerName,
            HrPrompt = body.HrPrompt,
            HrNegativePrompt = body.HrNegativePrompt,
        };
    }

    private static GenerationRequest Inpaint(Img2ImgRequest body, GenerationRequest request, List<ValidationErrorItem> errors)
    {
        request = request with { InitialNoiseMultiplier = body.InitialNoiseMultiplier ?? 1 };
        if (string.IsNullOrEmpty(body.Mask)) return request;
        var mask = Base64Image.Decode(body.Mask);
        if (mask is null || ImageFormatSniffer.Detect(mask) is null)
        {
            errors.Add(new(["body", "mask"], "Invalid encoded mask: send a base64 PNG, JPEG or WebP image (white repaints).", "value_error"));
            return request;
        }
        return request with
        {
            Mask = mask,
            MaskBlur = body.MaskBlur ?? 4,
            InpaintingFill = body.InpaintingFill ?? 0,
            InpaintingMaskInvert = body.InpaintingMaskInvert is { } invert && invert != 0,
        };
    }

    public static void Echo(Txt2ImgRequest body, GenerationRequest request)
    {
        body.SubseedStrength = request.SubseedStrength;
        if (body is Img2ImgRequest img2img)
        {
            img2img.MaskBlur ??= 4;
            img2img.InpaintingFill ??= 0;
            img2img.InpaintingMaskInvert ??= 0;
            img2img.InitialNoiseMultiplier ??= 1;
            img2img.Mask = null; // large, like the init images
            return;
        }
        body.EnableHr = request.EnableHr;
        body.DenoisingStrength = request.EnableHr ? request.Strength : body.DenoisingStrength;
        body.HrScale ??= 2;
        body.HrUpscaler ??= request.EnableHr ? request.HrUpscaler : null;
        body.HrSecondPassSteps ??= 0;
        body.HrResizeX ??= 0;
        body.HrResizeY ??= 0;
    }
}
