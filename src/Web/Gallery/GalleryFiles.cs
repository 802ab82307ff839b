using LiteDB;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Gallery;

/// <summary>
/// Where image files live: <c>images/yyyy/MM/{id}.png</c> and <c>trash/{id}.png</c> under the data folder.
/// Files are written crash-safely: a <c>.tmp</c> file is written and flushed to disk, then renamed into place,
/// so a reader (or reconciliation after a crash) only ever sees complete PNGs.
/// </summary>
public sealed class GalleryFiles(DataFolder dataFolder)
{
    public const string ImagesFolder = "images";
    public const string TrashFolder = "trash";
    public const string TempSuffix = ".tmp";

    public string Root => dataFolder.Path;

    public static string RelativeNameFor(ObjectId id, DateTime createdUtc) =>
        $"{ImagesFolder}/{createdUtc:yyyy}/{createdUtc:MM}/{id}.png";

    public static string TrashNameFor(ObjectId id) => $"{TrashFolder}/{id}.png";

    public static bool IsInTrash(string relativeName) => relativeName.StartsWith(TrashFolder + "/", StringComparison.Ordinal);

    /// <summary>Full path of a stored relative name; refuses names that would leave the data folder.</summary>
    public string FullPath(string relativeName)
    {
        var full = Path.GetFullPath(Path.Combine(Root, relativeName));
        var root = Path.GetFullPath(Root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        if (!full.StartsWith(root, StringComparison.Ordinal)) throw new InvalidOperationException($"'{relativeName}' is outside the data folder.");
        return full;
    }

    public string RelativeName(string fullPath) =>
        Path.GetRelativePath(Root, fullPath).Replace(Path.DirectorySeparatorChar, '/');

    /// <summary>Writes bytes to <paramref name="relativeName"/> via temp file → flush to disk → rename. Returns the size.</summary>
    public async Task<long> WriteAtomicallyAsync(string relativeName, ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        var target = FullPath(relativeName);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = target + "." + Guid.NewGuid().ToString("N")[..8] + TempSuffix;
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(bytes, ct);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: false);
            return bytes.Length;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Moves a stored file to a new relative name (trash and back); rename within one volume is atomic.</summary>
    public void Move(string fromRelative, string toRelative)
    {
        var to = FullPath(toRelative);
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Move(FullPath(fromRelative), to, overwrite: false);
    }

    public bool Exists(string relativeName) => File.Exists(FullPath(relativeName));

    public void Delete(string relativeName) => TryDelete(FullPath(relativeName));

    /// <summary>All stored PNGs (images and trash), as relative names; leftover temp files are reported separately.</summary>
    public (List<string> Pngs, List<string> Temps) Enumerate()
    {
        var pngs = new List<string>();
        var temps = new List<string>();
        foreach (var folder in new[] { ImagesFolder, TrashFolder })
        {
            var dir = Path.Combine(Root, folder);
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
            {
                if (file.EndsWith(TempSuffix, StringComparison.Ordinal)) temps.Add(file);
                else if (file.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) pngs.Add(RelativeName(file));
            }
        }
        return (pngs, temps);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
