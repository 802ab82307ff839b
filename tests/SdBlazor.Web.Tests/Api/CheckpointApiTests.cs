using System.Net;
using System.Security.Cryptography;
using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Tests.Checkpoints;

namespace SdBlazor.Web.Tests.Api;

/// <summary>A1111's folder drop through the API: <c>NAME.safetensors</c> in the models folder, listed after refresh-checkpoints, generated with by name or title.</summary>
[Collection(SdApiCollection.Name)]
public sealed class CheckpointApiTests
{
    private static SdApiFactory Factory()
    {
        var factory = new SdApiFactory();
        factory.Settings["Engine:ArchitecturesPath"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "architectures");
        factory.Settings["Engine:CheckpointCachePath"] = Path.Combine(factory.Root, "checkpoint-cache");
        return factory;
    }

    private static string WriteSd15(SdApiFactory factory, string name)
    {
        var set = GraphSet.Load(TestCheckpoints.GraphSetPath("sd15-tiny"));
        var path = Path.Combine(factory.ModelsPath, name + ".safetensors");
        SafetensorsWriter.Write(path, TestCheckpoints.ForGraphSet(set, "sd15", new TestCheckpoints.Options(DType: "F16")));
        return path;
    }

    [Fact]
    public async Task A_dropped_checkpoint_is_listed_with_a1111_fields_and_generates_by_name_and_by_title()
    {
        using var factory = Factory();
        var api = factory.Api();
        await api.GetJsonAsync("/sdapi/v1/sd-models");
        var path = WriteSd15(factory, "dropped");
        string sha;
        using (var stream = File.OpenRead(path)) sha = Convert.ToHexStringLower(SHA256.HashData(stream));

        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/refresh-checkpoints", "")).Status);
        // The hash is computed in the background; until then the title has none and hash/sha256 are null, as in A1111.
        System.Text.Json.JsonElement item = default;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            item = (await api.GetJsonAsync("/sdapi/v1/sd-models")).Body.EnumerateArray().Single(m => m.GetProperty("model_name").GetString() == "dropped");
            var listedHash = item.GetProperty("hash").GetString();
            Assert.True(listedHash is null || listedHash == sha[..10], "a listed hash is the file's");
            Assert.Equal(listedHash is null ? "dropped.safetensors" : $"dropped.safetensors [{sha[..10]}]", item.GetProperty("title").GetString());
            if (listedHash is not null) break;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal(sha, item.GetProperty("sha256").GetString());
        Assert.Equal(path, item.GetProperty("filename").GetString());
        Assert.False(item.TryGetProperty("error", out _));

        var byName = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "a cat", "steps": 2, "override_settings": {"sd_model_checkpoint": "dropped"}}""");
        Assert.Equal(HttpStatusCode.OK, byName.Status);
        Assert.Equal("dropped", byName.Info.GetProperty("sd_model_name").GetString());
        Assert.Equal(sha[..10], byName.Info.GetProperty("sd_model_hash").GetString());
        Assert.Contains($"Model hash: {sha[..10]}", Png.Parameters(byName.Images[0]));

        var byTitle = await api.PostJsonAsync("/sdapi/v1/txt2img",
            $$$"""{"prompt": "a cat", "steps": 1, "override_settings": {"sd_model_checkpoint": "dropped.safetensors [{{{sha[..10]}}}]"}}""");
        Assert.Equal(HttpStatusCode.OK, byTitle.Status);
        Assert.Equal("dropped", byTitle.Info.GetProperty("sd_model_name").GetString());

        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/options", """{"sd_model_checkpoint": "dropped.safetensors"}""")).Status);
        Assert.Equal($"dropped.safetensors [{sha[..10]}]", (await api.GetJsonAsync("/sdapi/v1/options")).Body.GetProperty("sd_model_checkpoint").GetString());
        var selected = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "a cat", "steps": 1}""");
        Assert.Equal("dropped", selected.Info.GetProperty("sd_model_name").GetString());
    }

    [Theory]
    [InlineData("old.ckpt", "pickle file")]
    [InlineData("broken.safetensors", "too short")]
    [InlineData("lora.safetensors", "LoRA")]
    public async Task A_file_that_cannot_be_used_is_listed_with_its_error_and_refused_while_others_work(string file, string expected)
    {
        using var factory = Factory();
        var path = Path.Combine(factory.ModelsPath, file);
        if (file.StartsWith("lora", StringComparison.Ordinal))
            SafetensorsWriter.Write(path, [new TestTensor("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", "F16", [2, 2], new float[4])]);
        else File.WriteAllBytes(path, [1, 2, 3]);
        var api = factory.Api();
        var name = Path.GetFileNameWithoutExtension(file);

        var item = (await api.GetJsonAsync("/sdapi/v1/sd-models")).Body.EnumerateArray().Single(m => m.GetProperty("model_name").GetString() == name);
        Assert.Contains(expected, item.GetProperty("error").GetString());
        Assert.StartsWith($"Checkpoint '{name}'", item.GetProperty("error").GetString());

        var generate = await api.PostJsonAsync("/sdapi/v1/txt2img", $$$"""{"prompt": "x", "steps": 1, "override_settings": {"sd_model_checkpoint": "{{{name}}}"}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, generate.Status);
        Assert.Contains(expected, generate.Text);
        var select = await api.PostJsonAsync("/sdapi/v1/options", $$"""{"sd_model_checkpoint": "{{name}}"}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, select.Status);

        var other = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "x", "steps": 1}""");
        Assert.Equal(HttpStatusCode.OK, other.Status);
        Assert.Equal(DefaultModel.Name, other.Info.GetProperty("sd_model_name").GetString());
    }
}
