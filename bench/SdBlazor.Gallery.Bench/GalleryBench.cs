using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SdBlazor.Engine.Imaging;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Storage;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Gallery.Bench;

public sealed record BenchResult(int Count, double FirstPageMs, double LaterPageMs, double SearchMs, double RareSearchMs, double ModelFilterMs, double ReconcileMs, long DbBytes, long ThumbBytes, long PngBytes);

public static class GalleryBench
{
    private static readonly string[] Vocabulary =
    [
        "portrait", "landscape", "castle", "forest", "river", "mountain", "city", "night", "sunset", "dragon", "cat", "dog",
        "robot", "astronaut", "ocean", "desert", "flower", "garden", "painting", "photo", "cinematic", "lighting", "detailed",
        "watercolor", "oil", "sketch", "anime", "realistic", "fantasy", "medieval", "futuristic", "neon", "rain", "snow",
        "autumn", "spring", "winter", "summer", "golden", "silver", "ancient", "ruins", "temple", "bridge", "village", "harbor",
        "ship", "train", "car", "bicycle", "owl", "fox", "wolf", "bear", "horse", "tiger", "lion", "eagle", "whale", "koi",
    ];

    private static readonly string[] Models = ["sdblazor-mini", "dreamshaper-8", "realistic-vision", "anything-v5", "deliberate-v2"];
    private static readonly string[] Samplers = ["Euler", "Euler a", "DPM++ 2M", "DDIM", "LMS"];

    public static async Task<BenchResult> RunAsync(string dir, int count, int imageSide, TextWriter log)
    {
        Directory.CreateDirectory(dir);
        var options = Options.Create(new GalleryOptions());
        var dataFolder = new DataFolder(Options.Create(new DataFolderOptions { DataPath = dir }), new BenchEnvironment(dir));
        using var db = new GalleryDatabase(dataFolder.File(GalleryDatabase.FileName));
        var index = new GalleryIndex(db);
        var files = new GalleryFiles(dataFolder);
        var thumbnails = new Thumbnails(options);
        var store = new GalleryStore(index, files, thumbnails, new UploadValidator(options), TimeProvider.System);
        var maintenance = new GalleryMaintenance(index, files, thumbnails, store, NullLogger<GalleryMaintenance>.Instance);

        var existing = index.Count();
        log.WriteLine($"== {count:N0} images in {dir} (already there: {existing:N0})");
        if (existing < count)
        {
            SeedFiles(files, count, imageSide, log);
            var rebuild = Stopwatch.StartNew();
            var built = maintenance.Rebuild();
            log.WriteLine($"index rebuilt from files in {rebuild.Elapsed.TotalSeconds:0.0} s ({built.Indexed:N0} indexed, {built.Indexed / rebuild.Elapsed.TotalSeconds:0}/s)");
        }
        await TimeSavesAsync(store, 50, imageSide, log);

        // Warm up (JIT, LiteDB caches) the way a running server would be warm.
        for (var i = 0; i < 3; i++) index.Query(new GalleryQuery());

        var first = Time(() => index.Query(new GalleryQuery()), out var firstPage);
        // A later page: walk 20 pages deep by cursor (the cursors a scrolling user would send), time the 21st.
        var cursor = firstPage.NextCursor;
        var depth = Math.Max(1, count / 60 / 2);
        for (var i = 0; i < depth - 1 && cursor is not null; i++) cursor = index.Query(new GalleryQuery { After = cursor }).NextCursor;
        var later = Time(() => index.Query(new GalleryQuery { After = cursor }), out var laterPage);
        var search = Time(() => index.Query(new GalleryQuery { Search = "castle" }), out var searchPage);
        var rare = Time(() => index.Query(new GalleryQuery { Search = "koi whale" }), out var rarePage);
        var model = Time(() => index.Query(new GalleryQuery { Model = "realistic-vision" }), out var modelPage);
        var reconcile = Stopwatch.StartNew();
        var report = maintenance.Reconcile();
        reconcile.Stop();

        var dbBytes = new FileInfo(db.Path).Length + (File.Exists(db.Path.Replace(".db", "-log.db")) ? new FileInfo(db.Path.Replace(".db", "-log.db")).Length : 0);
        long thumbBytes = 0, pngBytes = 0;
        foreach (var t in db.Thumbnails.FindAll()) thumbBytes += t.Data.Length;
        foreach (var f in Directory.EnumerateFiles(Path.Combine(dir, GalleryFiles.ImagesFolder), "*.png", SearchOption.AllDirectories)) pngBytes += new FileInfo(f).Length;

        log.WriteLine($"first page of 60:        {first,8:0.00} ms ({firstPage.Items.Count} items)");
        log.WriteLine($"later page ({depth + 1}th) of 60: {later,8:0.00} ms ({laterPage.Items.Count} items)");
        log.WriteLine($"search 'castle':         {search,8:0.00} ms ({searchPage.Items.Count} items)");
        log.WriteLine($"search 'koi whale':      {rare,8:0.00} ms ({rarePage.Items.Count} items)");
        log.WriteLine($"filter model:            {model,8:0.00} ms ({modelPage.Items.Count} items)");
        log.WriteLine($"start-up reconciliation: {reconcile.Elapsed.TotalMilliseconds,8:0} ms ({report.FilesOnDisk:N0} files, {report.Indexed} newly indexed)");
        log.WriteLine($"database: {dbBytes / 1048576.0:0.0} MB, thumbnails: {thumbBytes / 1048576.0:0.0} MB ({thumbBytes / Math.Max(1, count)} B each), PNG files: {pngBytes / 1048576.0:0.0} MB");
        return new BenchResult(count, first, later, search, rare, model, reconcile.Elapsed.TotalMilliseconds, dbBytes, thumbBytes, pngBytes);
    }

