using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Schedulers;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using static SdBlazor.Shared.GenerationLimits;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// Checks a <see cref="GenerationRequest"/> against <see cref="GenerationLimits"/> and the chosen model before any
/// work starts. Every failure is a <see cref="GenerationValidationException"/> whose message says what is allowed.
/// </summary>
public sealed class RequestValidator(ModelRegistry registry)
{
    /// <summary>Largest init image accepted (either side, pixels), checked from the header before decoding.</summary>
    public const int MaxInitImageSide = 8192;

    public ValidatedRequest Validate(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Prompt is null) Fail("Prompt is required (it may be empty).");
        if (request.Prompt!.Length > MaxPromptLength) Fail($"Prompt is {request.Prompt.Length} characters; at most {MaxPromptLength} are allowed.");
        if ((request.NegativePrompt ?? "").Length > MaxPromptLength) Fail($"Negative prompt is {request.NegativePrompt!.Length} characters; at most {MaxPromptLength} are allowed.");
        if (request.Steps is < MinSteps or > MaxSteps) Fail($"Steps must be between {MinSteps} and {MaxSteps} (got {request.Steps}).");
        if (double.IsNaN(request.CfgScale) || request.CfgScale < MinCfgScale || request.CfgScale > MaxCfgScale)
            Fail($"CFG scale must be between {MinCfgScale} and {MaxCfgScale} (got {request.CfgScale}).");
        if (request.BatchSize is < 1 or > MaxBatchSize) Fail($"Batch size must be between 1 and {MaxBatchSize} (got {request.BatchSize}).");
        if (request.BatchCount is < 1 or > MaxBatchCount) Fail($"Batch count must be between 1 and {MaxBatchCount} (got {request.BatchCount}).");
        if (request.Seed < -1) Fail($"Seed must be −1 (random) or a number from 0 up (got {request.Seed}).");
        var images = (long)request.BatchSize * request.BatchCount;
        if (request.Seed > long.MaxValue - images) Fail($"Seed {request.Seed} is too large: seed + image index must stay below {long.MaxValue}.");

        if (request.ClipSkip is < MinClipSkip or > MaxClipSkip) Fail($"Clip skip must be between {MinClipSkip} and {MaxClipSkip} (got {request.ClipSkip}).");
        if (!Prompts.EmphasisModes.TryParse(request.Emphasis, out _))
            Fail($"Emphasis '{request.Emphasis}' is unknown; use one of: {string.Join(", ", EmphasisModes)}.");
        var toolErrors = new List<string>();
        ImageToolsLimits.Validate(request, toolErrors);
        if (toolErrors.Count > 0) Fail(toolErrors[0]);

        var sampler = SchedulerFactory.Resolve(request.Sampler ?? "", request.ScheduleType);

        var modelName = string.IsNullOrWhiteSpace(request.Model) ? registry.DefaultModel : request.Model;
        if (!registry.TryGet(modelName, out var model))
        {
            var available = registry.Names;
            Fail(available.Count == 0
                ? $"Unknown model '{modelName}': no models are installed."
                : $"Unknown model '{modelName}'. Available models: {string.Join(", ", available.Order(StringComparer.OrdinalIgnoreCase))}.");
        }

        var width = request.Width ?? model.NativeWidth;
        var height = request.Height ?? model.NativeHeight;
        CheckSize("Width", width);
        CheckSize("Height", height);

        Image<Rgb24>? init = null;
        if (request.InitImage is not null)
        {
            if (double.IsNaN(request.Strength) || request.Strength is < 0 or > 1)
                Fail($"Denoising strength must be between 0 and 1 (got {request.Strength}).");
            if (!model.SupportsImg2Img)
                Fail($"Model '{model.Name}' has no VAE encoder (vae_encoder/model.onnx), so it cannot do img2img; use txt2img or a model that ships one.");
            init = DecodeInitImage(request.InitImage);
        }

