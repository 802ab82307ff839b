using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SdBlazor.Engine.Imaging;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Storage;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Web.Tests.Gallery;

/// <summary>A real gallery (PNG files + LiteDB file) in a temporary folder.</summary>
public sealed class TestGallery : IDisposable
{
    public TestGallery(GalleryOptions? options = null, string? folder = null)
    {
        _ownsFolder = folder is null;
        Folder = folder ?? Path.Combine(Path.GetTempPath(), "sdblazor-gallery-tests", Guid.NewGuid().ToString("N"));
        Options = Microsoft.Extensions.Options.Options.Create(options ?? new GalleryOptions());
        Open();
    }

    private readonly bool _ownsFolder;

    public string Folder { get; }
    public IOptions<GalleryOptions> Options { get; }
    public GalleryDatabase Database { get; private set; } = null!;
    public GalleryIndex Index { get; private set; } = null!;
    public GalleryFiles Files { get; private set; } = null!;
    public GalleryStore Store { get; private set; } = null!;
    public GalleryMaintenance Maintenance { get; private set; } = null!;
    public GalleryPrefill Prefill { get; private set; } = null!;

    public string DatabasePath => Path.Combine(Folder, GalleryDatabase.FileName);

    /// <summary>Closes the database (as a restart would) and opens it again.</summary>
    public void Reopen(bool deleteDatabase = false)
    {
        Database.Dispose();
        if (deleteDatabase)
        {
            File.Delete(DatabasePath);
            File.Delete(Path.Combine(Folder, "gallery-log.db"));
        }
        Open();
    }

    private void Open()
    {
        var dataFolder = new DataFolder(Microsoft.Extensions.Options.Options.Create(new DataFolderOptions { DataPath = Folder }), new Env(Folder));
        Database = new GalleryDatabase(dataFolder.File(GalleryDatabase.FileName));
        Index = new GalleryIndex(Database);
        Files = new GalleryFiles(dataFolder);
        var thumbnails = new Thumbnails(Options);
        Store = new GalleryStore(Index, Files, thumbnails, new UploadValidator(Options), TimeProvider.System);
        Maintenance = new GalleryMaintenance(Index, Files, thumbnails, Store, NullLogger<GalleryMaintenance>.Instance);
        Prefill = new GalleryPrefill(Index, Store);
    }

    public static Image<Rgb24> MakeImage(int width = 64, int height = 48, byte tone = 100)
    {
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++) row[x] = new Rgb24((byte)(x * 4), (byte)(y * 5), tone);
            }
        });
        return image;
    }

    public static ImageParameters Parameters(string prompt, string model = "sdblazor-mini", long seed = 42) => new()
    {
        Prompt = prompt,
        NegativePrompt = "blurry",
        Seed = seed,
        Steps = 20,
        CfgScale = 7,
        Sampler = "Euler a",
        ScheduleType = "Automatic",
        Width = 64,
        Height = 48,
        Model = model,
        Rng = "CPU",
        EngineVersion = "test",
    };

    public async Task<GalleryImage> SaveAsync(string prompt, string model = "sdblazor-mini", long seed = 42)
    {
        using var image = MakeImage();
        return await Store.SaveAsync(image, Parameters(prompt, model, seed));
    }

    /// <summary>A PNG as another tool would write it, with the given text chunks.</summary>
    public static byte[] ForeignPng(params (string Key, string Value)[] texts)
    {
        using var image = MakeImage(40, 30, 200);
        using var ms = new MemoryStream();
        PngTextChunks.WritePng(image, ms, texts.Select(t => KeyValuePair.Create(t.Key, t.Value)));
        return ms.ToArray();
    }

    public void Dispose()
    {
        Database.Dispose();
        if (!_ownsFolder) return;
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }

    private sealed class Env(string root) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";
        public string ApplicationName { get; set; } = "tests";
        public string ContentRootPath { get; set; } = root;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
