using System.Text.Json;
using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Pipelines;
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
        if (body.OverrideSettings?.TryGetValue("inpainting_mask_weight", out var weight) == true && weight.ValueKind != JsonValueKind.Null)
        {
            if (weight.ValueKind == JsonValueKind.Number) request = request with { InpaintingMaskWeight = weight.GetDouble() };
            else errors.Add(new(["body", "override_settings", "inpainting_mask_weight"], "value is not a valid float", "type_error.float"));
        }
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

    public const string PoorMansOutpainting = "poor man's outpainting";

    private static GenerationRequest Inpaint(Img2ImgRequest body, GenerationRequest request, List<ValidationErrorItem> errors)
    {
        request = request with
        {
            InitialNoiseMultiplier = body.InitialNoiseMultiplier ?? 1,
            // A1111's API defaults (its processing dataclass): only masked, no padding.
            InpaintFullRes = body.InpaintFullRes ?? true,
            InpaintFullResPadding = body.InpaintFullResPadding ?? 0,
            OutpaintLeft = body.OutpaintLeft ?? 0,
            OutpaintRight = body.OutpaintRight ?? 0,
            OutpaintUp = body.OutpaintUp ?? 0,
            OutpaintDown = body.OutpaintDown ?? 0,
        };
        if (!string.IsNullOrWhiteSpace(body.ScriptName)) request = Script(body, request, errors);
        if (Outpainting.IsRequested(request)) return OutpaintCanvas(request with { InpaintingFill = body.InpaintingFill ?? request.InpaintingFill, MaskBlur = body.MaskBlur ?? request.MaskBlur }, errors);
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

    /// <summary>
    /// A1111's "Poor man's outpainting" script: <c>script_args</c> [pixels, mask_blur, inpainting_fill, directions]; it
    /// sets the mask blur to twice the given one and inpaints the whole picture. Run here in one pass over the canvas.
    /// </summary>
    private static GenerationRequest Script(Img2ImgRequest body, GenerationRequest request, List<ValidationErrorItem> errors)
    {
        if (!string.Equals(body.ScriptName!.Trim(), PoorMansOutpainting, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add(new(["body", "script_name"], $"Script '{body.ScriptName}' not found; the only script supported is '{PoorMansOutpainting}' (or use the outpaint_left/right/up/down fields).", "value_error"));
            return request;
        }
        var args = body.ScriptArgs ?? [];
        int Int(int index, int fallback) =>
            args.Count > index && args[index].ValueKind == JsonValueKind.Number && args[index].TryGetDouble(out var v) && v == Math.Floor(v) && Math.Abs(v) <= int.MaxValue ? (int)v : fallback;
        var pixels = Int(0, 128);
        var blur = Int(1, 4);
        var fill = Int(2, 0);
        var directions = args.Count > 3 && args[3].ValueKind == JsonValueKind.Array
            ? args[3].EnumerateArray().Where(d => d.ValueKind == JsonValueKind.String).Select(d => d.GetString()!.ToLowerInvariant()).ToHashSet()
            : ["left", "right", "up", "down"];
        if (args.Count > 4 || args.Take(3).Any(a => a.ValueKind != JsonValueKind.Number) || directions.Count == 0 || directions.Any(d => d is not ("left" or "right" or "up" or "down")))
            errors.Add(new(["body", "script_args"], $"'{PoorMansOutpainting}' takes [pixels, mask_blur, inpainting_fill, [\"left\", \"right\", \"up\", \"down\"]].", "value_error"));
        return request with
        {
            OutpaintLeft = directions.Contains("left") ? pixels : 0,
            OutpaintRight = directions.Contains("right") ? pixels : 0,
            OutpaintUp = directions.Contains("up") ? pixels : 0,
            OutpaintDown = directions.Contains("down") ? pixels : 0,
            MaskBlur = 2 * blur,
            InpaintingFill = fill,
            InpaintFullRes = false,
        };
    }

    /// <summary>The canvas is the generation size (memory admission counts it); the client's width/height are A1111's tile size there.</summary>
    private static GenerationRequest OutpaintCanvas(GenerationRequest request, List<ValidationErrorItem> errors)
    {
        request = request with { InpaintFullRes = false };
        if (request.InitImage is null) return request;
        try
        {
            var probe = SafeImage.Probe(request.InitImage, RequestValidator.InitImageLimits);
            var (width, height, _, _) = Outpainting.Canvas(probe.Width, probe.Height, request);
            if (width <= GenerationLimits.MaxSize && height <= GenerationLimits.MaxSize) return request with { Width = width, Height = height };
            errors.Add(new(["body", "init_images", 0], $"The outpainted canvas would be {width}x{height}; at most {GenerationLimits.MaxSize} pixels per side are allowed.", "value_error"));
            return request with { Width = null, Height = null };
        }
        catch (SixLabors.ImageSharp.ImageFormatException)
        {
            return request; // the engine's validation names the problem
        }
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
            img2img.InpaintFullRes = request.InpaintFullRes;
            img2img.InpaintFullResPadding = request.InpaintFullResPadding;
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
