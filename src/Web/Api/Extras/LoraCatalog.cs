using System.Text.Json;
using Microsoft.Extensions.Options;
using SdBlazor.Engine;

namespace SdBlazor.Web.Api.Extras;

/// <summary>A LoRA file as A1111's Lora extension lists it (<c>create_lora_json</c>).</summary>
/// <param name="Metadata">The file's <c>__metadata__</c>; kohya's <c>ss_*</c> values that are JSON (tag frequencies, datasets) are parsed, as A1111 does.</param>
public sealed record LoraItem(string Name, string Alias, string Path, IReadOnlyDictionary<string, object?> Metadata);

/// <summary>
/// The <c>*.safetensors</c> files in the <c>Lora</c> folder inside the models folder, listed once and again on
/// <c>/sdapi/v1/refresh-loras</c>. Applying LoRAs is not part of this catalog (it needs the weight layer of the
/// checkpoint importer); listing them lets A1111 clients start and show what is installed.
/// </summary>
public sealed class LoraCatalog(IOptions<EngineOptions> engine, ILogger<LoraCatalog> logger)
{
    public const string FolderName = "Lora";

    /// <summary>At most this many files are listed (a folder of thousands is read once per refresh, headers only).</summary>
    public const int MaxFiles = 5000;

    private readonly object _lock = new();
    private IReadOnlyList<LoraItem>? _items;

    public string Folder => Path.Combine(engine.Value.ResolveModelsPath(), FolderName);

    public IReadOnlyList<LoraItem> List()
    {
        lock (_lock) return _items ??= Scan();
    }

    public void Refresh()
    {
        var items = Scan();
        lock (_lock) _items = items;
    }

    private List<LoraItem> Scan()
    {
        var folder = Folder;
        if (!Directory.Exists(folder)) return [];
        var items = new List<LoraItem>();
        var options = new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 8, IgnoreInaccessible = true, MatchCasing = MatchCasing.CaseInsensitive };
        foreach (var file in Directory.EnumerateFiles(folder, "*.safetensors", options).Order(StringComparer.OrdinalIgnoreCase))
        {
            if (items.Count == MaxFiles)
            {
                logger.LogWarning("More than {Max} LoRA files in {Folder}: only the first {Max} are listed.", MaxFiles, folder, MaxFiles);
                break;
            }
            var metadata = SafetensorsMetadata.Read(file);
            if (metadata is null)
            {
                logger.LogWarning("{File} is not a readable safetensors file; not listed.", file);
                continue;
            }
            var name = Path.GetFileNameWithoutExtension(file);
            // A1111: the alias is ss_output_name when the file states one, else the file name.
            var alias = metadata.TryGetValue("ss_output_name", out var output) && !string.IsNullOrWhiteSpace(output) ? output : name;
            items.Add(new LoraItem(name, alias, file, metadata.ToDictionary(e => e.Key, e => Parse(e.Key, e.Value))));
        }
        return items;
    }

    // A1111's network.NetworkOnDisk parses the metadata values that are JSON objects or arrays.
    private static object? Parse(string key, string value)
    {
        var trimmed = value.TrimStart();
        if (trimmed.Length == 0 || trimmed[0] is not ('{' or '[')) return value;
        try
        {
            return JsonSerializer.Deserialize<JsonElement>(value);
        }
        catch (JsonException)
        {
            return value;
        }
    }
}
