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
    /// <param name="embeddings">Textual inversions the prompts may name; null: none.</param>
    /// <param name="warnings">Receives what the result's info should tell (embeddings that do not fit this model).</param>
    public static (PromptConditioning Conditional, PromptConditioning? Unconditional) Encode(LoadedModel model, GenerationRequest request,
        bool guidance, RunOptions runOptions, ILogger logger, CancellationToken cancellationToken,
        EmbeddingLibrary? embeddings = null, ICollection<string>? warnings = null)
    {
        var options = Options(request);
        var lookup = Embeddings(model, request, guidance, options, embeddings, runOptions, logger, warnings, cancellationToken);
        var encoder = new PromptEncoder(model.Tokenizer, options, (ids, fixes) =>
            StableDiffusionPipeline.RunCancellable(() => model.TextEncoder.Encode(ids, runOptions, options.ClipSkip, fixes, out _), cancellationToken),
            lookup);
        var conditional = encoder.Encode(request.Prompt, request.Steps);
        var unconditional = guidance ? encoder.Encode(request.NegativePrompt ?? "", request.Steps) : null;
        // The hires pass encodes again: its warning would repeat the first pass's.
        if (lookup.WrongWidthWarning() is { } wrongWidth && warnings?.Contains(wrongWidth) == false) warnings.Add(wrongWidth);
        if (lookup.Used.Count > 0) logger.LogInformation("Textual inversion(s) used: {Embeddings}", string.Join(", ", lookup.Used));
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

    /// <summary>
    /// The embeddings the prompts can name on this model (by the text encoder's width, known from a run of the empty
    /// prompt). The edited encoder session that takes vectors is only created when a prompt names an embedding.
    /// </summary>
    private static EmbeddingLookup Embeddings(LoadedModel model, GenerationRequest request, bool guidance, PromptOptions options,
        EmbeddingLibrary? library, RunOptions runOptions, ILogger logger, ICollection<string>? warnings, CancellationToken cancellationToken)
    {
        if (library is null) return EmbeddingLookup.Empty;
        var (all, _) = library.Scan();
        if (all.Count == 0) return EmbeddingLookup.Empty;
        var width = model.TextEncoder.KnownHidden ?? StableDiffusionPipeline.RunCancellable(() =>
        {
            model.TextEncoder.Encode(model.Tokenizer.Encode(""), runOptions, out var hidden);
            return hidden;
        }, cancellationToken);
        var lookup = library.Lookup(model.Tokenizer, "", width);
        // A dry run of the chunker tells whether any usable name is written, before the edited session is made.
        var probe = library.Lookup(model.Tokenizer, "", width);
        var chunker = new PromptChunker(model.Tokenizer, options.CommaPaddingBacktrack, probe);
        foreach (var text in PromptSchedule.Schedule(request.Prompt, request.Steps).Concat(guidance ? PromptSchedule.Schedule(request.NegativePrompt ?? "", request.Steps) : []))
            chunker.Chunk(text.Text, options.Emphasis);
        if (probe.Used.Count == 0) return lookup;
        try
        {
            var tableWidth = model.TextEncoder.EmbeddingWidth;
            if (tableWidth != width) throw new NotSupportedException($"its token table is {tableWidth} wide but its output {width}");
            return lookup;
        }
        catch (NotSupportedException ex)
        {
            logger.LogWarning("{Model}: embeddings cannot be injected: {Problem}", model.Folder.Name, ex.Message);
            var warning = $"Embedding(s) {string.Join(", ", probe.Used.Select(n => $"'{n}'"))} cannot be used with the text encoder of {model.Folder.Name} ({ex.Message}); the names were read as words.";
            if (warnings?.Contains(warning) == false) warnings.Add(warning);
            return EmbeddingLookup.Empty;
        }
    }
}
