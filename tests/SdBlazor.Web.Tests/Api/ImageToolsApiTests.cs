using System.Net;
using System.Text.Json;

namespace SdBlazor.Web.Tests.Api;

/// <summary>Variation seeds, hires fix and the extras upscaling endpoints through the A1111 API, with the JSON its clients send.</summary>
[Collection(SdApiCollection.Name)]
public sealed class ImageToolsApiTests(SdApiFactory factory) : IClassFixture<SdApiFactory>
{
    private static string[] Infotexts(ApiReply reply) => [.. reply.Info.GetProperty("infotexts").EnumerateArray().Select(i => i.GetString()!)];

    [Fact]
    public async Task Variation_seeds_change_the_image_vary_per_batch_image_and_are_recorded_as_A1111_does()
    {
        var api = factory.Api();
        var plain = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "a cat", "seed": 5, "steps": 4, "width": 64, "height": 64}""");
        var varied = await api.PostJsonAsync("/sdapi/v1/txt2img",
            """{"prompt": "a cat", "seed": 5, "subseed": 77, "subseed_strength": 0.3, "batch_size": 2, "steps": 4, "width": 64, "height": 64}""");

        Assert.Equal(HttpStatusCode.OK, varied.Status);
        Assert.NotEqual(Png.Pixels(plain.Images[0]), Png.Pixels(varied.Images[0]));
        var info = varied.Info;
        Assert.Equal(77, info.GetProperty("subseed").GetInt64());
        Assert.Equal([77L, 78L], info.GetProperty("all_subseeds").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(0.3, info.GetProperty("subseed_strength").GetDouble());
        Assert.Contains("Seed: 5, Size: 64x64", Infotexts(varied)[0]);
        Assert.Contains("Variation seed: 77, Variation seed strength: 0.3", Infotexts(varied)[0]);
        Assert.Contains("Seed: 6, Size: 64x64", Infotexts(varied)[1]);
        Assert.Contains("Variation seed: 78, Variation seed strength: 0.3", Infotexts(varied)[1]);
        Assert.Equal(Infotexts(varied)[1], Png.Parameters(varied.Images[1]));

        // png-info reads it back as A1111's parser does.
        var read = await api.PostJsonAsync("/sdapi/v1/png-info", JsonSerializer.Serialize(new { image = Convert.ToBase64String(varied.Images[1]) }));
        Assert.Equal("78", read.Body.GetProperty("parameters").GetProperty("Variation seed").GetString());
        Assert.Equal("0.3", read.Body.GetProperty("parameters").GetProperty("Variation seed strength").GetString());
    }

    [Fact]
    public async Task Hires_fix_doubles_the_size_and_writes_A1111s_fields()
    {
        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/txt2img", """
            {"prompt": "a cat", "seed": 9, "steps": 4, "width": 64, "height": 64, "enable_hr": true, "hr_scale": 2,
             "hr_upscaler": "Latent", "hr_second_pass_steps": 2, "denoising_strength": 0.5}
            """);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal((128, 128), Png.Size(reply.Images[0]));
        var infotext = Infotexts(reply)[0];
        Assert.Contains("Size: 64x64", infotext);
        Assert.Contains("Denoising strength: 0.5", infotext);
        Assert.Contains("Hires upscale: 2, Hires steps: 2, Hires upscaler: Latent", infotext);
        Assert.Equal(0.5, reply.Info.GetProperty("denoising_strength").GetDouble());
        Assert.True(reply.Body.GetProperty("parameters").GetProperty("enable_hr").GetBoolean());
    }

    [Fact]
    public async Task Hires_fix_with_an_unknown_upscaler_is_a_422_listing_the_choices()
    {
        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "x", "enable_hr": true, "hr_upscaler": "4x-Missing"}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        Assert.Contains("Hires upscaler '4x-Missing' is unknown", reply.Text);
        Assert.Contains("Lanczos", reply.Text);
    }

    [Fact]
    public async Task Img2img_with_a_mask_repaints_only_the_white_area()
    {
        var init = Png.Gradient(64, 64);
        using var maskImage = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>(64, 64);
        for (var y = 0; y < 64; y++) for (var x = 0; x < 24; x++) maskImage[x, y] = new SixLabors.ImageSharp.PixelFormats.L8(255);
        using var maskPng = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(maskImage, maskPng);

        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/img2img", JsonSerializer.Serialize(new
        {
            prompt = "a dog", seed = 3, steps = 6, denoising_strength = 0.9, init_images = new[] { Convert.ToBase64String(init) },
            mask = Convert.ToBase64String(maskPng.ToArray()), mask_blur = 2, inpainting_fill = 1,
        }));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        byte[] before = Png.Pixels(init), after = Png.Pixels(reply.Images[0]);
        int Difference(int x0, int x1)
        {
            var max = 0;
            for (var y = 0; y < 64; y++)
                for (var x = x0; x < x1; x++)
                    for (var c = 0; c < 3; c++) max = Math.Max(max, Math.Abs(before[(y * 64 + x) * 3 + c] - after[(y * 64 + x) * 3 + c]));
            return max;
        }
        Assert.Equal(0, Difference(32, 64));
        Assert.True(Difference(0, 16) > 20);
        Assert.False(reply.Body.GetProperty("parameters").TryGetProperty("mask", out var echoed) && echoed.ValueKind == JsonValueKind.String);
    }

    [Fact]
    public async Task An_all_black_mask_is_a_422_that_says_so()
    {
        var black = Png.Gradient(8, 8);
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>(64, 64);
        using var png = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, png);
        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/img2img", JsonSerializer.Serialize(new
        {
            prompt = "x", steps = 2, init_images = new[] { Convert.ToBase64String(Png.Gradient(64, 64)) }, mask = Convert.ToBase64String(png.ToArray()),
        }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        Assert.Contains("all black", reply.Text);
    }

    [Fact]
    public async Task Upscalers_lists_none_and_the_built_in_resamplers()
    {
        var reply = await factory.Api().GetJsonAsync("/sdapi/v1/upscalers");
        var names = reply.Body.EnumerateArray().Select(u => u.GetProperty("name").GetString()).ToList();
        Assert.Equal(["None", "Lanczos", "Nearest", "Bicubic"], names.Take(4));
    }

    [Fact]
    public async Task Extra_single_image_upscales_by_a_factor_or_to_a_cropped_size()
    {
        var image = Convert.ToBase64String(Png.Gradient(40, 30));
        var api = factory.Api();
        var byScale = await api.PostJsonAsync("/sdapi/v1/extra-single-image", $$"""{"image": "data:image/png;base64,{{image}}", "upscaling_resize": 2, "upscaler_1": "Lanczos"}""");
        var toSize = await api.PostJsonAsync("/sdapi/v1/extra-single-image", $$"""{"image": "{{image}}", "resize_mode": 1, "upscaling_resize_w": 120, "upscaling_resize_h": 60, "upscaler_1": "Nearest", "upscaler_2": "Bicubic", "extras_upscaler_2_visibility": 0.5}""");

        Assert.Equal(HttpStatusCode.OK, byScale.Status);
        Assert.Equal((80, 60), Png.Size(Convert.FromBase64String(byScale.Body.GetProperty("image").GetString()!)));
        Assert.Contains("Lanczos", byScale.Body.GetProperty("html_info").GetString());
        Assert.Equal(HttpStatusCode.OK, toSize.Status);
        Assert.Equal((120, 60), Png.Size(Convert.FromBase64String(toSize.Body.GetProperty("image").GetString()!)));
    }

    [Fact]
    public async Task Extra_batch_images_upscales_each_image()
    {
        var a = Convert.ToBase64String(Png.Gradient(16, 16));
        var b = Convert.ToBase64String(Png.Gradient(20, 10));
        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/extra-batch-images",
            $$"""{"imageList": [{"data": "{{a}}", "name": "a.png"}, {"data": "{{b}}", "name": "b.png"}], "upscaling_resize": 3, "upscaler_1": "Nearest"}""");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var sizes = reply.Body.GetProperty("images").EnumerateArray().Select(i => Png.Size(Convert.FromBase64String(i.GetString()!))).ToList();
        Assert.Equal([(48, 48), (60, 30)], sizes);
    }

    [Theory]
    [InlineData("""{"image": "not base64!", "upscaler_1": "Lanczos"}""", "image")]
    [InlineData("""{"image": "IMAGE", "upscaler_1": "4x-Missing"}""", "upscaler_1")]
    [InlineData("""{"image": "IMAGE", "upscaling_resize": 20}""", "upscaling_resize")]
    [InlineData("""{"image": "IMAGE", "resize_mode": 1, "upscaling_resize_w": 100000}""", "upscaling_resize_w")]
    public async Task Bad_extras_requests_get_422_naming_the_field(string body, string field)
    {
        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/extra-single-image", body.Replace("IMAGE", Convert.ToBase64String(Png.Gradient(8, 8))));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        Assert.Equal(field, reply.Body.GetProperty("detail")[0].GetProperty("loc")[1].GetString());
    }

    [Fact]
    public async Task A_result_over_the_pixel_budget_is_refused_with_the_size()
    {
        var image = Convert.ToBase64String(Png.Gradient(4000, 4000));
        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/extra-single-image", $$"""{"image": "{{image}}", "upscaling_resize": 4}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        Assert.Contains("16000×16000", reply.Text);
    }
}
