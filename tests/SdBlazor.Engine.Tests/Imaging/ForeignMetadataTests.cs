using SdBlazor.Engine.Imaging;

namespace SdBlazor.Engine.Tests.Imaging;

public class ForeignMetadataTests
{
    private static EmbeddedMetadata From(params (string Key, string Value)[] texts) =>
        EmbeddedMetadata.From(texts.ToDictionary(t => t.Key, t => t.Value));

    [Fact]
    public void ComfyUi_prompt_graph_gives_sampler_texts_model_and_size()
    {
        const string graph = """
            {
              "3": {"class_type": "KSampler", "inputs": {"seed": 156680208700286, "steps": 25, "cfg": 6.5,
                    "sampler_name": "dpmpp_2m", "scheduler": "karras", "denoise": 1,
                    "model": ["10", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
              "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "dreamshaper_8.safetensors"}},
              "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1], "lora_name": "x.safetensors"}},
              "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 640, "batch_size": 1}},
              "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a castle, on a hill", "clip": ["4", 1]}},
              "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}}
            }
            """;
        var m = From(("prompt", graph), ("workflow", "{}"));

        Assert.Equal(MetadataSource.ComfyUi, m.Source);
        var p = m.Parameters!;
        Assert.Equal("a castle, on a hill", p.Prompt);
        Assert.Equal("blurry", p.NegativePrompt);
        Assert.Equal(156680208700286L, p.Seed);
        Assert.Equal(25, p.Steps);
        Assert.Equal(6.5, p.CfgScale);
        Assert.Equal("DPM++ 2M", p.Sampler);
        Assert.Equal("Karras", p.ScheduleType);
        Assert.Equal((512, 640), (p.Width, p.Height));
        Assert.Equal("dreamshaper_8", p.Model);
        Assert.Null(p.Strength);
    }

    [Fact]
    public void InvokeAi_metadata_is_read_with_karras_suffix_split()
    {
        const string json = """
            {"positive_prompt": "a fox", "negative_prompt": "ugly", "seed": 42, "steps": 30, "cfg_scale": 7.5,
             "scheduler": "dpmpp_2m_k", "width": 768, "height": 512,
             "model": {"name": "juggernaut", "hash": "blake3:abcd", "base": "sd-1"}}
            """;
        var p = From(("invokeai_metadata", json)).Parameters!;

        Assert.Equal(("a fox", "ugly", 42L, 30, 7.5), (p.Prompt, p.NegativePrompt, p.Seed, p.Steps, p.CfgScale));
        Assert.Equal(("DPM++ 2M", "Karras"), (p.Sampler, p.ScheduleType));
        Assert.Equal((768, 512, "juggernaut"), (p.Width, p.Height, p.Model));
    }

    [Fact]
    public void SwarmUi_json_in_parameters_is_recognised()
    {
        const string json = """
            {"sui_image_params": {"prompt": "a boat", "negativeprompt": "", "model": "OfficialStableDiffusion/sd_xl_base_1.0",
             "seed": 1234, "steps": 20, "cfgscale": 7, "width": 1024, "height": 1024, "sampler": "euler_ancestral", "scheduler": "normal"},
             "sui_extra_data": {"date": "2024-05-01"}}
            """;
        var m = From(("parameters", json));

        Assert.Equal(MetadataSource.SwarmUi, m.Source);
        Assert.Equal(("a boat", 1234L, "Euler a", "Automatic", 1024), (m.Parameters!.Prompt, m.Parameters.Seed, m.Parameters.Sampler, m.Parameters.ScheduleType, m.Parameters.Width));
    }

    [Fact]
    public void Fooocus_json_is_recognised_by_its_scheme_chunk()
    {
        const string json = """{"prompt": "a tree", "negative_prompt": "", "steps": 30, "guidance_scale": 4, "seed": "777", "resolution": "(896, 1152)", "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras", "base_model": "juggernautXL"}""";
        var m = From(("parameters", json), ("fooocus_scheme", "fooocus"));

        Assert.Equal(MetadataSource.Fooocus, m.Source);
        Assert.Equal((777L, 896, 1152, "juggernautXL"), (m.Parameters!.Seed, m.Parameters.Width, m.Parameters.Height, m.Parameters.Model));
    }

    [Theory]
    [InlineData("prompt", "{not json")]
    [InlineData("prompt", "[1,2,3]")]
    [InlineData("prompt", "{\"1\": {\"class_type\": \"KSampler\", \"inputs\": {\"positive\": [\"1\", 0], \"seed\": \"x\"}}}")]
    [InlineData("invokeai_metadata", "null")]
    [InlineData("parameters", "{\"sui_image_params\": 5}")]
    public void Malformed_foreign_metadata_never_throws(string key, string value)
    {
        var m = From((key, value));
        Assert.NotNull(m);
    }

    [Fact]
    public void Comfy_link_cycles_do_not_loop_forever()
    {
        const string graph = """{"1": {"class_type": "KSampler", "inputs": {"positive": ["2", 0], "steps": 3}}, "2": {"class_type": "X", "inputs": {"a": ["2", 0]}}}""";
        var p = From(("prompt", graph)).Parameters!;
        Assert.Equal("", p.Prompt);
        Assert.Equal(3, p.Steps);
    }
}
