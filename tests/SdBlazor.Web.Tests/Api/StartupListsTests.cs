using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.Json;

namespace SdBlazor.Web.Tests.Api;

/// <summary>
/// The lists an A1111 client reads at start-up (webuiapi's get_loras, get_embeddings, get_prompt_styles, get_sd_vae,
/// get_upscalers, get_latent_upscale_modes, get_memory, get_cmd_flags, get_scripts, get_script_info, get_extensions,
/// get_face_restorers, get_hypernetworks), in A1111's JSON shapes, plus styles and prompt settings in txt2img.
/// </summary>
[Collection(SdApiCollection.Name)]
public sealed class StartupListsTests
{
    /// <summary>A safetensors file: 8-byte header length, the JSON header, then the tensors' bytes (zeros).</summary>
    private static void WriteSafetensors(string path, Dictionary<string, string> metadata, Dictionary<string, long[]> tensors)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = metadata };
        long offset = 0;
        foreach (var (name, shape) in tensors)
        {
            var bytes = shape.Aggregate(2L, (a, b) => a * b);
            header[name] = new { dtype = "F16", shape, data_offsets = new[] { offset, offset + bytes } };
            offset += bytes;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        file.Write(length);
        file.Write(json);
        file.Write(new byte[offset]);
    }

    [Fact]
    public async Task A_fresh_install_answers_every_start_up_list_with_valid_json()
    {
        using var factory = new SdApiFactory();
        var api = factory.Api();

        Assert.Empty((await api.GetJsonAsync("/sdapi/v1/loras")).Body.EnumerateArray());
        var embeddings = (await api.GetJsonAsync("/sdapi/v1/embeddings")).Body;
        Assert.Equal(JsonValueKind.Object, embeddings.GetProperty("loaded").ValueKind);
        Assert.Equal(JsonValueKind.Object, embeddings.GetProperty("skipped").ValueKind);
        Assert.Empty((await api.GetJsonAsync("/sdapi/v1/prompt-styles")).Body.EnumerateArray());
        Assert.Empty((await api.GetJsonAsync("/sdapi/v1/sd-vae")).Body.EnumerateArray());

        var upscalers = (await api.GetJsonAsync("/sdapi/v1/upscalers")).Body.EnumerateArray().ToList();
        Assert.Equal(["None", "Lanczos", "Nearest", "Bicubic"], upscalers.Select(u => u.GetProperty("name").GetString()));
        foreach (var field in new[] { "model_name", "model_path", "model_url", "scale" }) Assert.True(upscalers[0].TryGetProperty(field, out _), field);
        var latentModes = (await api.GetJsonAsync("/sdapi/v1/latent-upscale-modes")).Body.EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToList();
        Assert.Contains("Latent", latentModes);
        Assert.Contains("Latent (nearest-exact)", latentModes);

        var memory = (await api.GetJsonAsync("/sdapi/v1/memory")).Body;
        var ram = memory.GetProperty("ram");
        Assert.True(ram.GetProperty("used").GetInt64() > 10_000_000, "the process uses more than 10 MB");
        Assert.True(ram.GetProperty("total").GetInt64() >= ram.GetProperty("used").GetInt64());
        Assert.InRange(ram.GetProperty("free").GetInt64(), 0, ram.GetProperty("total").GetInt64());
        Assert.Equal("unavailable", memory.GetProperty("cuda").GetProperty("error").GetString());

        var flags = (await api.GetJsonAsync("/sdapi/v1/cmd-flags")).Body;
        Assert.True(flags.GetProperty("api").GetBoolean());
        Assert.Equal(Path.Combine(factory.ModelsPath, "Lora"), flags.GetProperty("lora_dir").GetString());

        var scripts = (await api.GetJsonAsync("/sdapi/v1/scripts")).Body;
        Assert.Empty(scripts.GetProperty("txt2img").EnumerateArray());
        Assert.Empty(scripts.GetProperty("img2img").EnumerateArray());
        foreach (var list in new[] { "script-info", "extensions", "face-restorers", "hypernetworks" })
        {
            var reply = await api.GetJsonAsync($"/sdapi/v1/{list}");
            Assert.Equal(HttpStatusCode.OK, reply.Status);
            Assert.Empty(reply.Body.EnumerateArray());
        }
    }

    [Fact]
    public async Task Loras_lists_safetensors_with_training_metadata_and_refresh_finds_new_files()
    {
        using var factory = new SdApiFactory();
        var lora = Path.Combine(factory.ModelsPath, "Lora");
        WriteSafetensors(Path.Combine(lora, "styles", "ink-wash.safetensors"),
            new() { ["ss_output_name"] = "inkWash_v2", ["ss_network_dim"] = "16", ["ss_tag_frequency"] = """{"set": {"ink": 12}}""" },
            new() { ["lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight"] = [16, 320] });
        File.WriteAllBytes(Path.Combine(lora, "broken.safetensors"), [1, 2, 3]);
        // A header that claims 2^40 bytes is not read (the file is listed as unreadable, not allocated).
        File.WriteAllBytes(Path.Combine(lora, "huge-header.safetensors"), [0, 0, 0, 0, 0, 1, 0, 0, (byte)'{', (byte)'}']);
        var api = factory.Api();

        var item = Assert.Single((await api.GetJsonAsync("/sdapi/v1/loras")).Body.EnumerateArray());
        Assert.Equal("ink-wash", item.GetProperty("name").GetString());
        Assert.Equal("inkWash_v2", item.GetProperty("alias").GetString());
        Assert.Equal(Path.Combine(lora, "styles", "ink-wash.safetensors"), item.GetProperty("path").GetString());
        var metadata = item.GetProperty("metadata");
        Assert.Equal("16", metadata.GetProperty("ss_network_dim").GetString());
        Assert.Equal(12, metadata.GetProperty("ss_tag_frequency").GetProperty("set").GetProperty("ink").GetInt32());

        WriteSafetensors(Path.Combine(lora, "added.safetensors"), [], new() { ["w"] = [1] });
        Assert.Single((await api.GetJsonAsync("/sdapi/v1/loras")).Body.EnumerateArray());
        var refresh = await api.PostJsonAsync("/sdapi/v1/refresh-loras", "");
        Assert.Equal(HttpStatusCode.OK, refresh.Status);
        Assert.Equal(JsonValueKind.Null, refresh.Body.ValueKind);
        var names = (await api.GetJsonAsync("/sdapi/v1/loras")).Body.EnumerateArray().Select(l => l.GetProperty("name").GetString());
        Assert.Equal(["added", "ink-wash"], names);
    }

    [Fact]
    public async Task Embeddings_in_the_a1111_format_are_listed_as_skipped_with_their_shape()
    {
        using var factory = new SdApiFactory();
        WriteSafetensors(Path.Combine(factory.ModelsPath, "embeddings", "bad-hands.safetensors"), new() { ["step"] = "3000" },
            new() { ["emb_params"] = [6, 768] });
        File.WriteAllBytes(Path.Combine(factory.ModelsPath, "embeddings", "pickled.pt"), [0x80, 0x02]);
        var body = (await factory.Api().GetJsonAsync("/sdapi/v1/embeddings")).Body;
        Assert.Empty(body.GetProperty("loaded").EnumerateObject());
        // 768 wide on the 128-wide default model: skipped, as A1111 skips embeddings of another model; the pickle is
        // listed (never opened) so a client sees it was not forgotten.
        var entries = body.GetProperty("skipped").EnumerateObject().ToList();
        Assert.Equal(["bad-hands", "pickled"], entries.Select(e => e.Name));
        Assert.Equal(0, entries[1].Value.GetProperty("vectors").GetInt64());
        var skipped = entries[0];
        Assert.Equal(768, skipped.Value.GetProperty("shape").GetInt64());
        Assert.Equal(6, skipped.Value.GetProperty("vectors").GetInt64());
        Assert.Equal(3000, skipped.Value.GetProperty("step").GetInt32());
        Assert.Equal(JsonValueKind.Null, skipped.Value.GetProperty("sd_checkpoint").ValueKind);
    }

    [Fact]
    public async Task Styles_from_styles_csv_are_listed_and_applied_to_txt2img_prompts_as_a1111_does()
    {
        using var factory = new SdApiFactory();
        // As A1111 writes the file: quoted fields with commas, a {prompt} placeholder, an empty negative prompt.
        File.WriteAllText(Path.Combine(factory.DataPath, "styles.csv"), """
            name,prompt,negative_prompt
            "Cinematic","cinematic still of {prompt}, film grain","cartoon, drawing"
            Sharp,"highly detailed, sharp",
            """.Replace("\r\n", "\n"), new UTF8Encoding(false));
        var api = factory.Api();

        var styles = (await api.GetJsonAsync("/sdapi/v1/prompt-styles")).Body.EnumerateArray().ToList();
        Assert.Equal(["Cinematic", "Sharp"], styles.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal("cinematic still of {prompt}, film grain", styles[0].GetProperty("prompt").GetString());
        Assert.Equal("cartoon, drawing", styles[0].GetProperty("negative_prompt").GetString());
        Assert.Equal("", styles[1].GetProperty("negative_prompt").GetString());

        var reply = await api.PostJsonAsync("/sdapi/v1/txt2img",
            """{"prompt": "a red fox", "negative_prompt": "blurry", "styles": ["Cinematic", "Sharp", "No such style"], "steps": 1, "seed": 3}""");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        // Cinematic wraps the prompt, then Sharp is appended with ", " (A1111's merge_prompts).
        Assert.Equal("cinematic still of a red fox, film grain, highly detailed, sharp", reply.Info.GetProperty("prompt").GetString());
        Assert.Equal("blurry, cartoon, drawing", reply.Info.GetProperty("negative_prompt").GetString());
        Assert.StartsWith("cinematic still of a red fox, film grain, highly detailed, sharp\nNegative prompt: blurry, cartoon, drawing", Png.Parameters(reply.Images[0]));
        // The echoed request is what was sent.
        Assert.Equal("a red fox", reply.Body.GetProperty("parameters").GetProperty("prompt").GetString());
    }

    [Fact]
    public async Task Prompt_settings_in_override_settings_are_checked_and_used()
    {
        using var factory = new SdApiFactory();
        var api = factory.Api();
        const string request = """{"prompt": "a (red:1.3) fox", "steps": 1, "seed": 5, "override_settings": {OVERRIDES}}""";

        var plain = await api.PostJsonAsync("/sdapi/v1/txt2img", request.Replace("{OVERRIDES}", "{}"));
        var skip = await api.PostJsonAsync("/sdapi/v1/txt2img", request.Replace("{OVERRIDES}", """{"CLIP_stop_at_last_layers": 2}"""));
        var literal = await api.PostJsonAsync("/sdapi/v1/txt2img", request.Replace("{OVERRIDES}", """{"emphasis": "None"}"""));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], new[] { plain.Status, skip.Status, literal.Status });
        Assert.NotEqual(Pixels(plain.Images[0]), Pixels(skip.Images[0]));
        Assert.NotEqual(Pixels(plain.Images[0]), Pixels(literal.Images[0]));
        Assert.Equal(2, skip.Info.GetProperty("clip_skip").GetInt32());
        Assert.Contains("Clip skip: 2", Png.Parameters(skip.Images[0]));
        Assert.Contains("Emphasis: None", Png.Parameters(literal.Images[0]));
        Assert.DoesNotContain("Clip skip", Png.Parameters(plain.Images[0]));

        foreach (var bad in new[] { """{"CLIP_stop_at_last_layers": 13}""", """{"CLIP_stop_at_last_layers": 1.5}""", """{"CLIP_stop_at_last_layers": "2"}""", """{"emphasis": "Loud"}""" })
        {
            var reply = await api.PostJsonAsync("/sdapi/v1/txt2img", request.Replace("{OVERRIDES}", bad));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
            Assert.Equal("override_settings", reply.Body.GetProperty("detail")[0].GetProperty("loc")[1].GetString());
        }
    }

    [Fact]
    public async Task Unknown_sdapi_routes_and_wrong_methods_answer_a1111s_json_error()
    {
        using var factory = new SdApiFactory();
        var api = factory.Api();
        var missing = await api.GetJsonAsync("/sdapi/v1/no-such-list");
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal("HTTPException", missing.Body.GetProperty("error").GetString());
        Assert.Equal("Not Found", missing.Body.GetProperty("detail").GetString());
        Assert.Equal("404: Not Found", missing.Body.GetProperty("errors").GetString());

        var wrongMethod = await api.GetJsonAsync("/sdapi/v1/txt2img");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.Status);
        Assert.Equal("Method Not Allowed", wrongMethod.Body.GetProperty("detail").GetString());
    }

    private static byte[] Pixels(byte[] png)
    {
        using var image = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(png);
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }
}
