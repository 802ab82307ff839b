"""Writes the full-size key map of a variant: for every component and every diffusers/transformers key of its graph
set, the checkpoint key it comes from and how (issue 28). A cross-check for the C# importer's mapping, generated
from ldm_keys.py, the same rules make_checkpoint.py writes checkpoints with.

  {"variant": "sd21v", "components": {"text_encoder": {"text_model.encoder.layers.0.self_attn.q_proj.weight":
     {"from": "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight", "rows": [0, 1024]}, ...}}}

`rows`: take rows [a, b) of the checkpoint tensor (OpenCLIP's fused q/k/v); `op`: "squeeze_1x1" (VAE attention
1x1 conv -> Linear) or "transpose" (OpenCLIP text_projection -> Linear weight). Also lists `ignored`: checkpoint
keys no graph uses.

Usage: /usr/bin/python3 tools/make_checkpoints/make_keymap.py --variant sd15|sd21v|sdxl --out FILE.json
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "make_sd_models"))
import ldm_keys  # noqa: E402
import make_checkpoint  # noqa: E402
from make_graph_set import KEY_PREFIX, architecture, build_module, components  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=sorted(make_checkpoint.GRAPH_VARIANT), required=True)
    ap.add_argument("--scale", choices=["full", "tiny"], default="full")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    gv = make_checkpoint.GRAPH_VARIANT[a.variant]
    _, _, vae_cfg = architecture(gv, a.scale)
    levels = len(vae_cfg["block_out_channels"])
    attn_up = make_checkpoint.unet_attention_up_blocks(a.variant, a.scale)
    result, used = {}, set()
    for comp in components(gv):
        module = build_module(gv, a.scale, comp, 0, materialize=False)
        keys = {KEY_PREFIX.get(comp, "") + k: list(p.shape) for k, p in module.named_parameters()}
        m = {}
        for key, shape in keys.items():
            if comp == "unet":
                e = {"from": "model.diffusion_model." + ldm_keys.unet_key(key, 2, attn_up)}
            elif comp.startswith("vae"):
                name, conv = ldm_keys.vae_key(key, levels)
                e = {"from": "first_stage_model." + name, **({"op": "squeeze_1x1"} if conv else {})}
            elif comp == "text_encoder" and gv in ("sd15", "sdxl"):
                prefix = "cond_stage_model.transformer." if gv == "sd15" else "conditioner.embedders.0.transformer."
                e = {"from": prefix + ldm_keys.text_encoder_clip(key)}
            else:
                prefix = "cond_stage_model.model." if gv == "sd21" else "conditioner.embedders.1.model."
                e = openclip_entry(key, shape, prefix)
            e["shape"] = shape
            m[key] = e
            used.add(e["from"])
        result[comp] = m
    make_checkpoint.DRY_RUN = True
    all_keys = make_checkpoint.checkpoint_tensors(a.variant, a.scale, 0, ema=False)
    missing = sorted(e["from"] for c in result.values() for e in c.values() if e["from"] not in all_keys)
    if missing:
        raise SystemExit(f"mapped from keys the checkpoint lacks: {missing[:5]}")
    out = {"variant": a.variant, "scale": a.scale, "components": result,
           "ignored": sorted(set(all_keys) - used) + ["model_ema.diffusion_model* (LitEma copies, when present)"]}
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=0)
        f.write("\n")
    print(f"wrote {a.out}: {sum(len(c) for c in result.values())} keys, {len(out['ignored']) - 1} ignored checkpoint keys")


def openclip_entry(key, shape, prefix):
    fixed = {"text_model.embeddings.token_embedding.weight": "token_embedding.weight",
             "text_model.embeddings.position_embedding.weight": "positional_embedding",
             "text_model.final_layer_norm.weight": "ln_final.weight", "text_model.final_layer_norm.bias": "ln_final.bias"}
    if key in fixed:
        return {"from": prefix + fixed[key]}
    if key == "text_projection.weight":
        return {"from": prefix + "text_projection", "op": "transpose"}
    parts = key.split(".")
    layer, name, kind = parts[3], ".".join(parts[4:-1]), parts[-1]
    if name in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"):
        w = shape[0]
        i = "qkv".index(name[10])
        return {"from": f"{prefix}transformer.resblocks.{layer}.attn.in_proj_{kind}", "rows": [i * w, (i + 1) * w]}
    return {"from": f"{prefix}transformer.resblocks.{layer}.{ldm_keys._OPENCLIP_LAYER[name]}.{kind}"}


if __name__ == "__main__":
    main()
