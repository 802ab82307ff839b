using Microsoft.Extensions.Logging.Abstractions;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Engine.Upscaling;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests.ImageTools;

/// <summary>ONNX super-resolution upscalers (tiny graphs built here, real ONNX Runtime sessions) and tiling.</summary>
public sealed class UpscalerTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sdblazor-upscaler-tests", Guid.NewGuid().ToString("N"));
    private readonly SessionFactory _sessions;

    public UpscalerTests()
    {
        Directory.CreateDirectory(Path.Combine(_folder, UpscalerCatalog.FolderName));
        _sessions = new SessionFactory(Microsoft.Extensions.Options.Options.Create(Options()), NullLogger<SessionFactory>.Instance);
    }

    private EngineOptions Options() => new() { ModelsPath = _folder, ExecutionProvider = ExecutionProviderKind.Cpu, IntraOpThreads = 1, OptimizedModelCache = false };

    /// <summary>[1,3,H,W] → Resize ×<paramref name="scale"/> (linear has border effects at tile edges; nearest has none).</summary>
    private string SaveResizeGraph(string name, string mode, float scale = 2, int inputRank = 4, int channels = 3)
    {
        var b = new OnnxBuilder();
        object[] dims = inputRank == 4 ? [1, channels, "h", "w"] : [channels, "h", "w"];
        b.Input("image", OnnxBuilder.Float, dims);
        var scales = b.FloatConstant(inputRank == 4 ? [1, 1, scale, scale] : [1, scale, scale], inputRank);
        b.NodeTo("Resize", ["image", "", scales], "upscaled", ("mode", mode));
        b.Output("upscaled", OnnxBuilder.Float, inputRank == 4 ? [1, channels, "H", "W"] : [channels, "H", "W"]);
        var path = Path.Combine(_folder, UpscalerCatalog.FolderName, name + ".onnx");
        b.Save(path);
        return path;
    }

    private OnnxUpscaler Load(string path, int tile, int overlap) =>
        new(Path.GetFileNameWithoutExtension(path), _sessions.Create(path, "upscaler"), tile, overlap);

    private static Image<Rgb24> TestImage(int width, int height)
    {
        var image = new Image<Rgb24>(width, height);
        var random = new Random(5);
        image.ProcessPixelRows(a =>
        {
            for (var y = 0; y < a.Height; y++)
            {
                var row = a.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                    row[x] = new Rgb24((byte)(x * 255 / width), (byte)random.Next(256), (byte)((x * y) % 256));
            }
        });
        return image;
    }

    private static int MaxDifference(Image<Rgb24> a, Image<Rgb24> b)
    {
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        var pa = new Rgb24[a.Width * a.Height];
        var pb = new Rgb24[pa.Length];
        a.CopyPixelDataTo(pa);
        b.CopyPixelDataTo(pb);
        var max = 0;
        for (var i = 0; i < pa.Length; i++)
            max = Math.Max(max, Math.Max(Math.Abs(pa[i].R - pb[i].R), Math.Max(Math.Abs(pa[i].G - pb[i].G), Math.Abs(pa[i].B - pb[i].B))));
        return max;
    }

    [Theory]
    [InlineData("linear")]
    [InlineData("nearest")]
    public void Tiled_output_matches_a_single_pass_at_the_seams(string mode)
    {
        var path = SaveResizeGraph("x2-" + mode, mode);
        using var whole = Load(path, tile: 512, overlap: 16);
        using var tiled = Load(path, tile: 32, overlap: 8);
        using var source = TestImage(100, 70);

        Assert.Equal(2, tiled.Scale);
        using var expected = whole.Upscale(source, 200, 140, CancellationToken.None);
        using var actual = tiled.Upscale(source, 200, 140, CancellationToken.None);

        Assert.True(MaxDifference(expected, actual) <= 1, $"max difference {MaxDifference(expected, actual)} levels");
    }

    [Fact]
    public void Without_blending_a_linear_upscaler_shows_seams()
    {
        // The control for the test above: tiles cut with no overlap differ from the single pass at their borders.
        var path = SaveResizeGraph("x2-linear-seams", "linear");
        using var whole = Load(path, tile: 512, overlap: 16);
        using var cut = Load(path, tile: 32, overlap: 0);
        using var source = TestImage(100, 70);
        using var expected = whole.Upscale(source, 200, 140, CancellationToken.None);
        using var actual = cut.Upscale(source, 200, 140, CancellationToken.None);
        Assert.True(MaxDifference(expected, actual) > 1);
    }

    [Fact]
    public void A_4x_upscale_of_1024_squared_runs_in_small_tiles()
    {
        using var source = TestImage(1024, 1024);
        var largest = 0;
        using var result = TiledUpscale.Run(source, 4, 192, 16, (input, h, w, _) =>
        {
            largest = Math.Max(largest, h * w);
            var output = new float[3 * 16 * h * w];
            for (var c = 0; c < 3; c++)
                for (var y = 0; y < 4 * h; y++)
                    for (var x = 0; x < 4 * w; x++)
                        output[(c * 4 * h + y) * 4 * w + x] = input[(c * h + y / 4) * w + x / 4];
            return output;
        }, CancellationToken.None);

        Assert.Equal((4096, 4096), (result.Width, result.Height));
        Assert.Equal(192 * 192, largest);
        Assert.Equal(source[1000, 777], result[4003, 3110]);
    }

    [Theory]
    [InlineData(3, 3, 2f, "rank 3")]
    [InlineData(4, 4, 2f, "4 channels")]
    [InlineData(4, 3, 1.5f, "expected [1, 3, s·32, s·32]")]
    public void Bad_graphs_are_refused_with_a_clear_error(int rank, int channels, float scale, string expected)
    {
        var path = SaveResizeGraph($"bad-{rank}-{channels}-{scale}", "nearest", scale, rank, channels);
        var catalog = new UpscalerCatalog(Microsoft.Extensions.Options.Options.Create(Options()), _sessions);
        using (catalog)
        {
            var ex = Assert.Throws<InvalidDataException>(() => catalog.Find(Path.GetFileNameWithoutExtension(path)));
            Assert.Contains(expected, ex.Message);
            Assert.Contains("cannot be used", ex.Message);
        }
    }

    [Fact]
    public void The_catalog_lists_built_ins_and_model_files_and_finds_them_by_name()
    {
        SaveResizeGraph("RealESRGAN_x2", "nearest");
        File.WriteAllText(Path.Combine(_folder, UpscalerCatalog.FolderName, "notes.txt"), "not a model");
        using var catalog = new UpscalerCatalog(Microsoft.Extensions.Options.Options.Create(Options()), _sessions);

        Assert.Equal(["Lanczos", "Nearest", "Bicubic", "RealESRGAN_x2"], catalog.List().Select(u => u.Name));
        Assert.Equal(2, catalog.Find("realesrgan_x2")!.Scale);
        Assert.Equal(2, catalog.List().Single(u => u.Name == "RealESRGAN_x2").Scale);
        Assert.Null(catalog.Find("../notes"));
        using var source = TestImage(10, 10);
        using var up = catalog.Find("Lanczos")!.Upscale(source, 25, 15, CancellationToken.None);
        Assert.Equal((25, 15), (up.Width, up.Height));
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
