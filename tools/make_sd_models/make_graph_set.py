"""Writes an architecture graph set: the ONNX graphs of a Stable Diffusion variant with every weight moved out into
a manifest (`weights.json`) that says which diffusers/transformers key fills which byte range of `weights.bin`
(issue 28). The app ships these graphs; its importer fills `weights.bin` from a user's single-file checkpoint.

Layout written to --out (the folder is the graph set):
  architecture.json                    family, prediction type, sizes, text encoders, hyper-parameters
  <component>/model.onnx               graph; weight initializers are EXTERNAL data in `weights.bin` (not written)
  <component>/weights.json             the manifest: initializer -> key, transform, shape, offset, length
for component in text_encoder, unet, vae_decoder, vae_encoder.

Usage (from the repository root):
  /usr/bin/python3 tools/make_sd_models/make_graph_set.py --variant sd15 --scale tiny --out DIR
  /usr/bin/python3 tools/make_sd_models/make_graph_set.py --variant sd21 --scale full --out src/Engine/Architectures/sd21

The weights are the same seeded random ones as make_sd_models.py (and make_checkpoints/make_checkpoint.py) use, so
each initializer's key is found by value: exact byte equality with a parameter, or with the transpose of a 2-D one
(torch writes nn.Linear as MatMul with a transposed `onnx::MatMul_*` initializer). The tool then checks that every
initializer's exported bytes equal the bytes a loader writes at its offset from the state dict via the manifest.
"""
import argparse
import gc
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import onnx
import torch
from onnx import external_data_helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_sd_models import OPSET, randomize_  # noqa: E402
from make_sd_models import architecture as _full_architecture  # noqa: E402
from sd_modules import (CLIPTextModel, CLIPTextModelHiddenStates, CLIPTextModelWithProjection,  # noqa: E402
                        SDXLUNet2DConditionModel, UNet2DConditionModel, VaeDecoderPart, VaeEncoderPart, set_attention)

ALIGN = 64
SD_COMPONENTS = ("text_encoder", "unet", "vae_decoder", "vae_encoder")
SDXL_COMPONENTS = ("text_encoder", "text_encoder_2", "unet", "vae_decoder", "vae_encoder")
REFINER_COMPONENTS = ("text_encoder_2", "unet", "vae_decoder", "vae_encoder")


def components(variant):
    return {"sdxl": SDXL_COMPONENTS, "sdxl_refiner": REFINER_COMPONENTS}.get(variant, SD_COMPONENTS)
# transformers' CLIPTextModel wraps the text transformer in `text_model`; sd_modules' CLIPTextModel is that inner
# module, so its keys get this prefix to be the real transformers keys (an SD 1.x checkpoint's
# `cond_stage_model.transformer.text_model.X` is transformers' `text_model.X`).
KEY_PREFIX = {"text_encoder": "text_model."}
# Seed offsets per component, as make_sd_models.build uses them: the same seed gives the same weights everywhere.
SEED_OFFSET = {"text_encoder": 0, "unet": 1, "vae_decoder": 2, "vae_encoder": 3, "text_encoder_2": 5}


# Inpainting variants: the base variant's architecture with a 9-channel UNet input (latents ++ mask ++ masked-image
# latents, as runwayml's sd-v1-5-inpainting); every other component is the base variant's.
INPAINTING = {"sd15-inpainting": "sd15"}


def base_variant(variant):
    return INPAINTING.get(variant, variant)


def unet_in_channels(variant):
    return 9 if variant in INPAINTING else 4


def architecture(variant, scale):
    """Full: make_sd_models' published sizes. Tiny (test fixtures, a few MB per checkpoint): every block, layer
    kind and key of the real layout with small widths. The 49408-row token embedding dominates, hence the 16-wide
    text encoder. Head counts change with the widths: UNet 32 channels with 8 heads (SD 1.x) = 4-wide heads,
    2 heads (SD 2.x) = 16-wide; text encoder 2 heads of 8; the VAE attention is single-head as always."""
    if variant == "sdxl":
        return sdxl_architecture(scale)
    if variant == "sdxl_refiner":
        return refiner_architecture(scale)
    text, unet, vae = _full_architecture(base_variant(variant), "full")
    if scale == "full":
        return text, unet, vae
    text = dict(text, width=16, layers=2, heads=2, inner=64)
    unet = dict(unet, block_out_channels=(32, 32, 32, 32), sample_size=8,
                heads=(8, 8, 8, 8) if base_variant(variant) == "sd15" else (2, 2, 2, 2))
    vae = dict(vae, block_out_channels=(32, 32, 32, 64))
    return text, unet, vae


