using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SdBlazor.Engine.Imaging;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Storage;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

// Usage: SdBlazor.Gallery.CrashHost <data folder>
// Saves images through the real gallery store forever, printing "saved <id>" after each save has returned.
// The crash test kills this process at random moments and then checks the folder.
var folder = args[0];
var options = Options.Create(new GalleryOptions());
var dataFolder = new DataFolder(Options.Create(new DataFolderOptions { DataPath = folder }), new HostEnvironment(folder));
using var db = new GalleryDatabase(dataFolder.File(GalleryDatabase.FileName));
var index = new GalleryIndex(db);
var files = new GalleryFiles(dataFolder);
var store = new GalleryStore(index, files, new Thumbnails(options), new UploadValidator(options), TimeProvider.System);

Console.Out.Flush();
Console.WriteLine("ready");
var random = new Random();
for (var n = 0; ; n++)
{
    // Big enough that killing lands inside PNG writes as well as inside LiteDB commits.
    using var image = new Image<Rgb24>(256, 256);
    image.ProcessPixelRows(rows =>
    {
        for (var y = 0; y < rows.Height; y++)
            foreach (ref var p in rows.GetRowSpan(y)) p = new Rgb24((byte)random.Next(256), (byte)y, (byte)n);
    });
    var row = await store.SaveAsync(image, new ImageParameters { Prompt = $"crash test image {n}, words: many", Seed = n, Steps = 1, Sampler = "Euler", Width = 256, Height = 256 });
    if (n % 7 == 3) store.SetFavourite(row.Id, true);
    Console.WriteLine($"saved {row.Id}");
}

sealed class HostEnvironment(string root) : IHostEnvironment
{
    public string EnvironmentName { get; set; } = "Production";
    public string ApplicationName { get; set; } = "crash-host";
    public string ContentRootPath { get; set; } = root;
    public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
}
