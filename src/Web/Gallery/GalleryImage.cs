using LiteDB;
using SdBlazor.Engine.Imaging;

namespace SdBlazor.Web.Gallery;

/// <summary>
/// One image's row in the LiteDB index. The PNG file is the source of truth for parameters; favourites, albums and
/// trash state live here. The id is a LiteDB <see cref="ObjectId"/>: its leading timestamp makes "newest first" a
/// primary-key scan, and its 24-hex-digit form names the file.
/// </summary>
public sealed class GalleryImage
{
    public ObjectId Id { get; set; } = ObjectId.Empty;
    public DateTime CreatedUtc { get; set; }
    // LiteDB's mapper stores "" as null (EmptyStringToNull), so rows come back with nulls where the PNG had no
    // prompt; every reader expects a string. The setters turn null back into "" (old index files included).
    public string Prompt { get => _prompt; set => _prompt = value ?? ""; }
    public string NegativePrompt { get => _negativePrompt; set => _negativePrompt = value ?? ""; }
    public long Seed { get; set; }
    public int Steps { get; set; }
    public double CfgScale { get; set; }
    public string Sampler { get => _sampler; set => _sampler = value ?? ""; }
    public string ScheduleType { get => _scheduleType; set => _scheduleType = value ?? ""; }
    public int Width { get; set; }
    public int Height { get; set; }
    public string? Model { get; set; }
    public string? ModelHash { get; set; }
    public double? DurationMs { get; set; }
    public double? Strength { get; set; }
    public string? ParentId { get; set; }
    /// <summary>
    /// The member account that generated or imported it; null for the owner's. Rows from before images had an
    /// account have none, so they are the owner's. Members see only their own (<see cref="Sharing.AccountScope"/>).
    /// </summary>
    public string? Account { get; set; }

    public bool Favourite { get; set; }
    public List<string> Albums { get; set; } = [];

    /// <summary>Lower-cased distinct words of prompt and negative prompt (see <see cref="PromptWords"/>).</summary>
    public List<string> Words { get; set; } = [];

    /// <summary>Path relative to the data folder, with forward slashes.</summary>
    public string FileName { get; set; } = "";
    public long FileSize { get; set; }
    public MetadataSource Source { get; set; }
    public DateTime? TrashedUtc { get; set; }

    /// <summary>Set by reconciliation when the row's file is gone.</summary>
    public bool Missing { get; set; }

    private string _prompt = "", _negativePrompt = "", _sampler = "", _scheduleType = "";

    [BsonIgnore] public string Key => Id.ToString();
    [BsonIgnore] public string SizeText => $"{Width}x{Height}";
}

/// <summary>A thumbnail, kept in its own collection so index pages never load image bytes.</summary>
public sealed class GalleryThumbnail
{
    public ObjectId Id { get; set; } = ObjectId.Empty;
    public byte[] Data { get; set; } = [];
    public string ContentType { get; set; } = "image/webp";
}
