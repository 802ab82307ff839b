namespace SdBlazor.Engine.Hosting;

/// <summary>
/// Finds the source checkout the app runs from (the folder holding <c>SdBlazor.sln</c>), so that
/// defaults such as <c>models/</c> and <c>data/</c> point into the repository when run with <c>dotnet run</c>,
/// and to per-user folders when the app is installed elsewhere.
/// </summary>
public static class RepositoryRoot
{
    public const string MarkerFile = "SdBlazor.sln";

    /// <summary>Walks up from <paramref name="start"/> (and then from the app's base directory); <c>null</c> when not inside a checkout.</summary>
    public static string? Find(string? start = null)
    {
        foreach (var origin in new[] { start, AppContext.BaseDirectory })
        {
            for (var dir = origin is null ? null : new DirectoryInfo(origin); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, MarkerFile))) return dir.FullName;
            }
        }
        return null;
    }
}
