using SdBlazor.Engine.Pipelines;

namespace SdBlazor.Web.Generation;

/// <summary>Where the worker hands finished images (the gallery replaces the default registration with its own store).</summary>
public interface IGenerationOutputStore
{
    /// <returns>One id per image, in order; each is served by <c>/api/images/{id}</c>.</returns>
    Task<IReadOnlyList<string>> SaveAsync(Job job, GenerationResult result, CancellationToken cancellationToken);
}
