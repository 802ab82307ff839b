using System.Text.Json;
using System.Text.Json.Serialization;

namespace SdBlazor.Web.Api.Models;

/// <summary>
/// The fields of A1111's <c>StableDiffusionProcessingTxt2Img</c> API model that SdBlazor reads (names, types and
/// defaults as in <c>modules/api/models.py</c> / <c>modules/processing.py</c>). Every field is optional; <c>null</c>
/// means "use the default", as pydantic's Optional fields do. Fields we do not know are ignored, like A1111 does.
/// The same object (with defaults filled in) is echoed back as the response's <c>parameters</c>.
/// </summary>
public class Txt2ImgRequest
{
    [JsonPropertyName("prompt")] public string? Prompt { get; set; }
    [JsonPropertyName("negative_prompt")] public string? NegativePrompt { get; set; }
    [JsonPropertyName("styles")] public List<string>? Styles { get; set; }

    /// <summary>−1 picks a random seed; image <c>i</c> of the request uses seed + i.</summary>
    [JsonPropertyName("seed")] public long? Seed { get; set; }

    [JsonPropertyName("subseed")] public long? Subseed { get; set; }

    /// <summary>Variation seed strength in [0, 1]: the noise is slerped towards the subseed's noise as A1111 does.</summary>
    [JsonPropertyName("subseed_strength")] public double? SubseedStrength { get; set; }

    [JsonPropertyName("seed_resize_from_h")] public int? SeedResizeFromH { get; set; }
    [JsonPropertyName("seed_resize_from_w")] public int? SeedResizeFromW { get; set; }

    /// <summary>A1111 sampler name or alias (<c>Euler a</c>, <c>k_euler_a</c>, <c>DPM++ 2M Karras</c>, …).</summary>
    [JsonPropertyName("sampler_name")] public string? SamplerName { get; set; }

    /// <summary>Deprecated spelling of <see cref="SamplerName"/>; used when that is absent. Default <c>Euler</c>.</summary>
    [JsonPropertyName("sampler_index")] public string? SamplerIndex { get; set; }

    /// <summary>Schedule type: <c>Automatic</c> or <c>Karras</c> (label or lower-case name).</summary>
    [JsonPropertyName("scheduler")] public string? Scheduler { get; set; }

    [JsonPropertyName("batch_size")] public int? BatchSize { get; set; }
    [JsonPropertyName("n_iter")] public int? NIter { get; set; }
    [JsonPropertyName("steps")] public int? Steps { get; set; }
    [JsonPropertyName("cfg_scale")] public double? CfgScale { get; set; }

    /// <summary>Pixels; omitted means the model's native size.</summary>
    [JsonPropertyName("width")] public int? Width { get; set; }

    [JsonPropertyName("height")] public int? Height { get; set; }

    /// <summary>txt2img: the hires fix second pass's strength (A1111 default 0.7 there); ignored without <c>enable_hr</c>.</summary>
    [JsonPropertyName("denoising_strength")] public double? DenoisingStrength { get; set; }

    [JsonPropertyName("enable_hr")] public bool? EnableHr { get; set; }
    [JsonPropertyName("hr_scale")] public double? HrScale { get; set; }

    /// <summary>"Latent" (and its interpolation modes), a built-in resampler (Lanczos, Nearest, Bicubic) or a model in models/upscalers.</summary>
    [JsonPropertyName("hr_upscaler")] public string? HrUpscaler { get; set; }

    [JsonPropertyName("hr_second_pass_steps")] public int? HrSecondPassSteps { get; set; }
    [JsonPropertyName("hr_resize_x")] public int? HrResizeX { get; set; }
    [JsonPropertyName("hr_resize_y")] public int? HrResizeY { get; set; }
    [JsonPropertyName("hr_sampler_name")] public string? HrSamplerName { get; set; }
    [JsonPropertyName("hr_prompt")] public string? HrPrompt { get; set; }
    [JsonPropertyName("hr_negative_prompt")] public string? HrNegativePrompt { get; set; }

