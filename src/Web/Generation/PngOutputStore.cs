using System.Text.RegularExpressions;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Web.Storage;
using SdBlazor.Web.Sharing;
using SixLabors.ImageSharp;

namespace SdBlazor.Web.Generation;

/// <summary>
/// Default output store: plain PNGs in <c>{DataFolder}/outputs/{jobId}-{index}.png</c>, served by <c>/api/images/{id}</c>.
/// Deliberately small and self-contained so the gallery can swap it out (registration and endpoint both live here).
/// </summary>
public sealed partial class PngOutputStore(DataFolder dataFolder) : IGenerationOutputStore
{
    private string Folder => Directory.CreateDirectory(dataFolder.File("outputs")).FullName;

    public async Task<IReadOnlyList<string>> SaveAsync(Job job, GenerationResult result, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        foreach (var image in result.Images)
        {
            var id = $"{job.Id}-{image.Index}";
            var path = Path.Combine(Folder, id + ".png");
            // Write then rename, so a reader never sees half a file.
            var temp = path + ".tmp";
            await image.Image.SaveAsPngAsync(temp, cancellationToken);
            File.Move(temp, path, overwrite: true);
            ids.Add(id);
        }
        return ids;
    }

    /// <summary>The file of an image id, or <c>null</c> for ids that are malformed (never a path from a client) or unknown.</summary>
    public string? FileOf(string id)
    {
        if (!IdPattern().IsMatch(id)) return null;
        var path = Path.Combine(Folder, id + ".png");
        return File.Exists(path) ? path : null;
    }

    [GeneratedRegex("^[a-f0-9]{32}-[0-9]{1,4}$")]
    private static partial Regex IdPattern();
}

public static class PngOutputStoreRegistration
{
    public static IServiceCollection AddPngOutputStore(this IServiceCollection services)
    {
        services.AddSingleton<PngOutputStore>();
        services.AddSingleton<IGenerationOutputStore>(sp => sp.GetRequiredService<PngOutputStore>());
        return services;
    }

    public static IEndpointRouteBuilder MapPngOutputImages(this IEndpointRouteBuilder app)
    {
        // The constraint (this store's id shape) keeps the route apart from the gallery's /api/images/{id}, which
        // otherwise both match every id (AmbiguousMatchException → 500); gallery ids are 24 hex digits.
        // The id starts with the job's: a member gets only images of their own jobs (others answer 404, like unknown ids).
        app.MapGet("/api/images/{id:regex(^[a-f0-9]{{32}}-[0-9]{{1,4}}$)}", (string id, HttpContext http, GenerationQueue queue, PngOutputStore store) =>
            queue.Get(id[..32], Sharing.Auth.SharingClaims.Scope(http.User)) is not null && store.FileOf(id) is { } path ? Results.File(path, "image/png") : Results.NotFound())
            .RequireAuthorization(SharingPolicies.Member);
        return app;
    }
}
