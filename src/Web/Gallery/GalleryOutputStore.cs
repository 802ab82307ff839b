using SdBlazor.Engine.Pipelines;
using SdBlazor.Web.Generation;

namespace SdBlazor.Web.Gallery;

/// <summary>
/// The worker's output seam, backed by the gallery: every finished image becomes a gallery PNG + index row, owned
/// by the job's account.
/// </summary>
public sealed class GalleryOutputStore(GalleryStore store) : IGenerationOutputStore
{
    public Task<IReadOnlyList<string>> SaveAsync(Job job, GenerationResult result, CancellationToken cancellationToken) =>
        store.SaveResultAsync(result, job.ParentImageId, job.Account, cancellationToken);
}
