using System.Globalization;
using System.Text.RegularExpressions;

namespace SdBlazor.Engine.Models.Sources;

/// <summary>
/// The original Stable Diffusion training code's key names (LDM for SD 1.x/2.x, SGM for SDXL) → the diffusers and
/// transformers names the graph manifests use, as diffusers' single-file loader maps them (written from its rules,
/// not copied). UNet: <c>input_blocks / middle_block / output_blocks</c> → <c>down_blocks / mid_block / up_blocks</c>
/// with <c>resnets / attentions / downsamplers / upsamplers</c>; VAE: <c>down / mid / up</c> (up in reverse order) and the
/// attention's <c>q k v proj_out</c> 1×1 convolutions → <c>to_q to_k to_v to_out.0</c>; text encoders: CLIP-L is already
/// transformers-named, OpenCLIP's <c>resblocks</c> become <c>encoder.layers</c> with the fused q/k/v split in three.
/// </summary>
public sealed partial class LdmKeyMap
{
    private const string UNetPrefix = "model.diffusion_model.";
    private const string VaePrefix = "first_stage_model.";

    private readonly int _layersPerBlock;
    private readonly int _vaeUpLevels;
    private readonly IReadOnlyList<(string Prefix, string Component, bool OpenClip)> _textEncoders;

    private LdmKeyMap(int layersPerBlock, int vaeUpLevels, IReadOnlyList<(string, string, bool)> textEncoders)
    {
        _layersPerBlock = layersPerBlock;
        _vaeUpLevels = vaeUpLevels;
        _textEncoders = textEncoders;
    }

