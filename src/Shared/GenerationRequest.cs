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
}
