using System.IO.Compression;
using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Sharing.Auth;
using SdBlazor.Web.Sharing.Protection;

namespace SdBlazor.Web.Gallery;

/// <summary>
/// Gallery HTTP API: listing, full images and thumbnails, import, zip download, trash, rebuild. A member reads only
/// their own images: someone else's id answers 404, exactly like an unknown one.
/// </summary>
public static class GalleryEndpoints
{
    public const int MaxZipImages = 1000;

    public static IEndpointRouteBuilder MapGallery(this IEndpointRouteBuilder app)
    {
        var images = app.MapGroup("/api/images/{id}").RequireAuthorization(SharingPolicies.Member);
        images.MapGet("", (string id, bool? download, HttpContext http, GalleryIndex index, GalleryStore store) =>
        {
            if (!TryRow(id, index, http.User.Scope(), out var row)) return Results.NotFound();
            var stream = store.OpenFile(row);
            if (stream is null) return Results.NotFound();
            return Results.File(stream, "image/png", download == true ? $"{row.Key}.png" : null, enableRangeProcessing: true);
        });
        images.MapGet("/thumb", (string id, HttpContext http, GalleryIndex index) =>
        {
            if (!TryRow(id, index, http.User.Scope(), out var row) || index.Thumbnail(row.Id) is not { } thumb) return Results.NotFound();
            // Ids never change content, so thumbnails can be cached for good; private: who may see one depends on the login.
            http.Response.Headers.CacheControl = "private, max-age=31536000, immutable";
            return Results.Bytes(thumb.Data, thumb.ContentType);
        });
        images.MapGet("/metadata", (string id, HttpContext http, GalleryIndex index, GalleryStore store) =>
            TryRow(id, index, http.User.Scope(), out var row) && store.ReadFileMetadata(row) is { } m
                ? Results.Ok(new { source = m.Source.ToString(), parameters = m.Parameters, texts = m.Texts })
                : Results.NotFound());
        images.MapDelete("", (string id, GalleryStore store) =>
            ImageIds.TryParse(id, out var key) ? Results.Ok(new { trashed = store.Trash([key]).Select(x => x.ToString()) }) : Results.NotFound())
            .RequireAuthorization(SharingPolicies.Owner);
        images.MapPost("/restore", (string id, GalleryStore store) =>
        {
            if (!ImageIds.TryParse(id, out var key)) return Results.NotFound();
            store.Restore([key]);
            return Results.NoContent();
        }).RequireAuthorization(SharingPolicies.Owner);

        var gallery = app.MapGroup("/api/gallery").RequireAuthorization(SharingPolicies.Member);
        gallery.MapGet("", ([AsParameters] GalleryListRequest request, HttpContext http, GalleryIndex index) =>
        {
            var page = index.Query(request.ToQuery(http.User));
            return Results.Ok(new { items = page.Items.Select(GalleryItemDto.From), next = page.NextCursor });
        });
        gallery.MapPost("/import", async (IFormFile file, HttpContext http, UploadValidator validator, GalleryStore store, CancellationToken ct) =>
        {
            try
            {
                await using var stream = file.OpenReadStream();
                var row = await store.ImportAsync(await validator.ReadLimitedAsync(stream, ct), http.User.Scope().AccountForNewItems, ct);
                return Results.Created($"/api/images/{row.Key}", GalleryItemDto.From(row));
            }
            catch (GalleryInputException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "The upload was refused");
            }
        }).DisableAntiforgery().RequireAntiforgeryForCookieLogins();
        gallery.MapPost("/inspect", async (IFormFile file, UploadValidator validator, GalleryStore store, CancellationToken ct) =>
        {
            try
            {
                await using var stream = file.OpenReadStream();
                var preview = store.Inspect(await validator.ReadLimitedAsync(stream, ct));
                return Results.Ok(new { format = preview.Format.ToString(), preview.Width, preview.Height, source = preview.Metadata.Source.ToString(), parameters = preview.Metadata.Parameters, texts = preview.Metadata.Texts });
            }
            catch (GalleryInputException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "The upload was refused");
            }
        }).DisableAntiforgery().RequireAntiforgeryForCookieLogins();
        // GET for a few ids; POST (form field "ids", with an antiforgery token) for large selections that would not fit in a URL.
        gallery.MapGet("/zip", (string ids, HttpContext http, GalleryIndex index, GalleryStore store, CancellationToken ct) =>
            ZipAsync(ids, http.User.Scope(), index, store, ct));
        gallery.MapPost("/zip", ([FromForm] string ids, HttpContext http, GalleryIndex index, GalleryStore store, CancellationToken ct) =>
            ZipAsync(ids, http.User.Scope(), index, store, ct));
        gallery.MapPost("/rebuild", (GalleryMaintenance maintenance, CancellationToken ct) => Results.Ok(maintenance.Rebuild(ct)))
            .RequireAuthorization(SharingPolicies.Owner);
        gallery.MapPost("/trash/empty", (GalleryStore store) => Results.Ok(new { deleted = store.EmptyTrash() }))
            .RequireAuthorization(SharingPolicies.Owner);
        return app;
    }

    /// <summary>Ids the caller may not see are left out, like unknown ones; none left answers 404.</summary>
    private static async Task<IResult> ZipAsync(string ids, AccountScope scope, GalleryIndex index, GalleryStore store, CancellationToken ct)
    {
        var rows = ids.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Take(MaxZipImages + 1)
            .Select(i => TryRow(i, index, scope, out var row) ? row : null)
            .OfType<GalleryImage>()
            .ToList();
        if (rows.Count == 0) return Results.NotFound();
        if (rows.Count > MaxZipImages) return Results.Problem($"At most {MaxZipImages} images per download.", statusCode: 400);

        // ZipArchive writes synchronously; build it in a temp file that is deleted when the response is done.
        var temp = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose);
        using (var zip = new ZipArchive(temp, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var row in rows)
            {
                ct.ThrowIfCancellationRequested();
                await using var source = store.OpenFile(row);
                if (source is null) continue;
                // PNG data is already compressed.
                await using var entry = zip.CreateEntry($"{row.Key}.png", CompressionLevel.NoCompression).Open();
                await source.CopyToAsync(entry, ct);
            }
        }
        temp.Position = 0;
        return Results.File(temp, "application/zip", $"sdblazor-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}.zip");
    }

    private static bool TryRow(string id, GalleryIndex index, AccountScope scope, out GalleryImage row)
    {
        row = null!;
        if (!ImageIds.TryParse(id, out var key) || index.Get(key, scope) is not { } found) return false;
        row = found;
        return true;
    }
}

