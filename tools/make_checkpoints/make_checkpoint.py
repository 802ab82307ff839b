"""Writes a random-weight single-file Stable Diffusion checkpoint (.safetensors) in the original LDM layout (issue 28).

The weights are the seeded random weights of tools/make_sd_models/make_graph_set.py for the same variant, scale and
seed, renamed to the keys of the released files (`model.diffusion_model.*`, `first_stage_model.*`,
`cond_stage_model.transformer.text_model.*` for SD 1.x, OpenCLIP's `cond_stage_model.model.*` for SD 2.x), so an
importer's output can be compared with the torch modules (make_reference.py) and, at full size, with the key lists
of the real files in shared/data/checkpoint-keys (checked exactly: keys, shapes, dtypes).

Usage (from the repository root):
  /usr/bin/python3 tools/make_checkpoints/make_checkpoint.py --variant sd15 --scale tiny --dtype f16 --out X.safetensors
  /usr/bin/python3 tools/make_checkpoints/make_checkpoint.py --variant sd21v --scale full --dtype f32 --out Y.safetensors
Options: --no-position-ids, --no-ddpm-buffers (also drops model_ema.decay/num_updates), --ema (adds LitEma's
`model_ema.<key without dots>` copies of the UNet with different values, as non-pruned files carry),
--metadata KEY=VALUE (repeatable, into __metadata__), --seed N, --key-list FILE (the check at full size).

safetensors is written by hand (no safetensors package here): 8-byte little-endian header length, a JSON header
{key: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}} padded with spaces to 8 bytes, the data.
"""
import argparse
import gc
import json
import math
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tools", "make_sd_models"))
import ldm_keys  # noqa: E402
from make_graph_set import KEY_PREFIX, architecture, build_module, seeded_state  # noqa: E402
from sd_modules import ClipLayer  # noqa: E402
from make_sd_models import randomize_  # noqa: E402

GRAPH_VARIANT = {"sd15": "sd15", "sd21v": "sd21", "sdxl": "sdxl", "sd15-inpainting": "sd15-inpainting", "sdxl_refiner": "sdxl_refiner"}
DTYPES = {"f16": (torch.float16, "F16"), "bf16": (torch.bfloat16, "BF16"), "f32": (torch.float32, "F32")}
ST_DTYPE = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.int64: "I64", torch.int32: "I32"}
EXTRA_SEED = 4  # OpenCLIP's unused last layer, text_projection; EMA copies use EXTRA_SEED + 1


def round_to(t, dtype):
    """The fp32 values a loader gets after widening the stored `dtype` back to fp32 (what make_reference uses)."""
    return t.to(DTYPES[dtype][0]).to(torch.float32)


def ddpm_buffers():
    """LDM's DDPM schedule buffers (linear_start 0.00085, linear_end 0.012, 1000 steps, v_posterior 0), fp32."""
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    alphas = 1.0 - betas
    ac = torch.cumprod(alphas, 0)
    prev = torch.cat([torch.ones(1, dtype=torch.float64), ac[:-1]])
    post_var = betas * (1.0 - prev) / (1.0 - ac)
    out = {"betas": betas, "alphas_cumprod": ac, "alphas_cumprod_prev": prev,
           "sqrt_alphas_cumprod": ac.sqrt(), "sqrt_one_minus_alphas_cumprod": (1.0 - ac).sqrt(),
           "log_one_minus_alphas_cumprod": (1.0 - ac).log(), "sqrt_recip_alphas_cumprod": (1.0 / ac).sqrt(),
           "sqrt_recipm1_alphas_cumprod": (1.0 / ac - 1).sqrt(), "posterior_variance": post_var,
           "posterior_log_variance_clipped": post_var.clamp(min=1e-20).log(),
           "posterior_mean_coef1": betas * prev.sqrt() / (1.0 - ac),
           "posterior_mean_coef2": (1.0 - prev) * alphas.sqrt() / (1.0 - ac)}
    out = {k: v.float() for k, v in out.items()}
    out["model_ema.decay"] = torch.tensor(0.9999, dtype=torch.float32)
    out["model_ema.num_updates"] = torch.tensor(0, dtype=torch.int32)
    return out


