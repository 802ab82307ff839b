using SdBlazor.Web.Sharing;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Shared;
using SdBlazor.Web.Api;
using SdBlazor.Web.Generation;

namespace SdBlazor.Web.Tests.Api;

[Collection(SdApiCollection.Name)]
public sealed class Txt2ImgTests(SdApiFactory factory) : IClassFixture<SdApiFactory>
{
    // Body of isjeffcom/DiffusionSA src/request.js (A1111's Swagger example payload, as that client sends it), with
    // two changes for a 64×64 CPU model: steps 50 → 6, width/height 512 → 64. The placeholder values it carries
    // ("hr_upscaler": "string", "negative_prompt": "string") and the hires/s_* fields must simply be ignored.
    private const string SwaggerDefaultBody = """
        {
          "enable_hr": false, "denoising_strength": 0, "firstphase_width": 0, "firstphase_height": 0, "hr_scale": 2,
          "hr_upscaler": "string", "hr_second_pass_steps": 0, "hr_resize_x": 0, "hr_resize_y": 0,
          "prompt": "a red apple on a table", "styles": [], "seed": 1234, "subseed": -1, "subseed_strength": 0,
          "seed_resize_from_h": -1, "seed_resize_from_w": -1, "sampler_name": "Euler a", "batch_size": 1, "n_iter": 1,
          "steps": 6, "cfg_scale": 7, "width": 64, "height": 64, "restore_faces": false, "tiling": false,
          "negative_prompt": "string", "eta": 0, "s_churn": 0, "s_tmax": 0, "s_tmin": 0, "s_noise": 1,
          "override_settings": {}, "override_settings_restore_afterwards": true, "script_args": [], "sampler_index": "Euler"
        }
        """;

    [Fact]
    public async Task Swagger_default_body_from_a_public_client_generates_a_png_with_a1111_metadata_and_full_info()
    {
        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/txt2img", SwaggerDefaultBody);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var png = Assert.Single(reply.Images);
        Assert.Equal(Png.Signature, png[..8]);
        Assert.Equal((64, 64), Png.Size(png));

        var info = reply.Info;
        Assert.Equal("a red apple on a table", info.GetProperty("prompt").GetString());
        Assert.Equal(["a red apple on a table"], Strings(info, "all_prompts"));
        Assert.Equal("string", info.GetProperty("negative_prompt").GetString());
        Assert.Equal(["string"], Strings(info, "all_negative_prompts"));
        Assert.Equal(1234, info.GetProperty("seed").GetInt64());
        Assert.Equal([1234L], Longs(info, "all_seeds"));
        var subseed = info.GetProperty("subseed").GetInt64();
        Assert.InRange(subseed, 0, uint.MaxValue);
        Assert.Equal([subseed], Longs(info, "all_subseeds"));
        Assert.Equal(64, info.GetProperty("width").GetInt32());
        Assert.Equal(64, info.GetProperty("height").GetInt32());
        Assert.Equal("Euler a", info.GetProperty("sampler_name").GetString());
        Assert.Equal(7, info.GetProperty("cfg_scale").GetDouble());
        Assert.Equal(6, info.GetProperty("steps").GetInt32());
        Assert.Equal(1, info.GetProperty("batch_size").GetInt32());
        Assert.Equal(DefaultModel.Name, info.GetProperty("sd_model_name").GetString());
        var hash = info.GetProperty("sd_model_hash").GetString();
        Assert.Matches("^[0-9a-f]{10}$", hash);
        Assert.Matches("^[0-9]{14}$", info.GetProperty("job_timestamp").GetString());

        // The returned PNG carries exactly the infotext reported for it.
        var infotext = Assert.Single(Strings(info, "infotexts"));
        Assert.Equal(infotext, Png.Parameters(png));
        Assert.StartsWith("a red apple on a table\nNegative prompt: string\nSteps: 6, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 1234, Size: 64x64, ", infotext);
        Assert.Contains($"Model hash: {hash}, Model: {DefaultModel.Name}", infotext);

        // parameters echoes the request with A1111's names; unknown fields are dropped, not echoed or rejected.
        var parameters = reply.Body.GetProperty("parameters");
        Assert.Equal("a red apple on a table", parameters.GetProperty("prompt").GetString());
        Assert.Equal(6, parameters.GetProperty("steps").GetInt32());
        Assert.Equal("Euler a", parameters.GetProperty("sampler_name").GetString());
        Assert.Equal(1234, parameters.GetProperty("seed").GetInt64());
        Assert.False(parameters.TryGetProperty("s_churn", out _));
        Assert.False(parameters.GetProperty("enable_hr").GetBoolean());
    }

