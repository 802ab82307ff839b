using SdBlazor.Engine.Tokenization;

namespace SdBlazor.Engine.Prompts;

/// <summary>One text-encoder window: start token, 75 prompt tokens (padded), end token, with a weight per token.</summary>
/// <param name="Tokens">77 ids, padded as the model's tokenizer pads (SD 2.x: pad id after the first end token).</param>
/// <param name="Multipliers">77 weights; 1 for start, end and padding.</param>
public sealed record PromptChunk(int[] Tokens, float[] Multipliers)
{
    public bool AllWeightsOne => Array.TrueForAll(Multipliers, m => m == 1f);
}

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
public sealed class PromptChunker(ClipTokenizer tokenizer, int commaPaddingBacktrack = PromptChunker.DefaultCommaPaddingBacktrack)
{
    public const int ChunkLength = 75;
    public const int WindowLength = ChunkLength + 2;

    /// <summary>A1111's default for the <c>comma_padding_backtrack</c> setting.</summary>
    public const int DefaultCommaPaddingBacktrack = 20;

    public ChunkedPrompt Chunk(string line, EmphasisMode mode = EmphasisMode.Original) =>
        Chunk(PromptAttention.Parse(line, mode));

    public ChunkedPrompt Chunk(IReadOnlyList<WeightedText> parsed)
    {
        var chunks = new List<PromptChunk>();
        var tokens = new List<int>(ChunkLength);
        var multipliers = new List<float>(ChunkLength);
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
            chunks.Add(new PromptChunk(ids, weights));
            tokens.Clear();
            multipliers.Clear();
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
            foreach (var token in tokenizer.EncodeTokens(text))
            {
                if (token == tokenizer.CommaId) lastComma = tokens.Count;
                else if (commaPaddingBacktrack != 0 && tokens.Count == ChunkLength && lastComma != -1
                    && tokens.Count - lastComma <= commaPaddingBacktrack)
                {
                    // Move what follows the last comma into the next chunk, so a phrase is not split across chunks.
                    var breakAt = lastComma + 1;
                    var movedTokens = tokens.GetRange(breakAt, tokens.Count - breakAt);
                    var movedWeights = multipliers.GetRange(breakAt, multipliers.Count - breakAt);
                    tokens.RemoveRange(breakAt, tokens.Count - breakAt);
                    multipliers.RemoveRange(breakAt, multipliers.Count - breakAt);
                    NextChunk();
                    tokens.AddRange(movedTokens);
                    multipliers.AddRange(movedWeights);
                }
                if (tokens.Count == ChunkLength) NextChunk();
                tokens.Add(token);
                multipliers.Add(runWeight);
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
