using System.Diagnostics;
using LiteDB;
using SdBlazor.Engine.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Web.Gallery;

public sealed record ReconcileReport(int FilesOnDisk, int Indexed, int MarkedMissing, int Recovered, int Unreadable, int TempFilesRemoved, TimeSpan Elapsed);

/// <summary>
/// Keeps the index in step with the files, which are the source of truth: <see cref="Reconcile"/> indexes files
/// the index does not know and flags rows whose file is gone; <see cref="Rebuild"/> re-creates the index from
/// the files (keeping favourites and albums of ids that survive).
/// </summary>
public sealed class GalleryMaintenance(GalleryIndex index, GalleryFiles files, Thumbnails thumbnails, GalleryStore store, ILogger<GalleryMaintenance> logger)
{
    // A temp file this old belongs to a write that died; younger ones may be a save in progress.
    private static readonly TimeSpan StaleTempAge = TimeSpan.FromMinutes(10);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public ReconcileReport? LastReport { get; private set; }
    public bool IsRunning => _gate.CurrentCount == 0;

    public ReconcileReport Reconcile(CancellationToken ct = default)
    {
        _gate.Wait(ct);
        try
        {
            var sw = Stopwatch.StartNew();
            var (pngs, temps) = files.Enumerate();
            var removedTemps = RemoveStaleTemps(temps);
            var known = index.FileNames();
            var onDisk = pngs.ToHashSet(StringComparer.Ordinal);

            int missing = 0, recovered = 0;
            var (indexed, unreadable) = IndexFiles(pngs.Where(f => !known.ContainsKey(f)), userData: null, ct);
            foreach (var (file, id) in known)
            {
                if (onDisk.Contains(file)) continue;
                if (index.Get(id) is { Missing: false } row && row.FileName == file)
                {
                    row.Missing = true;
                    index.Update(row);
                    missing++;
                }
            }
            // An explicit EQ uses the Missing index; a bare boolean member predicate makes LiteDB scan every row.
            foreach (var row in index.Database.Images.Find(LiteDB.Query.EQ(nameof(GalleryImage.Missing), true)).ToList())
            {
                if (!files.Exists(row.FileName)) continue;
                row.Missing = false;
                index.Update(row);
                recovered++;
            }

            var report = new ReconcileReport(pngs.Count, indexed, missing, recovered, unreadable, removedTemps, sw.Elapsed);
            LastReport = report;
            if (indexed + missing + recovered > 0) store.RaiseRebuilt();
            return report;
        }
        finally
        {
            _gate.Release();
        }
    }

    public ReconcileReport Rebuild(CancellationToken ct = default)
    {
        _gate.Wait(ct);
        try
        {
            var sw = Stopwatch.StartNew();
            var db = index.Database;
            var userData = db.Images.FindAll().ToDictionary(r => r.Id, r => new KeptData(r.Favourite, r.Albums, r.Account));
            db.InTransaction(() =>
            {
                db.Images.DeleteAll();
                db.Keys.DeleteAll();
                db.Thumbnails.DeleteAll();
                db.Facets.DeleteAll();
            });

            var (pngs, temps) = files.Enumerate();
            var removedTemps = RemoveStaleTemps(temps);
            var (indexed, unreadable) = IndexFiles(pngs, userData, ct);
            db.Checkpoint();
            var report = new ReconcileReport(pngs.Count, indexed, 0, 0, unreadable, removedTemps, sw.Elapsed);
            LastReport = report;
            store.RaiseRebuilt();
            return report;
        }
        finally
        {
            _gate.Release();
        }
    }

    private const int InsertBatch = 256;

    /// <summary>What only the index knows about an image, carried over a rebuild.</summary>
    private sealed record KeptData(bool Favourite, List<string> Albums, string? Account);

