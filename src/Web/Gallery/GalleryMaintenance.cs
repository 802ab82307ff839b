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

            int indexed = 0, unreadable = 0, missing = 0, recovered = 0;
            foreach (var file in pngs)
            {
                ct.ThrowIfCancellationRequested();
                if (known.ContainsKey(file)) continue;
                if (IndexFile(file, userData: null)) indexed++; else unreadable++;
            }
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
            foreach (var row in index.Database.Images.Find(x => x.Missing).ToList())
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
            var userData = db.Images.FindAll().ToDictionary(r => r.Id, r => (r.Favourite, r.Albums));
            db.InTransaction(() =>
            {
                db.Images.DeleteAll();
                db.Keys.DeleteAll();
                db.Thumbnails.DeleteAll();
                db.Facets.DeleteAll();
            });

            var (pngs, temps) = files.Enumerate();
            var removedTemps = RemoveStaleTemps(temps);
            int indexed = 0, unreadable = 0;
            foreach (var file in pngs)
            {
                ct.ThrowIfCancellationRequested();
                if (IndexFile(file, userData)) indexed++; else unreadable++;
            }
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

    /// <summary>Indexes one PNG. The id comes from the file name, else our chunk, else a new one from the file's time.</summary>
    private bool IndexFile(string file, Dictionary<ObjectId, (bool Favourite, List<string> Albums)>? userData)
    {
        try
        {
            var path = files.FullPath(file);
            var bytes = File.ReadAllBytes(path);
            var metadata = EmbeddedMetadata.From(PngTextChunks.Read(new MemoryStream(bytes)));
            var fileTime = File.GetLastWriteTimeUtc(path);

            var id = ImageIds.TryParse(Path.GetFileNameWithoutExtension(file), out var fromName) ? fromName
                : ImageIds.TryParse(metadata.Id, out var fromChunk) ? fromChunk
                : ImageIds.New(metadata.CreatedUtc ?? fileTime);

            if (index.Get(id) is { } existing)
            {
                if (existing.FileName != file && !files.Exists(existing.FileName))
                {
                    // The same image under a new name (e.g. a trash move interrupted before the index was updated).
                    existing.FileName = file;
                    existing.Missing = false;
                    existing.TrashedUtc = GalleryFiles.IsInTrash(file) ? existing.TrashedUtc ?? fileTime : null;
                    index.Update(existing);
                    return true;
                }
                id = ImageIds.New(metadata.CreatedUtc ?? fileTime);
            }

            using var image = Image.Load<Rgb24>(bytes);
            var row = GalleryRows.From(id, metadata.CreatedUtc ?? id.CreationTime, file, bytes.Length, metadata, image.Width, image.Height);
            if (row.TrashedUtc is not null) row.TrashedUtc = fileTime;
            if (userData?.TryGetValue(id, out var user) == true)
            {
                row.Favourite = user.Favourite;
                row.Albums = user.Albums;
            }
            index.Insert(row, thumbnails.Make(id, image));
            return true;
        }
        catch (Exception ex) when (ex is ImageFormatException or IOException or UnauthorizedAccessException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            logger.LogWarning(ex, "Gallery file {File} could not be indexed", file);
            return false;
        }
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
