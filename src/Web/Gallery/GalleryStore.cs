using LiteDB;
using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Web.Sharing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Web.Gallery;

/// <summary>What changed in the gallery, for live views.</summary>
public enum GalleryChangeKind
{
    Added,
    Updated,
    Trashed,
    Restored,
    Deleted,
    Rebuilt,
}

public sealed record GalleryChange(GalleryChangeKind Kind, IReadOnlyList<ObjectId> Ids);

/// <summary>What an uploaded file contains, shown before the user decides to add it.</summary>
public sealed record ImportPreview(UploadFormat Format, int Width, int Height, EmbeddedMetadata Metadata);

/// <summary>
/// The gallery's write side: saves generated images (PNG with metadata, then index row), imports uploads, and
/// handles favourites, albums and the trash. Files first, index second: a crash in between leaves a complete
/// file that start-up reconciliation indexes, never a row without its file.
/// </summary>
public sealed class GalleryStore(GalleryIndex index, GalleryFiles files, Thumbnails thumbnails, UploadValidator validator, TimeProvider time)
{
    public event Action<GalleryChange>? Changed;

    public GalleryIndex Index => index;

    /// <param name="account">The member the image belongs to; null for the owner.</param>
    public async Task<GalleryImage> SaveAsync(Image<Rgb24> image, ImageParameters parameters, string? account = null, CancellationToken ct = default)
    {
        var created = GalleryRows.TruncateToMilliseconds(time.GetUtcNow().UtcDateTime);
        var id = ImageIds.New(created);
        var fileName = GalleryFiles.RelativeNameFor(id, created);

        byte[] png;
        using (var ms = new MemoryStream())
        {
            PngTextChunks.WritePng(image, ms, EmbeddedMetadata.ChunksFor(parameters, id.ToString(), created));
            png = ms.ToArray();
        }
        var size = await files.WriteAtomicallyAsync(fileName, png, ct);

        var metadata = new EmbeddedMetadata(MetadataSource.SdBlazor, parameters, id.ToString(), created, new Dictionary<string, string>());
        var row = GalleryRows.From(id, created, fileName, size, metadata, image.Width, image.Height);
        row.Account = account;
        index.Insert(row, thumbnails.Make(id, image));
        Changed?.Invoke(new(GalleryChangeKind.Added, [id]));
        return row;
    }

    /// <summary>
    /// Saves every image of an engine result (image <c>i</c> with its own seed) and returns their ids in order.
    /// <paramref name="parentImageId"/> is the gallery id of the img2img source, for lineage; <paramref name="account"/>
    /// the member who asked for it (null: the owner).
    /// </summary>
    public async Task<IReadOnlyList<string>> SaveResultAsync(GenerationResult result, string? parentImageId, string? account = null, CancellationToken ct = default)
    {
        var ids = new List<string>(result.Images.Count);
        foreach (var image in result.Images)
            ids.Add((await SaveAsync(image.Image, GalleryRows.FromEngine(result.Parameters, image, parentImageId), account, ct)).Key);
        return ids;
    }

    /// <summary>Validates an upload and reads its metadata without storing anything.</summary>
    public ImportPreview Inspect(byte[] bytes)
    {
        var upload = validator.Validate(bytes);
        return new ImportPreview(upload.Format, upload.Width, upload.Height, EmbeddedMetadata.From(upload.Probe.Texts));
    }

    /// <summary>
    /// Adds an uploaded image. PNGs are stored byte for byte (their metadata stays intact for download);
    /// JPEG and WebP are converted to PNG, carrying over any A1111 parameters they had.
    /// </summary>
    /// <param name="account">The importing member; null for the owner.</param>
    public async Task<GalleryImage> ImportAsync(byte[] bytes, string? account = null, CancellationToken ct = default)
    {
        var upload = validator.Validate(bytes);
        var metadata = EmbeddedMetadata.From(upload.Probe.Texts);
        using var image = Decode(bytes, upload);

        var created = GalleryRows.TruncateToMilliseconds(time.GetUtcNow().UtcDateTime);
        var id = ImageIds.New(created);
        var fileName = GalleryFiles.RelativeNameFor(id, created);

        var stored = bytes;
        if (upload.Format != UploadFormat.Png)
        {
            using var ms = new MemoryStream();
            var texts = metadata.Parameters is { } p ? [new KeyValuePair<string, string>(PngTextChunks.ParametersKeyword, Infotext.Format(p))] : Array.Empty<KeyValuePair<string, string>>();
            PngTextChunks.WritePng(image, ms, texts);
            stored = ms.ToArray();
        }
        var size = await files.WriteAtomicallyAsync(fileName, stored, ct);
        var row = GalleryRows.From(id, created, fileName, size, metadata with { Id = null }, image.Width, image.Height);
        row.Account = account;
        index.Insert(row, thumbnails.Make(id, image));
        Changed?.Invoke(new(GalleryChangeKind.Added, [id]));
        return row;
    }

