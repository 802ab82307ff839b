using System.Text.Json;

namespace SdBlazor.Engine.Imaging;

/// <summary>
/// Our own lossless metadata chunk (keyword <c>sdblazor</c>): the full <see cref="ImageParameters"/> plus the gallery
/// id and creation time, so the gallery index can be rebuilt from the files alone. JSON with non-ASCII escaped,
/// which keeps it Latin-1 and therefore a plain tEXt chunk.
/// </summary>
public static class SdBlazorChunk
{
    public const string Keyword = "sdblazor";
    public const int CurrentVersion = 1;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Serialize(SdBlazorMetadata metadata) => JsonSerializer.Serialize(metadata, Json);

    /// <summary>Null when the text is not our JSON (or from a newer, unknown version shape).</summary>
    public static SdBlazorMetadata? TryDeserialize(string text)
    {
        try
        {
            var metadata = JsonSerializer.Deserialize<SdBlazorMetadata>(text, Json);
            return metadata?.Parameters is null ? null : metadata;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <param name="Id">The gallery's id for the image (24 hex characters).</param>
public sealed record SdBlazorMetadata(int Version, string? Id, DateTime? CreatedUtc, ImageParameters Parameters);
