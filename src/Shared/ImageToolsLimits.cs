namespace SdBlazor.Shared;

/// <summary>
/// Limits and checks of the A1111 tools beyond plain txt2img/img2img (variation seeds, hires fix), shared by the
/// form, the API and the engine. Messages start with the form label they belong to.
/// </summary>
public static class ImageToolsLimits
{
    public const double MinHrScale = 1;
    public const double MaxHrScale = 4;
    public const int MaxMaskBlur = 64;
    public const int MaxInpaintPadding = 256;

    /// <summary>A1111's latent upscale modes (<c>shared.latent_upscale_modes</c>); any other name is an image upscaler.</summary>
    public static readonly IReadOnlyList<string> LatentUpscalers =
        ["Latent", "Latent (antialiased)", "Latent (bicubic)", "Latent (bicubic antialiased)", "Latent (nearest)", "Latent (nearest-exact)"];

    public static bool IsLatentUpscaler(string? name) => LatentUpscalers.Contains(name ?? "", StringComparer.OrdinalIgnoreCase);

    public static void Validate(GenerationRequest request, List<string> errors)
    {
        if (request.Subseed < -1)
            errors.Add($"Variation seed must be -1 (random) or a non-negative number (got {request.Subseed}).");
        if (double.IsNaN(request.SubseedStrength) || request.SubseedStrength is < 0 or > 1)
            errors.Add($"Variation strength must be between 0 and 1 (got {request.SubseedStrength}).");
        if (request.SeedResizeFromWidth > 0 || request.SeedResizeFromHeight > 0)
        {
            if (request.SeedResizeFromWidth is < 8 or > GenerationLimits.MaxSize || request.SeedResizeFromHeight is < 8 or > GenerationLimits.MaxSize)
                errors.Add($"Resize seed from needs both width and height between 8 and {GenerationLimits.MaxSize} (got {request.SeedResizeFromWidth}x{request.SeedResizeFromHeight}).");
        }
        if (request.Mask is { } mask)
        {
            if (request.InitImage is null) errors.Add("Mask needs an init image (inpainting is img2img with a mask).");
            if (mask.Length > GenerationLimits.MaxInitImageBytes)
                errors.Add($"Mask is {mask.Length / 1024 / 1024.0:0.0} MB; at most {GenerationLimits.MaxInitImageBytes / 1024 / 1024} MB is allowed.");
            else if (ImageFormatSniffer.Detect(mask) is null) errors.Add("Mask must be a PNG, JPEG or WebP image.");
        }
        if (request.MaskBlur is < 0 or > MaxMaskBlur) errors.Add($"Mask blur must be between 0 and {MaxMaskBlur} pixels (got {request.MaskBlur}).");
        if (request.InpaintingFill is < 0 or > 3) errors.Add($"Masked content must be 0 (fill), 1 (original), 2 (latent noise) or 3 (latent nothing) (got {request.InpaintingFill}).");
        if (!string.IsNullOrWhiteSpace(request.RefinerCheckpoint) && (double.IsNaN(request.RefinerSwitchAt) || request.RefinerSwitchAt is < 0 or > 1))
            errors.Add($"Refiner switch at must be between 0 and 1 (got {request.RefinerSwitchAt}).");
        if (double.IsNaN(request.InitialNoiseMultiplier) || request.InitialNoiseMultiplier is < 0 or > 1.5)
            errors.Add($"Noise multiplier must be between 0 and 1.5 (got {request.InitialNoiseMultiplier}).");
        var outpaint = new[] { request.OutpaintLeft, request.OutpaintRight, request.OutpaintUp, request.OutpaintDown };
        if (outpaint.Any(p => p is < 0 or > GenerationLimits.MaxSize))
            errors.Add($"Outpainting adds 0 to {GenerationLimits.MaxSize} pixels per side (got left {request.OutpaintLeft}, right {request.OutpaintRight}, up {request.OutpaintUp}, down {request.OutpaintDown}).");
        else if (outpaint.Any(p => p > 0))
        {
            if (request.InitImage is null) errors.Add("Outpainting needs an init image to extend.");
            if (request.Mask is not null) errors.Add("Outpainting makes its own mask over the new border; leave the mask out.");
        }
        if (request.InpaintFullResPadding is < 0 or > MaxInpaintPadding)
            errors.Add($"Masked area padding must be between 0 and {MaxInpaintPadding} pixels (got {request.InpaintFullResPadding}).");
        if (double.IsNaN(request.InpaintingMaskWeight) || request.InpaintingMaskWeight is < 0 or > 1)
            errors.Add($"Inpainting conditioning mask strength must be between 0 and 1 (got {request.InpaintingMaskWeight}).");
        if (!request.EnableHr) return;

        if (request.InitImage is not null)
            errors.Add("Hires fix is a txt2img tool; turn it off for img2img.");
        if (double.IsNaN(request.HrScale) || request.HrScale is < MinHrScale or > MaxHrScale)
            errors.Add($"Hires scale must be between {MinHrScale} and {MaxHrScale} (got {request.HrScale}).");
        if (request.HrResizeX is < 0 or > GenerationLimits.MaxSize || request.HrResizeY is < 0 or > GenerationLimits.MaxSize)
            errors.Add($"Hires resize must be 0 (use the scale) or at most {GenerationLimits.MaxSize} pixels per side (got {request.HrResizeX}x{request.HrResizeY}).");
        if (request.HrSecondPassSteps is < 0 or > GenerationLimits.MaxSteps)
            errors.Add($"Hires steps must be between 0 (same as Steps) and {GenerationLimits.MaxSteps} (got {request.HrSecondPassSteps}).");
        if (double.IsNaN(request.Strength) || request.Strength is < GenerationLimits.MinStrength or > GenerationLimits.MaxStrength)
            errors.Add($"Denoising strength must be between {GenerationLimits.MinStrength} and {GenerationLimits.MaxStrength} (got {request.Strength}).");
        if (string.IsNullOrWhiteSpace(request.HrUpscaler))
            errors.Add("Hires upscaler is required (e.g. Latent, Lanczos).");
        if (request.HrSampler is { Length: > 0 } sampler && !GenerationRequestValidator.IsKnownSampler(sampler))
            errors.Add($"Hires sampler '{sampler}' is unknown; use one of: {string.Join(", ", GenerationLimits.Samplers)}.");
        if ((request.HrPrompt?.Length ?? 0) > GenerationLimits.MaxPromptLength || (request.HrNegativePrompt?.Length ?? 0) > GenerationLimits.MaxPromptLength)
            errors.Add($"Hires prompts may be at most {GenerationLimits.MaxPromptLength} characters.");
        if (request.Width is { } w && request.Height is { } h && HiresSize.Target(w, h, request) is var (tw, th)
            && (tw < GenerationLimits.MinSize || th < GenerationLimits.MinSize || tw > GenerationLimits.MaxSize || th > GenerationLimits.MaxSize))
            errors.Add($"Hires target {tw}x{th} is outside {GenerationLimits.MinSize}–{GenerationLimits.MaxSize} pixels per side; lower the hires scale or size.");
    }
}

