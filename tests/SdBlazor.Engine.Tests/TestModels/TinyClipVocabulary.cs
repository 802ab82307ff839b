using System.Text.Json;

namespace SdBlazor.Engine.Tests.TestModels;

/// <summary>
/// A small vocabulary in CLIP's exact format: the 256 byte-level characters, the same with <c>&lt;/w&gt;</c>,
/// a handful of merges, then the start/end tokens (ids laid out as in openai/CLIP's <c>simple_tokenizer.py</c>).
/// </summary>
public static class TinyClipVocabulary
{
    public static readonly string[] Merges = ["c a", "ca t</w>", "d o", "do g</w>", "r e", "re d</w>"];

    public static IReadOnlyList<string> Tokens { get; } = BuildTokens();

    public static int Id(string token) => Tokens.ToList().IndexOf(token) is var i and >= 0 ? i : throw new KeyNotFoundException(token);

    public static int StartId => Id("<|startoftext|>");
    public static int EndId => Id("<|endoftext|>");

    /// <param name="padToken">SD 1.x: <c>&lt;|endoftext|&gt;</c>; SD 2.x: <c>!</c>.</param>
    public static void Write(string folder, string padToken = "<|endoftext|>")
    {
        Directory.CreateDirectory(folder);
        var vocab = Tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        File.WriteAllText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllLines(Path.Combine(folder, "merges.txt"), ["#version: 0.2", .. Merges]);
        File.WriteAllText(Path.Combine(folder, "special_tokens_map.json"), JsonSerializer.Serialize(new
        {
            bos_token = new { content = "<|startoftext|>", lstrip = false, normalized = true, rstrip = false, single_word = false },
            eos_token = new { content = "<|endoftext|>", lstrip = false, normalized = true, rstrip = false, single_word = false },
            pad_token = padToken,
            unk_token = new { content = "<|endoftext|>", lstrip = false, normalized = true, rstrip = false, single_word = false },
        }));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), JsonSerializer.Serialize(new
        {
            model_max_length = 77,
            do_lower_case = true,
            tokenizer_class = "CLIPTokenizer",
            pad_token = padToken,
        }));
    }

    private static List<string> BuildTokens()
    {
        var byteChars = BytesToUnicode();
        var tokens = new List<string>(byteChars);
        tokens.AddRange(byteChars.Select(c => c + "</w>"));
        tokens.AddRange(Merges.Select(m => m.Replace(" ", "")));
        tokens.Add("<|startoftext|>");
        tokens.Add("<|endoftext|>");
        return tokens;
    }

    /// <summary>GPT-2/CLIP <c>bytes_to_unicode</c>, in its value order.</summary>
    private static List<string> BytesToUnicode()
    {
        var bs = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToList();
        var cs = new List<int>(bs);
        var n = 0;
        for (var b = 0; b < 256; b++)
        {
            if (bs.Contains(b)) continue;
            bs.Add(b);
            cs.Add(256 + n++);
        }
        return cs.Select(c => ((char)c).ToString()).ToList();
    }
}
