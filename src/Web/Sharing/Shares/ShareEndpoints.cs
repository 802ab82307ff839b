using System.Globalization;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Sharing.Auth;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;

namespace SdBlazor.Web.Sharing.Shares;

/// <summary>
/// Share links. Under <c>/s/{token}</c> (anonymous, the token is the key): only the images that belong to that
/// share, and for live links only the running preview. Under <c>/api/shares</c>: making and managing links.
/// </summary>
public static class ShareEndpoints
{
    public static IEndpointRouteBuilder MapShareEndpoints(this IEndpointRouteBuilder app)
    {
        var link = app.MapGroup("/s/{token}").AllowAnonymous().ExcludeFromDescription();

        link.MapGet("/images/{id}", async (string token, string id, bool? download, HttpContext http, ShareAccess access, ShareStore shares, GalleryStore store) =>
        {
            if (Granted(http, access, token) is not { } share || shares.ImageOf(share, id) is not { } row) return Results.NotFound();
            var stream = store.OpenFile(row);
            if (stream is null) return Results.NotFound();
            http.Response.Headers.CacheControl = "private, no-store";
            var name = download == true ? $"{row.Key}.png" : null;
            if (!share.HidePrompts) return Results.File(stream, "image/png", name);
            // Prompts hidden: the PNG's own text chunks (A1111 parameters, our JSON) must not leak either.
            await using (stream)
            {
                return Results.File(await WithoutMetadataAsync(stream, http.RequestAborted), "image/png", name);
            }
        });

        link.MapGet("/images/{id}/thumb", (string token, string id, HttpContext http, ShareAccess access, ShareStore shares, GalleryIndex index) =>
        {
            if (Granted(http, access, token) is not { } share || shares.ImageOf(share, id) is not { } row || index.Thumbnail(row.Id) is not { } thumb)
                return Results.NotFound();
            http.Response.Headers.CacheControl = "private, no-store";
            return Results.Bytes(thumb.Data, thumb.ContentType);
        });

        link.MapGet("/live/state", (string token, HttpContext http, ShareAccess access, LiveFeed live) =>
        {
            if (Granted(http, access, token) is not { Kind: ShareKind.Live }) return Results.NotFound();
            http.Response.Headers.CacheControl = "no-store";
            var state = live.Current();
            return Results.Ok(new { running = state.Running, generation = state.Generation, frame = state.Frame, step = state.Step, steps = state.Steps });
        });

        link.MapGet("/live/frame", (string token, HttpContext http, ShareAccess access, LiveFeed live) =>
        {
            if (Granted(http, access, token) is not { Kind: ShareKind.Live }) return Results.NotFound();
            http.Response.Headers.CacheControl = "no-store";
            return live.Frame() is { } jpeg ? Results.Bytes(jpeg, "image/jpeg") : Results.NoContent();
        });

        var api = app.MapGroup("/api/shares").RequireAuthorization(SharingPolicies.Member).WithTags("Sharing");
        api.MapGet("", (HttpContext http, ShareStore shares) =>
            Results.Ok(shares.List(OwnerSeesAll(http)).Select(ShareDto.From)));
        api.MapPost("", (CreateShareBody body, HttpContext http, ShareStore shares) =>
        {
            if (body.Kind == ShareKind.Live && http.User.Role() != SharingRole.Owner)
                return Results.Problem("Only the owner can share live generations.", statusCode: StatusCodes.Status403Forbidden);
            try
            {
                var (share, token) = shares.Create(body.ToRequest(), http.User.AccountId());
                var url = $"{http.Request.Scheme}://{http.Request.Host}/s/{token}";
                return Results.Created($"/api/shares/{share.Id}", new { share = ShareDto.From(share), token, url });
            }
            catch (ShareException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "The share link was not created");
            }
        });
        api.MapPost("/{id}/revoke", (string id, HttpContext http, ShareStore shares) =>
        {
            if (Mine(http, shares, id) is null) return Results.NotFound();
            shares.Revoke(id);
            return Results.NoContent();
        });
        api.MapDelete("/{id}", (string id, HttpContext http, ShareStore shares) =>
        {
            if (Mine(http, shares, id) is null) return Results.NotFound();
            shares.Delete(id);
            return Results.NoContent();
        });
        return app;
    }

    private static Share? Granted(HttpContext http, ShareAccess access, string token)
    {
        var (verdict, share) = access.Check(http, token);
        return verdict == ShareAccess.Verdict.Granted ? share : null;
    }

    /// <summary>The owner manages every share; a member only their own.</summary>
    public static string? OwnerSeesAll(HttpContext http) => http.User.Role() == SharingRole.Owner ? null : http.User.AccountId();

    private static Share? Mine(HttpContext http, ShareStore shares, string id) =>
        id.Length == 32 && id.All(char.IsAsciiHexDigitLower) && shares.Get(id) is { } share
        && (http.User.Role() == SharingRole.Owner || share.CreatedBy == http.User.AccountId()) ? share : null;

    private static async Task<byte[]> WithoutMetadataAsync(Stream png, CancellationToken ct)
    {
        using var image = await Image.LoadAsync(png, ct);
        image.Metadata.ExifProfile = null;
        image.Metadata.XmpProfile = null;
        image.Metadata.IptcProfile = null;
        image.Metadata.GetPngMetadata().TextData.Clear();
        using var output = new MemoryStream();
        await image.SaveAsPngAsync(output, new PngEncoder(), ct);
        return output.ToArray();
    }
}

public sealed record CreateShareBody(ShareKind Kind, string? Title, List<string>? ImageIds, string? Album, string? Search,
    double? ExpiresInHours, string? Pin, bool HidePrompts)
{
    public const double MaxExpiryHours = 24 * 366 * 10;

    public ShareRequest ToRequest() => new()
    {
        Kind = Kind,
        Title = Title,
        ImageIds = ImageIds ?? [],
        Album = Album,
        Search = Search,
        ExpiresIn = ExpiresInHours switch
        {
            null => null,
            > 0 and <= MaxExpiryHours and var h => TimeSpan.FromHours(h),
            _ => throw new ShareException($"An expiry is between 0 and {MaxExpiryHours} hours from now."),
        },
        Pin = Pin,
        HidePrompts = HidePrompts,
    };
}

public sealed record ShareDto(string Id, ShareKind Kind, string Title, int? ImageCount, string? Album, bool HasPin, bool HidePrompts,
    DateTime CreatedUtc, DateTime? ExpiresUtc, DateTime? RevokedUtc, long Views, string CreatedBy, int WrongPins, DateTime? PinLockedUntilUtc)
{
    public static ShareDto From(Share s) => new(s.Id, s.Kind, s.Title, s.Kind == ShareKind.Selection ? s.ImageIds.Count : null, s.Album,
        s.PinHash is not null, s.HidePrompts, s.CreatedUtc, s.ExpiresUtc, s.RevokedUtc, s.Views, s.CreatedBy, s.WrongPins, s.PinLockedUntilUtc);

    public string Status(DateTime nowUtc) => RevokedUtc is not null ? "revoked" : ExpiresUtc <= nowUtc ? "expired" : "active";

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Title} ({Kind})");
}