    public void SetFavourite(ObjectId id, bool favourite)
    {
        var row = Require(id);
        if (row.Favourite == favourite) return;
        row.Favourite = favourite;
        index.Update(row);
        Changed?.Invoke(new(GalleryChangeKind.Updated, [id]));
    }

    public void AddToAlbum(IReadOnlyCollection<ObjectId> ids, string album)
    {
        album = album.Trim();
        if (album.Length is 0 or > 100) throw new GalleryInputException("An album name needs 1 to 100 characters.");
        index.EnsureAlbum(album);
        foreach (var id in ids)
        {
            var row = Require(id);
            if (row.Albums.Any(a => PromptWords.Facet(a) == PromptWords.Facet(album))) continue;
            row.Albums.Add(album);
            index.Update(row);
        }
        Changed?.Invoke(new(GalleryChangeKind.Updated, ids.ToList()));
    }

    public void RemoveFromAlbum(ObjectId id, string album)
    {
        var row = Require(id);
        if (row.Albums.RemoveAll(a => PromptWords.Facet(a) == PromptWords.Facet(album)) == 0) return;
        index.Update(row);
        Changed?.Invoke(new(GalleryChangeKind.Updated, [id]));
    }

    /// <summary>Moves images to the trash (file to <c>trash/</c>, row flagged); <see cref="Restore"/> undoes it.</summary>
    public IReadOnlyList<ObjectId> Trash(IReadOnlyCollection<ObjectId> ids)
    {
        var trashed = new List<ObjectId>();
        foreach (var id in ids)
        {
            if (index.Get(id) is not { TrashedUtc: null } row) continue;
            var target = GalleryFiles.TrashNameFor(id);
            if (!row.Missing) files.Move(row.FileName, target);
            row.FileName = target;
            row.TrashedUtc = time.GetUtcNow().UtcDateTime;
            index.Update(row);
            trashed.Add(id);
        }
        if (trashed.Count > 0) Changed?.Invoke(new(GalleryChangeKind.Trashed, trashed));
        return trashed;
    }

    public void Restore(IReadOnlyCollection<ObjectId> ids)
    {
        var restored = new List<ObjectId>();
        foreach (var id in ids)
        {
            if (index.Get(id) is not { TrashedUtc: not null } row) continue;
            var target = GalleryFiles.RelativeNameFor(id, row.CreatedUtc);
            if (!row.Missing) files.Move(row.FileName, target);
            row.FileName = target;
            row.TrashedUtc = null;
            index.Update(row);
            restored.Add(id);
        }
        if (restored.Count > 0) Changed?.Invoke(new(GalleryChangeKind.Restored, restored));
    }

    /// <summary>
    /// Deletes trashed images for good (files and rows); only those trashed before <paramref name="trashedBeforeUtc"/>
    /// when given, and only those <paramref name="scope"/> sees (a member empties their own trash, not the owner's).
    /// </summary>
    public int EmptyTrash(DateTime? trashedBeforeUtc = null, AccountScope? scope = null)
    {
        var deleted = new List<ObjectId>();
        string? cursor = null;
        do
        {
            var page = index.Query(new GalleryQuery { Trash = true, After = cursor, PageSize = GalleryQuery.MaxPageSize }.Within(scope ?? AccountScope.Everything));
            foreach (var row in page.Items.Where(r => trashedBeforeUtc is null || r.TrashedUtc < trashedBeforeUtc))
            {
                files.Delete(row.FileName);
                index.Remove(row.Id);
                deleted.Add(row.Id);
            }
            cursor = page.NextCursor;
        } while (cursor is not null);
        if (deleted.Count > 0) Changed?.Invoke(new(GalleryChangeKind.Deleted, deleted));
        return deleted.Count;
    }

    public Stream? OpenFile(GalleryImage row) =>
        row.Missing || !files.Exists(row.FileName) ? null : File.OpenRead(files.FullPath(row.FileName));

    /// <summary>The full metadata from the file (the source of truth), for the detail view.</summary>
    public EmbeddedMetadata? ReadFileMetadata(GalleryImage row)
    {
        using var stream = OpenFile(row);
        if (stream is null) return null;
        try
        {
            return EmbeddedMetadata.From(PngTextChunks.Read(stream));
        }
        catch (ImageFormatException)
        {
            return null;
        }
    }

    internal void RaiseRebuilt() => Changed?.Invoke(new(GalleryChangeKind.Rebuilt, []));

    private GalleryImage Require(ObjectId id) => index.Get(id) ?? throw new GalleryInputException($"Image {id} is not in the gallery.");

    private static Image<Rgb24> Decode(byte[] bytes, ValidatedUpload upload)
    {
        try
        {
            return SafeImage.Decode(bytes, upload.Probe);
        }
        catch (ImageFormatException ex)
        {
            throw new GalleryInputException($"The {upload.Format} file is damaged and cannot be decoded ({ex.Message}).", ex);
        }
    }
}
