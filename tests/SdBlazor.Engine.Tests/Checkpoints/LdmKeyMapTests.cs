using System.Text.Json.Nodes;
using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>
/// The key map against the released files' key lists (<c>Data/checkpoint-keys</c>): every key is either a known buffer
/// or maps to a diffusers name, no two keys map to one name, and for SD 1.5 and SD 2.1 the mapped names and shapes are
/// exactly the diffusers modules' own (<c>Data/diffusers-keys-*.json</c>, dumped from <c>tools/make_sd_models/sd_modules.py</c>).
/// </summary>
public sealed class LdmKeyMapTests
{
    private static Dictionary<(string Component, string Key), long[]> MapAll(string arch, out List<string> unknown, out List<string> ignored)
    {
        var released = TestCheckpoints.ReleasedKeys(arch);
        var map = LdmKeyMap.For(released.Keys);
        var result = new Dictionary<(string, string), long[]>();
        unknown = [];
        ignored = [];
        var weights = new List<MappedWeight>();
        foreach (var (key, (shape, _)) in released)
        {
            weights.Clear();
            switch (map.Map(key, weights))
            {
                case KeyKind.Unknown: unknown.Add(key); break;
                case KeyKind.Ignored: ignored.Add(key); break;
                default:
                    foreach (var w in weights)
                        Assert.True(result.TryAdd((w.Component, w.Key), w.ShapeOf(shape)), $"{key} maps onto {w.Component}:{w.Key} a second time");
                    break;
            }
        }
        return result;
    }

    private static Dictionary<(string, string), long[]> Diffusers(string variant)
    {
        var root = JsonNode.Parse(File.ReadAllText(TestCheckpoints.DataPath($"diffusers-keys-{variant}.json")))!;
        var result = new Dictionary<(string, string), long[]>();
        foreach (var (component, keys) in root["components"]!.AsObject())
            foreach (var (key, shape) in keys!.AsObject())
                result[(component, key)] = shape!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
        return result;
    }

    private static long[] Squeeze(long[] shape) => shape.Length == 4 && shape[2] == 1 && shape[3] == 1 ? shape[..2] : shape;

    [Theory]
    [InlineData("sd15", "sd15")]
    [InlineData("sd21v", "sd21")]
    public void Every_released_key_maps_and_the_result_is_exactly_the_diffusers_model(string arch, string variant)
    {
        var mapped = MapAll(arch, out var unknown, out var ignored);
        Assert.Empty(unknown);
        Assert.Contains("alphas_cumprod", ignored);

        var expected = Diffusers(variant);
        var missing = expected.Keys.Where(k => !mapped.ContainsKey(k)).Select(k => $"{k.Item1}:{k.Item2}").ToList();
        Assert.True(missing.Count == 0, "not produced: " + string.Join(", ", missing.Take(10)));
        var wrongShape = expected.Where(e => !Squeeze(mapped[e.Key]).SequenceEqual(Squeeze(e.Value)))
            .Select(e => $"{e.Key.Item2}: [{string.Join(",", mapped[e.Key])}] vs [{string.Join(",", e.Value)}]").ToList();
        Assert.True(wrongShape.Count == 0, "shape differs: " + string.Join("; ", wrongShape.Take(10)));

        // Extra names are only what SD 2.x files carry beyond the diffusers model: OpenCLIP's last layer (SD 2.x uses
        // the penultimate) and text projection.
        var extra = mapped.Keys.Where(k => !expected.ContainsKey(k)).Select(k => k.Item2).ToList();
        if (arch == "sd15") Assert.Empty(extra);
        else Assert.All(extra, k => Assert.True(k.StartsWith("text_model.encoder.layers.23.", StringComparison.Ordinal) || k == "text_projection.weight", k));
    }

