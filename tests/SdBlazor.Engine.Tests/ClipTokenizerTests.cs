using SdBlazor.Engine.Models;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Engine.Tokenization;
using Xunit;
using static SdBlazor.Engine.Tests.TestModels.TinyClipVocabulary;

namespace SdBlazor.Engine.Tests;

public sealed class ClipTokenizerTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sdblazor-tokenizer-tests", Guid.NewGuid().ToString("N"));

    private ClipTokenizer Load(string pad = "<|endoftext|>")
    {
        Write(_folder, pad);
        return ClipTokenizer.Load(_folder);
    }

    [Fact]
    public void Encodes_words_with_merges_and_end_of_word_suffix()
    {
        var tokenizer = Load();
        Assert.Equal([Id("a</w>"), Id("red</w>"), Id("cat</w>")], tokenizer.EncodeTokens("a red cat"));
        // "cats": "ca" merges, "t" is not at the word end, "s</w>" ends the word.
        Assert.Equal([Id("ca"), Id("t"), Id("s</w>")], tokenizer.EncodeTokens("cats"));
    }

    [Fact]
    public void Lower_cases_and_cleans_whitespace_like_clip()
    {
        var tokenizer = Load();
        Assert.Equal(tokenizer.EncodeTokens("a red cat"), tokenizer.EncodeTokens("  A \t RED\n\ncat  "));
    }

    [Fact]
    public void Splits_punctuation_digits_and_contractions_like_clips_pattern()
    {
        var tokenizer = Load();
        // [\p{N}] splits digits one by one; a punctuation run is one word ("!" + "!</w>"); 's is its own word.
        Assert.Equal([Id("1</w>"), Id("2</w>"), Id("dog</w>"), Id("!"), Id("!</w>"), Id("cat</w>"), Id("'"), Id("s</w>")],
            tokenizer.EncodeTokens("12 dog!! cat's"));
    }

    [Fact]
    public void Encodes_non_ascii_as_utf8_bytes()
    {
        var tokenizer = Load();
        // "é" is two UTF-8 bytes (C3 A9) → two byte-level symbols, the last with </w>.
        Assert.Equal([Id("Ã"), Id("©</w>")], tokenizer.EncodeTokens("é"));
    }

    [Fact]
    public void Window_has_start_end_and_sd1_padding()
    {
        var ids = Load().Encode("a cat");
        Assert.Equal(ClipTokenizer.ContextLength, ids.Length);
        Assert.Equal([StartId, Id("a</w>"), Id("cat</w>"), EndId], ids[..4]);
        Assert.All(ids[4..], id => Assert.Equal(EndId, id));
    }

    [Fact]
    public void Sd2_tokenizer_pads_with_exclamation_mark_id_0()
    {
        var tokenizer = Load(pad: "!");
        Assert.Equal(0, tokenizer.PadId);
        var ids = tokenizer.Encode("a cat");
        Assert.Equal([StartId, Id("a</w>"), Id("cat</w>"), EndId, 0, 0], ids[..6]);
    }

    [Fact]
    public void Long_prompts_are_truncated_to_75_tokens_between_start_and_end()
    {
        var ids = Load().Encode(string.Join(' ', Enumerable.Repeat("dog", 200)));
        Assert.Equal(77, ids.Length);
        Assert.Equal(StartId, ids[0]);
        Assert.All(ids[1..76], id => Assert.Equal(Id("dog</w>"), id));
        Assert.Equal(EndId, ids[76]);
    }

    [Fact]
    public void Empty_prompt_is_start_end_padding()
    {
        var ids = Load().Encode("");
        Assert.Equal([StartId, EndId, EndId], ids[..3]);
    }

    [Fact]
    public void Special_tokens_typed_in_a_prompt_map_to_their_ids()
    {
        Assert.Equal([Id("cat</w>"), EndId, Id("dog</w>")], Load().EncodeTokens("cat <|endoftext|> dog"));
    }

    [Fact]
    public void Pad_token_missing_from_the_vocabulary_is_a_clear_error()
    {
        Write(_folder, "<|pad|>");
        var error = Assert.Throws<ModelFolderException>(() => ClipTokenizer.Load(_folder));
        Assert.Contains("pad token '<|pad|>' is not in vocab.json", error.Message);
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, true); } catch (IOException) { }
    }
}
