"""diffusers/transformers key -> original (LDM / OpenCLIP) key, the inverse of what a checkpoint importer does.

Written from the published conversion rules (diffusers' convert_diffusers_to_original_stable_diffusion.py and
A1111's loading code describe the same correspondence); everything here is 1:1 except OpenCLIP's fused attention
projection (q, k and v of one layer are one `in_proj_weight` / `in_proj_bias`), which `text_encoder_openclip`
handles, and the VAE attention projections, which are Linear in diffusers and 1x1 convs ([C, C, 1, 1]) in LDM.
"""
import re

_UNET_RESNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "time_emb_proj": "emb_layers.1",
                "norm2": "out_layers.0", "conv2": "out_layers.3", "conv_shortcut": "skip_connection"}
_VAE_RESNET = {"norm1": "norm1", "conv1": "conv1", "norm2": "norm2", "conv2": "conv2", "conv_shortcut": "nin_shortcut"}
_VAE_ATTN = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _resnet(rest, table):
    layer, _, param = rest.partition(".")
    return table[layer] + "." + param


def unet_key(key, layers_per_block, blocks_with_attention_up):
    """diffusers UNet2DConditionModel key -> key under `model.diffusion_model.`. Input blocks: conv_in, then per level
    layers_per_block (resnet [+ transformer]) blocks and a downsampler; output blocks: layers_per_block + 1 per level,
    the level's upsampler in its last output block after the resnet (and the transformer, where there is one)."""
    fixed = {"conv_in": "input_blocks.0.0", "time_embedding.linear_1": "time_embed.0",
             "time_embedding.linear_2": "time_embed.2", "conv_norm_out": "out.0", "conv_out": "out.2",
             "add_embedding.linear_1": "label_emb.0.0", "add_embedding.linear_2": "label_emb.0.2"}
    for d, o in fixed.items():
        if key.startswith(d + "."):
            return o + key[len(d):]
    n = layers_per_block + 1
    m = re.match(r"down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)", key)
    if m:
        i, kind, j, rest = int(m[1]), m[2], int(m[3]), m[4]
        block = i * n + j + 1
        return f"input_blocks.{block}.0.{_resnet(rest, _UNET_RESNET)}" if kind == "resnets" else f"input_blocks.{block}.1.{rest}"
    m = re.match(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)", key)
    if m:
        return f"input_blocks.{(int(m[1]) + 1) * n}.0.op.{m[2]}"
    m = re.match(r"mid_block\.resnets\.(\d+)\.(.+)", key)
    if m:
        return f"middle_block.{2 * int(m[1])}.{_resnet(m[2], _UNET_RESNET)}"
    m = re.match(r"mid_block\.attentions\.0\.(.+)", key)
    if m:
        return f"middle_block.1.{m[1]}"
    m = re.match(r"up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)", key)
    if m:
        i, kind, j, rest = int(m[1]), m[2], int(m[3]), m[4]
        block = i * n + j
        return f"output_blocks.{block}.0.{_resnet(rest, _UNET_RESNET)}" if kind == "resnets" else f"output_blocks.{block}.1.{rest}"
    m = re.match(r"up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)", key)
    if m:
        i = int(m[1])
        slot = 2 if i in blocks_with_attention_up else 1
        return f"output_blocks.{i * n + n - 1}.{slot}.conv.{m[2]}"
    raise KeyError(f"no LDM name for UNet key {key}")


def vae_key(key, levels):
    """diffusers AutoencoderKL key (encoder.*, decoder.*, quant_conv, post_quant_conv) -> key under
    `first_stage_model.`; returns (name, is_attention_matrix) as attention Linear weights become 1x1 convs."""
    if key.startswith(("quant_conv.", "post_quant_conv.")):
        return key, False
    part, _, rest = key.partition(".")
    for d, o in (("conv_in", "conv_in"), ("conv_out", "conv_out"), ("conv_norm_out", "norm_out")):
        if rest.startswith(d + "."):
            return f"{part}.{o}{rest[len(d):]}", False
    m = re.match(r"(down|up)_blocks\.(\d+)\.resnets\.(\d+)\.(.+)", rest)
    if m:
        level = int(m[2]) if m[1] == "down" else levels - 1 - int(m[2])
        return f"{part}.{m[1]}.{level}.block.{m[3]}.{_resnet(m[4], _VAE_RESNET)}", False
    m = re.match(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)", rest)
    if m:
        return f"{part}.down.{m[1]}.downsample.conv.{m[2]}", False
    m = re.match(r"up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)", rest)
    if m:
        return f"{part}.up.{levels - 1 - int(m[1])}.upsample.conv.{m[2]}", False
    m = re.match(r"mid_block\.resnets\.(\d+)\.(.+)", rest)
    if m:
        return f"{part}.mid.block_{int(m[1]) + 1}.{_resnet(m[2], _VAE_RESNET)}", False
    m = re.match(r"mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)\.(weight|bias)", rest)
    if m:
        return f"{part}.mid.attn_1.{_VAE_ATTN[m[1]]}.{m[2]}", m[1] != "group_norm" and m[2] == "weight"
    raise KeyError(f"no LDM name for VAE key {key}")


def text_encoder_clip(key):
    """transformers CLIPTextModel key (text_model.*) -> key under `cond_stage_model.transformer.` (SD 1.x) or
    `conditioner.embedders.0.transformer.` (SDXL): the same names."""
    return key


_OPENCLIP_LAYER = {"layer_norm1": "ln_1", "layer_norm2": "ln_2", "mlp.fc1": "mlp.c_fc", "mlp.fc2": "mlp.c_proj",
                   "self_attn.out_proj": "attn.out_proj"}


def text_encoder_openclip(sd):
    """transformers-named OpenCLIP text tower (text_model.*) -> OpenCLIP names (under `cond_stage_model.model.` for
    SD 2.x, `conditioner.embedders.1.model.` for SDXL). q/k/v of layer i are concatenated in that order along dim 0
    into `transformer.resblocks.i.attn.in_proj_weight` ([3w, w]) and `in_proj_bias` ([3w]). Returns a dict."""
    import torch
    out = {}
    fixed = {"text_model.embeddings.token_embedding.weight": "token_embedding.weight",
             "text_model.embeddings.position_embedding.weight": "positional_embedding",
             "text_model.final_layer_norm.weight": "ln_final.weight", "text_model.final_layer_norm.bias": "ln_final.bias",
             "text_projection.weight": "text_projection"}
    qkv = {}
    for key, t in sd.items():
        if key in fixed:
            # OpenCLIP's text_projection is applied as x @ P; transformers' Linear computes x @ W^T, so P = W^T.
            out[fixed[key]] = t.t().contiguous() if key == "text_projection.weight" else t
            continue
        m = re.match(r"text_model\.encoder\.layers\.(\d+)\.(.+)\.(weight|bias)$", key)
        if not m:
            raise KeyError(f"no OpenCLIP name for text encoder key {key}")
        layer, name, kind = m[1], m[2], m[3]
        if name in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"):
            qkv.setdefault((layer, kind), {})[name[10]] = t
            continue
        out[f"transformer.resblocks.{layer}.{_OPENCLIP_LAYER[name]}.{kind}"] = t
    for (layer, kind), parts in qkv.items():
        out[f"transformer.resblocks.{layer}.attn.in_proj_{kind}"] = torch.cat([parts["q"], parts["k"], parts["v"]], 0)
    return out