def unet_attention_up_blocks(variant, scale):
    """Indices of the up blocks that have transformers (their upsampler sits in slot 2 of the output block)."""
    _, u, _ = architecture(GRAPH_VARIANT[variant], scale)
    n = len(u["block_out_channels"])
    if "depths" in u:  # SDXL: UpBlock2D last
        return {i for i in range(n) if u["depths"][n - 1 - i]}
    return set(range(1, n))  # SD 1.x/2.x: UpBlock2D first, then CrossAttnUpBlock2D


DRY_RUN = False  # --dry-run: keys and shapes only (uninitialised, untouched memory), for the key-list check


def component_state(gv, scale, component, seed):
    """(key, fp32 value) of a component's seeded weights, generated one tensor at a time (make_graph_set's values)."""
    module = build_module(gv, scale, component, seed, materialize=False)
    if DRY_RUN:
        prefix = KEY_PREFIX.get(component, "")
        return ((prefix + k, torch.empty(p.shape)) for k, p in module.named_parameters())
    return seeded_state(module, component, seed)


def checkpoint_tensors(variant, scale, seed, store=torch.float32, position_ids=True, ddpm=True, ema=False):
    """key -> tensor in the LDM/SGM layout, floats stored as `store`; one tensor in fp32 at a time, so a full-size
    SDXL file needs about its own size in memory."""
    gv = GRAPH_VARIANT[variant]
    text, unet_cfg, vae_cfg = architecture(gv, scale)
    out = {}

    def put(key, t):
        if DRY_RUN:
            out[key] = torch.empty(t.shape, dtype=store) if t.is_floating_point() else t
        else:
            out[key] = t.to(store) if t.is_floating_point() else t

    # ---- UNet
    attn_up = unet_attention_up_blocks(variant, scale)
    gen = torch.Generator().manual_seed(seed + EXTRA_SEED + 1)
    for k, t in component_state(gv, scale, "unet", seed):
        rest = ldm_keys.unet_key(k, 2, attn_up)
        put("model.diffusion_model." + rest, t)
        if ema:  # LitEma's names: the module path without dots; values differ so a loader that takes them is caught
            put("model_ema.diffusion_model" + rest.replace(".", ""), t + torch.randn(t.shape, generator=gen) * 0.01)
    # ---- VAE: one first_stage_model from the decoder and encoder modules
    levels = len(vae_cfg["block_out_channels"])
    for comp in ("vae_encoder", "vae_decoder"):
        for k, t in component_state(gv, scale, comp, seed):
            name, conv = ldm_keys.vae_key(k, levels)
            put("first_stage_model." + name, t[:, :, None, None].contiguous() if conv else t)
    # ---- text encoders
    clip_prefix = {"sd15": "cond_stage_model.transformer.", "sd15-inpainting": "cond_stage_model.transformer.",
                   "sdxl": "conditioner.embedders.0.transformer."}
    if variant in clip_prefix:
        for k, t in component_state(gv, scale, "text_encoder", seed):
            put(clip_prefix[variant] + ldm_keys.text_encoder_clip(k), t)
        if position_ids:
            put(clip_prefix[variant] + "text_model.embeddings.position_ids", torch.arange(77, dtype=torch.int64)[None])
    # The SGM refiner's only embedder is bigG, so it is embedders.0 there (sd_xl_refiner.yaml's conditioner).
    openclip = {"sd21v": ("text_encoder", "cond_stage_model.model."), "sdxl": ("text_encoder_2", "conditioner.embedders.1.model."),
                "sdxl_refiner": ("text_encoder_2", "conditioner.embedders.0.model.")}
    if variant in openclip:
        comp, prefix = openclip[variant]
        # Held whole (q, k and v are concatenated): in the stored dtype already, so SDXL's bigG costs 1.4 GB, not 2.8.
        sd = {k: t.to(store) for k, t in component_state(gv, scale, comp, seed)}
        if variant == "sd21v":
            # The released OpenCLIP ViT-H tower has one more layer than SD 2.x uses (it takes the penultimate
            # output) and the text projection: random here, unused by the engine.
            extra = randomize_(ClipLayer(text["width"], text["heads"], text["inner"], text["act"]), seed + EXTRA_SEED)
            for k, t in extra.state_dict().items():
                sd[f"text_model.encoder.layers.{text['layers']}.{k}"] = t.detach().to(store)
            g = torch.Generator().manual_seed(seed + EXTRA_SEED)
            sd["text_projection.weight"] = (torch.randn(text["width"], text["width"], generator=g) * 0.02).to(store)
        for k, t in ldm_keys.text_encoder_openclip(sd).items():
            put(prefix + k, t)
        del sd
        put(prefix + "logit_scale", torch.tensor(math.log(1 / 0.07), dtype=torch.float32))
    if ddpm and variant not in ("sdxl", "sdxl_refiner"):  # SGM checkpoints carry no DDPM buffers
        for k, t in ddpm_buffers().items():
            put(k, t)
    gc.collect()
    return out


