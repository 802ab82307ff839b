using System.Numerics.Tensors;
using SdBlazor.Engine.Tokenization;

namespace SdBlazor.Engine.Prompts;

/// <summary>One window through a text encoder: [77 × hidden] states and, for an encoder with one, its pooled output.</summary>
public sealed record EncodedWindow(float[] States, float[]? Pooled);

/// <summary>Per-request prompt settings, A1111 names in the comments.</summary>
/// <param name="Emphasis"><c>emphasis</c>.</param>
/// <param name="ClipSkip"><c>CLIP_stop_at_last_layers</c>: 1 = last layer; N = N-th layer from the end, then the final layer norm.</param>
/// <param name="CommaPaddingBacktrack"><c>comma_padding_backtrack</c>.</param>
public sealed record PromptOptions(
    EmphasisMode Emphasis = EmphasisMode.Original,
    int ClipSkip = 1,
    int CommaPaddingBacktrack = PromptChunker.DefaultCommaPaddingBacktrack)
{
    public static PromptOptions Default { get; } = new();
}

/// <summary>
/// Prompt → conditioning as A1111 does it (<c>get_learned_conditioning</c> → <c>FrozenCLIPEmbedderWithCustomWords.forward</c>):
/// the prompt's schedule, each scheduled text in 75-token chunks, chunk <c>i</c> of every scheduled text encoded
/// (a text with fewer chunks contributes an empty chunk), weights applied to the encoder output with the mean of the
/// whole chunk batch restored (emphasis "Original"), chunks concatenated along the tokens.
/// Identical windows are encoded once per request.
/// </summary>
/// <remarks>
/// An encoder with a pooled output (SDXL's OpenCLIP bigG) gives every scheduled entry the pooled vector of its first
/// chunk, taken before emphasis: A1111's <c>FrozenCLIPEmbedderWithCustomWordsBase.forward</c> returns
/// <c>zs[0].pooled</c>, and <c>process_tokens</c> keeps the encoder's pooled output as it came.
/// </remarks>
public sealed class PromptEncoder
{
    private readonly PromptOptions _options;
    private readonly Func<int[], IReadOnlyList<EmbeddingFix>?, EncodedWindow> _encodeWindow;
    private readonly PromptChunker _chunker;
    private readonly Dictionary<string, EncodedWindow> _encoded = [];

    /// <param name="encodeWindow">Runs the text encoder on one 77-id window; returns [77 × hidden].</param>
    public PromptEncoder(ClipTokenizer tokenizer, PromptOptions options, Func<int[], float[]> encodeWindow)
        : this(tokenizer, options, EncodedWindow (int[] ids, IReadOnlyList<EmbeddingFix>? _) => new EncodedWindow(encodeWindow(ids), null), null)
    {
    }

    /// <param name="encodeWindow">Runs the text encoder on one 77-id window; returns [77 × hidden] and the pooled output, if any.</param>
    public PromptEncoder(ClipTokenizer tokenizer, PromptOptions options, Func<int[], EncodedWindow> encodeWindow)
        : this(tokenizer, options, EncodedWindow (int[] ids, IReadOnlyList<EmbeddingFix>? _) => encodeWindow(ids), null)
    {
    }

    /// <param name="encodeWindow">Runs the text encoder on one 77-id window, with the embedding vectors that replace some
    /// of its token embeddings (null: none); returns [77 × hidden].</param>
    /// <param name="embeddings">Textual inversions the prompts may name (null: none).</param>
    public PromptEncoder(ClipTokenizer tokenizer, PromptOptions options, Func<int[], IReadOnlyList<EmbeddingFix>?, float[]> encodeWindow,
        EmbeddingLookup? embeddings = null)
        : this(tokenizer, options, EncodedWindow (int[] ids, IReadOnlyList<EmbeddingFix>? fixes) => new EncodedWindow(encodeWindow(ids, fixes), null), embeddings)
    {
    }

    /// <param name="encodeWindow">Runs the text encoder on one 77-id window with its embedding vectors (null: none); returns [77 × hidden] and the pooled output, if any.</param>
    /// <param name="embeddings">Textual inversions the prompts may name (null: none).</param>
    public PromptEncoder(ClipTokenizer tokenizer, PromptOptions options, Func<int[], IReadOnlyList<EmbeddingFix>?, EncodedWindow> encodeWindow,
        EmbeddingLookup? embeddings)
    {
        _options = options;
        _encodeWindow = encodeWindow;
        _chunker = new PromptChunker(tokenizer, options.CommaPaddingBacktrack, embeddings);
    }

