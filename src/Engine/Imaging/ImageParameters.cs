namespace SdBlazor.Engine.Imaging;

/// <summary>
/// Everything needed to make an image again, as stored in our own PNG chunk (lossless) and, as far as the
/// format allows, in the AUTOMATIC1111 <c>parameters</c> text. Sizes are pixels; <see cref="Strength"/> is the
/// img2img denoising strength in [0, 1] (null for txt2img).
/// </summary>
public sealed record ImageParameters
{
    public string Prompt { get; init; } = "";
    public string NegativePrompt { get; init; } = "";
    public long Seed { get; init; }
    public int Steps { get; init; }
    public double CfgScale { get; init; }

    /// <summary>A1111 sampler name, e.g. <c>Euler a</c>, <c>DPM++ 2M</c>.</summary>
    public string Sampler { get; init; } = "";

    /// <summary>A1111 schedule type: <c>Automatic</c>, <c>Karras</c>, …</summary>
    public string ScheduleType { get; init; } = "Automatic";

    public int Width { get; init; }
    public int Height { get; init; }
    public string? Model { get; init; }

    /// <summary>SHA-256 of the model (hex); A1111's "Model hash" is its first 10 characters.</summary>
    public string? ModelSha256 { get; init; }

    /// <summary>The short hash as written in infotext; kept separately because foreign images carry only this.</summary>
    public string? ModelHash { get; init; }

    /// <summary>The scheduler's resolved <c>scheduler_config.json</c> (JSON text).</summary>
    public string? SchedulerConfig { get; init; }

    /// <summary>Noise source, e.g. <c>CPU</c> (torch-compatible CPU generator); A1111 writes <c>RNG</c> only when not GPU.</summary>
    public string? Rng { get; init; }

    public string? EngineVersion { get; init; }
    public string? ExecutionProvider { get; init; }
    public TimeSpan? Duration { get; init; }
    public double? Strength { get; init; }

    /// <summary>A1111's "Clip skip" (<c>CLIP_stop_at_last_layers</c>); 1 when absent.</summary>
    public int ClipSkip { get; init; } = 1;

    /// <summary>A1111's "Emphasis" mode; "Original" when absent.</summary>
    public string Emphasis { get; init; } = "Original";
    /// <summary>A1111 "Variation seed" of this image (subseed + image index); null when the strength is 0.</summary>
    public long? Subseed { get; init; }

    /// <summary>A1111 "Variation seed strength"; null or 0 is off.</summary>
    public double? SubseedStrength { get; init; }

    /// <summary>A1111 "Seed resize from" (pixels); null when off.</summary>
    public int? SeedResizeFromWidth { get; init; }

    public int? SeedResizeFromHeight { get; init; }

    /// <summary>Hires fix of a txt2img image (Width/Height are then the first pass's size, as A1111 writes them).</summary>
    public HiresSettings? Hires { get; init; }

    /// <summary>Inpainting: A1111's "Mask blur" (null without a mask).</summary>
    public int? MaskBlur { get; init; }

    /// <summary>A1111's "Conditional mask weight" (inpainting models; null otherwise).</summary>
    public double? ConditionalMaskWeight { get; init; }

    /// <summary>"Inpaint area: Only masked" with this "Masked area padding"; null for the whole picture.</summary>
    public int? MaskedAreaPadding { get; init; }

    /// <summary>A1111's "Noise multiplier" of img2img (null when 1).</summary>
    public double? NoiseMultiplier { get; init; }

    /// <summary>A1111's "Refiner" ("name [short hash]") and "Refiner switch at", when a refiner took over.</summary>
    public string? Refiner { get; init; }

    public double? RefinerSwitchAt { get; init; }

    /// <summary>Gallery id of the init image of an img2img generation.</summary>
    public string? ParentId { get; init; }

    /// <summary>A1111's short model hash (first 10 hex characters of the SHA-256), or the stored short hash.</summary>
    public string? ShortModelHash =>
        ModelSha256 is { Length: >= 10 } sha ? sha[..10].ToLowerInvariant() : ModelHash;
}
