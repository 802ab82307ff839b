using SdBlazor.Engine.Tokenization;

namespace SdBlazor.Engine.Prompts;

/// <summary>One text-encoder window: start token, 75 prompt tokens (padded), end token, with a weight per token.</summary>
/// <param name="Tokens">77 ids, padded as the model's tokenizer pads (SD 2.x: pad id after the first end token).</param>
/// <param name="Multipliers">77 weights; 1 for start, end and padding.</param>
/// <param name="Fixes">Textual-inversion vectors that replace the token embeddings at their window positions (A1111 <c>chunk.fixes</c>).</param>
public sealed record PromptChunk(int[] Tokens, float[] Multipliers, IReadOnlyList<EmbeddingFix>? Fixes = null)
{
    public bool HasFixes => Fixes is { Count: > 0 };

    public bool AllWeightsOne => Array.TrueForAll(Multipliers, m => m == 1f);
}

/// <summary>An embedding's vectors in a chunk: they replace the token embeddings of window positions <c>Position … Position + Count − 1</c>.</summary>
/// <param name="Position">Index in the 77-token window (1 = the first prompt token, after the start token).</param>
/// <param name="Vectors">[Count × width] row-major.</param>
public sealed record EmbeddingFix(int Position, string Name, float[] Vectors, int Count);

/// <summary>A prompt's chunks and A1111's token count (what its UI shows as <c>count/target</c>).</summary>
public sealed record ChunkedPrompt(IReadOnlyList<PromptChunk> Chunks, int TokenCount)
{
    /// <summary>A1111's <c>get_target_prompt_token_count</c>: the count rounded up to whole chunks of 75.</summary>
    public int TargetTokenCount => PromptChunker.TargetTokenCount(TokenCount);
}

