using System.Text.Json;
using SdBlazor.Web.Api.Extras;

namespace SdBlazor.Web.Prompts;

/// <summary>A LoRA or textual-inversion embedding as the Generate page shows it (A1111's "extra networks" cards).</summary>
/// <param name="Kind"><c>lora</c> or <c>embedding</c>.</param>
/// <param name="Insert">What a click adds to the prompt: <c>&lt;lora:NAME:1&gt;</c>, or the embedding's name.</param>
/// <param name="Facts">Training notes worth a glance (network dim/alpha, epochs, resolution, base checkpoint …).</param>
/// <param name="Tags">Trigger words: the most frequent captions' tags of the training set (<c>ss_tag_frequency</c>).</param>
/// <param name="Metadata">Every other metadata value, shortened.</param>
public sealed record NetworkCard(string Kind, string Name, string Alias, string Family, string Insert,
    IReadOnlyList<KeyValuePair<string, string>> Facts, IReadOnlyList<string> Tags, IReadOnlyList<KeyValuePair<string, string>> Metadata,
    string? PreviewPath);

/// <summary>A name the prompt box completes: <c>lora</c> (inserts its tag), <c>embedding</c> (its name) or <c>style</c> (chooses it).</summary>
public sealed record PromptCompletion(string Kind, string Name, string Insert, string Detail);

/// <summary>
/// The LoRA and embedding cards of the Generate page and the names its prompt box completes, built from the same
/// catalogs the A1111 API lists (<see cref="LoraCatalog"/>, <see cref="EmbeddingCatalog"/>, <see cref="PromptStyleStore"/>).
/// Each file's header is read once per refresh (the shapes tell the base model when the metadata does not).
/// </summary>
public sealed class ExtraNetworks(LoraCatalog loras, EmbeddingCatalog embeddings, PromptStyleStore styles)
{
    public const int MaxTags = 12, MaxMetadataValueLength = 300;

    private static readonly string[] FactKeys =
    [
        "ss_output_name", "ss_network_module", "ss_network_dim", "ss_network_alpha", "ss_num_epochs", "ss_epoch", "ss_steps",
        "ss_resolution", "ss_sd_model_name", "ss_learning_rate", "ss_training_started_at", "modelspec.title", "modelspec.trigger_phrase",
    ];

    private readonly object _lock = new();
    private (IReadOnlyList<NetworkCard> Loras, IReadOnlyList<NetworkCard> Embeddings)? _cards;

    public string LoraFolder => loras.Folder;
    public string EmbeddingFolder => embeddings.Folder;

    public (IReadOnlyList<NetworkCard> Loras, IReadOnlyList<NetworkCard> Embeddings) Cards()
    {
        lock (_lock)
        {
            if (_cards is { } cards) return cards;
        }
        var built = Build();
        lock (_lock) return _cards ??= built;
    }

    /// <summary>Re-scans both folders (the API's <c>refresh-loras</c> does the same for LoRAs).</summary>
    public (IReadOnlyList<NetworkCard> Loras, IReadOnlyList<NetworkCard> Embeddings) Refresh()
    {
        loras.Refresh();
        var built = Build();
        lock (_lock) _cards = built;
        return built;
    }

    public IReadOnlyList<PromptCompletion> Completions()
    {
        var (loraCards, embeddingCards) = Cards();
        var result = new List<PromptCompletion>(loraCards.Count + embeddingCards.Count);
        result.AddRange(loraCards.Select(c => new PromptCompletion("lora", c.Name, c.Insert, c.Alias != c.Name ? $"LoRA · {c.Family} · {c.Alias}" : $"LoRA · {c.Family}")));
        result.AddRange(embeddingCards.Select(c => new PromptCompletion("embedding", c.Name, c.Insert, $"embedding · {c.Family}")));
        result.AddRange(styles.List().Select(s => new PromptCompletion("style", s.Name, s.Name, "style")));
        return result;
    }

    private (IReadOnlyList<NetworkCard>, IReadOnlyList<NetworkCard>) Build()
    {
        var loraCards = loras.List().Select(LoraCard).ToList();
        var (loaded, skipped) = embeddings.List();
        var files = EmbeddingFiles();
        var embeddingCards = loaded.Select(e => EmbeddingCard(e.Key, e.Value, true, files.GetValueOrDefault(e.Key)))
            .Concat(skipped.Select(e => EmbeddingCard(e.Key, e.Value, false, files.GetValueOrDefault(e.Key))))
            .OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ToList();
        return (loraCards, embeddingCards);
    }

