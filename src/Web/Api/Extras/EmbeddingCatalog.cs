using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Prompts;

namespace SdBlazor.Web.Api.Extras;

/// <summary>A1111's <c>EmbeddingItem</c>.</summary>
public sealed record EmbeddingInfo(int? Step, string? SdCheckpoint, string? SdCheckpointName, long Shape, long Vectors);

/// <summary>
/// The engine's textual inversions as A1111's <c>/sdapi/v1/embeddings</c> lists them: "loaded" are those the resident
/// model can use, "skipped" those of another width (A1111's <c>skipped_embeddings</c>). Files that cannot be read —
/// pickles (never opened), damaged or hostile files — are listed under "skipped" too, with shape and vectors 0, so a
/// client sees every file of the folder. Before any model has encoded a prompt the width is unknown and every readable
/// embedding is "loaded" (a prompt naming one of the wrong width gets a warning then).
/// </summary>
public sealed class EmbeddingCatalog(GenerationEngine engine)
{
    public string Folder => engine.Embeddings.Folder;

    public (IReadOnlyDictionary<string, EmbeddingInfo> Loaded, IReadOnlyDictionary<string, EmbeddingInfo> Skipped) List()
    {
        var (embeddings, problems) = engine.Embeddings.Scan();
        var resident = engine.ResidentEmbeddingWidth;
        var loaded = new SortedDictionary<string, EmbeddingInfo>(StringComparer.OrdinalIgnoreCase);
        var skipped = new SortedDictionary<string, EmbeddingInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var embedding in embeddings)
        {
            var info = new EmbeddingInfo(embedding.Step, embedding.SdCheckpoint, embedding.SdCheckpointName, embedding.Shape, embedding.Vectors);
            var fits = resident is not { } r || (embedding.IsSdxl == r.Sdxl && embedding.Shape == r.Width);
            (fits ? loaded : skipped)[embedding.Name] = info;
        }
        foreach (var name in problems.Keys) skipped.TryAdd(name, new EmbeddingInfo(null, null, null, 0, 0));
        return (loaded, skipped);
    }
}