/// <summary>A1111's hires target size (<c>StableDiffusionProcessingTxt2Img.calculate_target_resolution</c>), in pixels.</summary>
public static class HiresSize
{
    /// <summary>The size the first pass is upscaled to (before the crop that fits a hires resize of another aspect).</summary>
    public static (int Width, int Height) UpscaleTo(int width, int height, GenerationRequest request)
    {
        int x = request.HrResizeX, y = request.HrResizeY;
        if (x == 0 && y == 0) return ((int)(width * request.HrScale), (int)(height * request.HrScale));
        if (y == 0) return (x, x * height / width);
        if (x == 0) return (y * width / height, y);
        // Cover the requested box keeping the aspect; Target crops the overflow.
        return (double)width / height < (double)x / y ? (x, x * height / width) : (y * width / height, y);
    }

    /// <summary>The final hires size, a multiple of 8 (the latent grid): the upscale size, cropped to a requested box.</summary>
    public static (int Width, int Height) Target(int width, int height, GenerationRequest request)
    {
        var (w, h) = UpscaleTo(width, height, request);
        if (request.HrResizeX > 0 && request.HrResizeY > 0) (w, h) = (Math.Min(w, request.HrResizeX), Math.Min(h, request.HrResizeY));
        return (w / GenerationLimits.SizeMultiple * GenerationLimits.SizeMultiple, h / GenerationLimits.SizeMultiple * GenerationLimits.SizeMultiple);
    }
}