    [Fact]
    public void Sdxl_base_maps_every_key_to_the_diffusers_names()
    {
        var mapped = MapAll("sdxl", out var unknown, out _);
        Assert.Empty(unknown);
        // Spot checks against diffusers' UNet2DConditionModel / CLIPTextModelWithProjection naming for SDXL base
        // (3 levels, no attention in the first, 2 and 10 transformer blocks, add_embedding for the size conditioning).
        Assert.Equal([1280L, 2816], mapped[("unet", "add_embedding.linear_1.weight")]);
        Assert.True(mapped.ContainsKey(("unet", "down_blocks.2.attentions.1.transformer_blocks.9.attn2.to_k.weight")));
        Assert.True(mapped.ContainsKey(("unet", "down_blocks.1.downsamplers.0.conv.weight")));
        Assert.False(mapped.ContainsKey(("unet", "down_blocks.2.downsamplers.0.conv.weight")));
        Assert.True(mapped.ContainsKey(("unet", "up_blocks.0.attentions.2.transformer_blocks.9.ff.net.2.weight")));
        Assert.True(mapped.ContainsKey(("unet", "up_blocks.1.upsamplers.0.conv.weight")));
        Assert.True(mapped.ContainsKey(("unet", "up_blocks.2.resnets.2.conv_shortcut.weight")));
        Assert.True(mapped.ContainsKey(("unet", "mid_block.attentions.0.transformer_blocks.9.norm3.bias")));
        Assert.Equal([768L, 768], mapped[("text_encoder", "text_model.encoder.layers.11.self_attn.q_proj.weight")]);
        Assert.Equal([1280L, 1280], mapped[("text_encoder_2", "text_model.encoder.layers.31.self_attn.v_proj.weight")]);
        Assert.Equal([1280L], mapped[("text_encoder_2", "text_model.encoder.layers.0.self_attn.k_proj.bias")]);
        Assert.Equal([1280L, 1280], mapped[("text_encoder_2", "text_projection.weight")]);
        Assert.Equal([49408L, 1280], mapped[("text_encoder_2", "text_model.embeddings.token_embedding.weight")]);
        Assert.Equal([512L, 512, 1, 1], mapped[("vae_decoder", "decoder.mid_block.attentions.0.to_q.weight")]);
        Assert.True(mapped.ContainsKey(("vae_decoder", "decoder.up_blocks.3.resnets.0.conv_shortcut.weight")));
        Assert.Equal(2, mapped.Keys.Count(k => k.Item1 == "unet" && k.Item2.StartsWith("add_embedding.", StringComparison.Ordinal) && k.Item2.EndsWith(".weight", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("model.diffusion_model.input_blocks.3.0.op.weight", "unet", "down_blocks.0.downsamplers.0.conv.weight")]
    [InlineData("model.diffusion_model.input_blocks.4.0.skip_connection.bias", "unet", "down_blocks.1.resnets.0.conv_shortcut.bias")]
    [InlineData("model.diffusion_model.input_blocks.8.1.proj_out.weight", "unet", "down_blocks.2.attentions.1.proj_out.weight")]
    [InlineData("model.diffusion_model.middle_block.2.emb_layers.1.weight", "unet", "mid_block.resnets.1.time_emb_proj.weight")]
    [InlineData("model.diffusion_model.output_blocks.2.1.conv.weight", "unet", "up_blocks.0.upsamplers.0.conv.weight")]
    [InlineData("model.diffusion_model.output_blocks.5.2.conv.bias", "unet", "up_blocks.1.upsamplers.0.conv.bias")]
    [InlineData("model.diffusion_model.output_blocks.11.1.transformer_blocks.0.ff.net.0.proj.weight", "unet", "up_blocks.3.attentions.2.transformer_blocks.0.ff.net.0.proj.weight")]
    [InlineData("model.diffusion_model.time_embed.2.bias", "unet", "time_embedding.linear_2.bias")]
    [InlineData("model.diffusion_model.out.2.weight", "unet", "conv_out.weight")]
    [InlineData("first_stage_model.decoder.up.0.block.2.conv2.weight", "vae_decoder", "decoder.up_blocks.3.resnets.2.conv2.weight")]
    [InlineData("first_stage_model.decoder.up.3.upsample.conv.weight", "vae_decoder", "decoder.up_blocks.0.upsamplers.0.conv.weight")]
    [InlineData("first_stage_model.encoder.down.1.block.0.nin_shortcut.weight", "vae_encoder", "encoder.down_blocks.1.resnets.0.conv_shortcut.weight")]
    [InlineData("first_stage_model.encoder.mid.attn_1.proj_out.bias", "vae_encoder", "encoder.mid_block.attentions.0.to_out.0.bias")]
    [InlineData("first_stage_model.encoder.norm_out.weight", "vae_encoder", "encoder.conv_norm_out.weight")]
    [InlineData("first_stage_model.quant_conv.weight", "vae_encoder", "quant_conv.weight")]
    [InlineData("cond_stage_model.transformer.text_model.final_layer_norm.weight", "text_encoder", "text_model.final_layer_norm.weight")]
    [InlineData("cond_stage_model.transformer.embeddings.token_embedding.weight", "text_encoder", "text_model.embeddings.token_embedding.weight")]
    [InlineData("cond_stage_model.model.transformer.resblocks.3.mlp.c_proj.weight", "text_encoder", "text_model.encoder.layers.3.mlp.fc2.weight")]
    [InlineData("cond_stage_model.model.positional_embedding", "text_encoder", "text_model.embeddings.position_embedding.weight")]
    public void Maps_known_keys_like_diffusers(string key, string component, string expected)
    {
        var sd = TestCheckpoints.ReleasedKeys("sd15").Keys.Concat(TestCheckpoints.ReleasedKeys("sd21v").Keys).Distinct().ToList();
        var weights = new List<MappedWeight>();
        Assert.Equal(KeyKind.Weight, LdmKeyMap.For(sd).Map(key, weights));
        Assert.Equal((component, expected), (weights[0].Component, weights[0].Key));
    }

    [Fact]
    public void Splits_the_fused_openclip_projection_in_q_k_v_row_blocks()
    {
        var weights = new List<MappedWeight>();
        var map = LdmKeyMap.For(TestCheckpoints.ReleasedKeys("sd21v").Keys);
        map.Map("cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight", weights);
        Assert.Equal(["q_proj", "k_proj", "v_proj"], weights.Select(w => w.Key.Split('.')[^2]));
        Assert.Equal([0, 1, 2], weights.Select(w => w.SplitIndex));
        Assert.Equal([1024L, 1024], weights[2].ShapeOf([3072, 1024]));
    }

    [Theory]
    [InlineData("model_ema.diffusion_modelinput_blocks00weight")]
    [InlineData("model_ema.num_updates")]
    [InlineData("cond_stage_model.transformer.text_model.embeddings.position_ids")]
    [InlineData("betas")]
    [InlineData("cond_stage_model.model.logit_scale")]
    public void Buffers_and_ema_copies_are_ignored(string key)
    {
        Assert.Equal(KeyKind.Ignored, LdmKeyMap.For([key]).Map(key, []));
    }

    [Theory]
    [InlineData("model.diffusion_model.something_new.weight")]
    [InlineData("lora_unet_down_blocks_0.alpha")]
    [InlineData("first_stage_model.weird.weight")]
    public void Unknown_keys_are_reported_as_unknown(string key)
    {
        Assert.Equal(KeyKind.Unknown, LdmKeyMap.For(TestCheckpoints.ReleasedKeys("sd15").Keys).Map(key, []));
    }
}
