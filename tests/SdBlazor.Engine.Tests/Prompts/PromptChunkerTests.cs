using SdBlazor.Engine.Prompts;
using SdBlazor.Engine.Tokenization;
using Xunit;
using static SdBlazor.Engine.Tests.TestModels.TinyClipVocabulary;

namespace SdBlazor.Engine.Tests.Prompts;

/// <summary>
/// A1111's <c>tokenize_line</c> on the tiny CLIP vocabulary, where "cat", "dog", "red" and "," are one token each, so
/// chunk boundaries can be counted by hand.
/// </summary>
public sealed class PromptChunkerTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sdblazor-chunker-tests", Guid.NewGuid().ToString("N"));

    private ClipTokenizer Tokenizer(string pad = "<|endoftext|>")
    {
        Write(_folder, pad);
        return ClipTokenizer.Load(_folder);
    }

    private static string Words(string word, int count) => string.Join(" ", Enumerable.Repeat(word, count));

    private static int[] Body(PromptChunk chunk) => chunk.Tokens[1..^1];

    [Fact]
    public void Exactly_75_tokens_fit_one_chunk_and_76_need_two()
    {
        var chunker = new PromptChunker(Tokenizer());
        var one = chunker.Chunk(Words("cat", 75));
        var chunk = Assert.Single(one.Chunks);
        Assert.Equal(77, chunk.Tokens.Length);
        Assert.Equal(StartId, chunk.Tokens[0]);
        Assert.All(Body(chunk), id => Assert.Equal(Id("cat</w>"), id));
        Assert.Equal(EndId, chunk.Tokens[^1]);
        Assert.Equal((75, 75), (one.TokenCount, one.TargetTokenCount));

        var two = chunker.Chunk(Words("cat", 76));
        Assert.Equal(2, two.Chunks.Count);
        Assert.All(Body(two.Chunks[0]), id => Assert.Equal(Id("cat</w>"), id));
        Assert.Equal([StartId, Id("cat</w>"), EndId, EndId], two.Chunks[1].Tokens[..4]);
        // A1111 counts a full chunk as 75 and the last by its tokens: 75 + 1; the UI shows 76/150.
        Assert.Equal((76, 150), (two.TokenCount, two.TargetTokenCount));
    }

    [Fact]
    public void A_comma_within_20_tokens_of_the_boundary_moves_the_phrase_after_it_to_the_next_chunk()
    {
        var chunker = new PromptChunker(Tokenizer());
        // 70 cats, a comma at position 70, then 10 dogs: the chunk fills at 75 (4 dogs), 75 − 70 = 5 ≤ 20, so the
        // 4 dogs move and chunk 1 ends with the comma.
        var chunked = chunker.Chunk(Words("cat", 70) + ", " + Words("dog", 10));
        Assert.Equal(2, chunked.Chunks.Count);
        var first = Body(chunked.Chunks[0]);
        Assert.Equal(Id(",</w>"), first[70]);
        Assert.All(first[71..], id => Assert.Equal(EndId, id));
        var second = Body(chunked.Chunks[1]);
        Assert.All(second[..10], id => Assert.Equal(Id("dog</w>"), id));
        Assert.Equal(EndId, second[10]);
        Assert.Equal(75 + 10, chunked.TokenCount);
    }

    [Theory]
    [InlineData(55, true)]   // 75 − 55 = 20: still moved
    [InlineData(54, false)]  // 21 tokens back: split where the chunk is full
    public void The_back_off_reaches_exactly_comma_padding_backtrack_tokens(int cats, bool moved)
    {
        var chunker = new PromptChunker(Tokenizer());
        var chunked = chunker.Chunk(Words("cat", cats) + ", " + Words("dog", 30));
        var first = Body(chunked.Chunks[0]);
        Assert.Equal(moved, first[^1] == EndId);
        Assert.Equal(moved ? Id(",</w>") : Id("dog</w>"), moved ? first[cats] : first[^1]);
    }

    [Fact]
    public void Back_off_off_when_the_setting_is_zero()
    {
        var chunker = new PromptChunker(Tokenizer(), commaPaddingBacktrack: 0);
        var first = Body(chunker.Chunk(Words("cat", 70) + ", " + Words("dog", 10)).Chunks[0]);
        Assert.All(first[71..], id => Assert.Equal(Id("dog</w>"), id));
    }

    [Fact]
    public void Break_starts_a_new_chunk()
    {
        var chunked = new PromptChunker(Tokenizer()).Chunk("cat BREAK dog");
        Assert.Equal(2, chunked.Chunks.Count);
        Assert.Equal([StartId, Id("cat</w>"), EndId], chunked.Chunks[0].Tokens[..3]);
        Assert.Equal([StartId, Id("dog</w>"), EndId], chunked.Chunks[1].Tokens[..3]);
        Assert.Equal(76, chunked.TokenCount);
    }

    [Fact]
    public void Each_token_carries_its_runs_weight_and_specials_weigh_one()
    {
        var chunk = Assert.Single(new PromptChunker(Tokenizer()).Chunk("(cat:1.5) dog [red]").Chunks);
        Assert.Equal([StartId, Id("cat</w>"), Id("dog</w>"), Id("red</w>"), EndId], chunk.Tokens[..5]);
        Assert.Equal([1f, 1.5f, 1f, (float)(1 / 1.1), 1f], chunk.Multipliers[..5]);
        Assert.All(chunk.Multipliers[5..], m => Assert.Equal(1f, m));
        Assert.False(chunk.AllWeightsOne);
    }

    [Fact]
    public void Sd2_tokenizers_pad_after_the_first_end_token()
    {
        var chunker = new PromptChunker(Tokenizer(pad: "!"));
        var chunk = Assert.Single(chunker.Chunk("cat").Chunks);
        Assert.Equal([StartId, Id("cat</w>"), EndId, Id("!")], chunk.Tokens[..4]);
        Assert.All(chunk.Tokens[3..], id => Assert.Equal(Id("!"), id));
        Assert.Equal([StartId, EndId, Id("!")], chunker.EmptyChunk().Tokens[..3]);
    }

    [Fact]
    public void A_plain_prompt_gives_the_window_the_engine_used_before()
    {
        var tokenizer = Tokenizer();
        var chunk = Assert.Single(new PromptChunker(tokenizer).Chunk("a red cat, dog").Chunks);
        Assert.Equal(tokenizer.Encode("a red cat, dog"), chunk.Tokens);
        Assert.True(chunk.AllWeightsOne);
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
