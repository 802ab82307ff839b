using System.Net;
using SdBlazor.Engine.Models.Sources;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Web.Tests.Api;

/// <summary>
/// Issue 28, one per architecture: a full-size random-weight checkpoint in the released layout (SD 1.5 fp16 2.13 GB,
/// SD 2.1-v fp16 2.6 GB, SDXL base fp16 6.9 GB) dropped into the models folder is converted with the app's shipped
/// graph sets on first use and generates through A1111's txt2img with <c>override_settings.sd_model_checkpoint</c>.
/// Slow (minutes each, SDXL ~14 GiB RSS) and needs the big files, so it is excluded from <c>scripts/test.sh</c>; run:
/// <c>SDBLAZOR_FULL_CHECKPOINTS=DIR dotnet test tests/SdBlazor.Web.Tests -c Release --filter Category=Slow</c>
/// (docs/performance.md, "Full-size checkpoints through the A1111 API", says how to make DIR's files).
/// </summary>
[Collection(SdApiCollection.Name)]
[Trait("Category", "Slow")]
public sealed class FullSizeCheckpointTests
{
    public const string FolderVariable = "SDBLAZOR_FULL_CHECKPOINTS";

    [Theory]
    [InlineData("sd15-full-f16", "sd15", 256)]
    [InlineData("sd21v-full-f16", "sd21", 256)]
    [InlineData("sdxl-full-f16", "sdxl", 256)]
    public async Task A_full_size_checkpoint_generates_through_txt2img(string name, string graphSet, int size)
    {
        var folder = Environment.GetEnvironmentVariable(FolderVariable);
        var source = folder is null ? null : Path.Combine(folder, name + ".safetensors");
        Assert.True(source is not null && File.Exists(source),
            $"{FolderVariable} must name a folder with {name}.safetensors (tools/make_checkpoints/make_checkpoint.py --variant {name.Split('-')[0]} --scale full --dtype f16)");

        using var factory = new SdApiFactory();
        var cache = Path.Combine(factory.Root, "checkpoint-cache");
        factory.Settings["Engine:CheckpointCachePath"] = cache;
        // Not worth writing ONNX Runtime's optimised copy (the model's size again) for one image.
        factory.Settings["Engine:OptimizedModelCache"] = "false";
        // The default admission (60 % of memory, 2 bytes resident per model byte, measured on SD 1.5 incl. the load of
        // optimised graphs, which is off here) refuses SDXL's 13.9 GB fp32 folder on a 24 GB machine ("needs about
        // 26 GiB"); the test is run on purpose on a machine that has the memory.
        factory.Settings["Generation:MemoryBudgetBytes"] = (22L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture);
        factory.Settings["Generation:MemoryProfile:ResidentPerModelByte"] = "1.4";
        File.CreateSymbolicLink(Path.Combine(factory.ModelsPath, name + ".safetensors"), source!);
        var api = factory.Api();
        api.Timeout = TimeSpan.FromMinutes(40);

        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/refresh-checkpoints", "")).Status);
        var listed = (await api.GetJsonAsync("/sdapi/v1/sd-models")).Body.EnumerateArray().Single(m => m.GetProperty("model_name").GetString() == name);
        Assert.False(listed.TryGetProperty("error", out var error), error.ToString());

        var reply = await api.PostJsonAsync("/sdapi/v1/txt2img",
            $$$"""{"prompt": "a lighthouse at dusk", "negative_prompt": "blurry", "steps": 2, "cfg_scale": 7, "seed": 11, "width": {{{size}}}, "height": {{{size}}}, "sampler_name": "Euler", "override_settings": {"sd_model_checkpoint": "{{{name}}}"}}""");
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        Assert.Equal(name, reply.Info.GetProperty("sd_model_name").GetString());
        Assert.Contains($"Model: {name}", Png.Parameters(reply.Images[0]));
        using var image = Image.Load<Rgb24>(Assert.Single(reply.Images));
        Assert.Equal((size, size), (image.Width, image.Height));
        var distinct = new HashSet<Rgb24>();
        image.ProcessPixelRows(rows => { for (var y = 0; y < rows.Height; y++) foreach (var p in rows.GetRowSpan(y)) distinct.Add(p); });
        Assert.True(distinct.Count > 100, $"the image has {distinct.Count} colours");

        // It ran on the full-size weights of the shipped graph set, converted on this first use.
        var shipped = GraphSet.Load(Path.Combine(AppContext.BaseDirectory, "Architectures", graphSet));
        var converted = Assert.Single(Directory.GetDirectories(cache, name + "-*"));
        foreach (var (component, manifest) in shipped.Manifests)
            Assert.Equal(manifest.TotalBytes, new FileInfo(Path.Combine(converted, component, manifest.WeightsFile)).Length);
    }
}
