using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Prompts;

/// <summary>The preview images of LoRA / embedding cards (A1111's <c>NAME.png</c> / <c>NAME.preview.png</c> beside the file).</summary>
public static class ExtraNetworksEndpoints
{
    public const string PreviewPath = "/api/extra-networks/preview";

    /// <summary>Larger files are not served (a preview is a thumbnail; this keeps a stray huge file from being streamed to every card).</summary>
    public const long MaxPreviewBytes = 8 * 1024 * 1024;

    public static IServiceCollection AddExtraNetworks(this IServiceCollection services) => services.AddSingleton<ExtraNetworks>();

    public static void MapExtraNetworks(this IEndpointRouteBuilder app)
    {
        // Only paths the catalog found are served: the query names a card, never a file.
        app.MapGet(PreviewPath, (string? kind, string? name, ExtraNetworks networks) =>
            {
                var (loras, embeddings) = networks.Cards();
                var card = (kind == "lora" ? loras : kind == "embedding" ? embeddings : []).FirstOrDefault(c => c.Name == name);
                if (card?.PreviewPath is not { } path) return Results.NotFound();
                var info = new FileInfo(path);
                if (!info.Exists || info.Length > MaxPreviewBytes) return Results.NotFound();
                return Results.File(path, "image/png", enableRangeProcessing: false);
            })
            .RequireAuthorization(SharingPolicies.Member)
            .ExcludeFromDescription();
    }
}