/// <summary>
/// A1111's <c>FrozenCLIPEmbedderWithCustomWordsBase.tokenize_line</c>: each weighted run is tokenized on its own,
/// tokens fill 75-token chunks, BREAK starts a new chunk, and when a chunk fills up within
/// <c>comma_padding_backtrack</c> tokens of its last comma, the tokens after that comma move to the next chunk.
/// </summary>
/// <remarks>
/// Textual-inversion names (A1111 <c>find_embedding_at_position</c>) take as many token slots as the embedding has
/// vectors, with the run's weight; an embedding that does not fit in what is left of a chunk starts the next one. The
/// slots hold token id 0, as in A1111 (the text encoder sees the vectors instead; the pooled output still finds the
/// end token). One deviation: when the comma back-off moves tokens to the next chunk, an embedding among them moves
/// with them; A1111 moves only its placeholder ids and leaves the vectors behind in the previous chunk's padding.
/// </remarks>
public sealed class PromptChunker(ClipTokenizer tokenizer, int commaPaddingBacktrack = PromptChunker.DefaultCommaPaddingBacktrack,
    EmbeddingLookup? embeddings = null)
{
    public const int ChunkLength = 75;
    public const int WindowLength = ChunkLength + 2;

    /// <summary>A1111's default for the <c>comma_padding_backtrack</c> setting.</summary>
    public const int DefaultCommaPaddingBacktrack = 20;

    /// <summary>The id A1111 writes in an embedding's slots (its vectors replace that token's embedding).</summary>
    public const int EmbeddingTokenId = 0;

    public ChunkedPrompt Chunk(string line, EmphasisMode mode = EmphasisMode.Original) =>
        Chunk(PromptAttention.Parse(line, mode));

    public ChunkedPrompt Chunk(IReadOnlyList<WeightedText> parsed)
    {
        var chunks = new List<PromptChunk>();
        var tokens = new List<int>(ChunkLength);
        var multipliers = new List<float>(ChunkLength);
        var fixes = new List<EmbeddingFix>();
        var tokenCount = 0;
        var lastComma = -1;

        void NextChunk(bool isLast = false)
        {
            tokenCount += isLast ? tokens.Count : ChunkLength;
            var ids = new int[WindowLength];
            var weights = new float[WindowLength];
            ids[0] = tokenizer.BosId;
            weights[0] = 1f;
            for (var k = 0; k < ChunkLength; k++)
            {
                ids[k + 1] = k < tokens.Count ? tokens[k] : tokenizer.EosId;
                weights[k + 1] = k < multipliers.Count ? multipliers[k] : 1f;
            }
            ids[^1] = tokenizer.EosId;
            weights[^1] = 1f;
            PadAfterEnd(ids);
            chunks.Add(new PromptChunk(ids, weights, fixes.Count == 0 ? null : fixes.ToArray()));
            tokens.Clear();
            multipliers.Clear();
            fixes.Clear();
            lastComma = -1;
        }

        foreach (var (text, weight) in parsed)
        {
            if (new WeightedText(text, weight).IsBreak)
            {
                NextChunk();
                continue;
            }
            var runWeight = (float)weight;
            var runTokens = tokenizer.EncodeTokens(text);
            var position = 0;
            while (position < runTokens.Count)
            {
                var token = runTokens[position];
                if (token == tokenizer.CommaId) lastComma = tokens.Count;
                else if (commaPaddingBacktrack != 0 && tokens.Count == ChunkLength && lastComma != -1
                    && tokens.Count - lastComma <= commaPaddingBacktrack)
                {
                    // Move what follows the last comma into the next chunk, so a phrase is not split across chunks.
                    var breakAt = lastComma + 1;
                    var movedTokens = tokens.GetRange(breakAt, tokens.Count - breakAt);
                    var movedWeights = multipliers.GetRange(breakAt, multipliers.Count - breakAt);
                    var movedFixes = fixes.Where(f => f.Position - 1 >= breakAt).ToList();
                    tokens.RemoveRange(breakAt, tokens.Count - breakAt);
                    multipliers.RemoveRange(breakAt, multipliers.Count - breakAt);
                    fixes.RemoveAll(movedFixes.Contains);
                    NextChunk();
                    tokens.AddRange(movedTokens);
                    multipliers.AddRange(movedWeights);
                    fixes.AddRange(movedFixes.Select(f => f with { Position = f.Position - breakAt }));
                }
                if (tokens.Count == ChunkLength) NextChunk();

                if (embeddings?.Match(runTokens, position) is not { } match)
                {
                    tokens.Add(token);
                    multipliers.Add(runWeight);
                    position++;
                    continue;
                }
                var count = match.Embedding.Vectors;
                if (tokens.Count + count > ChunkLength) NextChunk();
                fixes.Add(new EmbeddingFix(tokens.Count + 1, match.Embedding.Name, match.Vectors, count));
                for (var k = 0; k < count; k++)
                {
                    tokens.Add(EmbeddingTokenId);
                    multipliers.Add(runWeight);
                }
                position += match.NameLength;
            }
        }
        if (tokens.Count > 0 || chunks.Count == 0) NextChunk(isLast: true);
        return new ChunkedPrompt(chunks, tokenCount);
    }

    /// <summary>A1111's <c>empty_chunk</c>: start, then end tokens (padded as the model pads), all weights 1.</summary>
    public PromptChunk EmptyChunk()
    {
        var ids = new int[WindowLength];
        ids[0] = tokenizer.BosId;
        ids.AsSpan(1).Fill(tokenizer.EosId);
        PadAfterEnd(ids);
        var weights = new float[WindowLength];
        Array.Fill(weights, 1f);
        return new PromptChunk(ids, weights);
    }

    public static int TargetTokenCount(int tokenCount) =>
        (int)Math.Ceiling(Math.Max(tokenCount, 1) / (double)ChunkLength) * ChunkLength;

    // A1111 process_tokens: when the pad id differs from the end id (SD 2.x), everything after the first end token is padding.
    private void PadAfterEnd(int[] ids)
    {
        if (tokenizer.PadId == tokenizer.EosId) return;
        var end = Array.IndexOf(ids, tokenizer.EosId);
        if (end >= 0) ids.AsSpan(end + 1).Fill(tokenizer.PadId);
    }
}
