using System.Text.Json;
using Microsoft.Extensions.Options;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SdBlazor.Web.Api.Models;

namespace SdBlazor.Web.Api;

/// <summary>An A1111 request turned into ours, with what the response needs besides the images.</summary>
/// <param name="Echo">The request with defaults filled in, returned as the response's <c>parameters</c>.</param>
public sealed record MappedRequest(GenerationRequest Request, ModelDescriptor Model, bool SendImages, bool SaveImages, long Subseed, Txt2ImgRequest Echo);

/// <summary>
/// Applies A1111's defaults (steps 50, CFG 7, sampler Euler, seed −1, denoising strength 0.75) and our limits to an
/// A1111 request. Failures come back as the response A1111 would give: 404 for an unknown model or sampler, 413 for
/// an oversized init image, 422 with one <c>detail</c> entry per bad field otherwise.
/// </summary>
public sealed class SdApiRequestMapper(ModelCatalog models, IOptions<SdApiOptions> options, Extras.PromptStyleStore styles)
{
    public const int DefaultSteps = 50;
    public const double DefaultCfgScale = 7.0;
    public const string DefaultSampler = "Euler";
    public const double DefaultDenoisingStrength = 0.75;

    public (MappedRequest? Mapped, IResult? Error) Map(Txt2ImgRequest body)
    {
        var errors = new List<ValidationErrorItem>();

        ModelDescriptor? model;
        if (body.OverrideSettings is { } overrides && overrides.TryGetValue("sd_model_checkpoint", out var checkpoint)
            && checkpoint.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
        {
            if (checkpoint.ValueKind != JsonValueKind.String)
                return (null, SdApiResults.Validation([new(["body", "override_settings", "sd_model_checkpoint"], "str type expected", "type_error.str")]));
            var wanted = checkpoint.GetString()!;
            model = string.IsNullOrWhiteSpace(wanted) ? models.Selected() : models.Find(wanted);
            if (model is null) return (null, SdApiResults.NotFound(models.NotFoundMessage(wanted)));
            if (model.Error is not null)
                return (null, SdApiResults.Validation([new(["body", "override_settings", "sd_model_checkpoint"], model.Error, "value_error")]));
        }
        else
        {
            model = models.Selected();
            if (model is null) return (null, SdApiResults.NotFound("No model is installed, so nothing can be generated."));
        }

        var samplerName = body.SamplerName is { Length: > 0 } s ? s : body.SamplerIndex is { Length: > 0 } i ? i : DefaultSampler;
        if (!SamplerCatalog.IsKnown(samplerName))
            return (null, SdApiResults.NotFound($"Sampler '{samplerName}' not found. Available: {string.Join(", ", GenerationLimits.Samplers)}."));
        var sampler = new Engine.Schedulers.SamplerChoice(DefaultSampler, "Automatic");
        try
        {
            sampler = SamplerCatalog.Resolve(samplerName, body.Scheduler);
        }
        catch (GenerationValidationException ex)
        {
            errors.Add(new(["body", "scheduler"], ex.Message, "value_error"));
        }

        if (body.SubseedStrength is { } subStrength && subStrength != 0)
            errors.Add(new(["body", "subseed_strength"], "Variation seeds are not supported: subseed_strength must be 0.", "value_error"));

        byte[]? initImage = null;
        double strength = DefaultDenoisingStrength;
        if (body is Img2ImgRequest img2img)
        {
            if (!string.IsNullOrEmpty(img2img.Mask))
                errors.Add(new(["body", "mask"], "Inpainting masks are not supported yet; send the request without a mask.", "value_error"));
            if (img2img.InitImages is not { Count: > 0 } inits)
                errors.Add(new(["body", "init_images"], "field required: img2img needs one base64 image in init_images", "value_error.missing"));
            else if (inits.Count > 1)
                errors.Add(new(["body", "init_images"], $"Only one init image is supported (got {inits.Count}).", "value_error"));
            else
            {
                var decoded = Base64Image.Decode(inits[0]);
                if (decoded is null)
                    errors.Add(new(["body", "init_images", 0], "Invalid encoded image: not base64 (a data:image/...;base64, prefix is allowed).", "value_error"));
                else if (decoded.Length > GenerationLimits.MaxInitImageBytes)
                    return (null, SdApiResults.TooLarge($"The init image is {decoded.Length / 1048576.0:0.0} MB; at most {GenerationLimits.MaxInitImageBytes / 1048576} MB is accepted."));
                else if (ImageFormatSniffer.Detect(decoded) is null)
                    errors.Add(new(["body", "init_images", 0], "Invalid encoded image: send a PNG, JPEG or WebP image.", "value_error"));
                else initImage = decoded;
            }
            if (!model.SupportsImg2Img)
                errors.Add(new(["body", "override_settings", "sd_model_checkpoint"], $"Model '{model.Name}' has no VAE encoder, so it cannot do img2img.", "value_error"));
            strength = img2img.DenoisingStrength ?? DefaultDenoisingStrength;
            if (double.IsNaN(strength) || strength is < GenerationLimits.MinStrength or > GenerationLimits.MaxStrength)
                errors.Add(new(["body", "denoising_strength"], $"Denoising strength must be between {GenerationLimits.MinStrength} and {GenerationLimits.MaxStrength} (got {strength}).", "value_error"));
        }

        var (clipSkip, emphasis) = SdApiPromptSettings.Read(body.OverrideSettings, errors);
        // A1111 applies saved styles to the prompts before anything else (unknown names add nothing, as there).
        var (prompt, negativePrompt) = (body.Prompt ?? "", body.NegativePrompt ?? "");
        var original = (prompt, negativePrompt);
        if (body.Styles is { Count: > 0 } styleNames)
            (prompt, negativePrompt, _) = styles.Apply(prompt, negativePrompt, styleNames.Where(n => n is not null).ToList());

        var request = new GenerationRequest
        {
            Prompt = prompt,
            NegativePrompt = negativePrompt,
            ClipSkip = clipSkip,
            Emphasis = emphasis,
            Model = model.Name,
            Sampler = sampler.Sampler,
            ScheduleType = sampler.ScheduleType,
            Steps = body.Steps ?? DefaultSteps,
            CfgScale = body.CfgScale ?? DefaultCfgScale,
            Seed = body.Seed ?? -1,
            Width = body.Width,
            Height = body.Height,
            BatchSize = body.BatchSize ?? 1,
            BatchCount = body.NIter ?? 1,
            InitImage = initImage,
            Strength = strength,
        };
        errors.AddRange(FieldErrors.Of(request));
        if (errors.Count > 0) return (null, SdApiResults.Validation(errors));

        var save = body.SaveImages ?? options.Value.SaveImagesByDefault;
        var send = body.SendImages ?? true;
        var subseed = body.Subseed is null or -1 ? -1 : body.Subseed.Value;
        return (new MappedRequest(request, model, send, save, subseed, Echo(body, request, model, send, save, original)), null);
    }

    private static Txt2ImgRequest Echo(Txt2ImgRequest body, GenerationRequest request, ModelDescriptor model, bool send, bool save,
        (string Prompt, string NegativePrompt) original)
    {
        body.Prompt = original.Prompt;
        body.NegativePrompt = original.NegativePrompt;
        body.Styles ??= [];
        body.Seed = request.Seed;
        body.Subseed ??= -1;
        body.SubseedStrength ??= 0;
        body.SeedResizeFromH ??= -1;
        body.SeedResizeFromW ??= -1;
        body.SamplerName = request.Sampler;
        body.SamplerIndex ??= DefaultSampler;
        body.Scheduler = request.ScheduleType;
        body.BatchSize = request.BatchSize;
        body.NIter = request.BatchCount;
        body.Steps = request.Steps;
        body.CfgScale = request.CfgScale;
        body.Width = request.Width ?? model.NativeWidth;
        body.Height = request.Height ?? model.NativeHeight;
        body.RestoreFaces ??= false;
        body.Tiling ??= false;
        body.OverrideSettings ??= [];
        body.OverrideSettingsRestoreAfterwards ??= true;
        body.SendImages = send;
        body.SaveImages = save;
        if (body is Img2ImgRequest img2img)
        {
            img2img.DenoisingStrength = request.Strength;
            img2img.ResizeMode ??= 0;
            // As A1111: the (large) init images are only echoed when asked for.
            if (img2img.IncludeInitImages != true) img2img.InitImages = null;
            img2img.IncludeInitImages ??= false;
        }
        return body;
    }
}
