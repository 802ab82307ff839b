using System.Globalization;
using LiteDB;

namespace SdBlazor.Web.Gallery;

/// <summary>
/// Owns the one shared <see cref="LiteDatabase"/> of <c>gallery.db</c> (direct mode; LiteDB serialises writers
/// itself). A file that cannot be opened is moved aside and a fresh index is created — the PNG files are the
/// source of truth and reconciliation re-indexes them (SwarmUI treats its LiteDB the same way).
/// </summary>
public sealed class GalleryDatabase : IDisposable
{
    public const string FileName = "gallery.db";

    private readonly LiteDatabase _db;

    public GalleryDatabase(string path, ILogger<GalleryDatabase>? logger = null)
    {
        Path = path;
        try
        {
            _db = Open(path);
        }
        // Garbage in the header surfaces as all kinds of exceptions; an IOException (file in use) is not corruption.
        catch (Exception ex) when (File.Exists(path) && ex is not (IOException or OutOfMemoryException or UnauthorizedAccessException))
        {
            var aside = $"{path}.corrupt-{DateTime.UtcNow:yyyyMMddHHmmss}";
            logger?.LogError(ex, "Gallery index {Path} could not be opened; moved to {Aside} and rebuilding from the image files", path, aside);
            File.Move(path, aside);
            var log = System.IO.Path.ChangeExtension(path, null) + "-log.db";
            if (File.Exists(log)) File.Move(log, aside + "-log");
            _db = Open(path);
            WasReset = true;
        }

        Images = _db.GetCollection<GalleryImage>("images");
        Keys = _db.GetCollection<GalleryKey>("keys");
        Thumbnails = _db.GetCollection<GalleryThumbnail>("thumbnails");
        Facets = _db.GetCollection<GalleryFacet>("facets");
        Albums = _db.GetCollection<GalleryAlbum>("albums");
        // Children lookups (lineage) and whose images; everything the grid filters or sorts by goes through the keys collection.
        Images.EnsureIndex(x => x.ParentId);
        Images.EnsureIndex(x => x.Missing);
        Images.EnsureIndex(x => x.Account);
        AddOwnerKeys();
    }

    /// <summary>The file's schema version (see <see cref="SchemaVersion"/>).</summary>
    public int UserVersion => _db.UserVersion;

    /// <summary>Schema version in LiteDB's user_version: 1 = every image has its owner key (<see cref="GalleryKeys.Owner"/>).</summary>
    public const int SchemaVersion = 1;

    /// <summary>
    /// Upgrades a file written before images had owners: its rows have no account, so they are the owner's, and
    /// each gets the owner key the owner's "my images" filter scans. Runs once (idempotent if interrupted).
    /// </summary>
    private void AddOwnerKeys()
    {
        if (_db.UserVersion >= SchemaVersion) return;
        // Only id and account of each row are read, not whole rows.
        var rows = _db.GetCollection("images").Query().Select("{ i: $._id, a: $.Account }").ToList();
        InTransaction(() =>
        {
            foreach (var row in rows)
            {
                var account = row["a"].IsString ? row["a"].AsString : null;
                Keys.Upsert(new GalleryKey { Id = GalleryKeys.Compose(GalleryKeys.Owner(account), row["i"].AsObjectId) });
            }
        });
        _db.UserVersion = SchemaVersion;
    }

    public string Path { get; }

    /// <summary>True when the existing file was unreadable and a new, empty index was started.</summary>
    public bool WasReset { get; }

    public ILiteCollection<GalleryImage> Images { get; }
    public ILiteCollection<GalleryKey> Keys { get; }
    public ILiteCollection<GalleryThumbnail> Thumbnails { get; }
    public ILiteCollection<GalleryFacet> Facets { get; }
    public ILiteCollection<GalleryAlbum> Albums { get; }

    /// <summary>Runs <paramref name="work"/> in one LiteDB transaction (per thread, so it must stay synchronous).</summary>
    public T InTransaction<T>(Func<T> work)
    {
        _db.BeginTrans();
        try
        {
            var result = work();
            _db.Commit();
            return result;
        }
        catch
        {
            _db.Rollback();
            throw;
        }
    }

    public void InTransaction(Action work) => InTransaction(() => { work(); return 0; });

    public void Checkpoint() => _db.Checkpoint();

    public void Dispose() => _db.Dispose();

    private static LiteDatabase Open(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var connection = new ConnectionString
        {
            Filename = path,
            Connection = ConnectionType.Direct,
            // Keys are compared byte-wise: culture-aware comparison ignores the \u0001 separator.
            Collation = new Collation(CultureInfo.InvariantCulture.LCID, CompareOptions.Ordinal),
            AutoRebuild = true,
        };
        var mapper = new BsonMapper();
        // LiteDB hands dates back in local time; the gallery works in UTC throughout.
        mapper.RegisterType<DateTime>(d => new BsonValue(d.ToUniversalTime()), b => b.AsDateTime.ToUniversalTime());
        mapper.Entity<GalleryImage>().Id(x => x.Id, autoId: false);
        mapper.Entity<GalleryKey>().Id(x => x.Id, autoId: false);
        mapper.Entity<GalleryThumbnail>().Id(x => x.Id, autoId: false);
        mapper.Entity<GalleryFacet>().Id(x => x.Id, autoId: false);
        mapper.Entity<GalleryAlbum>().Id(x => x.Id, autoId: false);
        return new LiteDatabase(connection, mapper);
    }
}