def sdxl_architecture(scale):
    """SDXL base 1.0 (sd_xl_base.yaml / diffusers' configs): CLIP-L (12 layers, hidden_states[-2]) + OpenCLIP bigG
    (32 layers, 1280 wide, 20 heads, projection 1280); UNet 320/640/1280, transformer depth 0/2/10 (mid 10),
    64-wide heads, cross-attention 768 + 1280 = 2048, pooled 1280 + 6 x 256 time ids = 2816. Tiny: CLIP-L 16 wide,
    bigG 32 wide (2 layers each, 2 heads), UNet 32/32/32 with depth 0/1/2 (2 heads of 16), VAE as the SD tiny one."""
    full = scale == "full"
    text = dict(width=768, layers=12, heads=12, inner=3072, act="quick_gelu") if full else \
        dict(width=16, layers=2, heads=2, inner=64, act="quick_gelu")
    text2 = dict(width=1280, layers=32, heads=20, inner=5120, act="gelu", proj=1280) if full else \
        dict(width=32, layers=2, heads=2, inner=128, act="gelu", proj=32)
    ch = (320, 640, 1280) if full else (32, 32, 32)
    unet = dict(block_out_channels=ch, heads=tuple(c // (64 if full else 16) for c in ch),
                depths=(0, 2, 10) if full else (0, 1, 2), linear_projection=True, sample_size=128 if full else 8,
                context_dim=text["width"] + text2["width"], pooled_dim=text2["proj"], time_ids_dim=256)
    vae = dict(block_out_channels=(128, 256, 512, 512) if full else (32, 32, 32, 64))
    return dict(text, second=text2), unet, vae


def refiner_architecture(scale):
    """SDXL refiner 1.0, from generative-models' configs/inference/sd_xl_refiner.yaml: only the OpenCLIP bigG
    embedder (penultimate layer, pooled output; it is conditioner.embedders.0 in the checkpoint), UNet
    model_channels 384 with channel_mult [1, 2, 4, 4] (384/768/1536/1536), attention_resolutions [4, 2] (levels 1
    and 2), transformer_depth 4 (mid block too), 64-wide heads, context_dim 1280, adm_in_channels 2560 = pooled 1280
    + 5 x 256 (original size, crop top-left, aesthetic score). diffusers' refiner config says the same
    (block_out_channels [384, 768, 1536, 1536], transformer_layers_per_block 4, projection_class_embeddings_input_dim
    2560, requires_aesthetics_score). Tiny: bigG as in the tiny SDXL (same seed: the same weights), UNet 32 x 4 levels
    with depth 0/1/1/0 and mid 1 (2 heads of 16)."""
    full = scale == "full"
    text, _, vae = sdxl_architecture(scale)
    text2 = text["second"]
    ch = (384, 768, 1536, 1536) if full else (32, 32, 32, 32)
    unet = dict(block_out_channels=ch, heads=tuple(c // (64 if full else 16) for c in ch),
                depths=(0, 4, 4, 0) if full else (0, 1, 1, 0), mid_depth=4 if full else 1, linear_projection=True,
                sample_size=128 if full else 8, context_dim=text2["width"], pooled_dim=text2["proj"], time_ids_dim=256,
                n_time_ids=5)
    return dict(second=text2), unet, vae


def family(variant):
    return {"sd15": "sd1", "sd21": "sd2", "sdxl": "sdxl", "sdxl_refiner": "sdxl_refiner"}[base_variant(variant)]


class _NoInit:
    """Skips torch's parameter initialisation while modules are built: the memory is reserved but not written, so a
    full-size module costs little RSS until something reads it; seeded_state generates the values one tensor at a time."""
    names = ("kaiming_uniform_", "uniform_", "normal_", "zeros_", "ones_", "xavier_uniform_", "trunc_normal_")

    def __enter__(self):
        self.saved = {n: getattr(torch.nn.init, n) for n in self.names}
        for n in self.names:
            setattr(torch.nn.init, n, lambda t, *a, **k: t)

    def __exit__(self, *exc):
        for n, f in self.saved.items():
            setattr(torch.nn.init, n, f)


def seeded_state(module, component, seed):
    """(key, fp32 value) in the order and with the values randomize_ gives, without writing into the module."""
    gen = torch.Generator().manual_seed(seed + SEED_OFFSET[component])
    prefix = KEY_PREFIX.get(component, "")
    for name, p in module.named_parameters():
        mean = 1.0 if (p.dim() == 1 and name.endswith("weight")) else 0.0
        yield prefix + name, torch.randn(p.shape, generator=gen) * 0.02 + mean


def build_module(variant, scale, component, seed, materialize=True):
    """The component with its seeded random weights (fp32), exactly as make_sd_models builds it; with
    materialize=False, the bare module (untouched memory) for seeded_state."""
    if not materialize:
        with _NoInit():
            return _construct(variant, scale, component)
    return randomize_(_construct(variant, scale, component), seed + SEED_OFFSET[component]).eval()


def _construct(variant, scale, component):
    text, unet_cfg, vae_cfg = architecture(variant, scale)
    if variant == "sdxl" and component == "text_encoder":
        return CLIPTextModelHiddenStates(width=text["width"], layers=text["layers"], heads=text["heads"],
                                         inner=text["inner"], act=text["act"])
    if component == "text_encoder_2":
        t2 = text["second"]
        return CLIPTextModelWithProjection(t2["width"], t2["layers"], t2["heads"], t2["inner"], t2["act"], t2["proj"])
    if variant in ("sdxl", "sdxl_refiner") and component == "unet":
        u = unet_cfg
        return SDXLUNet2DConditionModel(u["block_out_channels"], 2, u["context_dim"], u["heads"], u["depths"],
                                        u["pooled_dim"], u["time_ids_dim"], u.get("n_time_ids", 6), u.get("mid_depth"))
    if component == "text_encoder":
        return CLIPTextModel(width=text["width"], layers=text["layers"], heads=text["heads"], inner=text["inner"], act=text["act"])
    elif component == "unet":
        m = UNet2DConditionModel(unet_cfg["block_out_channels"], 2, text["width"], unet_cfg["heads"], unet_cfg["linear_projection"],
                                 in_channels=unet_in_channels(variant))
    elif component == "vae_decoder":
        m = VaeDecoderPart(list(vae_cfg["block_out_channels"]))
    else:
        m = VaeEncoderPart(list(vae_cfg["block_out_channels"]))
    return m


def state_dict(module, component):
    prefix = KEY_PREFIX.get(component, "")
    return {prefix + k: v.detach().contiguous() for k, v in module.state_dict().items()}


def sdxl_architecture_json(scale):
    text, u, vae_cfg = architecture("sdxl", scale)
    t2 = text["second"]

    def encoder(t, kind):
        return {"kind": kind, "hidden_size": t["width"], "num_hidden_layers": t["layers"],
                "num_attention_heads": t["heads"], "intermediate_size": t["inner"], "hidden_act": t["act"],
                "max_position_embeddings": 77, "vocab_size": 49408, **({"projection_dim": t["proj"]} if "proj" in t else {})}

    return {
        "name": "sdxl" + ("" if scale == "full" else "-tiny"), "family": "sdxl", "prediction_type": "epsilon",
        "sample_size": u["sample_size"], "vae_scale_factor": 0.13025,
        # SDXL conditions on hidden_states[-2] of both encoders (no final LayerNorm), concatenated on the last axis;
        # the pooled input of the UNet (text_embeds) is text_encoder_2's projected output.
        "text_encoders": [
            {"component": "text_encoder", "hidden_size": text["width"], "pad_with": "eos",
             "hidden_state": f"hidden_states.{text['layers'] - 1}"},
            {"component": "text_encoder_2", "hidden_size": t2["width"], "pad_with": "zero",
             "hidden_state": f"hidden_states.{t2['layers'] - 1}", "pooled": "text_embeds"}],
        "components": list(SDXL_COMPONENTS),
        "config": {
            "scale": scale,
            "text_encoder": encoder(text, "clip_l"),
            "text_encoder_2": encoder(t2, "openclip_bigg"),
            "unet": {"block_out_channels": list(u["block_out_channels"]), "layers_per_block": 2,
                     "attention_heads": list(u["heads"]), "transformer_layers_per_block": list(u["depths"]),
                     "cross_attention_dim": u["context_dim"], "use_linear_projection": True,
                     "addition_embed_type": "text_time", "addition_time_embed_dim": u["time_ids_dim"],
                     "projection_class_embeddings_input_dim": u["pooled_dim"] + 6 * u["time_ids_dim"],
                     "in_channels": 4, "out_channels": 4, "norm_num_groups": 32, "flip_sin_to_cos": True, "freq_shift": 0},
            "vae": {"block_out_channels": list(vae_cfg["block_out_channels"]), "layers_per_block": 2,
                    "latent_channels": 4, "norm_num_groups": 32},
            "scheduler": {"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
                          "num_train_timesteps": 1000},
        },
    }


def refiner_architecture_json(scale):
    text, u, vae_cfg = architecture("sdxl_refiner", scale)
    base = sdxl_architecture_json(scale)
    t2 = text["second"]
    return {
        "name": "sdxl-refiner" + ("" if scale == "full" else "-tiny"), "family": "sdxl_refiner", "prediction_type": "epsilon",
        "sample_size": u["sample_size"], "vae_scale_factor": 0.13025,
        # Only bigG: its penultimate layer is the cross-attention context, its projected pooled output text_embeds;
        # time_ids are [original h, original w, crop top, crop left, aesthetic score].
        "text_encoders": [base["text_encoders"][1]],
        "components": list(REFINER_COMPONENTS),
        "config": {
            "scale": scale,
            "text_encoder_2": base["config"]["text_encoder_2"],
            "unet": {"block_out_channels": list(u["block_out_channels"]), "layers_per_block": 2,
                     "attention_heads": list(u["heads"]), "transformer_layers_per_block": list(u["depths"]),
                     "mid_block_transformer_layers": u["mid_depth"],
                     "cross_attention_dim": u["context_dim"], "use_linear_projection": True,
                     "addition_embed_type": "text_time", "addition_time_embed_dim": u["time_ids_dim"],
                     "projection_class_embeddings_input_dim": u["pooled_dim"] + 5 * u["time_ids_dim"],
                     "requires_aesthetics_score": True,
                     "in_channels": 4, "out_channels": 4, "norm_num_groups": 32, "flip_sin_to_cos": True, "freq_shift": 0},
            "vae": base["config"]["vae"],
            "scheduler": base["config"]["scheduler"],
        },
    }


def architecture_json(variant, scale):
    if variant == "sdxl":
        return sdxl_architecture_json(scale)
    if variant == "sdxl_refiner":
        return refiner_architecture_json(scale)
    text, unet_cfg, vae_cfg = architecture(variant, scale)
    sd2 = base_variant(variant) == "sd21"
    return {
        "name": variant + ("" if scale == "full" else "-tiny"),
        "family": family(variant),
        # SD 2.x files are v (768-v) or epsilon (512-base); the importer decides from metadata/yaml/A1111's rule.
        "prediction_type": "v_prediction" if sd2 else "epsilon",
        "sample_size": unet_cfg["sample_size"],
        "vae_scale_factor": 0.18215,
        "text_encoders": [{"component": "text_encoder", "hidden_size": text["width"], "pad_with": "zero" if sd2 else "eos"}],
        "components": list(SD_COMPONENTS),
        "config": {
            "scale": scale,
            "text_encoder": {"kind": "openclip_h_penultimate" if sd2 else "clip_l", "hidden_size": text["width"],
                             "num_hidden_layers": text["layers"], "num_attention_heads": text["heads"],
                             "intermediate_size": text["inner"], "hidden_act": text["act"],
                             "max_position_embeddings": 77, "vocab_size": 49408,
                             # OpenCLIP checkpoints hold one more resblock (used only by the final layer, which SD 2.x
                             # skips) plus text_projection and logit_scale; the importer ignores those.
                             **({"checkpoint_layers": text["layers"] + 1} if sd2 else {})},
            "unet": {"block_out_channels": list(unet_cfg["block_out_channels"]), "layers_per_block": 2,
                     "attention_heads": list(unet_cfg["heads"]), "cross_attention_dim": text["width"],
                     "use_linear_projection": unet_cfg["linear_projection"], "in_channels": unet_in_channels(variant), "out_channels": 4,
                     "norm_num_groups": 32, "flip_sin_to_cos": True, "freq_shift": 0},
            "vae": {"block_out_channels": list(vae_cfg["block_out_channels"]), "layers_per_block": 2,
                    "latent_channels": 4, "norm_num_groups": 32},
            "scheduler": {"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
                          "num_train_timesteps": 1000},
        },
    }


def export_args(variant, scale, component):
    text, unet_cfg, _ = architecture(variant, scale)
    ids = (torch.ones(1, 77, dtype=torch.int32),)
    if variant in ("sdxl", "sdxl_refiner") and component in ("text_encoder", "text_encoder_2"):
        # Optimum's SDXL names: every hidden state is an output (the pipeline takes hidden_states.{layers - 1}).
        layers = text["layers"] if component == "text_encoder" else text["second"]["layers"]
        first = ["last_hidden_state", "pooler_output"] if component == "text_encoder" else ["text_embeds", "last_hidden_state"]
        outputs = first + [f"hidden_states.{i}" for i in range(layers + 1)]
        return ids, ["input_ids"], outputs, {n: {0: "batch"} for n in ["input_ids"] + outputs}
    if variant in ("sdxl", "sdxl_refiner") and component == "unet":
        ctx = unet_cfg["context_dim"]
        ids = [1024.0, 1024, 0, 0, 1024, 1024][:unet_cfg.get("n_time_ids", 6)]
        return ((torch.randn(2, 4, 8, 8), torch.tensor([999.0, 999.0]), torch.randn(2, 77, ctx),
                 torch.randn(2, unet_cfg["pooled_dim"]), torch.tensor([ids] * 2)),
                ["sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"], ["out_sample"],
                {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
                 "encoder_hidden_states": {0: "batch", 1: "sequence"}, "text_embeds": {0: "batch"},
                 "time_ids": {0: "batch"}, "out_sample": {0: "batch", 2: "height", 3: "width"}})
    if component == "text_encoder":
        return ((torch.ones(1, 77, dtype=torch.int32),), ["input_ids"], ["last_hidden_state", "pooler_output"],
                {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}, "pooler_output": {0: "batch"}})
    if component == "unet":
        return ((torch.randn(2, unet_in_channels(variant), 8, 8), torch.tensor([999.0, 999.0]), torch.randn(2, 77, text["width"])),
                ["sample", "timestep", "encoder_hidden_states"], ["out_sample"],
                {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
                 "encoder_hidden_states": {0: "batch", 1: "sequence"},
                 "out_sample": {0: "batch", 2: "height", 3: "width"}})
    if component == "vae_decoder":
        return ((torch.randn(1, 4, 8, 8),), ["latent_sample"], ["sample"],
                {"latent_sample": {0: "batch", 2: "height_latent", 3: "width_latent"},
                 "sample": {0: "batch", 2: "height", 3: "width"}})
    return ((torch.randn(1, 3, 64, 64),), ["sample"], ["latent_parameters"],
            {"sample": {0: "batch", 2: "height", 3: "width"},
             "latent_parameters": {0: "batch", 2: "height_latent", 3: "width_latent"}})


def digest(array):
    return hashlib.blake2b(np.ascontiguousarray(array).tobytes(), digest_size=20).hexdigest()


def index_parameters(sd):
    """value digest -> (key, transform); a collision between two parameters would make the matching ambiguous."""
    index = {}
    for key, t in sd.items():
        a = t.numpy()
        if a.dtype != np.float32:
            continue
        candidates = [(digest(a), "none")]
        if a.ndim == 2:
            candidates.append((digest(a.T), "transpose"))
        for h, transform in candidates:
            if h in index and index[h][0] != key:
                raise SystemExit(f"ambiguous weights: {key} and {index[h][0]} have equal values")
            index.setdefault(h, (key, transform))
    return index


def placed_bytes(sd, key, transform):
    a = sd[key].numpy()
    return np.ascontiguousarray(a.T if transform == "transpose" else a).astype("<f4").tobytes()


def strip(model, sd, component, weights_path=None):
    """Moves every initializer that equals a parameter into `weights.bin` (external data) and returns the manifest.
    With weights_path, also writes that weights.bin from the state dict (for local checks; never shipped)."""
    index = index_parameters(sd)
    tensors, offset, used = [], 0, set()
    out = open(weights_path, "wb") if weights_path else None
    try:
        for init in model.graph.initializer:
            if init.data_type != onnx.TensorProto.FLOAT:
                continue
            a = numpy_helper.to_array(init)
            hit = index.get(digest(a))
            if hit is None:
                if a.size >= 16:
                    print(f"    kept embedded: {init.name} {list(a.shape)} (matches no parameter)", flush=True)
                continue
            key, transform = hit
            data = placed_bytes(sd, key, transform)
            original = a.astype("<f4").tobytes()
            if data != original:  # the check the manifest exists for: loader bytes == exported bytes
                raise SystemExit(f"{init.name}: bytes placed from {key} ({transform}) differ from the export")
            offset = (offset + ALIGN - 1) // ALIGN * ALIGN
            # shape is the initializer's; key_shape the parameter's ("none" with different shapes = same bytes,
            # e.g. GroupNorm scales exported as [C, 1, 1]).
            tensors.append({"initializer": init.name, "key": key, "transform": transform,
                            "shape": [int(d) for d in init.dims], "key_shape": list(sd[key].shape),
                            "offset": offset, "length": len(data)})
            if out:
                out.seek(offset)
                out.write(data)
            init.ClearField("raw_data")
            init.ClearField("float_data")
            init.data_location = onnx.TensorProto.EXTERNAL
            del init.external_data[:]
            for k, v in (("location", "weights.bin"), ("offset", str(offset)), ("length", str(len(data)))):
                entry = init.external_data.add()
                entry.key, entry.value = k, v
            offset += len(data)
            used.add(key)
        total = (offset + ALIGN - 1) // ALIGN * ALIGN
        if out:
            out.truncate(total)
    finally:
        if out:
            out.close()
    # Parameters torch might have embedded in Constant nodes instead of initializers would be lost silently.
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.TENSOR and attr.t.data_type == onnx.TensorProto.FLOAT:
                    if digest(numpy_helper.to_array(attr.t)) in index:
                        raise SystemExit(f"a parameter was exported as Constant node {node.name}")
    missing = sorted(set(sd) - used - {k for k, v in sd.items() if v.dtype != torch.float32})
    if missing:
        raise SystemExit(f"{component}: {len(missing)} parameters appear in no initializer (folded by the export?): "
                         + ", ".join(missing[:10]))
    return {"format": 1, "component": component, "weights_file": "weights.bin", "total_bytes": total, "tensors": tensors}


def write_manifest(path, manifest):
    """One tensor per line: readable diffs, a third of indented JSON's size."""
    head = {k: v for k, v in manifest.items() if k != "tensors"}
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(head)[:-1] + ', "tensors": [\n')
        f.write(",\n".join(json.dumps(t) for t in manifest["tensors"]))
        f.write("\n]}\n")


