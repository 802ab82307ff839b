"""Writes Stable-Diffusion-sized ONNX model folders (diffusers ONNX layout) with random weights, for benchmarks.

Timing and memory of ONNX Runtime do not depend on weight values, so the real architectures with random weights
are honest stand-ins for SD 1.5 and SD 2.1 (issue 8). The pictures are noise.

Usage (from the repository root):
  /usr/bin/python3 tools/make_sd_models/make_sd_models.py --variant sd15            # -> .cache/sd-models/sd15
  /usr/bin/python3 tools/make_sd_models/make_sd_models.py --variant sd21            # -> .cache/sd-models/sd21
  /usr/bin/python3 tools/make_sd_models/make_sd_models.py --variant sd15 --scale tiny   # same graph, small widths
"""
import argparse
import gc
import json
import os
import shutil
import sys
import time

import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sd_modules import CLIPTextModel, UNet2DConditionModel, VaeDecoderPart, VaeEncoderPart, n_params, set_attention  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OPSET = 17
INIT_STD = 0.02  # small enough that 20 Euler steps and the VAE decode stay finite; values are irrelevant to timing

# Published parameter counts (diffusers / transformers, as the Hugging Face checkpoints load):
# runwayml/stable-diffusion-v1-5 unet 859,520,964; stabilityai/stable-diffusion-2-1 unet 865,910,724;
# AutoencoderKL 83,653,863 = decoder incl. post_quant_conv 49,490,199 + encoder incl. quant_conv 34,163,664;
# openai/clip-vit-large-patch14 text model 123,060,480; SD 2.1 text_encoder (OpenCLIP ViT-H/14, 23 layers) 340,387,840.
PUBLISHED = {
    ("sd15", "unet"): 859_520_964,
    ("sd21", "unet"): 865_910_724,
    ("sd15", "vae_decoder"): 49_490_199,
    ("sd21", "vae_decoder"): 49_490_199,
    ("sd15", "vae_encoder"): 34_163_664,
    ("sd21", "vae_encoder"): 34_163_664,
    ("sd15", "text_encoder"): 123_060_480,
    ("sd21", "text_encoder"): 340_387_840,
}


def architecture(variant, scale):
    """Hyper-parameters per component; `tiny` keeps every block, layer count and op, with small widths."""
    full = scale == "full"
    if variant == "sd15":
        text = dict(width=768, layers=12, heads=12, inner=3072, act="quick_gelu") if full else \
            dict(width=64, layers=2, heads=4, inner=256, act="quick_gelu")
        unet = dict(block_out_channels=(320, 640, 1280, 1280) if full else (32, 64, 64, 64),
                    heads=(8, 8, 8, 8), linear_projection=False, sample_size=64 if full else 8)
    elif variant == "sd21":
        text = dict(width=1024, layers=23, heads=16, inner=4096, act="gelu") if full else \
            dict(width=96, layers=2, heads=4, inner=384, act="gelu")
        # attention_head_dim (5, 10, 20, 20) is, in diffusers' legacy naming, the number of heads (64-wide heads).
        unet = dict(block_out_channels=(320, 640, 1280, 1280) if full else (32, 64, 64, 64),
                    heads=(5, 10, 20, 20) if full else (2, 4, 4, 4), linear_projection=True,
                    sample_size=96 if full else 8)
    else:
        raise SystemExit(f"unknown variant {variant!r}; use sd15 or sd21")
    vae = dict(block_out_channels=(128, 256, 512, 512) if full else (32, 32, 64, 64))
    return text, unet, vae


def randomize_(module, seed):
    """Deterministic random weights: N(0, INIT_STD) for matrices/kernels and biases, N(1, INIT_STD) for norm scales."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            mean = 1.0 if (p.dim() == 1 and name.endswith("weight")) else 0.0
            p.copy_(torch.randn(p.shape, generator=gen) * INIT_STD + mean)
    return module


def check_params(variant, component, module, scale, counts):
    actual = n_params(module)
    expected = PUBLISHED[(variant, component)]
    counts[component] = actual
    if scale != "full":
        print(f"  {component:13s} {actual:>13,d} parameters (tiny scale; published full size {expected:,d})", flush=True)
        return
    off = (actual - expected) / expected
    print(f"  {component:13s} {actual:>13,d} parameters; published {expected:,d} ({off:+.4%})", flush=True)
    if abs(off) > 0.01:
        raise SystemExit(f"{component}: parameter count {actual:,d} is more than 1 % off the published {expected:,d}")


def export(module, args, path, inputs, outputs, dynamic_axes, external_data):
    """torch.onnx.export into `path`; with external_data, into a scratch folder that `collect_external_data` turns
    into diffusers' layout (call it after dropping the torch module, so the weights are not held twice)."""
    module.eval()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    target = os.path.join(os.path.dirname(path), "_torch_export", "model.onnx") if external_data else path
    os.makedirs(os.path.dirname(target), exist_ok=True)
    started = time.time()
    with torch.no_grad():
        # torch writes models over 2 GB with one external file per tensor next to `target`.
        torch.onnx.export(module, args, target, input_names=inputs, output_names=outputs, dynamic_axes=dynamic_axes,
                          opset_version=OPSET, do_constant_folding=True, custom_opsets={"com.microsoft": 1})
    print(f"    exported {os.path.relpath(target, REPO)} in {time.time() - started:.0f} s", flush=True)
    if not external_data:
        report_size(path)