    /// <summary>
    /// Indexes files: reading and thumbnailing in parallel, inserting in batches of one transaction each.
    /// Returns how many were indexed and how many could not be read.
    /// </summary>
    private (int Indexed, int Unreadable) IndexFiles(IEnumerable<string> fileNames, Dictionary<ObjectId, KeptData>? userData, CancellationToken ct)
    {
        int indexed = 0, unreadable = 0;
        foreach (var chunk in fileNames.Chunk(InsertBatch))
        {
            ct.ThrowIfCancellationRequested();
            var prepared = chunk.AsParallel().AsOrdered().WithCancellation(ct).Select(Prepare).ToList();
            var rows = new List<(GalleryImage, GalleryThumbnail?)>();
            var ids = new HashSet<ObjectId>();
            foreach (var (file, read) in chunk.Zip(prepared))
            {
                if (read is null) { unreadable++; continue; }
                if (Place(file, read, userData, ids) is { } row) rows.Add(row);
                indexed++;
            }
            index.InsertMany(rows);
        }
        return (indexed, unreadable);
    }

    private sealed record PreparedFile(EmbeddedMetadata Metadata, DateTime FileTime, long Size, int Width, int Height, Func<ObjectId, GalleryThumbnail> Thumbnail);

    /// <summary>Reads one PNG's metadata and makes its thumbnail (thread-safe; no index access).</summary>
    private PreparedFile? Prepare(string file)
    {
        try
        {
            var path = files.FullPath(file);
            var bytes = File.ReadAllBytes(path);
            var probe = SafeImage.Probe(bytes);
            var metadata = EmbeddedMetadata.From(probe.Texts);
            using var image = SafeImage.Decode(bytes, probe);
            var thumb = thumbnails.Make(ObjectId.Empty, image);
            return new PreparedFile(metadata, File.GetLastWriteTimeUtc(path), bytes.Length, image.Width, image.Height,
                id => new GalleryThumbnail { Id = id, Data = thumb.Data, ContentType = thumb.ContentType });
        }
        catch (Exception ex) when (ex is ImageFormatException or IOException or UnauthorizedAccessException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            logger.LogWarning(ex, "Gallery file {File} could not be indexed", file);
            return null;
        }
    }

    /// <summary>
    /// Decides the row of a read file. The id comes from the file name, else our chunk, else a new one from the
    /// file's time. Returns null when an existing row was updated instead (the same image under a new name).
    /// </summary>
    private (GalleryImage, GalleryThumbnail?)? Place(string file, PreparedFile read, Dictionary<ObjectId, KeptData>? userData, HashSet<ObjectId> batchIds)
    {
        var metadata = read.Metadata;
        var id = ImageIds.TryParse(Path.GetFileNameWithoutExtension(file), out var fromName) ? fromName
            : ImageIds.TryParse(metadata.Id, out var fromChunk) ? fromChunk
            : ImageIds.New(metadata.CreatedUtc ?? read.FileTime);

        if (index.Get(id) is { } existing)
        {
            if (existing.FileName != file && !files.Exists(existing.FileName))
            {
                // E.g. a trash move interrupted before the index was updated.
                existing.FileName = file;
                existing.Missing = false;
                existing.TrashedUtc = GalleryFiles.IsInTrash(file) ? existing.TrashedUtc ?? read.FileTime : null;
                index.Update(existing);
                return null;
            }
            id = ImageIds.New(metadata.CreatedUtc ?? read.FileTime);
        }
        if (!batchIds.Add(id)) id = ImageIds.New(metadata.CreatedUtc ?? read.FileTime);

        var row = GalleryRows.From(id, metadata.CreatedUtc ?? id.CreationTime, file, read.Size, metadata, read.Width, read.Height);
        if (row.TrashedUtc is not null) row.TrashedUtc = read.FileTime;
        if (userData?.TryGetValue(id, out var user) == true)
        {
            row.Favourite = user.Favourite;
            row.Albums = user.Albums;
            row.Account = user.Account;
        }
        return (row, read.Thumbnail(id));
    }

    private int RemoveStaleTemps(List<string> temps)
    {
        var removed = 0;
        foreach (var temp in temps)
        {
            try
            {
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(temp) < StaleTempAge) continue;
                File.Delete(temp);
                removed++;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return removed;
    }
}
