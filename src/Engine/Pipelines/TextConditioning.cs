using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Prompts;
using SdBlazor.Shared;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// The request's prompts as UNet conditioning (A1111 syntax, chunks, weights, clip skip), fitted to what the UNet takes.
/// </summary>
/// <remarks>
/// Different chunk counts for prompt and negative prompt: A1111's default is separate UNet passes for the two halves
/// (<see cref="UNetConditioning"/> does that). Where a shape change is expensive — a UNet with a fixed batch, or
/// DirectML's session per shape — the shorter one is padded with the empty prompt's chunk instead, as A1111's
/// <c>pad_cond_uncond</c> option does. A UNet exported with a fixed token axis (the embedded default model takes
/// exactly 77) cannot see more than its chunks: the rest is dropped with a warning in the log.
/// </remarks>
internal static class TextConditioning
{
    public static (PromptConditioning Conditional, PromptConditioning? Unconditional) Encode(LoadedModel model, GenerationRequest request,
        bool guidance, RunOptions runOptions, ILogger logger, CancellationToken cancellationToken)
    {
        var options = Options(request);
        var encoder = new PromptEncoder(model.Tokenizer, options, ids =>
            StableDiffusionPipeline.RunCancellable(() => model.TextEncoder.Encode(ids, runOptions, options.ClipSkip, out _), cancellationToken));
        var conditional = encoder.Encode(request.Prompt, request.Steps);
        var unconditional = guidance ? encoder.Encode(request.NegativePrompt ?? "", request.Steps) : null;
        return Fit(model, conditional, unconditional, encoder.EmptyChunk, logger);
    }

    public static PromptOptions Options(GenerationRequest request)
    {
        EmphasisModes.TryParse(request.Emphasis, out var emphasis);
        return new PromptOptions(emphasis, request.ClipSkip);
    }

    /// <summary>Fits both conditionings to the UNet's token axis; <paramref name="emptyChunk"/> is the empty prompt's [77 × hidden] encoding.</summary>
    public static (PromptConditioning Conditional, PromptConditioning? Unconditional) Fit(LoadedModel model, PromptConditioning conditional,
        PromptConditioning? unconditional, Func<float[]> emptyChunk, ILogger logger)
    {
        var unet = model.UNet;
        if (unet.FixedSequenceLength is { } fixedTokens)
        {
            var chunks = Math.Max(1, fixedTokens / PromptChunker.WindowLength);
            if (conditional.Chunks > chunks || unconditional?.Chunks > chunks)
                logger.LogWarning("The UNet of {Model} takes exactly {Tokens} tokens: only the first {Chunks} chunk(s) of 75 tokens of the prompt ({Prompt} chunks) and negative prompt ({Negative} chunks) are used.",
                    model.Folder.Name, fixedTokens, chunks, conditional.Chunks, unconditional?.Chunks ?? 0);
            conditional = conditional.Truncate(chunks);
            unconditional = unconditional?.Truncate(chunks);
            if (conditional.Chunks < chunks || unconditional?.Chunks < chunks)
            {
                var empty = emptyChunk();
                conditional = conditional.PadTo(chunks, empty);
                unconditional = unconditional?.PadTo(chunks, empty);
            }
        }
        else if (unconditional is not null && unconditional.Chunks != conditional.Chunks && (unet.FixesShapes || unet.FixedBatch is not null))
        {
            var empty = emptyChunk();
            var chunks = Math.Max(conditional.Chunks, unconditional.Chunks);
            conditional = conditional.PadTo(chunks, empty);
            unconditional = unconditional.PadTo(chunks, empty);
        }
        return (conditional, unconditional);
    }
}
