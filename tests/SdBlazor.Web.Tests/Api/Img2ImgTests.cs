using System.Net;

namespace SdBlazor.Web.Tests.Api;

[Collection(SdApiCollection.Name)]
public sealed class Img2ImgTests(SdApiFactory factory) : IClassFixture<SdApiFactory>
{
    // Payload of generativelabs/runpod-worker-a1111 tests/img2img.py, with "DPM++ SDE" (an A1111 sampler SdBlazor does
    // not have) replaced by "DPM++ 2M", steps 30 → 5 and 480×640 → 64×64 for the CPU model; sd_vae and restore_faces
    // are sent as that client sends them and are ignored.
    private static string RunpodBody(string initImage, string checkpoint) => $$"""
        {
          "init_images": ["{{initImage}}"],
          "override_settings": {"sd_model_checkpoint": "{{checkpoint}}", "sd_vae": "vae-ft-mse-840000-ema-pruned.safetensors"},
          "prompt": "at the ocean", "negative_prompt": "", "seed": 77, "batch_size": 1, "denoising_strength": 0.55,
          "steps": 5, "cfg_scale": 10, "width": 64, "height": 64,
          "sampler_name": "DPM++ 2M", "sampler_index": "DPM++ 2M", "scheduler": "karras", "restore_faces": true
        }
        """;

    [Fact]
    public async Task Runpod_worker_img2img_payload_works_with_bare_base64_and_with_a_data_url()
    {
        var api = factory.Api();
        var init = Convert.ToBase64String(Png.Gradient(64, 64));

        var bare = await api.PostJsonAsync("/sdapi/v1/img2img", RunpodBody(init, DefaultModel.Name));
        // mix1009/sdwebuiapi (webuiapi.py b64_img) sends init images as "data:image/png;base64,...".
        var dataUrl = await api.PostJsonAsync("/sdapi/v1/img2img", RunpodBody("data:image/png;base64," + init, DefaultModel.Name));

        Assert.Equal(HttpStatusCode.OK, bare.Status);
        Assert.Equal(HttpStatusCode.OK, dataUrl.Status);
        Assert.Equal(bare.Images[0], dataUrl.Images[0]);
        Assert.Equal((64, 64), Png.Size(bare.Images[0]));
        Assert.Equal(0.55, bare.Info.GetProperty("denoising_strength").GetDouble());
        var infotext = Png.Parameters(bare.Images[0]);
        Assert.Contains("Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 10, Seed: 77, Size: 64x64", infotext);
        Assert.Contains("Denoising strength: 0.55", infotext);
        // As A1111: init images are not echoed unless include_init_images is set.
        Assert.Equal(System.Text.Json.JsonValueKind.Null, bare.Body.GetProperty("parameters").GetProperty("init_images").ValueKind);
    }

    [Fact]
    public async Task Denoising_strength_changes_how_far_the_result_moves_from_the_init_image()
    {
        var api = factory.Api();
        var init = Convert.ToBase64String(Png.Gradient(64, 64));
        var weak = await api.PostJsonAsync("/sdapi/v1/img2img", RunpodBody(init, DefaultModel.Name).Replace("0.55", "0.2"));
        var strong = await api.PostJsonAsync("/sdapi/v1/img2img", RunpodBody(init, DefaultModel.Name).Replace("0.55", "0.9"));

        Assert.Equal(HttpStatusCode.OK, weak.Status);
        Assert.Equal(HttpStatusCode.OK, strong.Status);
        var source = Png.Pixels(Png.Gradient(64, 64));
        Assert.True(Distance(source, Png.Pixels(weak.Images[0])) < Distance(source, Png.Pixels(strong.Images[0])));
    }

    [Fact]
    public async Task Img2img_without_an_init_image_or_with_a_broken_mask_or_broken_base64_is_a_422_naming_the_field()
    {
        var api = factory.Api();
        var missing = await api.PostJsonAsync("/sdapi/v1/img2img", """{"prompt": "x"}""");
        var masked = await api.PostJsonAsync("/sdapi/v1/img2img", $$"""{"prompt": "x", "init_images": ["{{Convert.ToBase64String(Png.Gradient(64, 64))}}"], "mask": "abc"}""");
        var broken = await api.PostJsonAsync("/sdapi/v1/img2img", """{"prompt": "x", "init_images": ["not base64!"]}""");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing.Status);
        Assert.Equal("init_images", missing.Body.GetProperty("detail")[0].GetProperty("loc")[1].GetString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, masked.Status);
        Assert.Equal("mask", masked.Body.GetProperty("detail")[0].GetProperty("loc")[1].GetString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, broken.Status);
        Assert.Contains("Invalid encoded image", broken.Body.GetProperty("detail")[0].GetProperty("msg").GetString());
    }

    private static double Distance(byte[] a, byte[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++) sum += Math.Abs(a[i] - b[i]);
        return sum / a.Length;
    }
}
