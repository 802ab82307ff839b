using Microsoft.Extensions.Options;
using SdBlazor.Engine;

namespace SdBlazor.Web.Api.Extras;

/// <summary>A1111's <c>EmbeddingItem</c>.</summary>
public sealed record EmbeddingInfo(int? Step, string? SdCheckpoint, string? SdCheckpointName, long Shape, long Vectors);

/// <summary>
/// Textual-inversion files in the <c>embeddings</c> folder inside the models folder. Injecting them into prompts needs
/// the weight layer that is not built yet, so none is "loaded": every readable <c>.safetensors</c> embedding is listed
/// under "skipped" with its shape, as A1111 lists embeddings it cannot use with the current model. Pickle files
/// (<c>.pt</c>, <c>.bin</c>) are never opened.
/// </summary>
public sealed class EmbeddingCatalog(IOptions<EngineOptions> engine)
{
    public const string FolderName = "embeddings";
    public const int MaxFiles = 5000;

    public string Folder => Path.Combine(engine.Value.ResolveModelsPath(), FolderName);

    public (IReadOnlyDictionary<string, EmbeddingInfo> Loaded, IReadOnlyDictionary<string, EmbeddingInfo> Skipped) List()
    {
        var skipped = new SortedDictionary<string, EmbeddingInfo>(StringComparer.OrdinalIgnoreCase);
        if (Directory.Exists(Folder))
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 8, IgnoreInaccessible = true, MatchCasing = MatchCasing.CaseInsensitive };
            foreach (var file in Directory.EnumerateFiles(Folder, "*.safetensors", options).Take(MaxFiles))
            {
                var metadata = SafetensorsMetadata.Read(file, out var shapes);
                if (metadata is null) continue;
                // A1111's format: "emb_params" [vectors, width]; SDXL: "clip_l" and "clip_g" (listed by clip_g's width, as A1111 does).
                var tensor = shapes.GetValueOrDefault("emb_params") ?? shapes.GetValueOrDefault("clip_g") ?? shapes.Values.FirstOrDefault();
                if (tensor is null) continue;
                var (vectors, width) = tensor.Length >= 2 ? (tensor[0], tensor[^1]) : (1L, tensor.Length == 1 ? tensor[0] : 0L);
                int? step = metadata.TryGetValue("step", out var s) && int.TryParse(s, out var parsed) ? parsed : null;
                skipped[Path.GetFileNameWithoutExtension(file)] = new EmbeddingInfo(step, metadata.GetValueOrDefault("sd_checkpoint"),
                    metadata.GetValueOrDefault("sd_checkpoint_name"), width, vectors);
            }
        }
        return (new Dictionary<string, EmbeddingInfo>(), skipped);
    }
}
