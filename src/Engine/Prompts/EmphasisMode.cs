namespace SdBlazor.Engine.Prompts;

/// <summary>A1111's <c>emphasis</c> setting (<c>modules/sd_emphasis.py</c>), by its option names.</summary>
public enum EmphasisMode
{
    /// <summary>"Original": weights multiply the text encoder's output, then its mean is restored.</summary>
    Original,

    /// <summary>"No norm": weights multiply the output, the mean is not restored.</summary>
    NoNorm,

    /// <summary>"Ignore": the syntax is parsed (brackets removed) but weights are not applied.</summary>
    Ignore,

    /// <summary>"None": no emphasis parsing at all: brackets and BREAK are literal text (prompt editing still applies).</summary>
    None,
}

public static class EmphasisModes
{
    public const string SettingName = "emphasis";

    public static string Name(EmphasisMode mode) => mode switch
    {
        EmphasisMode.NoNorm => "No norm",
        EmphasisMode.Ignore => "Ignore",
        EmphasisMode.None => "None",
        _ => "Original",
    };

    public static IReadOnlyList<string> Names { get; } = ["Original", "No norm", "Ignore", "None"];

    /// <summary>Reads A1111's spelling, case-insensitive.</summary>
    public static bool TryParse(string? text, out EmphasisMode mode)
    {
        mode = EmphasisMode.Original;
        switch (text?.Trim().ToLowerInvariant())
        {
            case "original": return true;
            case "no norm": mode = EmphasisMode.NoNorm; return true;
            case "ignore": mode = EmphasisMode.Ignore; return true;
            case "none": mode = EmphasisMode.None; return true;
            default: return false;
        }
    }
}
