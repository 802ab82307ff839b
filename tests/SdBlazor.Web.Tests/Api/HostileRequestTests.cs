using System.Net;
using SdBlazor.Engine.Tests.Imaging;

namespace SdBlazor.Web.Tests.Api;

/// <summary>
/// Issue 27, items 11–13: nulls, wrong JSON types and damaged init images get a 4xx JSON answer that says what is
/// wrong — never a 500, never a job that fails later, and never a .NET type name or a server path.
/// </summary>
[Collection(SdApiCollection.Name)]
public sealed class HostileRequestTests(SdApiFactory factory) : IClassFixture<SdApiFactory>
{
    public static TheoryData<string, string> Bodies => new()
    {
        { "/api/jobs", """{"prompt": null, "steps": 1}""" },
        { "/api/jobs", """{"prompt": "x", "sampler": null, "steps": 1}""" },
        { "/api/jobs", """{"prompt": "x", "scheduleType": null}""" },
        { "/api/jobs", """{"prompt": 5}""" },
        { "/api/jobs", """{"prompt": "x", "steps": "many"}""" },
        { "/api/jobs", """{"prompt": "x", "steps": 1e40}""" },
        { "/api/jobs", """{"prompt": "x", "width": []}""" },
        { "/api/jobs", """{"prompt": "x", "seed": {}}""" },
        { "/api/jobs", """{"prompt": "x", "initImage": "not base64!!"}""" },
        { "/api/jobs", """{"prompt": "x", "initImage": 12}""" },
        { "/api/jobs", """[1, 2]""" },
        { "/api/jobs", """null""" },
        { "/api/jobs", """{"prompt": "x" """ },
        { "/api/jobs", "" },
        { "/sdapi/v1/txt2img", """{"prompt": null, "sampler_name": null, "steps": 0}""" },
        { "/sdapi/v1/txt2img", """{"prompt": "x", "styles": "not a list", "steps": 1}""" },
        { "/sdapi/v1/txt2img", """{"prompt": "x", "override_settings": 3}""" },
        { "/sdapi/v1/txt2img", """{"prompt": "x", "override_settings": {"sd_model_checkpoint": 3}}""" },
        { "/sdapi/v1/txt2img", """{"prompt": "x", "steps": [1]}""" },
        { "/sdapi/v1/txt2img", """{"prompt": "x", "seed": 1e300}""" },
        { "/sdapi/v1/txt2img", """{"prompt": "x", "override_settings": {"sd_model_checkpoint": "a\u0000b"}}""" },
        { "/sdapi/v1/img2img", """{"prompt": "x", "init_images": [null]}""" },
        { "/sdapi/v1/img2img", """{"prompt": "x", "init_images": "abc"}""" },
        { "/sdapi/v1/img2img", """{"prompt": "x", "init_images": [5]}""" },
        { "/sdapi/v1/png-info", """{"image": null}""" },
        { "/sdapi/v1/png-info", """{"image": ["x"]}""" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Nulls_and_wrong_types_get_a_4xx_json_error_without_internals(string path, string body)
    {
        var reply = await factory.Api().PostJsonAsync(path, body);

        Assert.True((int)reply.Status is >= 400 and < 500, $"{path} {body}: {(int)reply.Status} {reply.Text}");
        Assert.NotNull(reply.Json);
        AssertNoInternals(reply.Text);
    }

    [Fact]
    public async Task A_null_sampler_in_the_a1111_api_means_the_default_sampler()
    {
        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": null, "sampler_name": null, "steps": 1}""");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Single(reply.Images);
    }

    public static TheoryData<string> DamagedImages => new()
    {
        "truncated",
        "garbage-pixels",
        "text-with-png-name",
        "bomb-header",
        "bad-crc",
    };

    private static byte[] Damaged(string kind)
    {
        var valid = Png.Gradient(64, 64);
        return kind switch
        {
            "truncated" => valid[..(valid.Length / 2)],
            // Structurally a PNG (lengths and CRCs right) whose IDAT is not zlib data.
            "garbage-pixels" => HostilePng.Png(HostilePng.Header(64, 64), HostilePng.Chunk("IDAT", Enumerable.Range(0, 500).Select(i => (byte)(i * 7)).ToArray()), HostilePng.Chunk("IEND", [])),
            "text-with-png-name" => [.. Png.Signature, .. "this is not an image"u8],
            "bomb-header" => HostilePng.Png(HostilePng.Header(60_000, 60_000), HostilePng.Chunk("IDAT", HostilePng.ZeroBomb(1 << 16)), HostilePng.Chunk("IEND", [])),
            "bad-crc" => HostilePng.WithChunk(valid, HostilePng.Chunk("tEXt", HostilePng.TExt("parameters", "x"), badCrc: true)),
            _ => throw new ArgumentException(kind),
        };
    }

    [Theory]
    [MemberData(nameof(DamagedImages))]
    [InlineData("ztxt-bomb")]
    [InlineData("itxt-bomb")]
    public async Task A_damaged_mask_or_extras_image_is_a_422_too(string kind)
    {
        // Masks and extras images once had their own Image.Identify/Load, which inflates text chunks (the 2 GB bomb).
        var bytes = kind switch
        {
            "ztxt-bomb" => HostilePng.WithChunk(Png.Gradient(64, 64), HostilePng.Chunk("zTXt", HostilePng.ZTxt("parameters", HostilePng.ZeroBomb(64L << 20)))),
            "itxt-bomb" => HostilePng.WithChunk(Png.Gradient(64, 64), HostilePng.Chunk("iTXt", HostilePng.ITxt("parameters", HostilePng.ZeroBomb(64L << 20)))),
            _ => Damaged(kind),
        };
        var image = Convert.ToBase64String(bytes);
        var init = Convert.ToBase64String(Png.Gradient(64, 64));
        var api = factory.Api();

        var masked = await api.PostJsonAsync("/sdapi/v1/img2img", $$"""{"prompt": "x", "steps": 1, "init_images": ["{{init}}"], "mask": "{{image}}"}""");
        var extras = await api.PostJsonAsync("/sdapi/v1/extra-single-image", $$"""{"image": "{{image}}", "upscaling_resize": 2, "upscaler_1": "Nearest"}""");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, masked.Status);
        Assert.Contains("mask", masked.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, extras.Status);
        AssertNoInternals(masked.Text);
        AssertNoInternals(extras.Text);
    }

