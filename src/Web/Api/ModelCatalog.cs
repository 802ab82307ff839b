using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using SdBlazor.Engine;
using SdBlazor.Engine.Pipelines;

namespace SdBlazor.Web.Api;

/// <summary>
/// Models as A1111 clients see them: a title <c>name [shorthash]</c> (the short hash is the first 10 hex digits of
/// the SHA-256, once the engine has computed it), and the selected checkpoint (<c>sd_model_checkpoint</c>), which is
/// persisted and used by requests that do not override it.
/// </summary>
public sealed partial class ModelCatalog(IGenerationEngine engine, SdApiSettingsStore settings, IOptions<EngineOptions> engineOptions)
{
    public IReadOnlyList<ModelDescriptor> List() => engine.ListModels();

    public void Refresh() => engine.RefreshModels();

    public static string? ShortHash(ModelDescriptor model) => model.Sha256 is { Length: >= 10 } sha ? sha[..10] : null;

    /// <summary>A1111's title: the checkpoint's file name (a folder's name), then the short hash once known.</summary>
    public static string Title(ModelDescriptor model)
    {
        var name = model.FileName ?? model.Name;
        return ShortHash(model) is { } hash ? $"{name} [{hash}]" : name;
    }

    /// <summary>
    /// Finds a model by A1111 title (<c>name [hash]</c>), plain name, or file-style name (<c>name.safetensors</c>,
    /// <c>sub/name.ckpt</c>), case-insensitively; <c>null</c> when none matches.
    /// </summary>
    public ModelDescriptor? Find(string? checkpoint)
    {
        if (string.IsNullOrWhiteSpace(checkpoint) || checkpoint.Length > MaxCheckpointLength) return null;
        var models = List();
        var text = checkpoint.Trim();
        var exact = models.FirstOrDefault(m => string.Equals(Title(m), text, StringComparison.OrdinalIgnoreCase));
        if (exact is not null) return exact;

        Match match;
        try { match = TitlePattern.Match(text); }
        catch (RegexMatchTimeoutException) { return null; }
        var name = match.Groups["name"].Value.Trim();
        var hash = match.Groups["hash"].Success ? match.Groups["hash"].Value : null;
        name = StripExtension(Path.GetFileName(name.Replace('\\', '/')));
        var byName = models.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
        // A title whose hash belongs to another file is a different checkpoint, even with the same name.
        if (byName is not null && hash is not null && ShortHash(byName) is { } known && !known.StartsWith(hash, StringComparison.OrdinalIgnoreCase))
            return null;
        return byName;
    }

    /// <summary>The checkpoint API requests use: the persisted selection when still installed, else the engine's default, else the first model.</summary>
    public ModelDescriptor? Selected()
    {
        var models = List().Where(m => m.Error is null).ToList();
        var chosen = settings.Current.SelectedModel;
        return models.FirstOrDefault(m => string.Equals(m.Name, chosen, StringComparison.OrdinalIgnoreCase))
            ?? models.FirstOrDefault(m => string.Equals(m.Name, engineOptions.Value.DefaultModel, StringComparison.OrdinalIgnoreCase))
            ?? models.FirstOrDefault();
    }

    public void Select(ModelDescriptor model) => settings.Update(s => s with { SelectedModel = model.Name });

    public string NotFoundMessage(string checkpoint)
    {
        var titles = List().Select(Title).ToList();
        return titles.Count == 0
            ? $"Model '{checkpoint}' not found: no models are installed."
            : $"Model '{checkpoint}' not found. Available: {string.Join(", ", titles)}.";
    }

    private const int MaxCheckpointLength = 1024;

    private static string StripExtension(string name)
    {
        foreach (var extension in (string[])[".safetensors", ".ckpt", ".onnx", ".pt"])
            if (name.EndsWith(extension, StringComparison.OrdinalIgnoreCase)) return name[..^extension.Length];
        return name;
    }

    // Non-backtracking: the lazy name before an optional hash is quadratic in a long checkpoint name from a request.
    private static readonly Regex TitlePattern = new(@"^(?<name>.*?)(\s*\[(?<hash>[0-9a-fA-F]{8,64})\])?$", RegexOptions.NonBacktracking, TimeSpan.FromSeconds(2));
}
