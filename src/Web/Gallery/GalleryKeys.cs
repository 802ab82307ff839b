using LiteDB;

namespace SdBlazor.Web.Gallery;

/// <summary>
/// Keyset-paging keys. Every image gets one row per searchable fact in the <c>keys</c> collection, with the
/// string primary key <c>{fact}\u0001{image id}</c> (ordinal collation). A search or filter is then one
/// primary-key range scan in id order — the cost of a page does not grow with the collection, unlike sorting
/// the matches of a secondary index. Facts: <c>w:word</c>, <c>m:model</c>, <c>s:sampler</c>, <c>z:WxH</c>,
/// <c>a:album</c>, <c>f</c> (favourite), <c>t</c> (trash), <c>o:account</c> (whose image; <c>o:</c> alone for the
/// owner's); <c>p:file</c> maps a file name to its image.
/// </summary>
public static class GalleryKeys
{
    public const char Separator = '\u0001';
    public const string Favourite = "f";
    public const string Trash = "t";

    public static string Word(string word) => "w:" + word;
    public static string Model(string model) => "m:" + PromptWords.Facet(model);
    public static string Sampler(string sampler) => "s:" + PromptWords.Facet(sampler);
    public static string Size(int width, int height) => $"z:{width}x{height}";
    public static string Album(string album) => "a:" + PromptWords.Facet(album);
    public static string File(string fileName) => "p:" + fileName;

    /// <summary>Whose image: a member's account id, or nothing after the prefix for the owner's (account ids are never empty).</summary>
    public static string Owner(string? account) => "o:" + (account ?? "");

    public static string Compose(string fact, ObjectId id) => fact + Separator + id;

    public static ObjectId IdOf(string key) => new(key[(key.LastIndexOf(Separator) + 1)..]);

    /// <summary>All facts of an image (without the file fact).</summary>
    public static IEnumerable<string> FactsOf(GalleryImage image)
    {
        yield return Owner(image.Account);
        foreach (var word in image.Words) yield return Word(word);
        if (!string.IsNullOrWhiteSpace(image.Model)) yield return Model(image.Model);
        if (!string.IsNullOrWhiteSpace(image.Sampler)) yield return Sampler(image.Sampler);
        yield return Size(image.Width, image.Height);
        foreach (var album in image.Albums) yield return Album(album);
        if (image.Favourite) yield return Favourite;
        if (image.TrashedUtc is not null) yield return Trash;
    }
}

/// <summary>A row of the keys collection; <see cref="ImageId"/> is only set for file keys.</summary>
public sealed class GalleryKey
{
    public string Id { get; set; } = "";
    public ObjectId? ImageId { get; set; }
}

/// <summary>Per-value counts of models, samplers and sizes, so filter menus never scan the images.</summary>
public sealed class GalleryFacet
{
    /// <summary><c>model:</c>, <c>sampler:</c> or <c>size:</c> followed by the value as displayed.</summary>
    public string Id { get; set; } = "";
    public int Count { get; set; }
}

public sealed class GalleryAlbum
{
    public string Id { get; set; } = "";
    public DateTime CreatedUtc { get; set; }
}