    [Theory]
    [MemberData(nameof(DamagedImages))]
    public async Task A_damaged_init_image_is_refused_at_submit_and_nothing_is_queued(string kind)
    {
        var api = factory.Api();
        var image = Convert.ToBase64String(Damaged(kind));
        var before = (await api.GetJsonAsync("/api/jobs")).Body.GetArrayLength();

        var rest = await api.PostJsonAsync("/api/jobs", $$"""{"prompt": "x", "steps": 1, "initImage": "{{image}}", "strength": 0.5}""");
        var sdapi = await api.PostJsonAsync("/sdapi/v1/img2img", $$"""{"prompt": "x", "steps": 1, "init_images": ["{{image}}"]}""");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, rest.Status);
        Assert.Contains("init image", rest.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, sdapi.Status);
        AssertNoInternals(rest.Text);
        AssertNoInternals(sdapi.Text);
        Assert.Equal(before, (await api.GetJsonAsync("/api/jobs")).Body.GetArrayLength());
    }

    private void AssertNoInternals(string text)
    {
        // A1111's own error name (FastAPI's), which its clients expect, is not a .NET type.
        text = text.Replace("\"HTTPException\"", "", StringComparison.Ordinal);
        foreach (var leak in new[] { "System.", "Exception", factory.Root, "   at " })
            Assert.False(text.Contains(leak, StringComparison.Ordinal), $"'{leak}' in: {text}");
    }
}
