using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using SdBlazor.Shared;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Api.Extras;

/// <summary>A saved style as A1111 keeps it in <c>styles.csv</c> (columns <c>name,prompt,negative_prompt</c>).</summary>
public sealed record PromptStyle(string Name, string Prompt, string NegativePrompt);

/// <summary>The usable styles of <c>styles.csv</c> and, when some or all could not be used, why (shown beside the picker).</summary>
public sealed record StylesFile(IReadOnlyList<PromptStyle> Styles, string? Problem);

/// <summary>
/// Styles from <c>styles.csv</c> in the data folder (A1111's <c>modules/styles.py</c> format, so the file can be copied
/// from an A1111 install), re-read when the file changes. Applying styles follows A1111's <c>merge_prompts</c>.
/// </summary>
public sealed class PromptStyleStore(DataFolder data, ILogger<PromptStyleStore> logger)
{
    public const string FileName = "styles.csv";
    public const int MaxFileBytes = 4 * 1024 * 1024;

    // The file is the owner's, but often pasted together from shared collections: a style list the picker can show
    // at once, names that fit on a line, prompts that fit in a request.
    public const int MaxStyles = 1000, MaxNameLength = 200;

    private static readonly StylesFile None = new([], null);
    private readonly object _lock = new();
    private (DateTime Written, long Length, StylesFile File)? _cache;

    public string Path => data.File(FileName);

    public IReadOnlyList<PromptStyle> List() => Read().Styles;

    /// <summary>The styles, read again when the file changed; problems are reported once per change in the log too.</summary>
    public StylesFile Read()
    {
        var info = new FileInfo(Path);
        if (!info.Exists) return None;
        lock (_lock)
        {
            if (_cache is { } cached && cached.Written == info.LastWriteTimeUtc && cached.Length == info.Length) return cached.File;
            var file = Read(info);
            if (file.Problem is not null) logger.LogWarning("{File}: {Problem}", info.FullName, file.Problem);
            _cache = (info.LastWriteTimeUtc, info.Length, file);
            return file;
        }
    }

    public PromptStyle? Find(string name) => List().FirstOrDefault(s => s.Name == name);

    /// <summary>A1111's <c>apply_styles_to_prompt</c>: each style in order, <c>{prompt}</c> replaced, else appended after ", ".</summary>
    public static string Apply(string prompt, IEnumerable<string> stylePrompts)
    {
        foreach (var style in stylePrompts)
            prompt = style.Contains("{prompt}", StringComparison.Ordinal)
                ? style.Replace("{prompt}", prompt, StringComparison.Ordinal)
                : string.Join(", ", new[] { prompt.Trim(), style.Trim() }.Where(p => p.Length > 0));
        return prompt;
    }

    /// <summary>Applies the named styles to both prompts; unknown names are reported (A1111 applies them as empty styles).</summary>
    public (string Prompt, string NegativePrompt, IReadOnlyList<string> Unknown) Apply(string prompt, string negativePrompt, IReadOnlyList<string> names)
    {
        var styles = names.Select(n => (Name: n, Style: Find(n))).ToList();
        return (Apply(prompt, styles.Select(s => s.Style?.Prompt ?? "")),
            Apply(negativePrompt, styles.Select(s => s.Style?.NegativePrompt ?? "")),
            styles.Where(s => s.Style is null).Select(s => s.Name).ToList());
    }

    private static StylesFile Read(FileInfo info)
    {
        if (info.Length > MaxFileBytes)
            return new([], $"{FileName} is {info.Length / 1024.0 / 1024:0.0} MB; files over {MaxFileBytes / 1024 / 1024} MB are not read, so no styles are offered.");
        var problems = new List<string>();
        var badQuotes = 0;
        try
        {
            using var reader = new StreamReader(info.FullName, detectEncodingFromByteOrderMarks: true);
            using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture)
            {
                TrimOptions = TrimOptions.None,
                MissingFieldFound = null,
                BadDataFound = _ => badQuotes++,
                HeaderValidated = null,
                DetectColumnCountChanges = false,
            });
            if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is not { } header || !header.Contains("name"))
                return new([], $"{FileName} has no header line with a \"name\" column (A1111's format: name,prompt,negative_prompt).");
            var styles = new List<PromptStyle>();
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            var skippedForCount = 0;
            // RawRow is the last line a record reached (a quoted field may span lines): a record starts after the previous one.
            var lastLine = csv.Parser.RawRow;
            while (csv.Read())
            {
                var row = lastLine + 1;
                lastLine = csv.Parser.RawRow;
                // A1111 reads with skipinitialspace and skips rows whose name starts with "#".
                var name = csv.GetField("name")?.TrimStart();
                if (string.IsNullOrEmpty(name) || name.StartsWith('#')) continue;
                var prompt = (csv.TryGetField<string>("prompt", out var p) ? p : csv.TryGetField<string>("text", out var t) ? t : "") ?? "";
                var negative = (csv.TryGetField<string>("negative_prompt", out var n) ? n : "") ?? "";
                if (RowProblem(name, prompt, negative) is { } problem)
                {
                    problems.Add($"line {row}: {problem}");
                    continue;
                }
                // A1111 keeps styles in a dict by name: a later row of the same name replaces the earlier one.
                if (seen.TryGetValue(name, out var index))
                {
                    styles[index] = new PromptStyle(name, prompt.TrimStart(), negative.TrimStart());
                    continue;
                }
                if (styles.Count == MaxStyles)
                {
                    skippedForCount++;
                    continue;
                }
                seen[name] = styles.Count;
                styles.Add(new PromptStyle(name, prompt.TrimStart(), negative.TrimStart()));
            }
            if (skippedForCount > 0) problems.Insert(0, $"only the first {MaxStyles:N0} styles are offered ({skippedForCount:N0} more left out)");
            if (badQuotes > 0) problems.Add($"{badQuotes:N0} fields have stray quotes (read as written)");
            return new(styles, Summary(problems));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CsvHelperException)
        {
            return new([], $"{FileName} cannot be read as A1111 styles: {ex.Message.Split('\n')[0]}");
        }
    }

    private static string? RowProblem(string name, string prompt, string negative)
    {
        if (name.Length > MaxNameLength)
            return $"a style name of {name.Length:N0} characters (at most {MaxNameLength}; an unclosed quote?) — skipped";
        if (HasBinary(name) || HasBinary(prompt) || HasBinary(negative))
            return "a style holds binary data (control characters or bytes that are not UTF-8) — skipped";
        var longest = Math.Max(prompt.Length, negative.Length);
        if (longest > GenerationLimits.MaxPromptLength)
            return $"style \"{Shown(name)}\" has a prompt of {longest:N0} characters (prompts may have {GenerationLimits.MaxPromptLength:N0}; an unclosed quote?) — skipped";
        return null;
    }

    // U+FFFD is what the UTF-8 decoder makes of bytes that are not text.
    private static bool HasBinary(string text) => text.AsSpan().IndexOfAnyInRange('\0', '\u0008') >= 0
        || text.AsSpan().IndexOfAnyInRange('\u000e', '\u001f') >= 0 || text.Contains('\ufffd') || text.Contains('\u000b') || text.Contains('\u000c');

    private static string Shown(string name) => name.Length <= 40 ? name : name[..40] + "…";

    private static string? Summary(List<string> problems) => problems.Count switch
    {
        0 => null,
        <= 3 => $"{FileName}: {string.Join("; ", problems)}.",
        _ => $"{FileName}: {string.Join("; ", problems.Take(3))}; and {problems.Count - 3:N0} more problems.",
    };
}
