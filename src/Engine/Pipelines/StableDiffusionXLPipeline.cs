using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Prompts;

namespace SdBlazor.Engine.Pipelines;

/// <summary>An SDXL request's text conditioning: per-step schedules (hidden states and pooled vectors) and the time ids.</summary>
public sealed record SdxlConditioning(PromptConditioning Conditional, PromptConditioning? Unconditional, AddedConditioning Added)
{
    /// <summary>The same texts at another size (hires fix's second pass): only the time ids depend on it.</summary>
    public SdxlConditioning AtSize(int width, int height) => this with
    {
        Added = Added with { TimeIds = StableDiffusionXLPipeline.TimeIds(width, height), NegativeTimeIds = StableDiffusionXLPipeline.TimeIds(width, height) },
    };
}

/// <summary>
/// SDXL conditioning as A1111's <c>sd_models_xl.get_learned_conditioning</c> builds it, which for a plain prompt is what
/// diffusers' <c>StableDiffusionXLPipeline.encode_prompt</c> builds: each text encoder is its own A1111 prompt encoder
/// (<see cref="PromptEncoder"/>: emphasis with its own mean, BREAK, 75-token chunks, prompt editing and alternation) on
/// its penultimate layer — CLIP-L <c>hidden_states[-2]</c>, OpenCLIP bigG <c>hidden_states[-2]</c> —, the two concatenated
/// per token on the feature axis (768 + 1280 = 2048); <c>text_embeds</c> is bigG's projected pooled output of each
/// scheduled text's first chunk; <c>time_ids</c> is original size ‖ crop top-left ‖ target size.
/// Denoising and decoding are the shared loop of <see cref="StableDiffusionPipeline"/>.
/// </summary>
/// <remarks>
/// Clip skip does not apply: A1111 conditions SDXL on the penultimate layers whatever <c>CLIP_stop_at_last_layers</c> says
/// (its <c>sdxl_clip_l_skip</c> option, off by default, is not offered).
/// </remarks>
public sealed class StableDiffusionXLPipeline(LoadedModel model)
{
    /// <summary>The pooled output of <c>text_encoder_2</c> (diffusers/optimum export name).</summary>
    public const string PooledOutput = "text_embeds";

    /// <summary>A1111's <c>sdxl_refiner_high_aesthetic_score</c> / <c>_low_</c> defaults (the prompt's and the negative prompt's).</summary>
    public const float HighAestheticScore = 6f, LowAestheticScore = 2.5f;

    /// <summary>
    /// A1111's API has no original-size or crop fields: original = target = the pass's size, crop (0, 0) (its
    /// <c>sdxl_crop_top/left</c> defaults). With guidance and an empty negative prompt on a model with
    /// <c>force_zeros_for_empty_prompt</c> (SDXL base) the negative conditioning is zeros (A1111's
    /// <c>force_zero_negative_prompt</c>, diffusers' <c>negative_prompt_embeds = zeros_like</c>).
    /// </summary>
    public SdxlConditioning Encode(string prompt, string? negativePrompt, int steps, PromptOptions options, bool guidance,
        int width, int height, RunOptions runOptions, ILogger logger, CancellationToken cancellationToken)
    {
        var clipL = new PromptEncoder(model.Tokenizer, options, ids => new EncodedWindow(StableDiffusionPipeline.RunCancellable(
            () => model.TextEncoder.EncodePenultimate(ids, null, runOptions, out _, out _), cancellationToken), null));
        var bigG = new PromptEncoder(model.Tokenizer2!, options, ids =>
        {
            float[]? pooled = null;
            var states = StableDiffusionPipeline.RunCancellable(
                () => model.TextEncoder2!.EncodePenultimate(ids, PooledOutput, runOptions, out _, out pooled), cancellationToken);
            return new EncodedWindow(states, pooled);
        });
        // The refiner's conditioner has bigG alone: its penultimate states are the whole context (1280 wide).
        var refiner = model.Folder.IsRefiner;
        PromptConditioning Both(string text) => refiner ? bigG.Encode(text, steps) : Concatenate(clipL.Encode(text, steps), bigG.Encode(text, steps), clipL, bigG);
        var conditional = Both(prompt);
        PromptConditioning? unconditional = null;
        if (guidance)
        {
            if (string.IsNullOrEmpty(negativePrompt) && model.Folder.ForceZerosForEmptyPrompt)
            {
                var zeros = new float[PromptChunker.WindowLength * conditional.Hidden];
                var pooledZeros = new float[conditional.Schedule[0].Pooled!.Length];
                unconditional = new PromptConditioning(PromptChunker.WindowLength, conditional.Hidden, [new ScheduledStates(int.MaxValue, zeros, pooledZeros)]);
            }
            else unconditional = Both(negativePrompt ?? "");
        }
        (conditional, unconditional) = TextConditioning.Fit(model, conditional, unconditional, () => refiner ? bigG.EmptyChunk() : EmptyChunk(clipL, bigG), logger);
        var added = refiner
            ? new AddedConditioning(conditional.Schedule[0].Pooled!, unconditional?.Schedule[0].Pooled,
                RefinerTimeIds(width, height, HighAestheticScore), RefinerTimeIds(width, height, LowAestheticScore))
            : new AddedConditioning(conditional.Schedule[0].Pooled!, unconditional?.Schedule[0].Pooled, TimeIds(width, height), TimeIds(width, height));
        return new SdxlConditioning(conditional, unconditional, added);
    }

