"""Checks a checkpoint against a graph set the way the app's importer uses them: reads the .safetensors (by hand),
finds each manifest key's tensor under its LDM/OpenCLIP name (ldm_keys), widens it to fp32, applies the transform
and writes `weights.bin` into a copy of the graph set; optionally runs each component with an ONNX Runtime runner
(a program taking `model.onnx inputs.json outputs.json`) and compares with make_reference.py's JSON.

Usage: /usr/bin/python3 tools/make_checkpoints/check_import.py --checkpoint X.safetensors --graphs DIR --family sd1|sd2
           --out MODEL_DIR [--reference ref.json --runner /path/to/ortcheck]
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ldm_keys  # noqa: E402

NP = {"F16": np.float16, "F32": np.float32, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=base)
    header.pop("__metadata__", None)
    out = {}
    for k, v in header.items():
        b, e = v["data_offsets"]
        raw = data[b:e]
        if v["dtype"] == "BF16":
            a = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            a = raw.view(NP[v["dtype"]])
        out[k] = a.reshape(v["shape"])
    return out


def ldm_tensor(ckpt, component, key, family, levels, attn_up):
    """The checkpoint tensor (fp32, diffusers shape) for a manifest key."""
    if component == "unet":
        return ckpt["model.diffusion_model." + ldm_keys.unet_key(key, 2, attn_up)]
    if component.startswith("vae"):
        name, conv = ldm_keys.vae_key(key, levels)
        t = ckpt["first_stage_model." + name]
        return t[:, :, 0, 0] if conv else t
    if family == "sd1":
        return ckpt["cond_stage_model.transformer." + ldm_keys.text_encoder_clip(key)]
    if family == "sdxl" and component == "text_encoder":
        return ckpt["conditioner.embedders.0.transformer." + ldm_keys.text_encoder_clip(key)]
    # OpenCLIP: reverse of text_encoder_openclip, q/k/v are thirds of in_proj
    p = "cond_stage_model.model." if family == "sd2" else "conditioner.embedders.1.model."
    if key == "text_projection.weight":
        return ckpt[p + "text_projection"].T
    fixed = {"text_model.embeddings.token_embedding.weight": "token_embedding.weight",
             "text_model.embeddings.position_embedding.weight": "positional_embedding",
             "text_model.final_layer_norm.weight": "ln_final.weight", "text_model.final_layer_norm.bias": "ln_final.bias"}
    if key in fixed:
        return ckpt[p + fixed[key]]
    parts = key.split(".")
    layer, name, kind = parts[3], ".".join(parts[4:-1]), parts[-1]
    if name in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"):
        fused = ckpt[f"{p}transformer.resblocks.{layer}.attn.in_proj_{kind}"]
        w = fused.shape[0] // 3
        i = "qkv".index(name[10])
        return fused[i * w:(i + 1) * w]
    return ckpt[f"{p}transformer.resblocks.{layer}.{ldm_keys._OPENCLIP_LAYER[name]}.{kind}"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--graphs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reference")
    ap.add_argument("--runner")
    a = ap.parse_args()
    arch = json.load(open(os.path.join(a.graphs, "architecture.json")))
    family = arch["family"]
    levels = len(arch["config"]["vae"]["block_out_channels"])
    u = arch["config"]["unet"]
    n = len(u["block_out_channels"])
    depths = u.get("transformer_layers_per_block")
    attn_up = {i for i in range(n) if depths[n - 1 - i]} if depths else set(range(1, n))
    ckpt = read_safetensors(a.checkpoint)
    shutil.rmtree(a.out, ignore_errors=True)
    shutil.copytree(a.graphs, a.out)
    ref = json.load(open(a.reference)) if a.reference else None
    worst = {}
    for component in arch["components"]:
        folder = os.path.join(a.out, component)
        manifest = json.load(open(os.path.join(folder, "weights.json")))
        with open(os.path.join(folder, manifest["weights_file"]), "wb") as f:
            for t in manifest["tensors"]:
                v = np.asarray(ldm_tensor(ckpt, component, t["key"], family, levels, attn_up), dtype=np.float32)
                if t["transform"] == "transpose":
                    v = v.T
                data = np.ascontiguousarray(v).astype("<f4").tobytes()
                assert len(data) == t["length"] and v.size == int(np.prod(t["shape"])), t
                f.seek(t["offset"])
                f.write(data)
            f.truncate(manifest["total_bytes"])
        if not (ref and a.runner):
            continue
        with open(os.path.join(folder, "_inputs.json"), "w") as f:
            json.dump(ref["inputs"][component], f)
        subprocess.run([a.runner, os.path.join(folder, "model.onnx"), os.path.join(folder, "_inputs.json"),
                        os.path.join(folder, "_outputs.json")], check=True)
        got = json.load(open(os.path.join(folder, "_outputs.json")))
        for name, want in ref["outputs"][component].items():
            g = np.asarray(got[name]["data"], dtype=np.float64)
            assert list(got[name]["shape"]) == want["shape"], (name, got[name]["shape"], want["shape"])
            if "data" in want:
                w = np.asarray(want["data"])
                err = float(np.max(np.abs(g - w)))
            else:
                w = np.asarray(want["first"])
                err = max(float(np.max(np.abs(g[:64] - w))), abs(float(g.mean()) - want["mean"]),
                          abs(float(np.abs(g).mean()) - want["abs_mean"]))
            scale = float(np.max(np.abs(w)))
            worst[f"{component}.{name}"] = (err, scale)
            print(f"  {component}.{name}: max |onnx - torch| {err:.3g} (values up to {scale:.3g})", flush=True)
    if worst:
        bad = {k: v for k, v in worst.items() if v[0] > 1e-3 * max(1.0, v[1])}
        if bad:
            raise SystemExit(f"mismatch: {bad}")
        print("all components match the torch reference", flush=True)


if __name__ == "__main__":
    main()
