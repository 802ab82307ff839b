using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SdBlazor.Engine.Imaging;

/// <summary>
/// AUTOMATIC1111's generation-parameters text ("infotext"), the <c>parameters</c> PNG chunk that A1111, Forge,
/// Civitai and most image browsers read. Writing follows <c>create_infotext</c>, reading follows
/// <c>parse_generation_parameters</c> (same regular expression, same line rules, same defaults for missing keys).
/// The format is lossy (lines are trimmed, a prompt line starting with "Negative prompt:" is misread), which is why
/// we also keep our own JSON chunk.
/// </summary>
public static partial class Infotext
{
    // A1111's re_param_code: a key starting with a word character, then ": ", then a JSON-quoted value or anything up to a comma.
    // The backtracking engine takes quadratic time on it (a 1 MB line without a colon pinned a thread for minutes);
    // the non-backtracking engine finds the same matches in time linear in the text, and the timeout is a second fence.
    private static readonly Regex Param = new("""\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)""",
        RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(2));

    /// <summary>Text longer than this is cut before parsing (real infotext is a few KB; PNG text chunks are capped at 1 MB).</summary>
    public const int MaxParsedLength = 1024 * 1024;

    [GeneratedRegex(@"^(\d+)x(\d+)$")]
    private static partial Regex ImageSizeRegex();

    private const string NegativePrefix = "Negative prompt:";

    public static string Format(ImageParameters p)
    {
        var pairs = new List<KeyValuePair<string, string>>
        {
            new("Steps", Invariant(p.Steps)),
            new("Sampler", p.Sampler),
            new("Schedule type", p.ScheduleType),
            new("CFG scale", Invariant(p.CfgScale)),
            new("Seed", Invariant(p.Seed)),
            new("Size", $"{Invariant(p.Width)}x{Invariant(p.Height)}"),
        };
        if (p.ShortModelHash is { Length: > 0 } hash) pairs.Add(new("Model hash", hash));
        if (!string.IsNullOrEmpty(p.Model)) pairs.Add(new("Model", p.Model));
        if (p.Strength is { } strength) pairs.Add(new("Denoising strength", Invariant(strength)));
        if (p.ClipSkip > 1) pairs.Add(new("Clip skip", Invariant(p.ClipSkip)));
        // A1111 omits RNG when it is the default (GPU).
        if (!string.IsNullOrEmpty(p.Rng) && p.Rng != "GPU") pairs.Add(new("RNG", p.Rng));
        // A1111 names a non-default emphasis mode only when a prompt has brackets it could apply to.
        if (p.Emphasis is { Length: > 0 } emphasis && emphasis != "Original" && (p.Prompt + p.NegativePrompt).AsSpan().IndexOfAny('(', '[') >= 0)
            pairs.Add(new("Emphasis", emphasis));
        if (!string.IsNullOrEmpty(p.EngineVersion)) pairs.Add(new("Version", p.EngineVersion));

        var line = string.Join(", ", pairs.Where(kv => kv.Value.Length > 0).Select(kv => $"{kv.Key}: {A1111Quoting.Quote(kv.Value)}"));
        var negative = p.NegativePrompt.Length > 0 ? $"\n{NegativePrefix} {p.NegativePrompt}" : "";
        return $"{p.Prompt}{negative}\n{line}".Trim();
    }

    /// <summary>Parses infotext the way A1111 does. Never throws; text without a parameters line gives just a prompt.</summary>
    public static InfotextData Parse(string text)
    {
        if (text.Length > MaxParsedLength) text = text[..MaxParsedLength];
        var lines = text.Trim().Split('\n').ToList();
        var lastLine = lines[^1];
        lines.RemoveAt(lines.Count - 1);
        var matches = Matches(lastLine);
        if (matches.Count < 3)
        {
            lines.Add(lastLine);
            lastLine = "";
        }

        var prompt = new StringBuilder();
        var negative = new StringBuilder();
        var doneWithPrompt = false;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith(NegativePrefix, StringComparison.Ordinal))
            {
                doneWithPrompt = true;
                line = line[NegativePrefix.Length..].Trim();
            }
            var target = doneWithPrompt ? negative : prompt;
            if (target.Length > 0) target.Append('\n');
            target.Append(line);
        }

        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var m in matches.Count < 3 ? [] : matches)
        {
            var value = m.Groups[2].Value;
            if (value.Length > 0 && value[0] == '"' && value[^1] == '"') value = A1111Quoting.Unquote(value);
            pairs.Add(new(m.Groups[1].Value, value));
        }
        return new InfotextData(prompt.ToString(), negative.ToString(), pairs);
    }

    /// <summary>Maps parsed infotext to parameters, applying A1111's defaults for missing keys.</summary>
    public static ImageParameters ToParameters(InfotextData data)
    {
        var sampler = data.Get("Sampler") ?? "";
        var schedule = data.Get("Schedule type");
        // Before v1.9 the schedule was part of the sampler's name ("DPM++ 2M Karras").
        if (schedule is null && sampler.EndsWith(" Karras", StringComparison.Ordinal))
        {
            sampler = sampler[..^" Karras".Length];
            schedule = "Karras";
        }

        int width = 0, height = 0;
        if (data.Get("Size") is { } size && ImageSizeRegex().Match(size) is { Success: true } m)
        {
            width = ParseInt(m.Groups[1].Value);
            height = ParseInt(m.Groups[2].Value);
        }

        return new ImageParameters
        {
            Prompt = data.Prompt,
            NegativePrompt = data.NegativePrompt,
            Steps = ParseInt(data.Get("Steps")),
            Sampler = sampler,
            ScheduleType = schedule ?? "Automatic",
            CfgScale = ParseDouble(data.Get("CFG scale")) ?? 0,
            Seed = long.TryParse(data.Get("Seed"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : -1,
            Width = width,
            Height = height,
            ModelHash = data.Get("Model hash"),
            Model = data.Get("Model"),
            Strength = ParseDouble(data.Get("Denoising strength")),
            Rng = data.Get("RNG") ?? "GPU",
            EngineVersion = data.Get("Version"),
            ClipSkip = ParseInt(data.Get("Clip skip")) is var clipSkip and > 0 ? clipSkip : 1,
            Emphasis = data.Get("Emphasis") ?? "Original",
        };
    }

    private static List<Match> Matches(string line)
    {
        try
        {
            return Param.Matches(line).ToList();
        }
        catch (RegexMatchTimeoutException)
        {
            // Never throws (see Parse): a line the engine cannot finish in time is treated as prompt text.
            return [];
        }
    }

    private static string Invariant(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);

    private static int ParseInt(string? s) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;

    private static double? ParseDouble(string? s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
}

/// <summary>Parsed infotext: the prompts and the last line's <c>Key: value</c> pairs in order (values unquoted).</summary>
public sealed record InfotextData(string Prompt, string NegativePrompt, IReadOnlyList<KeyValuePair<string, string>> Pairs)
{
    public string? Get(string key)
    {
        // A1111 fills a dict, so a repeated key keeps its last value.
        string? value = null;
        foreach (var kv in Pairs) if (kv.Key == key) value = kv.Value;
        return value;
    }
}
