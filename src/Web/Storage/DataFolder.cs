using SdBlazor.Engine.Hosting;

namespace SdBlazor.Web.Storage;

/// <summary>Where the app keeps its files (gallery PNGs, LiteDB files, keys), from <c>Gallery:DataPath</c>.</summary>
public sealed class DataFolderOptions
{
    public const string Section = "Gallery";

    /// <summary>Empty means: <c>./data</c> of the repository when run from a checkout, else the user's application data folder.</summary>
    public string DataPath { get; set; } = "";
}

/// <summary>The resolved, existing data folder.</summary>
public sealed class DataFolder
{
    public DataFolder(Microsoft.Extensions.Options.IOptions<DataFolderOptions> options, IHostEnvironment environment)
    {
        var configured = options.Value.DataPath;
        Path = string.IsNullOrWhiteSpace(configured) ? DefaultPath(environment.ContentRootPath) : System.IO.Path.GetFullPath(configured);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>A file in the data folder, e.g. <c>queue.db</c>.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    private static string DefaultPath(string contentRoot)
    {
        var repo = RepositoryRoot.Find(contentRoot);
        return repo is not null
            ? System.IO.Path.Combine(repo, "data")
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "SdBlazor");
    }
}