    // Shape of p2hacks2025/post-07 back/generateImage.py ({"prompt", "steps", "width", "height"}), here without the
    // size, which must then be the model's native size (ModelDescriptor.NativeWidth/NativeHeight).
    [Fact]
    public async Task Omitted_size_is_the_models_native_size_and_omitted_fields_take_a1111_defaults()
    {
        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "life of human", "steps": 3}""");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var model = factory.Services.GetRequiredService<ModelCatalog>().Find(DefaultModel.Name)!;
        Assert.Equal((model.NativeWidth, model.NativeHeight), Png.Size(Assert.Single(reply.Images)));
        var parameters = reply.Body.GetProperty("parameters");
        Assert.Equal(model.NativeWidth, parameters.GetProperty("width").GetInt32());
        Assert.Equal("Euler", parameters.GetProperty("sampler_name").GetString());
        Assert.Equal(7.0, parameters.GetProperty("cfg_scale").GetDouble());
        Assert.Equal(1, parameters.GetProperty("n_iter").GetInt32());
        Assert.True(parameters.GetProperty("send_images").GetBoolean());
        Assert.False(parameters.GetProperty("save_images").GetBoolean());
    }

    [Fact]
    public async Task Same_seed_and_settings_give_identical_png_bytes_and_another_seed_gives_other_pixels()
    {
        var api = factory.Api();
        const string body = """{"prompt": "a lighthouse", "seed": 4242, "steps": 4, "sampler_name": "DPM++ 2M Karras"}""";
        var first = await api.PostJsonAsync("/sdapi/v1/txt2img", body);
        var second = await api.PostJsonAsync("/sdapi/v1/txt2img", body);
        var other = await api.PostJsonAsync("/sdapi/v1/txt2img", body.Replace("4242", "4243"));

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(first.Images[0], second.Images[0]);
        Assert.NotEqual(Png.Pixels(first.Images[0]), Png.Pixels(other.Images[0]));
        // The old combined spelling selects the sampler plus the Karras schedule.
        Assert.Contains("Sampler: DPM++ 2M, Schedule type: Karras,", first.Info.GetProperty("infotexts")[0].GetString());
    }

    [Fact]
    public async Task Seed_minus_one_picks_a_random_seed_that_is_reported_and_reproduces_the_image()
    {
        var api = factory.Api();
        var random = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "a boat", "seed": -1, "steps": 3}""");

        Assert.Equal(HttpStatusCode.OK, random.Status);
        var seed = random.Info.GetProperty("seed").GetInt64();
        Assert.InRange(seed, 0, uint.MaxValue - 1);
        Assert.Equal([seed], Longs(random.Info, "all_seeds"));
        Assert.Contains($"Seed: {seed},", Png.Parameters(random.Images[0]));

        var again = await api.PostJsonAsync("/sdapi/v1/txt2img", $$"""{"prompt": "a boat", "seed": {{seed}}, "steps": 3}""");
        Assert.Equal(random.Images[0], again.Images[0]);
    }

    [Fact]
    public async Task Batch_size_and_n_iter_give_every_image_seed_plus_index()
    {
        var reply = await factory.Api().PostJsonAsync("/sdapi/v1/txt2img",
            """{"prompt": "a cat", "seed": 100, "steps": 3, "batch_size": 2, "n_iter": 2}""");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(4, reply.Images.Count);
        Assert.Equal([100L, 101, 102, 103], Longs(reply.Info, "all_seeds"));
        Assert.Equal(4, Strings(reply.Info, "all_prompts").Length);
        var infotexts = Strings(reply.Info, "infotexts");
        for (var i = 0; i < 4; i++)
        {
            Assert.Contains($"Seed: {100 + i},", infotexts[i]);
            Assert.Equal(infotexts[i], Png.Parameters(reply.Images[i]));
        }
        Assert.Equal(4, reply.Images.Select(Png.Pixels).Select(Convert.ToBase64String).Distinct().Count());
    }

    [Fact]
    public async Task Override_settings_accepts_a1111_titles_and_plain_names_and_answers_404_for_unknown_models()
    {
        var api = factory.Api();
        // Hashes are known once the engine has used the model.
        await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "warm up", "steps": 1}""");
        var title = (await api.GetJsonAsync("/sdapi/v1/sd-models")).Body.EnumerateArray().Single(m => m.GetProperty("model_name").GetString() == DefaultModel.Name)
            .GetProperty("title").GetString()!;
        Assert.Matches($@"^{DefaultModel.Name} \[[0-9a-f]{{10}}\]$", title);

        foreach (var checkpoint in new[] { title, DefaultModel.Name, DefaultModel.Name + ".safetensors" })
        {
            var reply = await api.PostJsonAsync("/sdapi/v1/txt2img",
                $$$"""{"prompt": "x", "steps": 1, "override_settings": {"sd_model_checkpoint": {{{JsonSerializer.Serialize(checkpoint)}}}}}""");
            Assert.Equal(HttpStatusCode.OK, reply.Status);
            Assert.Equal(DefaultModel.Name, reply.Info.GetProperty("sd_model_name").GetString());
        }

        var unknown = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "x", "override_settings": {"sd_model_checkpoint": "v1-5-pruned-emaonly [6ce0161689]"}}""");
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Contains("v1-5-pruned-emaonly", unknown.Body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Api_jobs_go_through_the_shared_queue_and_save_images_decides_whether_the_output_store_keeps_them()
    {
        var api = factory.Api();
        var queue = factory.Services.GetRequiredService<GenerationQueue>();

        var kept = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "kept", "steps": 2, "save_images": true, "send_images": false}""");
        var notKept = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "not kept", "steps": 2}""");

        Assert.Equal(HttpStatusCode.OK, kept.Status);
        Assert.Empty(kept.Images);
        Assert.Single(notKept.Images);
        var jobs = queue.List(50, AccountScope.Everything).Where(j => j.Owner == SdApiGenerator.Owner).ToList();
        var keptJob = jobs.Single(j => j.Request.Prompt == "kept");
        var notKeptJob = jobs.Single(j => j.Request.Prompt == "not kept");
        Assert.Equal(JobStatus.Completed, keptJob.Status);
        Assert.Equal(JobStatus.Completed, notKeptJob.Status);
        Assert.Empty(notKeptJob.ImageIds);
        var id = Assert.Single(keptJob.ImageIds);
        // The registered output store is the gallery: the kept image is served as a PNG by /api/images/{id}.
        var response = await factory.CreateClient().GetAsync($"/api/images/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(Png.Signature, bytes[..8]);
    }

    internal static string[] Strings(JsonElement e, string name) => [.. e.GetProperty(name).EnumerateArray().Select(x => x.GetString()!)];

    internal static long[] Longs(JsonElement e, string name) => [.. e.GetProperty(name).EnumerateArray().Select(x => x.GetInt64())];
}