    /// <summary>Both encoders' empty chunk side by side (padding for UNets that need equal token counts).</summary>
    private static float[] EmptyChunk(PromptEncoder clipL, PromptEncoder bigG) =>
        Interleave(clipL.EmptyChunk(), clipL.Hidden, bigG.EmptyChunk(), bigG.Hidden, PromptChunker.WindowLength);

    /// <summary>[original h, original w, crop top, crop left, target h, target w].</summary>
    public static float[] TimeIds(int width, int height) => [height, width, 0, 0, height, width];

    /// <summary>The refiner's: [original h, original w, crop top, crop left, aesthetic score] (sgm's refiner conditioner).</summary>
    public static float[] RefinerTimeIds(int width, int height, float aestheticScore) => [height, width, 0, 0, aestheticScore];

    /// <summary>
    /// sgm's <c>GeneralConditioner</c>: the embedders' cross-attention outputs concatenated on the last axis, entry by
    /// entry (both schedules come from the same prompt, so their entries line up); the vector from bigG's pooled output.
    /// </summary>
    private static PromptConditioning Concatenate(PromptConditioning l, PromptConditioning g, PromptEncoder clipL, PromptEncoder bigG)
    {
        // The two tokenizers share CLIP's BPE, so the chunk counts agree; pad defensively if a vocabulary ever differs.
        var chunks = Math.Max(l.Chunks, g.Chunks);
        l = l.PadTo(chunks, clipL.EmptyChunk());
        g = g.PadTo(chunks, bigG.EmptyChunk());
        if (l.Schedule.Count != g.Schedule.Count)
            throw new InvalidOperationException($"SDXL: the text encoders scheduled {l.Schedule.Count} and {g.Schedule.Count} prompts.");
        var entries = l.Schedule.Select((e, i) => new ScheduledStates(e.EndAtStep,
            Interleave(e.States, l.Hidden, g.Schedule[i].States, g.Hidden, l.Tokens), g.Schedule[i].Pooled
                ?? throw new NotSupportedException($"text_encoder_2: no pooled output '{PooledOutput}'."))).ToList();
        return new PromptConditioning(l.Tokens, l.Hidden + g.Hidden, entries);
    }

    private static float[] Interleave(float[] a, int widthA, float[] b, int widthB, int tokens)
    {
        var hidden = widthA + widthB;
        var result = new float[tokens * hidden];
        for (var t = 0; t < tokens; t++)
        {
            a.AsSpan(t * widthA, widthA).CopyTo(result.AsSpan(t * hidden, widthA));
            b.AsSpan(t * widthB, widthB).CopyTo(result.AsSpan(t * hidden + widthA, widthB));
        }
        return result;
    }
}
