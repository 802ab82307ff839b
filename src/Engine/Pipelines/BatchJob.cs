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
}