def write_safetensors(path, tensors, metadata):
    keys = sorted(tensors)
    header, offset = {}, 0
    for k in keys:
        t = tensors[k]
        n = t.numel() * t.element_size()
        header[k] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + n]}
        offset += n
    header["__metadata__"] = metadata
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for k in keys:
            t = tensors[k].contiguous()
            # numpy has no bfloat16: write its bits through int16 (x86 and the file are little-endian).
            f.write((t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes())
    os.replace(tmp, path)


def check_key_list(tensors, key_list, position_ids, ddpm, ema, float_dtype):
    """At full size: the key set, shapes and dtypes of the released file, less the keys the flags leave out; its
    float tensors are expected in `float_dtype` (the released SD 1.5/2.1 files are F32, SDXL F16), the integer
    ones (position_ids I64, model_ema.num_updates I32) exactly."""
    ref = json.load(open(key_list))["tensors"]
    optional = set()
    if not position_ids:
        optional |= {k for k in ref if k.endswith("position_ids")}
    if not ddpm:
        optional |= set(ddpm_buffers())  # (SDXL has none)
    floats = ("F16", "BF16", "F32")
    want = {k: {"shape": v["shape"], "dtype": float_dtype if v["dtype"] in floats else v["dtype"]}
            for k, v in ref.items() if k not in optional}
    have = {k: {"shape": list(t.shape), "dtype": ST_DTYPE[t.dtype]} for k, t in tensors.items()
            if not (ema and k.startswith("model_ema.diffusion_model"))}
    missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
    wrong = [k for k in want if k in have and have[k] != want[k]]
    if missing or extra or wrong:
        raise SystemExit(f"key list mismatch: {len(missing)} missing {missing[:5]}, {len(extra)} extra {extra[:5]}, "
                         f"{len(wrong)} wrong {[(k, have[k], want[k]) for k in wrong[:5]]}")
    print(f"  matches {os.path.relpath(key_list, REPO)}: {len(want)} keys, shapes and dtypes", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=sorted(GRAPH_VARIANT), required=True)
    ap.add_argument("--scale", choices=["full", "tiny"], required=True)
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="f16")
    ap.add_argument("--no-position-ids", action="store_true")
    ap.add_argument("--no-ddpm-buffers", action="store_true")
    ap.add_argument("--ema", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--key-list", help="default at full size: ../shared/data/checkpoint-keys/<variant>.json")
    ap.add_argument("--out", help="required unless --dry-run")
    ap.add_argument("--dry-run", action="store_true", help="build keys and shapes only and run the key-list check")
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    global DRY_RUN
    DRY_RUN = a.dry_run
    if not (a.out or a.dry_run):
        ap.error("--out is required")
    tensors = checkpoint_tensors(a.variant, a.scale, a.seed, DTYPES[a.dtype][0], not a.no_position_ids,
                                 not a.no_ddpm_buffers, a.ema)
    if a.scale == "full":
        key_list = a.key_list or os.path.join(REPO, "..", "shared", "data", "checkpoint-keys", a.variant + ".json")
        if not os.path.exists(key_list):
            key_list = os.path.join("/work/shared/data/checkpoint-keys", a.variant + ".json")
        check_key_list(tensors, key_list, not a.no_position_ids, not a.no_ddpm_buffers, a.ema, DTYPES[a.dtype][1])
    if a.dry_run:
        print(f"dry run: {len(tensors)} tensors, {sum(t.numel() for t in tensors.values()):,d} elements", flush=True)
        return
    metadata = {"format": "pt", "sdblazor": f"random weights: tools/make_checkpoints {a.variant} {a.scale} seed {a.seed}"}
    for kv in a.metadata:
        k, _, v = kv.partition("=")
        metadata[k] = v
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    write_safetensors(a.out, tensors, metadata)
    n = sum(t.numel() for t in tensors.values())
    print(f"wrote {a.out}: {len(tensors)} tensors, {n:,d} elements, {os.path.getsize(a.out):,d} bytes", flush=True)


if __name__ == "__main__":
    main()
