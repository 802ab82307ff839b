using System.Globalization;
using System.Text;

namespace SdBlazor.Web.Gallery;

/// <summary>
/// Words for search: runs of letters and digits, lower-cased (invariant). Prompt syntax such as
/// <c>(word:1.2)</c> or <c>[a|b]</c> splits naturally. ASCII words shorter than 2 characters are dropped;
/// single non-ASCII letters are kept (one CJK character is a word).
/// </summary>
public static class PromptWords
{
    public const int MaxWordsPerImage = 200;
    public const int MaxWordLength = 64;

    public static List<string> Tokenize(params string?[] texts)
    {
        var words = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var current = new StringBuilder();
        foreach (var text in texts)
        {
            if (string.IsNullOrEmpty(text)) continue;
            foreach (var c in text.Normalize(NormalizationForm.FormC))
            {
                if (char.IsLetterOrDigit(c)) current.Append(char.ToLowerInvariant(c));
                else Flush();
            }
            Flush();
        }
        return words;

        void Flush()
        {
            if (current.Length == 0) return;
            var word = current.Length > MaxWordLength ? current.ToString(0, MaxWordLength) : current.ToString();
            current.Clear();
            if (word.Length < 2 && word[0] < 128) return;
            if (words.Count < MaxWordsPerImage && seen.Add(word)) words.Add(word);
        }
    }

    /// <summary>Lower-cases an exact-match facet value (model, sampler, album) for keys.</summary>
    public static string Facet(string value) =>
        new(value.Trim().ToLower(CultureInfo.InvariantCulture).Where(c => !char.IsControl(c)).ToArray());
}
