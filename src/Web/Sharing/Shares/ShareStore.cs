using System.Collections.Concurrent;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using SdBlazor.Web.Gallery;

namespace SdBlazor.Web.Sharing.Shares;

public sealed class ShareException(string message) : Exception(message);

/// <summary>
/// Share links: create, resolve a token, decide whether an image belongs to a share, revoke. A member's link only
/// ever covers the member's own images (checked when it is made and again on every view); the owner's covers any.
/// </summary>
public sealed class ShareStore(SharingDatabase db, GalleryIndex gallery, TimeProvider time, IOptions<SharingOptions> options, ILogger<ShareStore> logger)
{
    public const int MaxImagesPerSelection = 5000;
    public const int MaxPinLength = 32;
    private static readonly TimeSpan LongestPinLock = TimeSpan.FromDays(1);
    private readonly PasswordHasher<Share> _pinHasher = new();
    private readonly ConcurrentDictionary<string, object> _pinLocks = new(StringComparer.Ordinal);

    public event Action? Changed;

    public (Share Share, string Token) Create(ShareRequest request, string createdBy)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var share = new Share
        {
            Id = Guid.NewGuid().ToString("N"),
            Kind = request.Kind,
            HidePrompts = request.HidePrompts,
            CreatedBy = createdBy,
            CreatedUtc = now,
            ExpiresUtc = request.ExpiresIn is { } lifetime ? now + lifetime : null,
        };
        if (request.ExpiresIn is { } e && e <= TimeSpan.Zero) throw new ShareException("An expiry must be in the future.");
        var scope = ScopeOf(createdBy);
        switch (request.Kind)
        {
            case ShareKind.Selection:
                var ids = request.ImageIds.Count > 0 ? Validate(request.ImageIds, scope) : FreezeSearch(request.Search, scope);
                if (ids.Count == 0) throw new ShareException("Nothing to share: the selection is empty.");
                share.ImageIds = ids;
                share.Search = request.ImageIds.Count > 0 ? null : request.Search;
                share.Title = request.Title ?? (share.Search is { } s ? $"Search: {s}" : $"{ids.Count} image(s)");
                break;
            case ShareKind.Album:
                if (string.IsNullOrWhiteSpace(request.Album) || !gallery.AlbumNames(scope).Contains(request.Album))
                    throw new ShareException(scope.SeesAll ? $"There is no album '{request.Album}'." : $"None of your images is in an album '{request.Album}'.");
                share.Album = request.Album;
                share.Title = request.Title ?? $"Album: {request.Album}";
                break;
            case ShareKind.Gallery:
                share.Title = request.Title ?? "Gallery";
                break;
            case ShareKind.Live:
                share.Title = request.Title ?? "Live generations";
                break;
            default:
                throw new ShareException("Unknown kind of share.");
        }
        if (!string.IsNullOrEmpty(request.Pin))
        {
            if (request.Pin.Length is < 4 or > MaxPinLength) throw new ShareException($"A PIN has 4 to {MaxPinLength} characters.");
            share.PinHash = _pinHasher.HashPassword(share, request.Pin);
        }
        var token = SecretTokens.New();
        share.TokenHash = SecretTokens.Hash(token);
        db.Shares.Insert(share);
        Changed?.Invoke();
        return (share, token);
    }

    /// <summary>The active share of a link token, or null (malformed, unknown, revoked or expired: all look the same).</summary>
    public Share? Resolve(string? token)
    {
        if (!SecretTokens.LooksValid(token)) return null;
        var hash = SecretTokens.Hash(token!);
        var share = db.Shares.FindOne(s => s.TokenHash == hash);
        return share is not null && share.IsActive(time.GetUtcNow().UtcDateTime) ? share : null;
    }

    /// <summary>
    /// Checks a PIN against the link's own budget, whatever address the guesses come from (the per-address rate
    /// limit alone let 20 IPv6 addresses try 200 PINs a minute): after <see cref="SharingOptions.MaxWrongPins"/>
    /// wrong ones in a row, each further one locks the link for <see cref="SharingOptions.PinDelaySeconds"/> × 2^n
    /// (at most a day), during which not even the right PIN opens it. Visitors who already entered it keep their
    /// cookie. Wrong PINs are counted for the sharer to see on the share links page.
    /// </summary>
    public PinResult CheckPin(Share share, string? pin)
    {
        if (share.PinHash is null) return new PinResult(PinOutcome.Correct);
        // One check at a time per link, so that parallel guesses cannot all slip in before the first is counted.
        lock (_pinLocks.GetOrAdd(share.Id, _ => new object()))
        {
            var current = db.Shares.FindById(share.Id);
            if (current?.PinHash is null) return new PinResult(PinOutcome.Wrong);
            var now = time.GetUtcNow().UtcDateTime;
            if (current.PinLockedUntilUtc > now) return new PinResult(PinOutcome.Locked, current.PinLockedUntilUtc);
            var right = pin is { Length: > 0 and <= MaxPinLength } && _pinHasher.VerifyHashedPassword(current, current.PinHash, pin) != PasswordVerificationResult.Failed;
            if (right)
            {
                if (current.WrongPinsInRow > 0) Update(current.Id, s => s.WrongPinsInRow = 0);
                return new PinResult(PinOutcome.Correct);
            }
            DateTime? lockedUntil = null;
            Update(current.Id, s =>
            {
                s.WrongPins++;
                s.WrongPinsInRow++;
                s.LastWrongPinUtc = now;
                var beyond = s.WrongPinsInRow - options.Value.MaxWrongPins;
                if (beyond < 0) return;
                var delay = TimeSpan.FromSeconds(options.Value.PinDelaySeconds * Math.Pow(2, Math.Min(beyond, 30)));
                s.PinLockedUntilUtc = lockedUntil = now + (delay < LongestPinLock ? delay : LongestPinLock);
            });
            if (lockedUntil is not null)
                logger.LogWarning("Share link {ShareId} ({Title}): {Count} wrong PINs in a row, locked until {Until:u}", current.Id, current.Title, current.WrongPinsInRow + 1, lockedUntil);
            return lockedUntil is null ? new PinResult(PinOutcome.Wrong) : new PinResult(PinOutcome.Locked, lockedUntil);
        }
    }

    /// <summary>The sharer has seen the wrong-PIN warning of this link.</summary>
    public void AcknowledgeWrongPins(string id) => Update(id, s => s.WrongPinsSeen = s.WrongPins);

    /// <summary>
    /// Whose images a link may show: any for the owner's links, the creator's own for a member's. Read from the
    /// creator's account on every view, so links members made before images had owners are limited too.
    /// </summary>
    public AccountScope ScopeOf(Share share) => ScopeOf(share.CreatedBy);

    // The local owner before set-up has no account yet, and a reserved id that no member can have.
    private AccountScope ScopeOf(string createdBy) =>
        createdBy == Auth.SharingClaims.OwnerWithoutAccountId || db.Accounts.FindById(createdBy) is { Role: SharingRole.Owner }
            ? AccountScope.Everything : AccountScope.Member(createdBy);

    /// <summary>Whether the image with this id is part of the share right now (ids are checked, never trusted).</summary>
    public GalleryImage? ImageOf(Share share, string? id) => ImageOf(share, id, ScopeOf(share));

    private GalleryImage? ImageOf(Share share, string? id, AccountScope scope)
    {
        if (share.Kind == ShareKind.Live || !ImageIds.TryParse(id, out var key)) return null;
        var row = gallery.Get(key, scope);
        if (row is null || row.TrashedUtc is not null || row.Missing) return null;
        return share.Kind switch
        {
            ShareKind.Selection => share.ImageIds.Contains(row.Key) ? row : null,
            ShareKind.Album => row.Albums.Contains(share.Album!) ? row : null,
            ShareKind.Gallery => row,
            _ => null,
        };
    }

    /// <summary>One page of the share's images, newest first.</summary>
    public GalleryPage Images(Share share, string? after, int pageSize)
    {
        var scope = ScopeOf(share);
        switch (share.Kind)
        {
            case ShareKind.Selection:
                var ordered = share.ImageIds.OrderByDescending(i => i, StringComparer.Ordinal).ToList();
                var start = after is null ? 0 : ordered.FindIndex(i => string.CompareOrdinal(i, after) < 0);
                if (start < 0) return new GalleryPage([], null);
                var rows = new List<GalleryImage>();
                var next = start;
                for (; next < ordered.Count && rows.Count < pageSize; next++)
                    if (ImageOf(share, ordered[next], scope) is { } row) rows.Add(row);
                return new GalleryPage(rows, next < ordered.Count && rows.Count > 0 ? rows[^1].Key : null);
            case ShareKind.Album:
                return gallery.Query(new GalleryQuery { Album = share.Album, After = after, PageSize = pageSize }.Within(scope));
            case ShareKind.Gallery:
                return gallery.Query(new GalleryQuery { After = after, PageSize = pageSize }.Within(scope));
            default:
                return new GalleryPage([], null);
        }
    }

    public void RecordView(Share share) => db.Locked(() =>
    {
        if (db.Shares.FindById(share.Id) is { } current)
        {
            current.Views++;
            db.Shares.Update(current);
        }
        return 0;
    });

    /// <summary>Shares made by <paramref name="createdBy"/>, or every share when null (the owner's view).</summary>
    public IReadOnlyList<Share> List(string? createdBy) =>
        (createdBy is null ? db.Shares.FindAll() : db.Shares.Find(s => s.CreatedBy == createdBy)).OrderByDescending(s => s.CreatedUtc).ToList();

    public Share? Get(string id) => db.Shares.FindById(id);

    public void Revoke(string id) => Update(id, s => s.RevokedUtc ??= time.GetUtcNow().UtcDateTime);

    public void SetExpiry(string id, DateTime? expiresUtc) => Update(id, s => s.ExpiresUtc = expiresUtc);

    public void Delete(string id)
    {
        db.Shares.Delete(id);
        Changed?.Invoke();
    }

    private void Update(string id, Action<Share> change)
    {
        db.Locked(() =>
        {
            var share = db.Shares.FindById(id) ?? throw new ShareException("No such share.");
            change(share);
            db.Shares.Update(share);
            return 0;
        });
        Changed?.Invoke();
    }

    private List<string> Validate(IReadOnlyList<string> ids, AccountScope scope)
    {
        if (ids.Count > MaxImagesPerSelection) throw new ShareException($"At most {MaxImagesPerSelection} images per link.");
        var result = new List<string>();
        foreach (var id in ids.Distinct())
        {
            // Someone else's image gets the same answer as an unknown id: the message must not tell them apart.
            if (!ImageIds.TryParse(id, out var key) || gallery.Get(key, scope) is not { TrashedUtc: null })
                throw new ShareException(scope.SeesAll ? $"'{Shorten(id)}' is not an image in the gallery." : $"'{Shorten(id)}' is not one of your images in the gallery.");
            result.Add(key.ToString());
        }
        return result;
    }

    private List<string> FreezeSearch(string? search, AccountScope scope)
    {
        var ids = new List<string>();
        string? after = null;
        do
        {
            var page = gallery.Query(new GalleryQuery { Search = search, After = after, PageSize = GalleryQuery.MaxPageSize }.Within(scope));
            ids.AddRange(page.Items.Select(i => i.Key));
            after = page.NextCursor;
        } while (after is not null && ids.Count <= MaxImagesPerSelection);
        if (ids.Count > MaxImagesPerSelection) throw new ShareException($"The search finds more than {MaxImagesPerSelection} images; narrow it.");
        return ids;
    }

    private static string Shorten(string s) => s.Length > 40 ? s[..40] + "…" : s;
}
