using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Gallery;

public enum GallerySort
{
    Newest,
    Oldest,
}

/// <summary>A gallery listing request. <see cref="After"/> is the keyset cursor returned with the previous page.</summary>
public sealed record GalleryQuery
{
    public const int MaxPageSize = 500;

    public string? Search { get; init; }
    public string? Model { get; init; }
    public string? Sampler { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    public DateTime? FromUtc { get; init; }
    public DateTime? ToUtc { get; init; }
    public bool FavouritesOnly { get; init; }
    public string? Album { get; init; }

    /// <summary>Only this account's images (<see cref="TheOwner"/>: the owner's own); null for everyone's.</summary>
    public string? OwnedBy { get; init; }

    /// <summary><see cref="OwnedBy"/> value for the owner's own images (rows without an account).</summary>
    public const string TheOwner = "";

    /// <summary>This query as <paramref name="scope"/> may run it: a member's always lists their own images only.</summary>
    public GalleryQuery Within(AccountScope scope) => scope.SeesAll ? this : this with { OwnedBy = scope.Account };

    /// <summary>List the trash instead of the live images.</summary>
    public bool Trash { get; init; }

    public GallerySort Sort { get; init; } = GallerySort.Newest;
    public string? After { get; init; }
    public int PageSize { get; init; } = 60;

    /// <summary>The residual filter: every condition, checked on each candidate the driving key range yields.</summary>
    public bool Matches(GalleryImage image, IReadOnlyList<string> words)
    {
        if (image.Missing) return false;
        if (Trash != (image.TrashedUtc is not null)) return false;
        if (OwnedBy is not null && (image.Account ?? TheOwner) != OwnedBy) return false;
        if (FavouritesOnly && !image.Favourite) return false;
        if (!string.IsNullOrWhiteSpace(Model) && !string.Equals(PromptWords.Facet(image.Model ?? ""), PromptWords.Facet(Model), StringComparison.Ordinal)) return false;
        if (!string.IsNullOrWhiteSpace(Sampler) && !string.Equals(PromptWords.Facet(image.Sampler), PromptWords.Facet(Sampler), StringComparison.Ordinal)) return false;
        if (Width is { } w && image.Width != w) return false;
        if (Height is { } h && image.Height != h) return false;
        if (!string.IsNullOrWhiteSpace(Album) && !image.Albums.Any(a => PromptWords.Facet(a) == PromptWords.Facet(Album))) return false;
        foreach (var word in words) if (!image.Words.Contains(word)) return false;
        return true;
    }
}

public sealed record GalleryPage(IReadOnlyList<GalleryImage> Items, string? NextCursor);
