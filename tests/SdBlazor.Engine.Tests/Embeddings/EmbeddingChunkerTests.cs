using SdBlazor.Engine.Prompts;
using SdBlazor.Engine.Tokenization;
using Xunit;
using static SdBlazor.Engine.Tests.TestModels.TinyClipVocabulary;

namespace SdBlazor.Engine.Tests.Embeddings;

/// <summary>
/// A1111's <c>tokenize_line</c> with textual inversions (<c>find_embedding_at_position</c>): on the tiny vocabulary
/// "cat"/"dog" are one token each and a name like "xyz" is three (x, y, z&lt;/w&gt;), so slots are counted by hand.
/// </summary>
public sealed class EmbeddingChunkerTests : IDisposable
{
    private const int Width = 4;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sdblazor-embedding-chunker", Guid.NewGuid().ToString("N"));
    private readonly ClipTokenizer _tokenizer;

    public EmbeddingChunkerTests()
    {
        Write(_folder);
        _tokenizer = ClipTokenizer.Load(_folder);
    }

    private static TextualInversion Embedding(string name, int vectors, int width = Width, float first = 1f) =>
        new(name, name + ".safetensors", vectors,
            new Dictionary<string, (int, float[])> { [""] = (width, Enumerable.Range(0, vectors * width).Select(i => first + i).ToArray()) }, null, null, null);

    private PromptChunker Chunker(params TextualInversion[] embeddings) =>
        new(_tokenizer, embeddings: new EmbeddingLookup(_tokenizer, embeddings, "", Width));

    private static string Words(string word, int count) => string.Join(" ", Enumerable.Repeat(word, count));

    [Fact]
    public void A_name_takes_one_slot_per_vector_with_id_0_and_its_run_weight()
    {
        var chunked = Chunker(Embedding("xyz", 2)).Chunk("cat (xyz:1.5) dog");
        var chunk = Assert.Single(chunked.Chunks);
        Assert.Equal([StartId, Id("cat</w>"), 0, 0, Id("dog</w>"), EndId], chunk.Tokens[..6]);
        Assert.Equal([1f, 1f, 1.5f, 1.5f, 1f, 1f], chunk.Multipliers[..6]);
        var fix = Assert.Single(chunk.Fixes!);
        Assert.Equal((2, "xyz", 2), (fix.Position, fix.Name, fix.Count));
        Assert.Equal(Enumerable.Range(0, 2 * Width).Select(i => 1f + i), fix.Vectors);
        Assert.Equal(4, chunked.TokenCount);
    }

    [Fact]
    public void Without_embeddings_the_same_text_is_three_ordinary_tokens()
    {
        var chunk = Assert.Single(new PromptChunker(_tokenizer).Chunk("cat xyz dog").Chunks);
        Assert.Equal([StartId, Id("cat</w>"), Id("x"), Id("y"), Id("z</w>"), Id("dog</w>")], chunk.Tokens[..6]);
        Assert.False(chunk.HasFixes);
    }

    [Fact]
    public void An_embedding_that_does_not_fit_the_rest_of_a_chunk_starts_the_next()
    {
        // 74 cats leave one slot; a 2-vector embedding needs 2, so chunk 1 is closed (75 counted) and it opens chunk 2.
        var chunked = Chunker(Embedding("xyz", 2)).Chunk(Words("cat", 74) + " xyz");
        Assert.Equal(2, chunked.Chunks.Count);
        Assert.Equal(EndId, chunked.Chunks[0].Tokens[75]);
        Assert.False(chunked.Chunks[0].HasFixes);
        Assert.Equal([StartId, 0, 0, EndId], chunked.Chunks[1].Tokens[..4]);
        Assert.Equal(1, Assert.Single(chunked.Chunks[1].Fixes!).Position);
        Assert.Equal(75 + 2, chunked.TokenCount);
    }

    [Fact]
    public void The_longest_matching_name_wins_and_case_does_not_matter()
    {
        var chunk = Assert.Single(Chunker(Embedding("xy", 1, first: 100), Embedding("xyz", 3)).Chunk("XYZ xy").Chunks);
        Assert.Equal([StartId, 0, 0, 0, 0, EndId], chunk.Tokens[..6]);
        Assert.Equal([("xyz", 1, 3), ("xy", 4, 1)], chunk.Fixes!.Select(f => (f.Name, f.Position, f.Count)));
    }

    [Fact]
    public void An_embedding_of_another_width_is_read_as_words_and_named()
    {
        var lookup = new EmbeddingLookup(_tokenizer, [Embedding("xyz", 2, width: 8)], "", Width);
        var chunk = Assert.Single(new PromptChunker(_tokenizer, embeddings: lookup).Chunk("cat xyz").Chunks);
        Assert.Equal([StartId, Id("cat</w>"), Id("x"), Id("y"), Id("z</w>"), EndId], chunk.Tokens[..6]);
        Assert.False(chunk.HasFixes);
        Assert.Equal(["xyz"], lookup.WrongWidth);
        Assert.Contains("'xyz' (8 wide)", lookup.WrongWidthWarning());
    }

    [Fact]
    public void The_comma_back_off_moves_an_embedding_with_its_slots()
    {
        // 70 cats, a comma (71 tokens), the 2 slots of xyz (73), then dogs fill the chunk at 75: 75 − 70 ≤ 20, so
        // everything after the comma — the embedding too — moves to chunk 2, where its slots are positions 1–2.
        var chunked = Chunker(Embedding("xyz", 2)).Chunk(Words("cat", 70) + ", xyz " + Words("dog", 5));
        Assert.Equal(2, chunked.Chunks.Count);
        Assert.False(chunked.Chunks[0].HasFixes);
        Assert.Equal([StartId, 0, 0, Id("dog</w>")], chunked.Chunks[1].Tokens[..4]);
        Assert.Equal(1, Assert.Single(chunked.Chunks[1].Fixes!).Position);
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
