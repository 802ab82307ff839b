namespace SdBlazor.Shared;

/// <summary>
/// What a user asks for, from any front end (Blazor page, SignalR hub, REST API).
/// Sizes are pixels; <c>null</c> width/height mean the model's native size.
/// Seed −1 means "pick a random seed" (the resolved seed is reported back); image <c>i</c> of a batch uses seed + i.
/// </summary>
public sealed record GenerationRequest
{
    public string Prompt { get; init; } = "";
    public string NegativePrompt { get; init; } = "";

    /// <summary>Model folder name; <c>null</c> selects the configured default model.</summary>
    public string? Model { get; init; }

    /// <summary>A1111 sampler name: Euler, Euler a, DDIM, LMS, Heun, DPM++ 2M, DPM++ 2M SDE, LCM (old "… Karras" spellings accepted).</summary>
    public string Sampler { get; init; } = "Euler";

    /// <summary>A1111 schedule type: Automatic or Karras.</summary>
    public string ScheduleType { get; init; } = "Automatic";

    public int Steps { get; init; } = 20;
    public double CfgScale { get; init; } = 7.5;
    public long Seed { get; init; } = -1;
    public int? Width { get; init; }
    public int? Height { get; init; }

    /// <summary>Images per UNet batch.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>How many batches to run one after another.</summary>
    public int BatchCount { get; init; } = 1;

    /// <summary>img2img: the init image as encoded bytes (PNG, JPEG or WebP); <c>null</c> for txt2img.</summary>
    public byte[]? InitImage { get; init; }

    /// <summary>img2img denoising strength in [0, 1].</summary>
    public double Strength { get; init; } = 0.75;

    /// <summary>
    /// A1111's <c>CLIP_stop_at_last_layers</c> ("Clip skip"): 1 uses the text encoder's last layer, N the N-th layer from
    /// the end followed by the final layer norm (1–12).
    /// </summary>
    public int ClipSkip { get; init; } = 1;

    /// <summary>
    /// A1111's <c>emphasis</c> setting: "Original" (weights from <c>(text:1.2)</c> applied, mean restored), "No norm",
    /// "Ignore" (syntax removed, weights not applied) or "None" (brackets are literal text).
    /// </summary>
    public string Emphasis { get; init; } = "Original";
    /// <summary>Variation seed (A1111 <c>subseed</c>); −1 picks a random one. Image <c>i</c> uses subseed + i.</summary>
    public long Subseed { get; init; } = -1;

    /// <summary>How far the starting noise moves towards the variation seed's noise (slerp), in [0, 1]; 0 is off.</summary>
    public double SubseedStrength { get; init; }

    /// <summary>A1111 "resize seed from": the seed's noise as it would be at this size (pixels), centred; 0 is off (both needed).</summary>
    public int SeedResizeFromWidth { get; init; }

    public int SeedResizeFromHeight { get; init; }

    /// <summary>Hires fix (txt2img only): first pass at Width×Height, upscale, then an img2img pass at <see cref="Strength"/>.</summary>
    public bool EnableHr { get; init; }

    /// <summary>Hires target as a factor of the first pass; ignored when <see cref="HrResizeX"/>/<see cref="HrResizeY"/> are set.</summary>
    public double HrScale { get; init; } = 2;

    /// <summary>Hires target size in pixels (0: from <see cref="HrScale"/>; one side 0: kept in proportion).</summary>
    public int HrResizeX { get; init; }

    public int HrResizeY { get; init; }

    /// <summary>A1111 upscaler name: "Latent" (and its "(nearest)", "(bicubic)", "(antialiased)" … modes) or an image upscaler.</summary>
    public string HrUpscaler { get; init; } = "Latent";

    /// <summary>Second-pass steps; 0 uses <see cref="Steps"/>.</summary>
    public int HrSecondPassSteps { get; init; }

    /// <summary>Second-pass sampler; null or empty uses <see cref="Sampler"/>.</summary>
    public string? HrSampler { get; init; }

    /// <summary>Second-pass prompts; null or empty use the first pass's.</summary>
    public string? HrPrompt { get; init; }

    public string? HrNegativePrompt { get; init; }

    /// <summary>SDXL refiner (A1111's <c>refiner_checkpoint</c>): a model name; null, empty or "None": no refiner.</summary>
    public string? RefinerCheckpoint { get; init; }

    /// <summary>Fraction of the denoising after which the refiner takes over (A1111's <c>refiner_switch_at</c>; its UI's default 0.8).</summary>
    public double RefinerSwitchAt { get; init; } = 0.8;

    /// <summary>Inpainting (img2img only): the mask as encoded bytes; white repaints, black keeps (A1111's convention).</summary>
    public byte[]? Mask { get; init; }

    /// <summary>Gaussian blur of the mask in pixels (A1111's <c>mask_blur</c>, default 4).</summary>
    public int MaskBlur { get; init; } = 4;

    /// <summary>What the masked area starts from: 0 fill, 1 original, 2 latent noise, 3 latent nothing (A1111's <c>inpainting_fill</c>).</summary>
    public int InpaintingFill { get; init; } = 1;

    /// <summary>Repaint the black area instead of the white one.</summary>
    public bool InpaintingMaskInvert { get; init; }

    /// <summary>
    /// Outpainting (img2img only): pixels added to each side of the init image. The canvas (rounded up to a multiple of
    /// 64, as A1111) becomes the generation size and an inpaint mask over the new border is generated; <see cref="Mask"/> must be unset.
    /// </summary>
    public int OutpaintLeft { get; init; }

    public int OutpaintRight { get; init; }

    public int OutpaintUp { get; init; }

    public int OutpaintDown { get; init; }

    /// <summary>
    /// "Inpaint area: Only masked" (A1111's <c>inpaint_full_res</c>): only the mask's bounding box plus
    /// <see cref="InpaintFullResPadding"/> is generated, at Width×Height, and pasted back; the result keeps the init image's size.
    /// </summary>
    public bool InpaintFullRes { get; init; }

    /// <summary>Pixels added around the mask's bounding box for "only masked" (A1111's <c>inpaint_full_res_padding</c>).</summary>
    public int InpaintFullResPadding { get; init; } = 32;

    /// <summary>
    /// Inpainting models only (UNet with 9 input channels): how much of the image under the mask the model is shown,
    /// 1 = nothing (A1111's <c>inpainting_mask_weight</c>, "Inpainting conditioning mask strength"; default 1).
    /// </summary>
    public double InpaintingMaskWeight { get; init; } = 1;

    /// <summary>Multiplies the img2img starting noise (A1111's <c>initial_noise_multiplier</c>, "Noise multiplier").</summary>
    public double InitialNoiseMultiplier { get; init; } = 1;
}
