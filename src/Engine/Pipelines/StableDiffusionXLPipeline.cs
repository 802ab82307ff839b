using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Tokenization;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// SDXL as diffusers' <c>StableDiffusionXLPipeline</c> does it: the prompt goes through both text encoders, the
/// UNet's <c>encoder_hidden_states</c> are CLIP-L's <c>hidden_states[-2]</c> ‖ OpenCLIP bigG's <c>hidden_states[-2]</c>
/// (concatenated per token on the feature axis: 768 + 1280 = 2048), <c>text_embeds</c> is bigG's projected pooled
/// output and <c>time_ids</c> is original size ‖ crop top-left ‖ target size. Denoising and decoding are the shared
/// loop of <see cref="StableDiffusionPipeline"/>, which passes the added conditioning through to the UNet.
/// </summary>
public sealed class StableDiffusionXLPipeline(LoadedModel model)
{
    /// <summary>The pooled output of <c>text_encoder_2</c> (diffusers/optimum export name).</summary>
    public const string PooledOutput = "text_embeds";

    /// <summary>
    /// Conditioning for one request. A1111's API has no original-size or crop fields: original = target size, crop (0, 0),
    /// as A1111 sends by default. With guidance and an empty negative prompt on a model with
    /// <c>force_zeros_for_empty_prompt</c> (SDXL base), the negative embeddings are zeros, as diffusers does.
    /// </summary>
    public PromptEmbeddings EncodePrompts(string prompt, string? negativePrompt, bool guidance, int width, int height,
        RunOptions runOptions, CancellationToken cancellationToken)
    {
        var conditional = Encode(prompt, runOptions, cancellationToken, out var hidden, out var pooled);
        float[] timeIds = [height, width, 0, 0, height, width];
        float[]? unconditional = null, negativePooled = null;
        if (guidance)
        {
            if (string.IsNullOrEmpty(negativePrompt) && model.Folder.ForceZerosForEmptyPrompt)
            {
                unconditional = new float[conditional.Length];
                negativePooled = new float[pooled.Length];
            }
            else unconditional = Encode(negativePrompt ?? "", runOptions, cancellationToken, out _, out negativePooled);
        }
        return new PromptEmbeddings(conditional, unconditional, ClipTokenizer.ContextLength, hidden,
            new AddedConditioning(pooled, negativePooled, timeIds, timeIds));
    }

    /// <summary>Both encoders on one prompt: [tokens × (hidden₁ + hidden₂)] and bigG's pooled projection.</summary>
    private float[] Encode(string prompt, RunOptions runOptions, CancellationToken cancellationToken, out int hidden, out float[] pooled)
    {
        var ids1 = model.Tokenizer.Encode(prompt);
        var ids2 = model.Tokenizer2!.Encode(prompt);
        int width1 = 0, width2 = 0;
        float[]? pooled2 = null;
        var states1 = StableDiffusionPipeline.RunCancellable(
            () => model.TextEncoder.EncodePenultimate(ids1, null, runOptions, out width1, out _), cancellationToken);
        var states2 = StableDiffusionPipeline.RunCancellable(
            () => model.TextEncoder2!.EncodePenultimate(ids2, PooledOutput, runOptions, out width2, out pooled2), cancellationToken);
        var tokens = ids1.Length;
        Debug.Assert(ids2.Length == tokens);
        hidden = width1 + width2;
        var result = new float[tokens * hidden];
        for (var t = 0; t < tokens; t++)
        {
            states1.AsSpan(t * width1, width1).CopyTo(result.AsSpan(t * hidden, width1));
            states2.AsSpan(t * width2, width2).CopyTo(result.AsSpan(t * hidden + width1, width2));
        }
        pooled = pooled2!;
        return result;
    }
}
