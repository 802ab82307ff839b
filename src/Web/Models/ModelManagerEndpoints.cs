using System.Text.Json;
using System.Text.Json.Serialization;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Models;

/// <summary>
/// <c>/api/models</c>: the installed models (members), imports (listing for members; start and cancel for the owner),
/// set-default and delete (owner).
/// </summary>
public static class ModelManagerEndpoints
{
    public const int MaxRequestBytes = 16 * 1024;
    private static readonly JsonSerializerOptions RequestJson = new(JsonSerializerDefaults.Web) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip };

    public static IEndpointRouteBuilder MapModelManagerEndpoints(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/api/models").WithTags("Models");
        models.MapGet("", (ModelManagerCatalog catalog) => Results.Ok(catalog.List())).RequireAuthorization(SharingPolicies.Member);
        models.MapDelete("/{name}", (string name, ModelManagerCatalog catalog) => catalog.Delete(name) ? Results.NoContent() : Results.NotFound())
            .RequireAuthorization(SharingPolicies.Owner);
        models.MapPost("/{name}/default", (string name, ModelManagerCatalog catalog) => catalog.SetDefault(name) ? Results.NoContent() : Results.NotFound())
            .RequireAuthorization(SharingPolicies.Owner);

        models.MapGet("/loaded", (LoadedModelCache loaded) => Results.Ok(loaded.Report())).RequireAuthorization(SharingPolicies.Member);
        models.MapPost("/{name}/load", async (string name, LoadedModelCache loaded, HttpContext http) =>
        {
            try
            {
                var timings = await loaded.LoadAsync(name, http.RequestAborted);
                return Results.Ok(new { loaded = timings.Loaded, seconds = timings.SessionCreation.TotalSeconds, warmUpSeconds = timings.WarmUp.TotalSeconds });
            }
            catch (ModelLoadException ex)
            {
                return Results.Problem(ex.Message, statusCode: ex.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status422UnprocessableEntity);
            }
        }).RequireAuthorization(SharingPolicies.Owner);
        models.MapPost("/{name}/unload", (string name, LoadedModelCache loaded) => loaded.Unload(name) switch
        {
            UnloadOutcome.Unloaded => Results.NoContent(),
            UnloadOutcome.InUse => Results.Problem($"Model '{name}' is generating now; unload it when the job has finished.", statusCode: StatusCodes.Status409Conflict),
            _ => Results.Problem($"Model '{name}' is not loaded.", statusCode: StatusCodes.Status404NotFound),
        }).RequireAuthorization(SharingPolicies.Owner);

        var imports = models.MapGroup("/import");
        imports.MapPost("", async (HttpContext http, ImportService service) =>
        {
            var (request, problem) = await ReadAsync(http.Request);
            if (problem is not null) return problem;
            var outcome = service.Start(request!, http.User);
            if (outcome.Import is null)
                return Results.ValidationProblem(outcome.Errors, statusCode: outcome.Conflict ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest);
            return Results.Accepted($"/api/models/import/{outcome.Import.Id}", new { id = outcome.Import.Id });
        }).RequireAuthorization(SharingPolicies.Owner);
        imports.MapGet("", (ImportService service) => Results.Ok(service.List().Select(ImportDto.From))).RequireAuthorization(SharingPolicies.Member);
        imports.MapGet("/{id}", (string id, ImportService service) => service.Get(id) is { } import ? Results.Ok(ImportDto.From(import)) : Results.NotFound())
            .RequireAuthorization(SharingPolicies.Member);
        imports.MapDelete("/{id}", (string id, ImportService service) => service.Cancel(id) ? Results.Ok(ImportDto.From(service.Get(id)!)) : Results.NotFound())
            .RequireAuthorization(SharingPolicies.Owner);
        imports.MapPost("/{id}/retry", (string id, ImportService service) => service.Retry(id) ? Results.Ok(ImportDto.From(service.Get(id)!)) : Results.NotFound())
            .RequireAuthorization(SharingPolicies.Owner);
        return app;
    }

    // Read by hand: a JSON body bound by the framework would answer 415/400 before authorization for wrong content types.
    private static async Task<(ImportRequest? Request, IResult? Problem)> ReadAsync(HttpRequest request)
    {
        if (!request.HasJsonContentType()) return (null, Results.Problem("Send the import as application/json.", statusCode: StatusCodes.Status415UnsupportedMediaType));
        if (request.ContentLength > MaxRequestBytes) return (null, Results.Problem("The request is too large.", statusCode: StatusCodes.Status413PayloadTooLarge));
        try
        {
            using var buffer = new MemoryStream();
            var read = new byte[4096];
            int count;
            while ((count = await request.Body.ReadAsync(read, request.HttpContext.RequestAborted)) > 0)
            {
                buffer.Write(read, 0, count);
                if (buffer.Length > MaxRequestBytes) return (null, Results.Problem("The request is too large.", statusCode: StatusCodes.Status413PayloadTooLarge));
            }
            var body = JsonSerializer.Deserialize<ImportRequest>(buffer.ToArray(), RequestJson);
            return body is null ? (null, Results.Problem("The body must be a JSON object.", statusCode: StatusCodes.Status400BadRequest)) : (body, null);
        }
        catch (JsonException ex)
        {
            return (null, Results.Problem($"The body is not valid JSON: {ex.Message}", statusCode: StatusCodes.Status400BadRequest));
        }
    }

    public sealed record ImportDto(string Id, string State, double Progress, long Bytes, long Total, string? Error, string Name, string Source, string Kind,
        string? Revision, string? File, string? Commit, DateTime CreatedUtc, DateTime? FinishedUtc)
    {
        public static ImportDto From(ModelImport i) => new(i.Id, i.State.ToString().ToLowerInvariant(), i.Progress, i.Bytes, i.Total, i.Error, i.Name, i.Source,
            i.Kind.ToString().ToLowerInvariant(), i.Revision, i.File, i.Commit, i.CreatedUtc, i.FinishedUtc);
    }
}
