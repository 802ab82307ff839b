using System.Text.Json;
using Microsoft.Extensions.Options;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Web.Api.Models;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Sharing;

using SdBlazor.Web.Sharing.Auth;

namespace SdBlazor.Web.Api;

/// <summary>The AUTOMATIC1111-compatible subset under <c>/sdapi/v1</c> (routes, status codes and bodies as in A1111's <c>modules/api/api.py</c>).</summary>
public static class SdApiEndpoints
{
    public const string Prefix = "/sdapi/v1";
    private const string Tag = "AUTOMATIC1111 API";

    public static IEndpointRouteBuilder MapSdApi(this IEndpointRouteBuilder app)
    {
        // Created now, not on first use, so it sees the start of a job that is already running when /progress is first asked.
        app.ServiceProvider.GetRequiredService<SdApiProgress>();

        var api = app.MapGroup(Prefix).WithTags(Tag)
            .RequireAuthorization(SharingPolicies.Member)
            .AddEndpointFilter<SdApiExceptionFilter>()
            .AddEndpointFilter<SdApiBasicAuthFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapPost("/txt2img", (HttpContext http, SdApiBodyReader reader, SdApiRequestMapper mapper, SdApiGenerator generator) =>
                GenerateAsync<Txt2ImgRequest>(http, reader, mapper, generator))
            .WithSummary("Text to image").WithDescription("Queues the request on the shared queue and answers when it is done.")
            .Accepts<Txt2ImgRequest>("application/json").WithGenerationResponses();

        api.MapPost("/img2img", (HttpContext http, SdApiBodyReader reader, SdApiRequestMapper mapper, SdApiGenerator generator) =>
                GenerateAsync<Img2ImgRequest>(http, reader, mapper, generator))
            .WithSummary("Image to image").WithDescription("Like txt2img, starting from init_images[0] (base64, data URL allowed).")
            .Accepts<Img2ImgRequest>("application/json").WithGenerationResponses();

        // A member sees and stops only their own running job; while someone else's runs, they see an idle state.
        api.MapGet("/progress", (bool? skip_current_image, HttpContext http, SdApiProgress progress) =>
                Results.Json(progress.Snapshot(skip_current_image ?? false, http.User.Scope())))
            .WithSummary("Progress of the running job").Produces<ProgressResponse>();

        api.MapPost("/interrupt", (HttpContext http, SdApiProgress progress) => { progress.Interrupt(http.User.Scope()); return Results.Json(new { }); })
            .WithSummary("Stop the running job").Produces(StatusCodes.Status200OK);

        api.MapPost("/skip", (HttpContext http, SdApiProgress progress) => { progress.Skip(http.User.Scope()); return Results.Json(new { }); })
            .WithSummary("Abandon the running job's current batch").Produces(StatusCodes.Status200OK);

        api.MapGet("/sd-models", (ModelCatalog models) => Results.Json(models.List().Select(m => new SdModelItem(
                ModelCatalog.Title(m), m.Name, ModelCatalog.ShortHash(m), m.Sha256, m.Path, null, m.Error)).ToList()))
            .WithSummary("Installed models").Produces<List<SdModelItem>>();

        api.MapPost("/refresh-checkpoints", (ModelCatalog models) => { models.Refresh(); return Results.Json(new { }); })
            .WithSummary("Re-scan the models folder").Produces(StatusCodes.Status200OK)
            .RequireAuthorization(SharingPolicies.Owner);

        // A1111: unload releases the model weights, reload loads the selected checkpoint again. Several models may be
        // loaded here (Engine:MaxLoadedModels): unload releases them all, one that a job uses when the job ends.
        api.MapPost("/unload-checkpoint", (IGenerationEngine engine) => { engine.UnloadAll(); return Results.Json(new { }); })
            .WithSummary("Release every loaded model").Produces(StatusCodes.Status200OK)
            .RequireAuthorization(SharingPolicies.Owner);

        api.MapPost("/reload-checkpoint", async (ModelCatalog models, LoadedModelCache loaded, HttpContext http) =>
            {
                var selected = models.Selected();
                if (selected is null) return SdApiResults.NotFound("No checkpoint is selected.");
                try
                {
                    await loaded.LoadAsync(selected.Name, http.RequestAborted);
                }
                catch (ModelLoadException ex)
                {
                    return ex.NotFound ? SdApiResults.NotFound(ex.Message) : SdApiResults.Validation("sd_model_checkpoint", ex.Message);
                }
                return Results.Json(new { });
            })
            .WithSummary("Load the selected checkpoint").Produces(StatusCodes.Status200OK)
            .Produces<ApiErrorResponse>(StatusCodes.Status404NotFound).Produces<ValidationErrorResponse>(StatusCodes.Status422UnprocessableEntity)
            .RequireAuthorization(SharingPolicies.Owner);

        api.MapGet("/samplers", () => Results.Json(SamplerCatalog.Samplers())).WithSummary("Samplers").Produces<List<SamplerItem>>();
        api.MapGet("/schedulers", () => Results.Json(SamplerCatalog.Schedulers())).WithSummary("Schedule types").Produces<List<SchedulerItem>>();

        api.MapGet("/options", (ModelCatalog models, IOptions<SdApiOptions> options) =>
            {
                var selected = models.Selected();
                return Results.Json(new OptionsResponse(selected is null ? null : ModelCatalog.Title(selected), selected?.Sha256, "png",
                    options.Value.SaveImagesByDefault, 1, "Automatic"));
            })
            .WithSummary("Settings").Produces<OptionsResponse>();

        api.MapPost("/options", async (HttpContext http, SdApiBodyReader reader, ModelCatalog models) =>
            {
                var body = await reader.ReadAsync<Dictionary<string, JsonElement>>(http);
                if (body.Error is not null) return body.Error;
                if (body.Value!.TryGetValue("sd_model_checkpoint", out var checkpoint) && checkpoint.ValueKind != JsonValueKind.Null)
                {
                    if (checkpoint.ValueKind != JsonValueKind.String)
                        return SdApiResults.Validation("sd_model_checkpoint", "str type expected", "type_error.str");
                    var model = models.Find(checkpoint.GetString());
                    if (model is null) return SdApiResults.NotFound(models.NotFoundMessage(checkpoint.GetString()!));
                    if (model.Error is not null) return SdApiResults.Validation("sd_model_checkpoint", model.Error);
                    models.Select(model);
                }
                // Other A1111 settings have no counterpart here and are ignored, as unknown request fields are.
                return Results.Json(new { });
            })
            .WithSummary("Change settings (sd_model_checkpoint is kept across restarts)")
            .RequireAuthorization(SharingPolicies.Owner)
            .Accepts<Dictionary<string, object>>("application/json")
            .Produces(StatusCodes.Status200OK).Produces<ApiErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<ValidationErrorResponse>(StatusCodes.Status422UnprocessableEntity);

        api.MapPost("/png-info", async (HttpContext http, SdApiBodyReader reader) =>
            {
                var body = await reader.ReadAsync<PngInfoRequest>(http);
                return body.Error ?? SdApiPngInfo.Read(body.Value!);
            })
            .WithSummary("Read generation parameters from an image")
            .Accepts<PngInfoRequest>("application/json").Produces<PngInfoResponse>()
            .Produces<ValidationErrorResponse>(StatusCodes.Status422UnprocessableEntity)
            .Produces<ApiErrorResponse>(StatusCodes.Status413PayloadTooLarge);

        api.MapSdApiCatalogs();
        if (app is IApplicationBuilder pipeline) pipeline.UseSdApiJsonErrors();

        api.MapSdApiExtras();
        app.MapApiDocumentation();
        return app;
    }

    private static async Task<IResult> GenerateAsync<T>(HttpContext http, SdApiBodyReader reader, SdApiRequestMapper mapper, SdApiGenerator generator)
        where T : Txt2ImgRequest
    {
        var body = await reader.ReadAsync<T>(http);
        if (body.Error is not null) return body.Error;
        var (mapped, error) = mapper.Map(body.Value!);
        return error ?? await generator.RunAsync(mapped!, http.User.Scope(), http.RequestAborted);
    }

    private static RouteHandlerBuilder WithGenerationResponses(this RouteHandlerBuilder builder) => builder
        .Produces<ImageResponse>()
        .Produces<ApiErrorResponse>(StatusCodes.Status404NotFound)
        .Produces<ApiErrorResponse>(StatusCodes.Status413PayloadTooLarge)
        .Produces<ValidationErrorResponse>(StatusCodes.Status422UnprocessableEntity)
        .Produces<ApiErrorResponse>(StatusCodes.Status500InternalServerError);
}