    private static NetworkCard LoraCard(LoraItem item)
    {
        var metadata = SafetensorsMetadata.Read(item.Path, out var shapes) ?? [];
        var facts = FactKeys.Where(metadata.ContainsKey).Select(k => KeyValuePair.Create(k, Shorten(metadata[k]))).ToList();
        var rest = metadata.Where(e => !FactKeys.Contains(e.Key) && e.Key != "ss_tag_frequency")
            .OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => KeyValuePair.Create(e.Key, Shorten(e.Value))).ToList();
        return new NetworkCard("lora", item.Name, item.Alias, NetworkFamily.OfLora(metadata, shapes), $"<lora:{item.Name}:1>",
            facts, TriggerTags(metadata), rest, Preview(item.Path));
    }

    private static NetworkCard EmbeddingCard(string name, EmbeddingInfo info, bool loaded, string? path)
    {
        var shapes = new Dictionary<string, long[]>();
        if (path is not null) SafetensorsMetadata.Read(path, out shapes);
        var facts = new List<KeyValuePair<string, string>>
        {
            KeyValuePair.Create("vectors", info.Vectors.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            KeyValuePair.Create("width", info.Shape.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            KeyValuePair.Create("state", loaded ? "loaded" : "skipped (not usable with the current model)"),
        };
        if (info.Step is { } step) facts.Add(KeyValuePair.Create("step", step.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (info.SdCheckpointName is { Length: > 0 } checkpoint) facts.Add(KeyValuePair.Create("sd_checkpoint_name", Shorten(checkpoint)));
        return new NetworkCard("embedding", name, name, NetworkFamily.OfEmbedding(shapes), name, facts, [], [], path is null ? null : Preview(path));
    }

    // The catalog lists embeddings by name (A1111's API shape); the cards need their files' headers and pictures.
    private Dictionary<string, string> EmbeddingFiles()
    {
        var files = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (!Directory.Exists(embeddings.Folder)) return files;
        var options = new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 8, IgnoreInaccessible = true, MatchCasing = MatchCasing.CaseInsensitive };
        foreach (var file in Directory.EnumerateFiles(embeddings.Folder, "*.safetensors", options).Take(SdBlazor.Engine.Prompts.EmbeddingLibrary.MaxFiles))
            files.TryAdd(Path.GetFileNameWithoutExtension(file), file);
        return files;
    }

    /// <summary>A1111's card preview: <c>NAME.png</c> or <c>NAME.preview.png</c> beside the file.</summary>
    private static string? Preview(string file)
    {
        var stem = Path.Combine(Path.GetDirectoryName(file) ?? "", Path.GetFileNameWithoutExtension(file));
        return new[] { stem + ".png", stem + ".preview.png" }.FirstOrDefault(File.Exists);
    }

    // ss_tag_frequency is {"<dataset folder>": {"tag": count, …}, …}: summed over folders, most frequent first.
    private static IReadOnlyList<string> TriggerTags(IReadOnlyDictionary<string, string> metadata)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        if (metadata.TryGetValue("ss_tag_frequency", out var json))
        {
            try
            {
                using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
                if (document.RootElement.ValueKind == JsonValueKind.Object)
                    foreach (var folder in document.RootElement.EnumerateObject().Where(f => f.Value.ValueKind == JsonValueKind.Object))
                        foreach (var tag in folder.Value.EnumerateObject())
                        {
                            var name = tag.Name.Trim();
                            if (name.Length is 0 or > 100 || !tag.Value.TryGetInt64(out var count)) continue;
                            counts[name] = counts.GetValueOrDefault(name) + count;
                        }
            }
            catch (JsonException)
            {
                // A damaged value only costs the trigger words.
            }
        }
        var tags = counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(MaxTags).Select(c => c.Key).ToList();
        if (tags.Count == 0 && metadata.GetValueOrDefault("modelspec.trigger_phrase") is { Length: > 0 and <= 200 } phrase) tags.Add(phrase);
        return tags;
    }

    private static string Shorten(string value) => value.Length <= MaxMetadataValueLength ? value : value[..MaxMetadataValueLength] + "…";
}