        Image<L8>? outpaintMask = null;
        if (init is not null && Outpainting.IsRequested(request))
        {
            var (canvasWidth, canvasHeight, _, _) = Outpainting.Canvas(init.Width, init.Height, request);
            if (canvasWidth > MaxSize || canvasHeight > MaxSize || request.Width is { } w && w != canvasWidth || request.Height is { } h && h != canvasHeight)
            {
                init.Dispose();
                Fail(canvasWidth > MaxSize || canvasHeight > MaxSize
                    ? $"The outpainted canvas would be {canvasWidth}x{canvasHeight}; at most {MaxSize} pixels per side are allowed."
                    : $"Outpainting generates the whole canvas, {canvasWidth}x{canvasHeight}: leave width and height out or set them to that.");
            }
            (var canvas, outpaintMask) = Outpainting.Expand(init, request);
            init.Dispose();
            init = canvas;
            (width, height) = (canvasWidth, canvasHeight);
        }

        InpaintMask? inpaint = null;
        InpaintCrop? crop = null;
        if ((request.Mask is not null || outpaintMask is not null) && init is not null)
        {
            try
            {
                using var maskImage = outpaintMask ?? DecodeMask(request.Mask!);
                if (request.InpaintFullRes) (init, inpaint, crop) = OnlyMasked(init, maskImage, request, width, height);
                else inpaint = InpaintMask.Create(maskImage, width, height, request.MaskBlur, request.InpaintingMaskInvert);
            }
            catch
            {
                init.Dispose();
                throw;
            }
        }
        ModelFolder? refiner;
        try
        {
            refiner = RefinerFor(request, model);
        }
        catch
        {
            init?.Dispose();
            throw;
        }
        return new ValidatedRequest(request, model, sampler, width, height, init) { Hires = HiresPlanFor(request, sampler, width, height), Inpaint = inpaint, Crop = crop, Refiner = refiner };
    }

    /// <summary>
    /// "Only masked": the mask (at the image's size, inverted and blurred as A1111 does before cropping) picks the box;
    /// image and mask are cut to it and scaled to the generation size. An empty mask falls back to the whole picture.
    /// </summary>
    private static (Image<Rgb24> Init, InpaintMask Mask, InpaintCrop? Crop) OnlyMasked(Image<Rgb24> init, Image<L8> mask, GenerationRequest request, int width, int height)
    {
        using var prepared = mask.Clone(x =>
        {
            if (mask.Width != init.Width || mask.Height != init.Height) x.Resize(init.Width, init.Height, KnownResamplers.Lanczos3);
            if (request.InpaintingMaskInvert) x.Invert();
            if (request.MaskBlur > 0) x.GaussianBlur(request.MaskBlur);
        });
        if (InpaintCrop.Region(prepared, request.InpaintFullResPadding, width, height) is not { } region)
            return (init, InpaintMask.Create(mask, width, height, request.MaskBlur, request.InpaintingMaskInvert), null);
        var (x1, y1, x2, y2) = region;
        var box = new Rectangle(x1, y1, x2 - x1, y2 - y1);
        using var maskBox = prepared.Clone(x => x.Crop(box));
        using var maskScaled = InpaintCrop.Resize(maskBox, width, height, fill: true);
        var inpaint = InpaintMask.Create(maskScaled, width, height, 0, false);
        using var imageBox = init.Clone(x => x.Crop(box));
        var scaled = InpaintCrop.Resize(imageBox, width, height, fill: true);
        var overlay = new L8[prepared.Width * prepared.Height];
        prepared.CopyPixelDataTo(overlay);
        return (scaled, inpaint, new InpaintCrop(x1, y1, box.Width, box.Height, init, overlay.Select(p => p.PackedValue / 255f).ToArray()));
    }

    /// <summary>
    /// A1111's <c>refiner_checkpoint</c>: "None"/empty is none, the base model itself is none (A1111 skips the switch);
    /// the refiner must be of the SDXL family, like the base (another family's latents mean nothing to it).
    /// </summary>
    private ModelFolder? RefinerFor(GenerationRequest request, ModelFolder model)
    {
        var name = request.RefinerCheckpoint?.Trim();
        if (string.IsNullOrEmpty(name) || name.Equals("None", StringComparison.OrdinalIgnoreCase)) return null;
        if (double.IsNaN(request.RefinerSwitchAt) || request.RefinerSwitchAt is < 0 or > 1)
            Fail($"Refiner switch at must be between 0 and 1 (got {request.RefinerSwitchAt}).");
        if (!registry.TryGet(name, out var refiner))
            Fail($"Unknown refiner '{name}'. Available models: {string.Join(", ", registry.Names.Order(StringComparer.OrdinalIgnoreCase))}.");
        if (refiner.Path == model.Path) return null;
        if (!model.IsSdxl || !refiner.IsSdxl)
            Fail($"Refiner '{refiner.Name}' cannot refine '{model.Name}': a refiner works on SDXL latents, so both must be SDXL models "
                + $"({model.Name}: {(model.IsSdxl ? "SDXL" : "SD 1.x/2.x")}, {refiner.Name}: {(refiner.IsSdxl ? "SDXL" : "SD 1.x/2.x")}).");
        if (request.EnableHr && request.InitImage is null)
            Fail("A refiner together with hires fix is not supported yet: use one or the other.");
        return refiner;
    }

    private static HiresPlan? HiresPlanFor(GenerationRequest request, SamplerChoice sampler, int width, int height)
    {
        if (!request.EnableHr) return null;
        var (w, h) = HiresSize.Target(width, height, request);
        var (uw, uh) = HiresSize.UpscaleTo(width, height, request);
        if (w is < MinSize or > MaxSize || h is < MinSize or > MaxSize || uw > 2 * MaxSize || uh > 2 * MaxSize)
            Fail($"Hires target {w}x{h} is outside {MinSize}–{MaxSize} pixels per side; lower the hires scale or size.");
        var hrSampler = string.IsNullOrWhiteSpace(request.HrSampler) ? sampler : SchedulerFactory.Resolve(request.HrSampler, request.ScheduleType);
        var upscaler = ImageToolsLimits.LatentUpscalers.FirstOrDefault(n => string.Equals(n, request.HrUpscaler, StringComparison.OrdinalIgnoreCase)) ?? request.HrUpscaler;
        return new HiresPlan(w, h, uw, uh, upscaler, hrSampler, request.HrSecondPassSteps > 0 ? request.HrSecondPassSteps : request.Steps);
    }

    private static void CheckSize(string what, int value)
    {
        if (value is < MinSize or > MaxSize || value % SizeMultiple != 0)
            Fail($"{what} must be a multiple of {SizeMultiple} between {MinSize} and {MaxSize} (got {value}).");
    }

    /// <summary>Init images may be as large as this (either side) and hold at most <see cref="MaxInitImagePixels"/>.</summary>
    public const long MaxInitImagePixels = 16L * 1024 * 1024;

    public static ImageLimits InitImageLimits { get; } = new() { MaxSide = MaxInitImageSide, MaxPixels = MaxInitImagePixels };

    /// <summary>Decodes an init image through <see cref="SafeImage"/>; the submit path calls it too, so a bad file is refused before it is queued.</summary>
    public static Image<Rgb24> DecodeInitImage(byte[] bytes)
    {
        if (bytes.Length == 0) Fail("The init image is empty; send a PNG, JPEG or WebP image.");
        try
        {
            return SafeImage.Decode(bytes, InitImageLimits);
        }
        catch (ImageFormatException ex)
        {
            Fail($"The init image could not be read: {ex.Message} Send a PNG, JPEG or WebP image.");
            throw; // unreachable
        }
    }

    /// <summary>
    /// The mask as greyscale (A1111 reads it as "L"; an alpha channel is ignored as there), through <see cref="SafeImage"/>
    /// with the init image's limits: chunk caps, pixel cap from the header, no metadata inflated.
    /// </summary>
    internal static Image<L8> DecodeMask(byte[] bytes)
    {
        try
        {
            return SafeImage.Decode<L8>(bytes, InitImageLimits);
        }
        catch (ImageFormatException ex)
        {
            Fail($"The mask could not be read ({ex.Message}); send a PNG, JPEG or WebP image.");
            throw; // unreachable
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string message) => throw new GenerationValidationException(message);
}
