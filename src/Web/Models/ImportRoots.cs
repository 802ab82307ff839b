using Microsoft.Extensions.Options;
using SdBlazor.Engine;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Models;

/// <summary>The folders local imports may read from (models folder, download folder, <c>Models:ImportRoots</c>), and the download folder itself.</summary>
public sealed class ImportRoots
{
    public ImportRoots(IOptions<ModelManagerOptions> options, IOptions<EngineOptions> engine, DataFolder data)
    {
        ModelsPath = engine.Value.ResolveModelsPath();
        DownloadPath = string.IsNullOrWhiteSpace(options.Value.DownloadPath) ? Path.Combine(data.Path, "downloads") : Path.GetFullPath(options.Value.DownloadPath);
        All = [ModelsPath, DownloadPath, .. options.Value.ImportRoots.Where(r => !string.IsNullOrWhiteSpace(r)).Select(Path.GetFullPath)];
    }

    public string ModelsPath { get; }
    public string DownloadPath { get; }
    public IReadOnlyList<string> All { get; }

    /// <summary>
    /// True when <paramref name="fullPath"/> (already normalised, no <c>..</c>) lies inside a root, also after following
    /// symbolic links along it: a link inside a root that points outside does not open the way out.
    /// </summary>
    public bool Contains(string fullPath)
    {
        if (!Inside(fullPath)) return false;
        var current = fullPath;
        while (!string.IsNullOrEmpty(current))
        {
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                if (target is null || !Inside(Path.GetFullPath(target.FullName))) return false;
            }
            if (All.Any(r => string.Equals(Path.TrimEndingDirectorySeparator(r), Path.TrimEndingDirectorySeparator(current), PathComparison))) break;
            current = Path.GetDirectoryName(current);
        }
        return true;
    }

    private bool Inside(string path) => All.Any(root =>
    {
        var prefix = Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, PathComparison) && path.Length > prefix.Length;
    });

    private static StringComparison PathComparison => OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
}
