using System.Net;
using System.Text.Json;

namespace SdBlazor.Web.Tests.Api;

/// <summary>
/// Outpainting and "only masked" through the A1111 API with the JSON clients send: A1111's "Poor man's outpainting"
/// script (script_name + script_args, as its API takes scripts), our outpaint_* fields, and inpaint_full_res as the
/// 0/1 int A1111's UI and clients copying it send.
/// </summary>
[Collection(SdApiCollection.Name)]
public sealed class OutpaintingApiTests(SdApiFactory factory) : IClassFixture<SdApiFactory>
{
    [Fact]
    public async Task Poor_mans_outpainting_script_extends_the_canvas_and_keeps_the_original_inside()
    {
        var init = Png.Gradient(64, 64);
        // As A1111's API takes it: script args [pixels, mask_blur, inpainting_fill, directions]; width/height are its tile size.
        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/img2img", $$"""
            {"init_images": ["{{Convert.ToBase64String(init)}}"], "prompt": "a landscape", "seed": 5, "steps": 4,
             "denoising_strength": 0.8, "width": 64, "height": 64, "inpainting_fill": 1,
             "script_name": "Poor man's outpainting", "script_args": [16, 2, 0, ["left", "up"]]}
            """);

        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        // 64 + 16 → 128 per extended side (A1111 rounds the canvas to 64): the original lands at (64, 64).
        Assert.Equal((128, 128), Png.Size(reply.Images[0]));
        var after = Png.Pixels(reply.Images[0]);
        var before = Png.Pixels(init);
        // The mask is inset by the doubled blur (4 px) on the extended sides and blurred by 4 px: from 16 px in, the
        // original comes back exactly (right and bottom were not extended, so right up to the edge there).
        var inner = 0;
        for (var y = 16; y < 64; y++)
            for (var x = 16; x < 64; x++)
                for (var c = 0; c < 3; c++)
                    inner = Math.Max(inner, Math.Abs(before[(y * 64 + x) * 3 + c] - after[((y + 64) * 128 + x + 64) * 3 + c]));
        Assert.Equal(0, inner);
        // The new border is generated, not left as the stretched edge.
        var border = 0;
        for (var y = 0; y < 8; y++)
            for (var x = 0; x < 128; x++)
                border = Math.Max(border, Math.Abs(after[(y * 128 + x) * 3] - before[Math.Clamp(x - 64, 0, 63) * 3]));
        Assert.True(border > 10, $"the top border differs from the stretched edge by at most {border}");
        Assert.Equal(128, reply.Body.GetProperty("parameters").GetProperty("width").GetInt32());
    }

    [Fact]
    public async Task Outpaint_fields_round_the_canvas_to_64_and_bad_requests_are_422()
    {
        var init = Convert.ToBase64String(Png.Gradient(64, 64));
        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/img2img", $$"""
            {"init_images": ["{{init}}"], "prompt": "x", "seed": 1, "steps": 2, "outpaint_right": 13, "mask_blur": 0}
            """);
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        Assert.Equal((128, 64), Png.Size(reply.Images[0]));

        var tooLarge = await factory.Api().PostJsonAsync("/sdapi/v1/img2img", $$"""{"init_images": ["{{init}}"], "prompt": "x", "outpaint_left": 2040}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLarge.Status);
        Assert.Contains("at most 2048 pixels per side", tooLarge.Text);

        var unknownScript = await factory.Api().PostJsonAsync("/sdapi/v1/img2img", $$"""{"init_images": ["{{init}}"], "prompt": "x", "script_name": "SD upscale"}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknownScript.Status);
        Assert.Contains("Script 'SD upscale' not found", unknownScript.Text);

        var badArgs = await factory.Api().PostJsonAsync("/sdapi/v1/img2img", $$"""
            {"init_images": ["{{init}}"], "prompt": "x", "script_name": "poor man's outpainting", "script_args": [16, 4, 0, ["sideways"]]}
            """);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badArgs.Status);
    }

    [Fact]
    public async Task Only_masked_as_an_int_keeps_the_image_size_and_everything_outside_the_box()
    {
        var init = Png.Gradient(128, 96);
        using var mask = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>(128, 96);
        for (var y = 20; y < 36; y++) for (var x = 80; x < 96; x++) mask[x, y] = new SixLabors.ImageSharp.PixelFormats.L8(255);
        using var maskPng = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(mask, maskPng);
        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/img2img", JsonSerializer.Serialize(new
        {
            init_images = new[] { Convert.ToBase64String(init) }, prompt = "a dog", seed = 2, steps = 4, width = 64, height = 64,
            denoising_strength = 0.9, mask = Convert.ToBase64String(maskPng.ToArray()), mask_blur = 0, inpainting_fill = 1,
            inpaint_full_res = 1, inpaint_full_res_padding = 4,
        }));

        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        Assert.Equal((128, 96), Png.Size(reply.Images[0]));
        byte[] before = Png.Pixels(init), after = Png.Pixels(reply.Images[0]);
        // Box: (80, 20, 96, 36) + 4 → (76, 16, 100, 40), already square.
        var changed = 0;
        for (var y = 0; y < 96; y++)
            for (var x = 0; x < 128; x++)
            {
                var i = (y * 128 + x) * 3;
                var same = before[i] == after[i] && before[i + 1] == after[i + 1] && before[i + 2] == after[i + 2];
                if (x < 76 || x >= 100 || y < 16 || y >= 40) Assert.True(same, $"({x}, {y}) outside the box changed");
                else if (!same) changed++;
            }
        Assert.True(changed > 100, $"{changed} pixels repainted inside the box");
    }
}