def export_component(variant, scale, component, seed, out, write_weights):
    started = time.time()
    module = build_module(variant, scale, component, seed)
    sd = state_dict(module, component)
    args, inputs, outputs, axes = export_args(variant, scale, component)
    folder = os.path.join(out, component)
    os.makedirs(folder, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="graphset-", dir=out)
    try:
        with torch.no_grad():
            # Larger than 2 GB (the full UNet): torch writes one external file per tensor in `scratch`.
            torch.onnx.export(module, args, os.path.join(scratch, "model.onnx"), input_names=inputs,
                              output_names=outputs, dynamic_axes=axes, opset_version=OPSET,
                              do_constant_folding=True, custom_opsets={"com.microsoft": 1})
        del module
        gc.collect()
        print(f"  {component}: exported in {time.time() - started:.0f} s", flush=True)
        model = onnx.load(os.path.join(scratch, "model.onnx"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    manifest = strip(model, sd, component, os.path.join(folder, "weights.bin") if write_weights else None)
    onnx.save_model(model, os.path.join(folder, "model.onnx"))
    write_manifest(os.path.join(folder, "weights.json"), manifest)
    if write_weights:
        onnx.checker.check_model(os.path.join(folder, "model.onnx"))
    n_keys = len({t["key"] for t in manifest["tensors"]})
    size = os.path.getsize(os.path.join(folder, "model.onnx"))
    print(f"  {component}: {len(manifest['tensors'])} initializers from {n_keys}/{len(sd)} keys, "
          f"weights.bin {manifest['total_bytes'] / 2**20:,.1f} MiB, model.onnx {size / 2**10:,.0f} KiB "
          f"({time.time() - started:.0f} s)", flush=True)
    del model, sd
    gc.collect()


def strip_by_name(model, shapes, component, scratch):
    """The lazy path's manifest: torch names unfolded parameter initializers after the parameters, so the keys
    come from the names; `Transpose(perm 1,0)` of a parameter (how torch writes nn.Linear on 3-D inputs) is folded
    here into a transposed initializer, as torch's constant folding would. Other initializers are embedded."""
    prefix = KEY_PREFIX.get(component, "")
    inits = {i.name: i for i in model.graph.initializer}
    params = {n for n in inits if prefix + n in shapes}
    consumers = {}
    for node in model.graph.node:
        for x in node.input:
            consumers.setdefault(x, []).append(node)
    folded = {}  # new initializer name -> key
    for node in list(model.graph.node):
        if node.op_type != "Transpose" or node.input[0] not in params:
            continue
        perm = [list(a.ints) for a in node.attribute if a.name == "perm"]
        if len(shapes[prefix + node.input[0]]) != 2 or perm not in ([], [[1, 0]]):
            continue
        name = node.output[0]
        t = onnx.TensorProto(name=name, data_type=onnx.TensorProto.FLOAT, dims=list(shapes[prefix + node.input[0]])[::-1])
        model.graph.initializer.append(t)
        folded[name] = prefix + node.input[0]
        model.graph.node.remove(node)
    still_used = {x for node in model.graph.node for x in node.input}
    tensors, offset = [], 0
    for init in list(model.graph.initializer):
        if init.name in folded:
            key, transform = folded[init.name], "transpose"
        elif init.name in params:
            if init.name not in still_used:
                model.graph.initializer.remove(init)
                continue
            key, transform = prefix + init.name, "none"
        else:
            if init.data_location == onnx.TensorProto.EXTERNAL:  # a large traced constant: embed it
                external_data_helper.load_external_data_for_tensor(init, scratch)
                init.data_location = onnx.TensorProto.DEFAULT
                del init.external_data[:]
            continue
        n = int(np.prod(init.dims)) * 4
        offset = (offset + ALIGN - 1) // ALIGN * ALIGN
        tensors.append({"initializer": init.name, "key": key, "transform": transform, "shape": [int(d) for d in init.dims],
                        "key_shape": list(shapes[key]), "offset": offset, "length": n})
        init.ClearField("raw_data")
        init.data_location = onnx.TensorProto.EXTERNAL
        del init.external_data[:]
        for k, v in (("location", "weights.bin"), ("offset", str(offset)), ("length", str(n))):
            entry = init.external_data.add()
            entry.key, entry.value = k, v
        offset += n
    missing = sorted(set(shapes) - {t["key"] for t in tensors})
    if missing:
        raise SystemExit(f"{component}: {len(missing)} parameters appear in no initializer: " + ", ".join(missing[:10]))
    total = (offset + ALIGN - 1) // ALIGN * ALIGN
    return {"format": 1, "component": component, "weights_file": "weights.bin", "total_bytes": total, "tensors": tensors}


def embed_external_constants(model, base):
    """A >2 GB export stores every tensor in side files, Constant attributes too (SDXL text_encoder_2's causal mask).
    Those are graph constants, not weights: keep them inside the graph, or the shipped graph names a file nobody ships."""
    for node in model.graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR and attr.t.data_location == onnx.TensorProto.EXTERNAL:
                external_data_helper.load_external_data_for_tensor(attr.t, base)
                attr.t.data_location = onnx.TensorProto.DEFAULT
                del attr.t.external_data[:]


def write_weights_bin(path, manifest, values):
    """weights.bin from (key, fp32 tensor) pairs via the manifest (what the importer does)."""
    by_key = {}
    for t in manifest["tensors"]:
        by_key.setdefault(t["key"], []).append(t)
    with open(path, "wb") as f:
        for key, v in values:
            for t in by_key.get(key, []):
                a = v.numpy().T if t["transform"] == "transpose" else v.numpy()
                f.seek(t["offset"])
                f.write(np.ascontiguousarray(a).astype("<f4").tobytes())
        f.truncate(manifest["total_bytes"])


def export_component_lazy(variant, scale, component, seed, out, write_weights):
    """For modules too large to hold twice (the full SDXL UNet, 10.3 GB of fp32): the module is built without
    initialising or randomising its weights, exported without constant folding (no transposed copies), and matched
    by name; torch still touches the parameters while exporting, so the peak is about one copy (11.5 GB RSS for the
    SDXL UNet, 14 min on 2 busy cores). Checked at tiny scale end to end against the torch reference
    (tools/make_checkpoints/check_import.py): the same outputs as the value-matched graphs."""
    started = time.time()
    module = build_module(variant, scale, component, seed, materialize=False).eval()
    prefix = KEY_PREFIX.get(component, "")
    shapes = {prefix + k: tuple(p.shape) for k, p in module.named_parameters()}
    args, inputs, outputs, axes = export_args(variant, scale, component)
    folder = os.path.join(out, component)
    os.makedirs(folder, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="graphset-", dir=out)
    # The untouched parameters read as equal (zeros), and torch's export merges initializers with equal values:
    # switch that pass off, every parameter must keep its own initializer.
    dedup = torch._C._jit_pass_onnx_deduplicate_initializers
    try:
        torch._C._jit_pass_onnx_deduplicate_initializers = lambda graph, params, training: params
        with torch.no_grad():
            torch.onnx.export(module, args, os.path.join(scratch, "model.onnx"), input_names=inputs,
                              output_names=outputs, dynamic_axes=axes, opset_version=OPSET,
                              do_constant_folding=False, custom_opsets={"com.microsoft": 1})
        torch._C._jit_pass_onnx_deduplicate_initializers = dedup
        del module
        gc.collect()
        print(f"  {component}: exported (lazy) in {time.time() - started:.0f} s", flush=True)
        model = onnx.load(os.path.join(scratch, "model.onnx"), load_external_data=False)
        manifest = strip_by_name(model, shapes, component, scratch)
        embed_external_constants(model, scratch)
    finally:
        torch._C._jit_pass_onnx_deduplicate_initializers = dedup
        shutil.rmtree(scratch, ignore_errors=True)
    onnx.save_model(model, os.path.join(folder, "model.onnx"))
    write_manifest(os.path.join(folder, "weights.json"), manifest)
    if write_weights:
        write_weights_bin(os.path.join(folder, "weights.bin"), manifest,
                          seeded_state(build_module(variant, scale, component, seed, materialize=False), component, seed))
        onnx.checker.check_model(os.path.join(folder, "model.onnx"))
    size = os.path.getsize(os.path.join(folder, "model.onnx"))
    print(f"  {component}: {len(manifest['tensors'])} initializers from {len(shapes)} keys (by name), "
          f"weights.bin {manifest['total_bytes'] / 2**20:,.1f} MiB, model.onnx {size / 2**10:,.0f} KiB "
          f"({time.time() - started:.0f} s)", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=["sd15", "sd21", "sdxl", "sdxl_refiner", *INPAINTING], required=True)
    ap.add_argument("--scale", choices=["full", "tiny"], required=True)
    ap.add_argument("--out", required=True, help="the graph set folder (replaced)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--attention", choices=["matmul", "fused"], default="fused",
                    help="fused (default): com.microsoft.MultiHeadAttention in the UNet and VAE; matmul: MatMul + Softmax")
    ap.add_argument("--components", help="comma-separated subset (default: all of the variant's)")
    ap.add_argument("--lazy", action="store_true",
                    help="never materialise the weights: export without constant folding and match by name (for "
                         "the full SDXL UNet); default: build, export with folding, match by value")
    ap.add_argument("--write-weights", action="store_true",
                    help="also write each weights.bin from the seeded weights (a loadable model, for local checks)")
    a = ap.parse_args()
    set_attention(a.attention)
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    started = time.time()
    print(f"graph set {a.variant} ({a.scale}, {a.attention} attention) -> {out}", flush=True)
    arch = architecture_json(a.variant, a.scale)
    arch["attention"] = a.attention
    arch["export"] = "lazy: unfolded, matched by name" if a.lazy else "folded, matched by value"
    arch["seed_of_reference_weights"] = a.seed
    for component in (a.components.split(",") if a.components else components(a.variant)):
        shutil.rmtree(os.path.join(out, component), ignore_errors=True)
        (export_component_lazy if a.lazy else export_component)(a.variant, a.scale, component, a.seed, out, a.write_weights)
    with open(os.path.join(out, "architecture.json"), "w", encoding="utf-8") as f:
        json.dump(arch, f, indent=2)
        f.write("\n")
    print(f"done in {time.time() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