    public int Hidden { get; private set; }

    public PromptConditioning Encode(string prompt, int steps)
    {
        var schedule = PromptSchedule.Schedule(prompt, steps);
        var chunked = new Dictionary<string, ChunkedPrompt>();
        var entries = schedule.Select(e =>
        {
            if (!chunked.TryGetValue(e.Text, out var c)) chunked[e.Text] = c = _chunker.Chunk(e.Text, _options.Emphasis);
            return c;
        }).ToList();
        var chunkCount = entries.Max(e => e.Chunks.Count);

        float[][]? states = null;
        float[]?[] pooled = new float[]?[entries.Count];
        int window = 0;
        for (var i = 0; i < chunkCount; i++)
        {
            var batch = entries.Select(e => i < e.Chunks.Count ? e.Chunks[i] : _chunker.EmptyChunk()).ToList();
            var encoded = batch.Select(chunk => EncodeWindow(chunk.Tokens, chunk.Fixes)).ToList();
            if (i == 0) pooled = encoded.Select(e => e.Pooled).ToArray();
            var z = encoded.Select(e => (float[])e.States.Clone()).ToList();
            if (states is null)
            {
                window = z[0].Length;
                states = schedule.Select(_ => new float[chunkCount * window]).ToArray();
            }
            ApplyEmphasis(batch, z, _options.Emphasis, Hidden);
            for (var b = 0; b < z.Count; b++) z[b].CopyTo(states[b], i * window);
        }
        return new PromptConditioning(chunkCount * PromptChunker.WindowLength, Hidden,
            schedule.Select((e, b) => new ScheduledStates(e.EndAtStep, states![b], pooled[b])).ToList());
    }

    /// <summary>The empty prompt's single chunk, for padding (A1111 <c>cond_stage_model_empty_prompt</c>).</summary>
    public float[] EmptyChunk() => EncodeWindow(_chunker.EmptyChunk().Tokens, null).States;

    private EncodedWindow EncodeWindow(int[] ids, IReadOnlyList<EmbeddingFix>? fixes)
    {
        var key = string.Join(',', ids);
        if (fixes is { Count: > 0 }) key += ";" + string.Join(',', fixes.Select(f => $"{f.Position}={f.Name}"));
        if (_encoded.TryGetValue(key, out var cached)) return cached;
        var encoded = _encodeWindow(ids, fixes);
        if (encoded.States.Length % ids.Length != 0)
            throw new NotSupportedException($"text_encoder: {encoded.States.Length} values for {ids.Length} tokens.");
        Hidden = encoded.States.Length / ids.Length;
        _encoded[key] = encoded;
        return encoded;
    }

    /// <summary>
    /// A1111 <c>sd_emphasis</c>: "Original" multiplies each token's vector by its weight and rescales the batch by
    /// <c>original_mean / new_mean</c>; "No norm" only multiplies. Skipped when every weight is 1 (a no-op then: the
    /// product and the means are unchanged, so the images stay byte-identical to an unweighted encode).
    /// </summary>
    internal static void ApplyEmphasis(IReadOnlyList<PromptChunk> batch, IReadOnlyList<float[]> z, EmphasisMode mode, int hidden)
    {
        if (mode is not (EmphasisMode.Original or EmphasisMode.NoNorm)) return;
        if (batch.All(c => c.AllWeightsOne)) return;
        var originalMean = Mean(z);
        for (var b = 0; b < z.Count; b++)
        {
            var multipliers = batch[b].Multipliers;
            for (var t = 0; t < multipliers.Length; t++)
                TensorPrimitives.Multiply(z[b].AsSpan(t * hidden, hidden), multipliers[t], z[b].AsSpan(t * hidden, hidden));
        }
        if (mode == EmphasisMode.NoNorm) return;
        var newMean = Mean(z);
        // A zero mean after weighting (all weights 0) would give NaN in A1111; keep the weighted values instead.
        if (newMean == 0f || !float.IsFinite(newMean)) return;
        var scale = originalMean / newMean;
        foreach (var item in z) TensorPrimitives.Multiply(item, scale, item);
    }

    private static float Mean(IReadOnlyList<float[]> z)
    {
        double sum = 0;
        long count = 0;
        foreach (var item in z)
        {
            foreach (var v in item) sum += v;
            count += item.Length;
        }
        return (float)(sum / count);
    }
}
