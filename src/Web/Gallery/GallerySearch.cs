using System.Globalization;

namespace SdBlazor.Web.Gallery;

/// <summary>
/// The gallery's search box: words (all must appear), <c>-word</c> (must not), <c>"exact phrase"</c> (in the prompt
/// or negative prompt, as typed, any case), and the fields <c>model:</c>, <c>sampler:</c>, <c>seed:</c> (quotes for
/// values with spaces: <c>sampler:"DPM++ 2M"</c>); a leading <c>-</c> negates any of them. Parsed in one pass over the
/// text (no regular expression, so no input can make it backtrack); anything else is plain words.
/// </summary>
public sealed record GallerySearch
{
    public const int MaxTerms = 32;
    public const int MaxLength = 1000;

    /// <summary>Words every match has: typed words and the words of phrases (index keys narrow on them first).</summary>
    public List<string> Words { get; } = [];
    public List<string> ExcludedWords { get; } = [];
    public List<string> Phrases { get; } = [];
    public List<string> ExcludedPhrases { get; } = [];
    public string? Model { get; private set; }
    public string? Sampler { get; private set; }
    public long? Seed { get; private set; }
    public List<string> ExcludedModels { get; } = [];
    public List<string> ExcludedSamplers { get; } = [];
    public List<long> ExcludedSeeds { get; } = [];

    /// <summary>Nothing to check beyond the plain words (the index answers it alone).</summary>
    public bool IsWordsOnly => ExcludedWords.Count == 0 && Phrases.Count == 0 && ExcludedPhrases.Count == 0 && Model is null
        && Sampler is null && Seed is null && ExcludedModels.Count == 0 && ExcludedSamplers.Count == 0 && ExcludedSeeds.Count == 0;

    public static GallerySearch Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return new GallerySearch();
        var s = text.Length > MaxLength ? text[..MaxLength] : text;
        var search = new GallerySearch();
        var i = 0;
        for (var terms = 0; terms < MaxTerms; terms++)
        {
            while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
            if (i >= s.Length) break;
            var negated = s[i] == '-' && i + 1 < s.Length && !char.IsWhiteSpace(s[i + 1]);
            if (negated) i++;
            var field = ReadField(s, ref i);
            var quoted = i < s.Length && s[i] == '"';
            var value = quoted ? ReadQuoted(s, ref i) : ReadBare(s, ref i);
            search.Add(field, value, quoted, negated);
        }
        return search;
    }

    // "model:", "sampler:" or "seed:" right here (any case); otherwise nothing is consumed.
    private static string? ReadField(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && char.IsAsciiLetter(s[i])) i++;
        if (i < s.Length && s[i] == ':' && i > start)
        {
            var name = s[start..i].ToLowerInvariant();
            if (name is "model" or "sampler" or "seed")
            {
                i++;
                return name;
            }
        }
        i = start;
        return null;
    }

    private static string ReadQuoted(string s, ref int i)
    {
        var start = ++i;
        while (i < s.Length && s[i] != '"') i++;
        var value = s[start..i];
        if (i < s.Length) i++;
        return value;
    }

    private static string ReadBare(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && !char.IsWhiteSpace(s[i])) i++;
        return s[start..i];
    }

    private void Add(string? field, string value, bool quoted, bool negated)
    {
        value = value.Trim();
        if (value.Length == 0) return;
        switch (field)
        {
            case "model":
                if (negated) ExcludedModels.Add(value); else Model = value;
                return;
            case "sampler":
                if (negated) ExcludedSamplers.Add(value); else Sampler = value;
                return;
            case "seed" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed):
                if (negated) ExcludedSeeds.Add(seed); else Seed = seed;
                return;
        }
        var words = PromptWords.Tokenize(field is null ? value : $"{field} {value}");
        if (words.Count == 0) return;
        if (quoted && field is null)
        {
            // A one-word phrase is that word; a phrase of several also needs them in this order, side by side.
            if (words.Count > 1) (negated ? ExcludedPhrases : Phrases).Add(value);
            if (negated && words.Count == 1) ExcludedWords.Add(words[0]);
            if (!negated) AddWords(Words, words);
            return;
        }
        AddWords(negated ? ExcludedWords : Words, words);
    }

    private static void AddWords(List<string> into, List<string> words)
    {
        foreach (var word in words) if (!into.Contains(word)) into.Add(word);
    }

    /// <summary>The checks the words leave: exclusions, phrases and fields.</summary>
    public bool Matches(GalleryImage image)
    {
        foreach (var word in ExcludedWords) if (image.Words.Contains(word)) return false;
        foreach (var phrase in Phrases) if (!InPrompts(image, phrase)) return false;
        foreach (var phrase in ExcludedPhrases) if (InPrompts(image, phrase)) return false;
        if (Model is not null && !SameFacet(image.Model, Model)) return false;
        if (Sampler is not null && !SameFacet(image.Sampler, Sampler)) return false;
        if (Seed is { } seed && image.Seed != seed) return false;
        foreach (var model in ExcludedModels) if (SameFacet(image.Model, model)) return false;
        foreach (var sampler in ExcludedSamplers) if (SameFacet(image.Sampler, sampler)) return false;
        foreach (var excluded in ExcludedSeeds) if (image.Seed == excluded) return false;
        return true;
    }

    private static bool SameFacet(string? value, string wanted) =>
        string.Equals(PromptWords.Facet(value ?? ""), PromptWords.Facet(wanted), StringComparison.Ordinal);

    // Whitespace runs count as one space on both sides, so a phrase matches across line breaks in the prompt.
    private static bool InPrompts(GalleryImage image, string phrase)
    {
        var wanted = CollapseSpaces(phrase);
        return CollapseSpaces(image.Prompt).Contains(wanted, StringComparison.OrdinalIgnoreCase)
            || CollapseSpaces(image.NegativePrompt).Contains(wanted, StringComparison.OrdinalIgnoreCase);
    }

    private static string CollapseSpaces(string text)
    {
        var builder = new System.Text.StringBuilder(text.Length);
        var space = false;
        foreach (var c in text.Trim())
        {
            if (char.IsWhiteSpace(c))
            {
                space = true;
                continue;
            }
            if (space) builder.Append(' ');
            space = false;
            builder.Append(c);
        }
        return builder.ToString();
    }
}