    /// <summary>A map for a checkpoint with these keys: the UNet's resnets per block and the VAE's levels are read from them.</summary>
    public static LdmKeyMap For(IEnumerable<string> keys)
    {
        var list = keys as IReadOnlyCollection<string> ?? keys.ToList();
        // The first up-sampler sits after layers_per_block + 1 output blocks: output_blocks.{lpb}.{1|2}.conv.
        var layersPerBlock = list.Select(k => UpsamplerKey().Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).Min();
        if (layersPerBlock < 0)
        {
            var outputs = list.Select(k => OutputBlockKey().Match(k)).Where(m => m.Success)
                .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).Max();
            layersPerBlock = Math.Max(outputs, 0);
        }
        var upLevels = list.Select(k => VaeUpKey().Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).Max() + 1;
        var encoders = new List<(string, string, bool)>();
        if (list.Any(k => k.StartsWith("conditioner.embedders.0.model.", StringComparison.Ordinal)))
        {
            // The SGM refiner's conditioner has bigG alone, as its first embedder.
            encoders.Add(("conditioner.embedders.0.model.", "text_encoder_2", true));
        }
        else if (list.Any(k => k.StartsWith("conditioner.embedders.", StringComparison.Ordinal)))
        {
            encoders.Add(("conditioner.embedders.0.transformer.", "text_encoder", false));
            encoders.Add(("conditioner.embedders.1.model.", "text_encoder_2", true));
        }
        else
        {
            encoders.Add(("cond_stage_model.transformer.", "text_encoder", false));
            encoders.Add(("cond_stage_model.model.", "text_encoder", true));
        }
        return new LdmKeyMap(layersPerBlock, upLevels, encoders);
    }

    public int LayersPerBlock => _layersPerBlock;

    /// <summary>Maps one checkpoint key; <paramref name="weights"/> receives one entry, or three for a fused q/k/v.</summary>
    public KeyKind Map(string key, List<MappedWeight> weights)
    {
        if (IsIgnored(key)) return KeyKind.Ignored;
        if (key.StartsWith(UNetPrefix, StringComparison.Ordinal))
            return Add(weights, key, "unet", UNet(key[UNetPrefix.Length..]));
        if (key.StartsWith(VaePrefix, StringComparison.Ordinal))
        {
            var rest = key[VaePrefix.Length..];
            var component = rest.StartsWith("encoder.", StringComparison.Ordinal) || rest.StartsWith("quant_conv.", StringComparison.Ordinal)
                ? "vae_encoder"
                : rest.StartsWith("decoder.", StringComparison.Ordinal) || rest.StartsWith("post_quant_conv.", StringComparison.Ordinal) ? "vae_decoder" : null;
            return component is null ? KeyKind.Unknown : Add(weights, key, component, Vae(rest));
        }
        foreach (var (prefix, component, openClip) in _textEncoders)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var rest = key[prefix.Length..];
            if (!openClip)
            {
                // Old SD 1.x files predate transformers' `text_model` wrapper.
                return Add(weights, key, component, rest.StartsWith("text_model.", StringComparison.Ordinal) ? rest : "text_model." + rest);
            }
            return OpenClip(key, rest, component, weights);
        }
        return KeyKind.Unknown;
    }

    private static KeyKind Add(List<MappedWeight> weights, string key, string component, string? mapped)
    {
        if (mapped is null) return KeyKind.Unknown;
        weights.Add(new MappedWeight(key, component, mapped));
        return KeyKind.Weight;
    }

    /// <summary>Buffers and copies a loader skips, as A1111 and diffusers do.</summary>
    public static bool IsIgnored(string key) =>
        key.StartsWith("model_ema.", StringComparison.Ordinal)
        || key.EndsWith("position_ids", StringComparison.Ordinal)
        || key.EndsWith(".logit_scale", StringComparison.Ordinal)
        || key.EndsWith(".attn_mask", StringComparison.Ordinal)
        || !key.Contains('.') && DdpmBuffers.Contains(key);

    private static readonly HashSet<string> DdpmBuffers =
    [
        "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
        "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
        "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2", "logvar",
    ];

    // ---------------------------------------------------------------------------------------------------- UNet
    private string? UNet(string key)
    {
        if (Replace(key, "time_embed.0.", "time_embedding.linear_1.") is { } t1) return t1;
        if (Replace(key, "time_embed.2.", "time_embedding.linear_2.") is { } t2) return t2;
        if (Replace(key, "label_emb.0.0.", "add_embedding.linear_1.") is { } l1) return l1;
        if (Replace(key, "label_emb.0.2.", "add_embedding.linear_2.") is { } l2) return l2;
        if (Replace(key, "input_blocks.0.0.", "conv_in.") is { } cin) return cin;
        if (Replace(key, "out.0.", "conv_norm_out.") is { } no) return no;
        if (Replace(key, "out.2.", "conv_out.") is { } co) return co;

        var m = BlockKey().Match(key);
        if (!m.Success) return null;
        var kind = m.Groups["kind"].Value;
        var index = m.Groups["index"].Success ? int.Parse(m.Groups["index"].Value, CultureInfo.InvariantCulture) : 0;
        var part = int.Parse(m.Groups["part"].Value, CultureInfo.InvariantCulture);
        var rest = m.Groups["rest"].Value;
        var per = _layersPerBlock + 1;
        switch (kind)
        {
            case "input_blocks" when index >= 1:
            {
                var block = (index - 1) / per;
                var layer = (index - 1) % per;
                if (part == 0 && rest.StartsWith("op.", StringComparison.Ordinal)) return $"down_blocks.{block}.downsamplers.0.conv.{rest[3..]}";
                if (part == 0) return Resnet($"down_blocks.{block}.resnets.{layer}.", rest);
                if (part == 1) return $"down_blocks.{block}.attentions.{layer}.{rest}";
                return null;
            }
            case "middle_block":
                return part switch
                {
                    0 => Resnet("mid_block.resnets.0.", rest),
                    1 => $"mid_block.attentions.0.{rest}",
                    2 => Resnet("mid_block.resnets.1.", rest),
                    _ => null,
                };
            case "output_blocks":
            {
                var block = index / per;
                var layer = index % per;
                if (part == 0) return Resnet($"up_blocks.{block}.resnets.{layer}.", rest);
                // An up-sampler follows the resnet directly in blocks without attention (…1.conv), else the attention (…2.conv).
                if (rest.StartsWith("conv.", StringComparison.Ordinal) && part is 1 or 2) return $"up_blocks.{block}.upsamplers.0.{rest}";
                if (part == 1) return $"up_blocks.{block}.attentions.{layer}.{rest}";
                return null;
            }
            default:
                return null;
        }
    }

    private static string? Resnet(string prefix, string rest)
    {
        foreach (var (ldm, diffusers) in ResnetNames)
            if (Replace(rest, ldm, diffusers) is { } renamed) return prefix + renamed;
        return null;
    }

    private static readonly (string, string)[] ResnetNames =
    [
        ("in_layers.0.", "norm1."), ("in_layers.2.", "conv1."), ("emb_layers.1.", "time_emb_proj."),
        ("out_layers.0.", "norm2."), ("out_layers.3.", "conv2."), ("skip_connection.", "conv_shortcut."),
    ];

    // ---------------------------------------------------------------------------------------------------- VAE
    private string? Vae(string key)
    {
        if (key.StartsWith("quant_conv.", StringComparison.Ordinal) || key.StartsWith("post_quant_conv.", StringComparison.Ordinal)) return key;
        var coder = key.StartsWith("encoder.", StringComparison.Ordinal) ? "encoder" : "decoder";
        var rest = key[(coder.Length + 1)..];
        if (rest.StartsWith("conv_in.", StringComparison.Ordinal) || rest.StartsWith("conv_out.", StringComparison.Ordinal)) return key;
        if (Replace(rest, "norm_out.", "conv_norm_out.") is { } norm) return $"{coder}.{norm}";
        if (Replace(rest, "mid.block_1.", "mid_block.resnets.0.") is { } b1) return $"{coder}.{VaeResnet(b1)}";
        if (Replace(rest, "mid.block_2.", "mid_block.resnets.1.") is { } b2) return $"{coder}.{VaeResnet(b2)}";
        if (rest.StartsWith("mid.attn_1.", StringComparison.Ordinal))
        {
            var name = rest["mid.attn_1.".Length..];
            foreach (var (ldm, diffusers) in VaeAttentionNames)
                if (Replace(name, ldm, diffusers) is { } renamed) return $"{coder}.mid_block.attentions.0.{renamed}";
            return null;
        }
        var m = VaeLevelKey().Match(rest);
        if (!m.Success) return null;
        var level = int.Parse(m.Groups["level"].Value, CultureInfo.InvariantCulture);
        var tail = m.Groups["rest"].Value;
        var (blocks, sampler, target) = m.Groups["dir"].Value == "down"
            ? ("down_blocks", "downsample.", "downsamplers.0.")
            : ("up_blocks", "upsample.", "upsamplers.0.");
        // The LDM decoder numbers its levels from the lowest resolution up; diffusers in the order they run.
        if (blocks == "up_blocks") level = _vaeUpLevels - 1 - level;
        if (Replace(tail, "block.", "") is { } resnet)
        {
            var dot = resnet.IndexOf('.');
            return dot < 0 ? null : $"{coder}.{blocks}.{level}.resnets.{resnet[..dot]}.{VaeResnet(resnet[(dot + 1)..])}";
        }
        if (Replace(tail, sampler, target) is { } s) return $"{coder}.{blocks}.{level}.{s}";
        return null;
    }

    private static string VaeResnet(string name) => Replace(name, "nin_shortcut.", "conv_shortcut.") ?? name;

    private static readonly (string, string)[] VaeAttentionNames =
    [
        ("norm.", "group_norm."), ("q.", "to_q."), ("k.", "to_k."), ("v.", "to_v."), ("proj_out.", "to_out.0."),
    ];

    // ---------------------------------------------------------------------------------------------------- OpenCLIP
    private static KeyKind OpenClip(string key, string rest, string component, List<MappedWeight> weights)
    {
        const string tm = "text_model.";
        switch (rest)
        {
            case "token_embedding.weight": return Add(weights, key, component, tm + "embeddings.token_embedding.weight");
            case "positional_embedding": return Add(weights, key, component, tm + "embeddings.position_embedding.weight");
            case "ln_final.weight": return Add(weights, key, component, tm + "final_layer_norm.weight");
            case "ln_final.bias": return Add(weights, key, component, tm + "final_layer_norm.bias");
            case "text_projection":
                weights.Add(new MappedWeight(key, component, "text_projection.weight", Transpose: true));
                return KeyKind.Weight;
        }
        var m = ResblockKey().Match(rest);
        if (!m.Success) return KeyKind.Unknown;
        var layer = $"{tm}encoder.layers.{m.Groups["layer"].Value}.";
        var name = m.Groups["rest"].Value;
        if (name is "attn.in_proj_weight" or "attn.in_proj_bias")
        {
            var suffix = name.EndsWith("weight", StringComparison.Ordinal) ? "weight" : "bias";
            string[] targets = ["q_proj", "k_proj", "v_proj"];
            for (var i = 0; i < 3; i++) weights.Add(new MappedWeight(key, component, $"{layer}self_attn.{targets[i]}.{suffix}", i, 3));
            return KeyKind.Weight;
        }
        foreach (var (clip, hf) in OpenClipLayerNames)
            if (Replace(name, clip, hf) is { } renamed) return Add(weights, key, component, layer + renamed);
        return KeyKind.Unknown;
    }

    private static readonly (string, string)[] OpenClipLayerNames =
    [
        ("ln_1.", "layer_norm1."), ("ln_2.", "layer_norm2."), ("attn.out_proj.", "self_attn.out_proj."),
        ("mlp.c_fc.", "mlp.fc1."), ("mlp.c_proj.", "mlp.fc2."),
    ];

    private static string? Replace(string key, string prefix, string replacement) =>
        key.StartsWith(prefix, StringComparison.Ordinal) ? replacement + key[prefix.Length..] : null;

    [GeneratedRegex(@"^(?<kind>input_blocks|middle_block|output_blocks)\.(?:(?<index>\d+)\.)?(?<part>\d+)\.(?<rest>.+)$")]
    private static partial Regex BlockKey();

    [GeneratedRegex(@"^model\.diffusion_model\.output_blocks\.(\d+)\.[12]\.conv\.weight$")]
    private static partial Regex UpsamplerKey();

    [GeneratedRegex(@"^model\.diffusion_model\.output_blocks\.(\d+)\.")]
    private static partial Regex OutputBlockKey();

    [GeneratedRegex(@"^first_stage_model\.decoder\.up\.(\d+)\.")]
    private static partial Regex VaeUpKey();

    [GeneratedRegex(@"^(?<dir>down|up)\.(?<level>\d+)\.(?<rest>.+)$")]
    private static partial Regex VaeLevelKey();

    [GeneratedRegex(@"^transformer\.resblocks\.(?<layer>\d+)\.(?<rest>.+)$")]
    private static partial Regex ResblockKey();
}
