using SdBlazor.Engine.Imaging;
using SdBlazor.Web.Gallery;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace SdBlazor.Web.Tests.Gallery;

public class GalleryImportTests
{
    [Fact]
    public async Task An_a1111_png_is_stored_byte_for_byte_and_indexed_from_its_parameters()
    {
        using var g = new TestGallery();
        var png = TestGallery.ForeignPng(("parameters", "a red \"barn\", in: snow\nNegative prompt: people\nSteps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6, Seed: 77, Size: 40x30, Model: \"my, model\""));

        var preview = g.Store.Inspect(png);
        var row = await g.Store.ImportAsync(png);

        Assert.Equal((UploadFormat.Png, MetadataSource.Automatic1111), (preview.Format, preview.Metadata.Source));
        Assert.Equal(png, await File.ReadAllBytesAsync(g.Files.FullPath(row.FileName)));
        Assert.Equal(("a red \"barn\", in: snow", "people", 77L, "DPM++ 2M", "Karras", "my, model"), (row.Prompt, row.NegativePrompt, row.Seed, row.Sampler, row.ScheduleType, row.Model));
        Assert.Equal([row.Id], g.Index.Query(new GalleryQuery { Search = "barn" }).Items.Select(i => i.Id));
    }

    [Fact]
    public async Task ComfyUi_and_InvokeAi_pngs_are_read_best_effort()
    {
        using var g = new TestGallery();
        var comfy = TestGallery.ForeignPng(("prompt", """{"1": {"class_type": "KSampler", "inputs": {"seed": 9, "steps": 12, "cfg": 5, "sampler_name": "euler", "scheduler": "normal", "positive": ["2", 0], "negative": ["3", 0]}}, "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "comfy lighthouse"}}, "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "fog"}}}"""), ("workflow", "{}"));
        var invoke = TestGallery.ForeignPng(("invokeai_metadata", """{"positive_prompt": "invoke meadow", "negative_prompt": "", "seed": 3, "steps": 25, "cfg_scale": 7, "scheduler": "euler_a", "width": 40, "height": 30}"""));

        var c = await g.Store.ImportAsync(comfy);
        var i = await g.Store.ImportAsync(invoke);

        Assert.Equal((MetadataSource.ComfyUi, "comfy lighthouse", "fog", 9L, "Euler"), (c.Source, c.Prompt, c.NegativePrompt, c.Seed, c.Sampler));
        Assert.Equal((MetadataSource.InvokeAi, "invoke meadow", "Euler a", 25), (i.Source, i.Prompt, i.Sampler, i.Steps));
    }

    [Fact]
    public async Task A_jpeg_is_converted_to_png_and_an_image_without_metadata_is_still_imported()
    {
        using var g = new TestGallery();
        using var image = TestGallery.MakeImage(50, 20);
        using var ms = new MemoryStream();
        await image.SaveAsJpegAsync(ms);

        var row = await g.Store.ImportAsync(ms.ToArray());

        Assert.Equal(MetadataSource.None, row.Source);
        Assert.Equal((50, 20), (row.Width, row.Height));
        var stored = await File.ReadAllBytesAsync(g.Files.FullPath(row.FileName));
        Assert.Equal(UploadFormat.Png, UploadValidator.Sniff(stored));
    }

    public static TheoryData<string, byte[], string> BadUploads()
    {
        var png = TestGallery.ForeignPng(("parameters", "x"));
        var data = new TheoryData<string, byte[], string>
        {
            { "empty", [], "empty" },
            { "text", "hello, I am not an image"u8.ToArray(), "Only PNG, JPEG and WebP" },
            { "gif", "GIF89a\x01\x00\x01\x00"u8.ToArray(), "Only PNG, JPEG and WebP" },
            { "svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"u8.ToArray(), "Only PNG, JPEG and WebP" },
            { "png header then garbage", [.. png[..8], .. Enumerable.Repeat((byte)7, 100)], "damaged" },
            { "truncated png", png[..30], "damaged" },
            { "jpeg header then garbage", [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3], "damaged" },
        };
        using (var wide = new Image<Rgb24>(5000, 2)) data.Add("too wide", Png(wide), "at most 4096 pixels");
        return data;
    }

    [Theory]
    [MemberData(nameof(BadUploads))]
    public async Task Bad_uploads_get_a_clear_error_and_store_nothing(string name, byte[] bytes, string message)
    {
        using var g = new TestGallery();

        var inspect = Assert.Throws<GalleryInputException>(() => g.Store.Inspect(bytes));
        var import = await Assert.ThrowsAsync<GalleryInputException>(() => g.Store.ImportAsync(bytes));

        Assert.Contains(message, inspect.Message);
        Assert.Contains(message, import.Message);
        Assert.Equal(0, g.Index.Count());
        Assert.False(Directory.Exists(Path.Combine(g.Folder, "images")), name);
    }

    [Fact]
    public async Task Byte_and_pixel_limits_are_enforced_before_decoding()
    {
        using var g = new TestGallery(new GalleryOptions { MaxUploadBytes = 2000, MaxUploadPixels = 10_000 });
        using var noisy = new Image<Rgb24>(100, 100);
        var random = new Random(1);
        noisy.ProcessPixelRows(rows => { for (var y = 0; y < rows.Height; y++) foreach (ref var p in rows.GetRowSpan(y)) p = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)); });
        using var tooManyPixels = new Image<Rgb24>(101, 100);

        var large = Assert.Throws<GalleryInputException>(() => g.Store.Inspect(Png(noisy)));
        var pixels = Assert.Throws<GalleryInputException>(() => g.Store.Inspect(Png(tooManyPixels)));
        var stream = await Assert.ThrowsAsync<GalleryInputException>(() => new UploadValidator(g.Options).ReadLimitedAsync(new MemoryStream(new byte[5000]), default));

        Assert.Contains("larger than the limit of 2 KB", large.Message);
        Assert.Contains("10,100 pixels; at most 10,000", pixels.Message);
        Assert.Contains("larger than the limit", stream.Message);
    }

    private static byte[] Png(Image image)
    {
        using var ms = new MemoryStream();
        image.SaveAsPng(ms);
        return ms.ToArray();
    }
}
