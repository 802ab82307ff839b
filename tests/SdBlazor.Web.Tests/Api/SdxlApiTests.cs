using System.Net;
using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Tests.Checkpoints;
using SixLabors.ImageSharp;

namespace SdBlazor.Web.Tests.Api;

/// <summary>An SDXL single-file checkpoint dropped into the models folder generates through A1111's txt2img, at its native size when none is given.</summary>
[Collection(SdApiCollection.Name)]
public sealed class SdxlApiTests
{
    [Fact]
    public async Task An_sdxl_checkpoint_generates_through_txt2img_and_cfg_1_reports_the_ignored_negative_prompt()
    {
        using var factory = new SdApiFactory();
        factory.Settings["Engine:ArchitecturesPath"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "architectures");
        factory.Settings["Engine:CheckpointCachePath"] = Path.Combine(factory.Root, "checkpoint-cache");
        var set = GraphSet.Load(TestCheckpoints.GraphSetPath("sdxl-tiny"));
        SafetensorsWriter.Write(Path.Combine(factory.ModelsPath, "xl.safetensors"), TestCheckpoints.ForGraphSet(set, "sdxl", new TestCheckpoints.Options(DType: "F16")));
        var api = factory.Api();
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/refresh-checkpoints", "")).Status);
        var listed = (await api.GetJsonAsync("/sdapi/v1/sd-models")).Body.EnumerateArray().Single(m => m.GetProperty("model_name").GetString() == "xl");
        Assert.False(listed.TryGetProperty("error", out _));

        var reply = await api.PostJsonAsync("/sdapi/v1/txt2img",
            """{"prompt": "a castle on a hill", "negative_prompt": "", "steps": 2, "cfg_scale": 5, "seed": 7, "batch_size": 2, "override_settings": {"sd_model_checkpoint": "xl"}}""");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("xl", reply.Info.GetProperty("sd_model_name").GetString());
        Assert.Equal(2, reply.Images.Count);
        foreach (var png in reply.Images)
        {
            var info = Image.Identify(png);
            Assert.Equal((64, 64), (info.Width, info.Height)); // the tiny graph set's native size (sample_size 8)
        }
        Assert.NotEqual(reply.Images[0], reply.Images[1]);
        Assert.False(reply.Info.TryGetProperty("warnings", out _));

        var turbo = await api.PostJsonAsync("/sdapi/v1/txt2img",
            """{"prompt": "a castle on a hill", "negative_prompt": "fog", "steps": 1, "cfg_scale": 1, "seed": 7, "override_settings": {"sd_model_checkpoint": "xl"}}""");
        Assert.Equal(HttpStatusCode.OK, turbo.Status);
        Assert.Contains("negative prompt was ignored", turbo.Info.GetProperty("warnings")[0].GetString());
    }

    [Fact]
    public async Task Refiner_checkpoint_and_refiner_switch_at_refine_through_txt2img_and_bad_ones_are_422()
    {
        using var factory = new SdApiFactory();
        factory.Settings["Engine:ArchitecturesPath"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "architectures");
        var cache = Path.Combine(factory.Root, "checkpoint-cache");
        factory.Settings["Engine:CheckpointCachePath"] = cache;
        var set = GraphSet.Load(TestCheckpoints.GraphSetPath("sdxl-tiny"));
        SafetensorsWriter.Write(Path.Combine(factory.ModelsPath, "xl.safetensors"), TestCheckpoints.ForGraphSet(set, "sdxl", new TestCheckpoints.Options(DType: "F16")));
        var api = factory.Api();
        const string body = """{"prompt": "a castle", "negative_prompt": "fog", "steps": 4, "cfg_scale": 5, "seed": 3, "override_settings": {"sd_model_checkpoint": "xl"}""";
        var plain = await api.PostJsonAsync("/sdapi/v1/txt2img", body + "}");
        Assert.Equal(HttpStatusCode.OK, plain.Status);

        // The tiny SGM refiner checkpoint (tools/make_checkpoints --variant sdxl_refiner), converted on first use.
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "sdxl-refiner-tiny.safetensors"), Path.Combine(factory.ModelsPath, "xl-refiner.safetensors"));
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/refresh-checkpoints", "")).Status);

        var refined = await api.PostJsonAsync("/sdapi/v1/txt2img", body + """, "refiner_checkpoint": "xl-refiner", "refiner_switch_at": 0.5}""");
        Assert.Equal(HttpStatusCode.OK, refined.Status);
        var infotext = refined.Info.GetProperty("infotexts")[0].GetString()!;
        Assert.Matches(@"Refiner: xl-refiner \[[0-9a-f]{10}\], Refiner switch at: 0\.5", infotext);
        Assert.NotEqual(plain.Images[0], refined.Images[0]);

        var fraction = await api.PostJsonAsync("/sdapi/v1/txt2img", body + """, "refiner_checkpoint": "xl-refiner", "refiner_switch_at": 1.5}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, fraction.Status);
        Assert.Contains("refiner_switch_at", fraction.Text);
        var unknown = await api.PostJsonAsync("/sdapi/v1/txt2img", body + """, "refiner_checkpoint": "nope"}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknown.Status);
        Assert.Contains("Unknown refiner 'nope'", unknown.Text);
        var family = await api.PostJsonAsync("/sdapi/v1/txt2img",
            """{"prompt": "a castle", "steps": 1, "width": 64, "height": 64, "refiner_checkpoint": "xl-refiner", "override_settings": {"sd_model_checkpoint": "sdblazor-mini"}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, family.Status);
        Assert.Contains("both must be SDXL models", family.Text);
    }

}