/// <summary>Query string of <c>GET /api/gallery</c>.</summary>
public sealed class GalleryListRequest
{
    [FromQuery] public string? Search { get; set; }
    [FromQuery] public string? Model { get; set; }
    [FromQuery] public string? Sampler { get; set; }
    [FromQuery] public string? Size { get; set; }
    [FromQuery] public DateTime? From { get; set; }
    [FromQuery] public DateTime? To { get; set; }
    [FromQuery] public bool? Favourites { get; set; }
    [FromQuery] public string? Album { get; set; }
    [FromQuery] public bool? Trash { get; set; }
    [FromQuery] public GallerySort? Sort { get; set; }
    [FromQuery] public string? After { get; set; }
    [FromQuery] public int? PageSize { get; set; }

    /// <summary>The owner's filter by account: a member's user name, or the owner's own name for their own images. Members always get their own.</summary>
    [FromQuery] public string? Owner { get; set; }

    public GalleryQuery ToQuery(System.Security.Claims.ClaimsPrincipal user)
    {
        var query = ToQuery();
        if (Owner is null || user.Role() != SharingRole.Owner) return query.Within(user.Scope());
        var account = Sharing.Accounts.AccountStore.Normalize(Owner);
        return query with { OwnedBy = account == user.AccountId() ? GalleryQuery.TheOwner : account };
    }

    public GalleryQuery ToQuery()
    {
        int? width = null, height = null;
        if (Size?.Split('x') is [var w, var h] && int.TryParse(w, out var wi) && int.TryParse(h, out var hi)) (width, height) = (wi, hi);
        return new GalleryQuery
        {
            Search = Search,
            Model = Model,
            Sampler = Sampler,
            Width = width,
            Height = height,
            FromUtc = From?.ToUniversalTime(),
            ToUtc = To?.ToUniversalTime(),
            FavouritesOnly = Favourites == true,
            Album = Album,
            Trash = Trash == true,
            Sort = Sort ?? GallerySort.Newest,
            After = After,
            PageSize = PageSize ?? 60,
        };
    }
}

public sealed record GalleryItemDto(string Id, DateTime CreatedUtc, string Prompt, string NegativePrompt, long Seed, int Steps, double CfgScale,
    string Sampler, string ScheduleType, int Width, int Height, string? Model, bool Favourite, IReadOnlyList<string> Albums, string? ParentId,
    string ImageUrl, string ThumbnailUrl)
{
    public static GalleryItemDto From(GalleryImage r) => new(r.Key, r.CreatedUtc, r.Prompt, r.NegativePrompt, r.Seed, r.Steps, r.CfgScale,
        r.Sampler, r.ScheduleType, r.Width, r.Height, r.Model, r.Favourite, r.Albums, r.ParentId, $"/api/images/{r.Key}", $"/api/images/{r.Key}/thumb");
}
