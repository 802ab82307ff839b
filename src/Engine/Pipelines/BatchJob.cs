namespace SdBlazor.Engine.Pipelines;

/// <summary>One UNet batch of a request: which images, their seeds, and the shared text conditioning.</summary>
/// <param name="FirstImageIndex">Index of the batch's first image within the whole request.</param>
/// <param name="Seeds">One per image: resolved seed + image index (A1111 semantics).</param>
/// <param name="Conditional">Prompt hidden states [tokens × hidden].</param>
/// <param name="Unconditional">Negative-prompt hidden states; <c>null</c> without classifier-free guidance.</param>
/// <param name="InitLatentsMoments">img2img: the VAE encoder output for the init image (latents, or mean ‖ logvar); <c>null</c> for txt2img.</param>
public sealed record BatchJob(
    int BatchIndex,
    int FirstImageIndex,
    IReadOnlyList<long> Seeds,
    float[] Conditional,
    float[]? Unconditional,
    int Tokens,
    int Hidden,
    float[]? InitLatentsMoments,
    int InitLatentsChannels)
{
    /// <summary>SDXL's pooled text embeddings and time ids; null for SD 1.x/2.x.</summary>
    public AddedConditioning? Added { get; init; }

    /// <summary>Prompt editing / alternation / long prompts: the prompt's conditioning per step; null: <see cref="Conditional"/> throughout.</summary>
    public Prompts.PromptConditioning? ConditionalSchedule { get; init; }

    /// <summary>The same for the negative prompt (its token count may differ: then the UNet runs the halves separately).</summary>
    public Prompts.PromptConditioning? UnconditionalSchedule { get; init; }
    /// <summary>Variation seeds, one per image (resolved subseed + image index); null without variation.</summary>
    public IReadOnlyList<long>? Subseeds { get; init; }

    public Randomness.VariationSettings? Variation { get; init; }

    /// <summary>Inpainting with an ordinary model: the mask whose kept area is reset after every step; null otherwise.</summary>
    public InpaintMask? Inpaint { get; init; }

    /// <summary>A1111 "masked content": 0 fill and 1 original change the image before encoding; 2 latent noise, 3 latent nothing change the latents.</summary>
    public int InpaintingFill { get; init; } = 1;

    /// <summary>A 9-channel inpainting UNet's conditioning [mask, masked-image latents] = [5, h/8, w/8], the same for every image; null for ordinary UNets.</summary>
    public float[]? ImageConditioning { get; init; }

    /// <summary>img2img: the starting noise is scaled by this (A1111's <c>initial_noise_multiplier</c>).</summary>
    public float NoiseMultiplier { get; init; } = 1;

    /// <summary>SDXL refiner: where the rest of the steps move to another model; null without one.</summary>
    public RefinerHandOff? Refiner { get; init; }

    /// <summary>This job with another model's SDXL conditioning (the refiner's after the hand-off).</summary>
    public BatchJob WithConditioning(SdxlConditioning c) => this with
    {
        Conditional = c.Conditional.Schedule[0].States,
        Unconditional = c.Unconditional?.Schedule[0].States,
        Tokens = c.Conditional.Tokens,
        Hidden = c.Conditional.Hidden,
        ConditionalSchedule = c.Conditional,
        UnconditionalSchedule = c.Unconditional,
        Added = c.Added,
    };
}

/// <summary>
/// A1111's refiner (<c>sd_samplers_common.apply_refiner</c>): at the first model call whose completed ratio
/// <c>(999 − timestep) / 1000</c> reaches <paramref name="SwitchAt"/>, the sampler goes on with the latents it has
/// on another model. <paramref name="Enter"/> loads it and returns its conditioning for the request.
/// </summary>
public sealed record RefinerHandOff(double SwitchAt, Func<CancellationToken, (LoadedModel Model, SdxlConditioning Conditioning)> Enter)
{
    /// <remarks>A1111 finds the timestep as the index of the nearest sigma; the schedulers' timesteps here are that index (rounded for interpolated ones).</remarks>
    public static bool Reached(float timestep, double switchAt) => (999 - Math.Round(timestep)) / 1000 >= switchAt;
}
