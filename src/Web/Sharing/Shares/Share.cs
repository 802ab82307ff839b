namespace SdBlazor.Web.Sharing.Shares;

// Names, not numbers, in the JSON API ("kind": "Album").
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<ShareKind>))]
public enum ShareKind
{
    /// <summary>Chosen images (also a search result, frozen when the link is made).</summary>
    Selection,

    /// <summary>An album as it is when viewed (images added later show, removed ones vanish).</summary>
    Album,

    /// <summary>The whole gallery (not the trash).</summary>
    Gallery,

    /// <summary>Live step previews of the running generation; no stored images.</summary>
    Live,
}

public sealed class Share
{
    public string Id { get; set; } = "";

    /// <summary>SHA-256 of the link token; the token itself exists only in the link.</summary>
    public string TokenHash { get; set; } = "";
    public ShareKind Kind { get; set; }
    public string Title { get; set; } = "";
    public List<string> ImageIds { get; set; } = [];
    public string? Album { get; set; }

    /// <summary>For a frozen search result: the search text, for the owner's list only.</summary>
    public string? Search { get; set; }
    public bool HidePrompts { get; set; }

    /// <summary>Identity's hash of the PIN, or null for none.</summary>
    public string? PinHash { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime CreatedUtc { get; set; }
    public DateTime? ExpiresUtc { get; set; }
    public DateTime? RevokedUtc { get; set; }
    public long Views { get; set; }

    /// <summary>Wrong PINs entered, in all; the owner is told about those beyond <see cref="WrongPinsSeen"/>.</summary>
    public int WrongPins { get; set; }
    public int WrongPinsSeen { get; set; }

    /// <summary>Wrong PINs since the last right one: beyond the budget, each locks the link for longer.</summary>
    public int WrongPinsInRow { get; set; }
    public DateTime? LastWrongPinUtc { get; set; }
    public DateTime? PinLockedUntilUtc { get; set; }

    public bool IsActive(DateTime nowUtc) => RevokedUtc is null && (ExpiresUtc is null || ExpiresUtc > nowUtc);
}

public enum PinOutcome { Correct, Wrong, Locked }

public sealed record PinResult(PinOutcome Outcome, DateTime? LockedUntilUtc = null);

/// <summary>What the sharer asked for.</summary>
public sealed record ShareRequest
{
    public required ShareKind Kind { get; init; }
    public string? Title { get; init; }
    public IReadOnlyList<string> ImageIds { get; init; } = [];
    public string? Album { get; init; }

    /// <summary>With <see cref="ShareKind.Selection"/> and no ids: freeze the result of this search.</summary>
    public string? Search { get; init; }
    public TimeSpan? ExpiresIn { get; init; }
    public string? Pin { get; init; }
    public bool HidePrompts { get; init; }
}
