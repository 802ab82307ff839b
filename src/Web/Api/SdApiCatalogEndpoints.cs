using Microsoft.Extensions.Options;
using SdBlazor.Engine;
using SdBlazor.Web.Api.Extras;
using SdBlazor.Web.Api.Models;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Api;

/// <summary>
/// The lists A1111 clients read at start-up (A1111 <c>modules/api/api.py</c> and the Lora extension's routes): what
/// exists here is listed, features that do not exist answer empty lists, and unknown <c>/sdapi/</c> routes answer
/// A1111's JSON error instead of an empty 404.
/// </summary>
public static class SdApiCatalogEndpoints
{
    public static void MapSdApiCatalogs(this RouteGroupBuilder api)
    {
        api.MapGet("/loras", (LoraCatalog loras) => Results.Json(loras.List()
                .Select(l => new LoraResponseItem(l.Name, l.Alias, l.Path, l.Metadata)).ToList()))
            .WithSummary("LoRA files in the models folder's Lora folder (listed; applying them is not supported yet)")
            .Produces<List<LoraResponseItem>>();

        // A1111's refresh-loras answers null.
        api.MapPost("/refresh-loras", (LoraCatalog loras) => { loras.Refresh(); return Results.Text("null", "application/json"); })
            .WithSummary("Re-scan the Lora folder").Produces(StatusCodes.Status200OK)
            .RequireAuthorization(SharingPolicies.Owner);

        api.MapGet("/embeddings", (EmbeddingCatalog embeddings) =>
            {
                var (loaded, skipped) = embeddings.List();
                return Results.Json(new EmbeddingsResponse(Items(loaded), Items(skipped)));
            })
            .WithSummary("Textual-inversion embeddings: loaded (fit the resident model) and skipped (another width, or unreadable: pickles are never opened)")
            .Produces<EmbeddingsResponse>();

        api.MapGet("/prompt-styles", (PromptStyleStore styles) => Results.Json(styles.List()
                .Select(s => new PromptStyleItem(s.Name, s.Prompt, s.NegativePrompt)).ToList()))
            .WithSummary("Styles from styles.csv in the data folder").Produces<List<PromptStyleItem>>();

        // Separate VAE files need the weight layer of single-file checkpoints; until then none can be chosen.
        api.MapGet("/sd-vae", () => Results.Json(new List<SdVaeItem>()))
            .WithSummary("VAE files that can be chosen with sd_vae (none yet)").Produces<List<SdVaeItem>>();

        api.MapGet("/upscalers", (UpscalerCatalog upscalers) => Results.Json(upscalers.Upscalers()
                .Select(u => new UpscalerItem(u.Name, u.ModelName, u.ModelPath, u.ModelUrl, u.Scale)).ToList()))
            .WithSummary("Upscalers").Produces<List<UpscalerItem>>();

        api.MapGet("/latent-upscale-modes", (UpscalerCatalog upscalers) => Results.Json(upscalers.LatentUpscaleModes()
                .Select(m => new LatentUpscalerModeItem(m)).ToList()))
            .WithSummary("Latent upscale modes (hires fix)").Produces<List<LatentUpscalerModeItem>>();

        api.MapGet("/memory", () =>
            {
                var (ram, cuda) = MemoryReport.Read();
                return Results.Json(new MemoryResponse(ram, cuda));
            })
            .WithSummary("Memory of this process and machine").Produces<MemoryResponse>();

        api.MapGet("/cmd-flags", (IOptions<EngineOptions> engine, DataFolder data, LoraCatalog loras, EmbeddingCatalog embeddings, PromptStyleStore styles) =>
            {
                var models = engine.Value.ResolveModelsPath();
                // The A1111 flags that have a counterpart here, with this install's values.
                return Results.Json(new Dictionary<string, object?>
                {
                    ["api"] = true,
                    ["nowebui"] = false,
                    ["data_dir"] = data.Path,
                    ["models_dir"] = models,
                    ["ckpt_dir"] = models,
                    ["lora_dir"] = loras.Folder,
                    ["embeddings_dir"] = embeddings.Folder,
                    ["styles_file"] = new[] { styles.Path },
                    ["hide_ui_dir_config"] = true,
                    ["enable_insecure_extension_access"] = false,
                    ["disable_safe_unpickle"] = false,
                    ["no_half"] = false,
                    ["medvram"] = false,
                    ["lowvram"] = false,
                    ["xformers"] = false,
                });
            })
            .WithSummary("Start-up flags (the A1111 flags that apply here)").Produces<Dictionary<string, object>>();

        api.MapGet("/scripts", () => Results.Json(new ScriptsList([], [])))
            .WithSummary("Scripts (none)").Produces<ScriptsList>();
        api.MapGet("/script-info", () => Results.Json(new List<ScriptInfo>()))
            .WithSummary("Script arguments (no scripts)").Produces<List<ScriptInfo>>();
        api.MapGet("/extensions", () => Results.Json(new List<ExtensionItem>()))
            .WithSummary("Extensions (none: nothing is installed by URL here)").Produces<List<ExtensionItem>>();
        api.MapGet("/face-restorers", () => Results.Json(new List<FaceRestorerItem>()))
            .WithSummary("Face restorers (none)").Produces<List<FaceRestorerItem>>();
        api.MapGet("/hypernetworks", () => Results.Json(new List<HypernetworkItem>()))
            .WithSummary("Hypernetworks (none)").Produces<List<HypernetworkItem>>();
    }

    private static Dictionary<string, EmbeddingItem> Items(IReadOnlyDictionary<string, EmbeddingInfo> items) =>
        items.ToDictionary(e => e.Key, e => new EmbeddingItem(e.Value.Step, e.Value.SdCheckpoint, e.Value.SdCheckpointName, e.Value.Shape, e.Value.Vectors));

    /// <summary>
    /// Unknown <c>/sdapi/</c> routes (404) and known ones called with the wrong method (405) answer as A1111's exception
    /// handler does: <c>{"error": "HTTPException", "detail": "Not Found", "body": "", "errors": "404: Not Found"}</c>.
    /// </summary>
    public static IApplicationBuilder UseSdApiJsonErrors(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        await next(context);
        if (context.Response.HasStarted || !context.Request.Path.StartsWithSegments("/sdapi")) return;
        var status = context.Response.StatusCode;
        if (status is not (StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed)) return;
        if (context.Response.ContentLength is > 0 || context.Response.ContentType is not null) return;
        // A known route asked with another method is FastAPI's 405 (routing here may leave it a 404).
        if (status == StatusCodes.Status404NotFound && IsRoute(context)) status = StatusCodes.Status405MethodNotAllowed;
        var detail = status == StatusCodes.Status404NotFound ? "Not Found" : "Method Not Allowed";
        await Results.Json(new ApiErrorResponse("HTTPException", detail, "", $"{status}: {detail}"), statusCode: status).ExecuteAsync(context);
    });

    private static bool IsRoute(HttpContext context)
    {
        var path = context.Request.Path.Value?.TrimEnd('/') ?? "";
        return context.RequestServices.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Any(e => string.Equals(e.RoutePattern.RawText?.TrimEnd('/'), path, StringComparison.OrdinalIgnoreCase));
    }
}