    /// <summary>Median of 7 runs, in milliseconds.</summary>
    private static double Time(Func<GalleryPage> query, out GalleryPage page)
    {
        var times = new List<double>();
        page = null!;
        for (var i = 0; i < 7; i++)
        {
            var sw = Stopwatch.StartNew();
            page = query();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>Writes <paramref name="count"/> PNGs with real metadata chunks straight to the images folder, created over the past year.</summary>
    private static void SeedFiles(GalleryFiles files, int count, int side, TextWriter log)
    {
        var sw = Stopwatch.StartNew();
        var images = Enumerable.Range(0, 8).Select(i => MakeImage(side, i)).ToArray();
        var start = DateTime.UtcNow.AddDays(-365);
        var step = TimeSpan.FromDays(365).Ticks / count;
        Parallel.For(0, count, i =>
        {
            var random = new Random(i);
            var created = GalleryRows.TruncateToMilliseconds(start.AddTicks(step * i));
            var id = ImageIds.New(created);
            var name = GalleryFiles.RelativeNameFor(id, created);
            var path = files.FullPath(name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var ms = new MemoryStream();
            var image = images[i % images.Length];
            lock (image) PngTextChunks.WritePng(image, ms, EmbeddedMetadata.ChunksFor(RandomParameters(random, side), id.ToString(), created));
            File.WriteAllBytes(path, ms.ToArray());
        });
        log.WriteLine($"wrote {count:N0} PNG files in {sw.Elapsed.TotalSeconds:0.0} s");
        foreach (var image in images) image.Dispose();
    }

    /// <summary>The real save path (PNG, flush to disk, rename, thumbnail, index row) one image at a time.</summary>
    private static async Task TimeSavesAsync(GalleryStore store, int count, int side, TextWriter log)
    {
        using var image = MakeImage(side, 99);
        var random = new Random(99);
        var sw = Stopwatch.StartNew();
        var saved = new List<LiteDB.ObjectId>();
        for (var i = 0; i < count; i++) saved.Add((await store.SaveAsync(image, RandomParameters(random, side))).Id);
        log.WriteLine($"save one image ({side}x{side}, fsync + index): {sw.Elapsed.TotalMilliseconds / count:0.0} ms each");
        store.Trash(saved);
        store.EmptyTrash();
    }

    private static ImageParameters RandomParameters(Random r, int side)
    {
        var words = Enumerable.Range(0, 12).Select(_ => Vocabulary[r.Next(Vocabulary.Length)]);
        return new ImageParameters
        {
            Prompt = string.Join(", ", words) + ", masterpiece, best quality",
            NegativePrompt = "blurry, lowres, bad anatomy, watermark",
            Seed = r.NextInt64(0, uint.MaxValue),
            Steps = 20 + r.Next(30),
            CfgScale = 5 + r.Next(8),
            Sampler = Samplers[r.Next(Samplers.Length)],
            ScheduleType = r.Next(2) == 0 ? "Automatic" : "Karras",
            Width = side,
            Height = side,
            Model = Models[r.Next(Models.Length)],
            ModelSha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            Rng = "CPU",
            EngineVersion = "bench",
            Duration = TimeSpan.FromSeconds(r.NextDouble() * 10),
        };
    }

    private static Image<Rgb24> MakeImage(int side, int variant)
    {
        var image = new Image<Rgb24>(side, side);
        var r = new Random(variant);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                    row[x] = new Rgb24((byte)(x * 255 / side), (byte)(y * 255 / side), (byte)(variant * 30 + r.Next(16)));
            }
        });
        return image;
    }

    private sealed class BenchEnvironment(string root) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Production";
        public string ApplicationName { get; set; } = "bench";
        public string ContentRootPath { get; set; } = root;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