def collect_external_data(path):
    """Re-saves the scratch export with every weight in one external file, `weights.pb`, as diffusers does."""
    started = time.time()
    scratch = os.path.join(os.path.dirname(path), "_torch_export")
    model = onnx.load(os.path.join(scratch, "model.onnx"))  # loads the external tensors too
    shutil.rmtree(scratch)
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.pb", size_threshold=1024, convert_attribute=False)
    del model
    gc.collect()
    print(f"    collected the weights into weights.pb in {time.time() - started:.0f} s", flush=True)
    report_size(path)


def report_size(path):
    folder = os.path.dirname(path)
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print(f"    wrote {os.path.relpath(folder, REPO)}/ ({size / 2**20:,.1f} MiB)", flush=True)


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def build(variant, scale, out, seed, attention):
    text, unet_cfg, vae_cfg = architecture(variant, scale)
    ctx = text["width"]
    counts = {}

    # ---- text encoder: input_ids int32 [batch, 77] -> last_hidden_state [batch, 77, width], pooler_output
    te = randomize_(CLIPTextModel(width=text["width"], layers=text["layers"], heads=text["heads"],
                                  inner=text["inner"], act=text["act"]), seed)
    check_params(variant, "text_encoder", te, scale, counts)
    export(te, (torch.ones(1, 77, dtype=torch.int32),), os.path.join(out, "text_encoder", "model.onnx"),
           ["input_ids"], ["last_hidden_state", "pooler_output"],
           {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}, "pooler_output": {0: "batch"}}, False)
    del te
    gc.collect()
    write_json(os.path.join(out, "text_encoder", "config.json"), {
        "_class_name": "CLIPTextModel", "architectures": ["CLIPTextModel"], "hidden_size": text["width"],
        "num_hidden_layers": text["layers"], "num_attention_heads": text["heads"],
        "intermediate_size": text["inner"], "max_position_embeddings": 77, "vocab_size": 49408,
        "hidden_act": text["act"], "torch_dtype": "float32", "sdblazor_note": "random weights (tools/make_sd_models)"})

    # ---- UNet: sample [b, 4, h, w], timestep float32 [b], encoder_hidden_states [b, 77, ctx] -> out_sample
    un = randomize_(UNet2DConditionModel(unet_cfg["block_out_channels"], 2, ctx, unet_cfg["heads"],
                                         unet_cfg["linear_projection"]), seed + 1)
    check_params(variant, "unet", un, scale, counts)
    args = (torch.randn(2, 4, 8, 8), torch.tensor([999.0, 999.0]), torch.randn(2, 77, ctx))
    export(un, args, os.path.join(out, "unet", "model.onnx"), ["sample", "timestep", "encoder_hidden_states"],
           ["out_sample"], {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
                            "encoder_hidden_states": {0: "batch", 1: "sequence"},
                            "out_sample": {0: "batch", 2: "height", 3: "width"}}, True)
    del un, args
    gc.collect()
    collect_external_data(os.path.join(out, "unet", "model.onnx"))
    write_json(os.path.join(out, "unet", "config.json"), {
        "_class_name": "UNet2DConditionModel", "sample_size": unet_cfg["sample_size"], "in_channels": 4,
        "out_channels": 4, "block_out_channels": list(unet_cfg["block_out_channels"]), "layers_per_block": 2,
        "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
        "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
        "cross_attention_dim": ctx, "attention_head_dim": list(unet_cfg["heads"]) if variant == "sd21" else unet_cfg["heads"][0],
        "use_linear_projection": unet_cfg["linear_projection"], "flip_sin_to_cos": True, "freq_shift": 0,
        "norm_num_groups": 32, "sdblazor_note": "random weights (tools/make_sd_models)"})

    # ---- VAE: decoder latent_sample [b, 4, h, w] -> sample [b, 3, 8h, 8w]; encoder sample -> latent_parameters (mean, logvar)
    vae_config = {"_class_name": "AutoencoderKL", "sample_size": 768 if variant == "sd21" else 512, "latent_channels": 4,
                  "in_channels": 3, "out_channels": 3, "block_out_channels": list(vae_cfg["block_out_channels"]),
                  "layers_per_block": 2, "norm_num_groups": 32, "scaling_factor": 0.18215,
                  "sdblazor_note": "random weights (tools/make_sd_models)"}
    dec = randomize_(VaeDecoderPart(list(vae_cfg["block_out_channels"])), seed + 2)
    check_params(variant, "vae_decoder", dec, scale, counts)
    export(dec, (torch.randn(1, 4, 8, 8),), os.path.join(out, "vae_decoder", "model.onnx"), ["latent_sample"], ["sample"],
           {"latent_sample": {0: "batch", 2: "height_latent", 3: "width_latent"},
            "sample": {0: "batch", 2: "height", 3: "width"}}, False)
    del dec
    gc.collect()
    write_json(os.path.join(out, "vae_decoder", "config.json"), vae_config)

    enc = randomize_(VaeEncoderPart(list(vae_cfg["block_out_channels"])), seed + 3)
    check_params(variant, "vae_encoder", enc, scale, counts)
    export(enc, (torch.randn(1, 3, 64, 64),), os.path.join(out, "vae_encoder", "model.onnx"), ["sample"], ["latent_parameters"],
           {"sample": {0: "batch", 2: "height", 3: "width"},
            "latent_parameters": {0: "batch", 2: "height_latent", 3: "width_latent"}}, False)
    del enc
    gc.collect()
    write_json(os.path.join(out, "vae_encoder", "config.json"), vae_config)

    # ---- tokenizer: CLIP-format files; token ids only need to be < 49408 for the embedding table, so the
    # default model's small BPE vocabulary serves (the text is never meaningful to random weights).
    shutil.copytree(os.path.join(REPO, "models", "sdblazor-mini", "tokenizer"), os.path.join(out, "tokenizer"))

    base = {"beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False,
            "num_train_timesteps": 1000, "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
            "trained_betas": None}
    if variant == "sd15":
        scheduler = {"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", **base, "prediction_type": "epsilon"}
    else:
        scheduler = {"_class_name": "DDIMScheduler", "_diffusers_version": "0.8.0", **base, "prediction_type": "v_prediction"}
    write_json(os.path.join(out, "scheduler", "scheduler_config.json"), scheduler)

    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
        f.write(f"# {variant} ({scale}) with random weights\n\nGenerated by tools/make_sd_models (seed {seed}) for benchmarks: "
                f"the {'Stable Diffusion 1.5' if variant == 'sd15' else 'Stable Diffusion 2.1'} architecture, fp32, "
                f"{attention} attention in the UNet and VAE, "
                "random weights; the images are noise. Parameter counts:\n\n"
                + "".join(f"- {k}: {v:,d}\n" for k, v in counts.items()))
    # Written last: a folder without model_index.json is incomplete and is regenerated.
    write_json(os.path.join(out, "model_index.json"), {
        "_class_name": "OnnxStableDiffusionPipeline", "_diffusers_version": "0.6.0",
        "feature_extractor": [None, None], "requires_safety_checker": False, "safety_checker": [None, None],
        "scheduler": ["diffusers", scheduler["_class_name"]], "text_encoder": ["diffusers", "OnnxRuntimeModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "OnnxRuntimeModel"],
        "vae_decoder": ["diffusers", "OnnxRuntimeModel"], "vae_encoder": ["diffusers", "OnnxRuntimeModel"]})
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=["sd15", "sd21"], required=True)
    ap.add_argument("--scale", choices=["full", "tiny"], default="full",
                    help="full: the published sizes (default); tiny: the same graph with small widths, for smoke tests")
    ap.add_argument("--out", help="output folder (default .cache/sd-models/<variant>[-tiny] in the repository)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="regenerate even when the folder is complete")
    ap.add_argument("--attention", choices=["matmul", "fused"], default="matmul",
                    help="matmul: MatMul + Softmax as Optimum exports SD (default); fused: ONNX Runtime's "
                         "com.microsoft.MultiHeadAttention (UNet and VAE; the causal text encoder stays matmul)")
    a = ap.parse_args()
    set_attention(a.attention)
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    out = os.path.abspath(a.out or os.path.join(REPO, ".cache", "sd-models", a.variant + ("" if a.scale == "full" else "-tiny")
                                                   + ("" if a.attention == "matmul" else "-fused")))
    if os.path.exists(os.path.join(out, "model_index.json")) and not a.force:
        print(f"{out} is complete (model_index.json present); --force regenerates it")
        return
    partial = out + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    started = time.time()
    print(f"writing {a.variant} ({a.scale}) to {partial}", flush=True)
    build(a.variant, a.scale, partial, a.seed, a.attention)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(partial, out)
    print(f"done: {out} in {time.time() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
