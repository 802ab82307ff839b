using System.Net;
using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Tests.Checkpoints;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Web.Tests.Api;

/// <summary><c>&lt;lora:…&gt;</c> through <c>/sdapi/v1/txt2img</c> as an A1111 client sends it, on a dropped single-file checkpoint.</summary>
[Collection(SdApiCollection.Name)]
public sealed class LoraApiTests
{
    private static byte[] Pixels(byte[] png)
    {
        using var image = Image.Load<Rgb24>(png);
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }

    [Fact]
    public async Task A_lora_tag_changes_the_image_weight_zero_does_not_and_an_unknown_name_is_a_warning_in_info()
    {
        using var factory = new SdApiFactory();
        factory.Settings["Engine:ArchitecturesPath"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "architectures");
        factory.Settings["Engine:CheckpointCachePath"] = Path.Combine(factory.Root, "checkpoint-cache");
        var set = GraphSet.Load(TestCheckpoints.GraphSetPath("sd15-tiny"));
        SafetensorsWriter.Write(Path.Combine(factory.ModelsPath, "tiny.safetensors"), TestCheckpoints.ForGraphSet(set, "sd15"));
        var random = new Random(5);
        float[] Values(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)random.NextDouble() - 0.5f)];
        Directory.CreateDirectory(Path.Combine(factory.ModelsPath, "Lora"));
        SafetensorsWriter.Write(Path.Combine(factory.ModelsPath, "Lora", "x.safetensors"),
        [
            new TestTensor("lora_unet_conv_in.lora_down.weight", "F16", [4, 4, 3, 3], Values(144)),
            new TestTensor("lora_unet_conv_in.lora_up.weight", "F16", [32, 4, 1, 1], Values(128)),
            new TestTensor("lora_unet_conv_in.alpha", "F32", [], [4f]),
        ], new Dictionary<string, string> { ["ss_output_name"] = "x" });
        var api = factory.Api();
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/refresh-checkpoints", "")).Status);
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/refresh-loras", "")).Status);
        Assert.Contains((await api.GetJsonAsync("/sdapi/v1/loras")).Body.EnumerateArray(), l => l.GetProperty("name").GetString() == "x");

        async Task<ApiReply> Txt2Img(string prompt) => await api.PostJsonAsync("/sdapi/v1/txt2img",
            $$$"""{"prompt": "{{{prompt}}}", "seed": 4, "steps": 2, "override_settings": {"sd_model_checkpoint": "tiny"}}""");
        var plain = await Txt2Img("a cat");
        var lora = await Txt2Img("a cat <lora:x:1>");
        var zero = await Txt2Img("a cat <lora:x:0>");
        var unknown = await Txt2Img("a cat <lora:missing:1>");
        foreach (var r in new[] { plain, lora, zero, unknown }) Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.NotEqual(Pixels(plain.Images[0]), Pixels(lora.Images[0]));
        Assert.Equal(Pixels(plain.Images[0]), Pixels(zero.Images[0]));
        Assert.Equal(Pixels(plain.Images[0]), Pixels(unknown.Images[0]));
        // "warnings" is not an A1111 key: it is only there when something was ignored.
        Assert.False(lora.Info.TryGetProperty("warnings", out _));
        Assert.Contains("LoRA 'missing' not found", Assert.Single(unknown.Info.GetProperty("warnings").EnumerateArray()).GetString());
        // Past ±10 the weight is applied as written (A1111 takes any float), with a warning: not clamped to 10.
        var ten = await Txt2Img("a cat <lora:x:10>");
        var twelve = await Txt2Img("a cat <lora:x:12>");
        Assert.Equal(HttpStatusCode.OK, twelve.Status);
        Assert.NotEqual(Pixels(ten.Images[0]), Pixels(twelve.Images[0]));
        Assert.Contains("multiplier 12 is outside ±10; applied as written", Assert.Single(twelve.Info.GetProperty("warnings").EnumerateArray()).GetString());
        Assert.False(ten.Info.TryGetProperty("warnings", out _));
        // As in A1111, the infotext keeps the tag.
        Assert.Equal("a cat <lora:x:1>", lora.Info.GetProperty("prompt").GetString());
    }
}
