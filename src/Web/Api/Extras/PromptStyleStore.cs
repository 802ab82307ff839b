using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Api.Extras;

/// <summary>A saved style as A1111 keeps it in <c>styles.csv</c> (columns <c>name,prompt,negative_prompt</c>).</summary>
public sealed record PromptStyle(string Name, string Prompt, string NegativePrompt);

/// <summary>
/// Styles from <c>styles.csv</c> in the data folder (A1111's <c>modules/styles.py</c> format, so the file can be copied
/// from an A1111 install), re-read when the file changes. Applying styles follows A1111's <c>merge_prompts</c>.
/// </summary>
public sealed class PromptStyleStore(DataFolder data, ILogger<PromptStyleStore> logger)
{
    public const string FileName = "styles.csv";
    public const int MaxFileBytes = 4 * 1024 * 1024;

    private readonly object _lock = new();
    private (DateTime Written, long Length, IReadOnlyList<PromptStyle> Styles)? _cache;

    public string Path => data.File(FileName);

    public IReadOnlyList<PromptStyle> List()
    {
        var info = new FileInfo(Path);
        if (!info.Exists) return [];
        lock (_lock)
        {
            if (_cache is { } cached && cached.Written == info.LastWriteTimeUtc && cached.Length == info.Length) return cached.Styles;
            var styles = Read(info);
            _cache = (info.LastWriteTimeUtc, info.Length, styles);
            return styles;
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

    private List<PromptStyle> Read(FileInfo info)
    {
        if (info.Length > MaxFileBytes)
        {
            logger.LogWarning("{File} is {Bytes:N0} bytes; styles files over {Max:N0} bytes are not read.", info.FullName, info.Length, MaxFileBytes);
            return [];
        }
        try
        {
            using var reader = new StreamReader(info.FullName, detectEncodingFromByteOrderMarks: true);
            using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture)
            {
                TrimOptions = TrimOptions.None,
                MissingFieldFound = null,
                BadDataFound = null,
                HeaderValidated = null,
                DetectColumnCountChanges = false,
            });
            if (!csv.Read() || !csv.ReadHeader()) return [];
            var styles = new List<PromptStyle>();
            while (csv.Read())
            {
                // A1111 reads with skipinitialspace and skips rows whose name starts with "#".
                var name = csv.GetField("name")?.TrimStart();
                if (string.IsNullOrEmpty(name) || name.StartsWith('#')) continue;
                var prompt = (csv.TryGetField<string>("prompt", out var p) ? p : csv.TryGetField<string>("text", out var t) ? t : "") ?? "";
                var negative = (csv.TryGetField<string>("negative_prompt", out var n) ? n : "") ?? "";
                styles.Add(new PromptStyle(name, prompt.TrimStart(), negative.TrimStart()));
            }
            return styles;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CsvHelperException)
        {
            logger.LogWarning("{File} cannot be read as A1111 styles: {Message}", info.FullName, ex.Message);
            return [];
        }
    }
}