    [JsonPropertyName("refiner_checkpoint")] public string? RefinerCheckpoint { get; set; }
    [JsonPropertyName("refiner_switch_at")] public double? RefinerSwitchAt { get; set; }

    [JsonPropertyName("restore_faces")] public bool? RestoreFaces { get; set; }
    [JsonPropertyName("tiling")] public bool? Tiling { get; set; }

    /// <summary>Only <c>sd_model_checkpoint</c> is honoured (a title such as <c>name [hash]</c> or a plain name).</summary>
    [JsonPropertyName("override_settings")] public Dictionary<string, JsonElement>? OverrideSettings { get; set; }

    [JsonPropertyName("override_settings_restore_afterwards")] public bool? OverrideSettingsRestoreAfterwards { get; set; }
    [JsonPropertyName("send_images")] public bool? SendImages { get; set; }

    /// <summary>Also put the images in the gallery; the default is the <c>Api:SaveImagesByDefault</c> setting.</summary>
    [JsonPropertyName("save_images")] public bool? SaveImages { get; set; }
}

/// <summary>A1111's <c>StableDiffusionProcessingImg2Img</c> API model: txt2img's fields plus the init image.</summary>
public sealed class Img2ImgRequest : Txt2ImgRequest
{
    /// <summary>Base64 images, with or without a <c>data:image/...;base64,</c> prefix. Exactly one is supported.</summary>
    [JsonPropertyName("init_images")] public List<string>? InitImages { get; set; }

    /// <summary>Inpainting mask, base64 (white repaints). Resized to the image when its size differs, as A1111 does.</summary>
    [JsonPropertyName("mask")] public string? Mask { get; set; }

    [JsonPropertyName("mask_blur")] public int? MaskBlur { get; set; }

    /// <summary>0 fill (A1111's default), 1 original, 2 latent noise, 3 latent nothing.</summary>
    [JsonPropertyName("inpainting_fill")] public int? InpaintingFill { get; set; }

    /// <summary>0 or 1 (A1111 sends an int).</summary>
    [JsonPropertyName("inpainting_mask_invert")] public int? InpaintingMaskInvert { get; set; }

    [JsonPropertyName("initial_noise_multiplier")] public double? InitialNoiseMultiplier { get; set; }

    /// <summary>"Inpaint area: Only masked" — A1111's API default is true (its UI's is "Whole picture"); 0/1 accepted.</summary>
    [JsonPropertyName("inpaint_full_res")] public bool? InpaintFullRes { get; set; }

    /// <summary>Pixels around the mask's bounding box for "only masked"; A1111's API default 0.</summary>
    [JsonPropertyName("inpaint_full_res_padding")] public int? InpaintFullResPadding { get; set; }

    /// <summary>Outpainting (our fields): pixels added per side; the mask over the new border is generated.</summary>
    [JsonPropertyName("outpaint_left")] public int? OutpaintLeft { get; set; }
    [JsonPropertyName("outpaint_right")] public int? OutpaintRight { get; set; }
    [JsonPropertyName("outpaint_up")] public int? OutpaintUp { get; set; }
    [JsonPropertyName("outpaint_down")] public int? OutpaintDown { get; set; }

    /// <summary>A1111 scripts: only "Poor man's outpainting" (args: pixels, mask_blur, inpainting_fill, directions) is run.</summary>
    [JsonPropertyName("script_name")] public string? ScriptName { get; set; }
    [JsonPropertyName("script_args")] public List<JsonElement>? ScriptArgs { get; set; }

    [JsonPropertyName("resize_mode")] public int? ResizeMode { get; set; }
    [JsonPropertyName("include_init_images")] public bool? IncludeInitImages { get; set; }
}

/// <summary>Body of <c>POST /sdapi/v1/png-info</c>.</summary>
public sealed class PngInfoRequest
{
    /// <summary>Base64 PNG (JPEG and WebP with an EXIF UserComment work too), data-URL prefix allowed.</summary>
    [JsonPropertyName("image")] public string? Image { get; set; }
}
