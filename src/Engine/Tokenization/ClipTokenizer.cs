using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using SdBlazor.Engine.Models;

namespace SdBlazor.Engine.Tokenization;

/// <summary>
/// CLIP's tokenizer (openai/CLIP <c>simple_tokenizer.py</c>, Hugging Face <c>CLIPTokenizer</c>) on
/// Microsoft.ML.Tokenizers' byte-level BPE: text clean-up (HTML unescape, whitespace runs collapsed, trimmed),
/// lower-casing, CLIP's pre-tokenizer regex, <c>&lt;/w&gt;</c> end-of-word suffix. Produces a fixed window of
/// <see cref="ContextLength"/> ids: start token, up to 75 prompt tokens, end token, then the model's pad token.
/// </summary>
public sealed partial class ClipTokenizer
{
    public const int ContextLength = 77;
    private const string DefaultBos = "<|startoftext|>";
    private const string DefaultEos = "<|endoftext|>";

    private readonly BpeTokenizer _bpe;

    private ClipTokenizer(BpeTokenizer bpe, int bosId, int eosId, int padId, int? commaId)
    {
        _bpe = bpe;
        BosId = bosId;
        EosId = eosId;
        PadId = padId;
        CommaId = commaId;
    }

    public int BosId { get; }
    public int EosId { get; }

    /// <summary>SD 1.x: <c>&lt;|endoftext|&gt;</c> (49407); SD 2.x: <c>!</c> (0) — read from the tokenizer files.</summary>
    public int PadId { get; }

    /// <summary>The id of <c>,&lt;/w&gt;</c> (A1111's <c>comma_token</c> for its chunk back-off), when the vocabulary has it.</summary>
    public int? CommaId { get; }

    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase)]
    private static partial Regex ClipPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    /// <summary>Loads <c>vocab.json</c>, <c>merges.txt</c>, <c>special_tokens_map.json</c> and <c>tokenizer_config.json</c> from <paramref name="folder"/>.</summary>
    public static ClipTokenizer Load(string folder)
    {
        var vocabPath = Path.Combine(folder, "vocab.json");
        var mergesPath = Path.Combine(folder, "merges.txt");
        var specialMap = ReadJson(Path.Combine(folder, "special_tokens_map.json"));
        var config = ReadJson(Path.Combine(folder, "tokenizer_config.json"));
        string Token(string key, string fallback) => TokenContent(specialMap?[key]) ?? TokenContent(config?[key]) ?? fallback;

        var bos = Token("bos_token", DefaultBos);
        var eos = Token("eos_token", DefaultEos);
        var pad = Token("pad_token", eos);

        Dictionary<string, int> vocabulary;
        List<string> merges;
        try
        {
            vocabulary = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
                ?? throw new FormatException("vocab.json is empty");
            // merges.txt starts with a "#version: 0.2" header line.
            merges = File.ReadLines(mergesPath).Where(l => l.Length > 0 && !l.StartsWith("#version", StringComparison.Ordinal)).ToList();
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or IOException)
        {
            throw new ModelFolderException($"tokenizer: vocab.json / merges.txt in '{folder}' cannot be read as a CLIP BPE vocabulary: {ex.Message}", ex);
        }

        int Id(string token, string role) => vocabulary.TryGetValue(token, out var id)
            ? id
            : throw new ModelFolderException($"tokenizer: the {role} token '{token}' is not in vocab.json.");
        var (bosId, eosId, padId) = (Id(bos, "start"), Id(eos, "end"), Id(pad, "pad"));

        // Start/end tokens typed into a prompt map to their ids, as in CLIP (they are not BPE-split).
        var special = new Dictionary<string, int> { [bos] = bosId, [eos] = eosId };
        BpeTokenizer bpe;
        try
        {
            bpe = BpeTokenizer.Create(new BpeOptions(vocabulary)
            {
                Merges = merges,
                SpecialTokens = special,
                ByteLevel = true,
                EndOfWordSuffix = "</w>",
                Normalizer = LowerCaseNormalizer.Instance,
                PreTokenizer = new RegexPreTokenizer(ClipPattern(), special),
            });
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new ModelFolderException($"tokenizer: vocab.json / merges.txt in '{folder}' cannot be used as a CLIP BPE vocabulary: {ex.Message}", ex);
        }
        int? commaId = vocabulary.TryGetValue(",</w>", out var comma) ? comma : null;
        return new ClipTokenizer(bpe, bosId, eosId, padId, commaId);
    }

    /// <summary>Prompt tokens without start/end/padding (after clean-up and lower-casing).</summary>
    public IReadOnlyList<int> EncodeTokens(string text) => _bpe.EncodeToIds(Clean(text));

    /// <summary>
    /// The 77-id window the text encoder takes: start, the first 75 prompt tokens (longer prompts are truncated),
    /// end, then padding.
    /// </summary>
    public int[] Encode(string text)
    {
        var tokens = EncodeTokens(text);
        var ids = new int[ContextLength];
        ids[0] = BosId;
        var count = Math.Min(tokens.Count, ContextLength - 2);
        for (var i = 0; i < count; i++) ids[i + 1] = tokens[i];
        ids[count + 1] = EosId;
        ids.AsSpan(count + 2).Fill(PadId);
        return ids;
    }

    /// <summary>CLIP's <c>basic_clean</c> (HTML unescape twice) + <c>whitespace_clean</c>; ftfy's mojibake repair is not reproduced.</summary>
    private static string Clean(string text) =>
        Whitespace().Replace(WebUtility.HtmlDecode(WebUtility.HtmlDecode(text)), " ").Trim();

    private static JsonObject? ReadJson(string path) =>
        File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject : null;

    // Tokens are either plain strings or AddedToken objects {"content": "...", ...}.
    private static string? TokenContent(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonObject o => o["content"]?.GetValue<string>(),
        _ => null,
    };
}
