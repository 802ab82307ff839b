"""Recover trained weights (VAE, and optionally text encoder + UNet) from an exported model folder into a run directory.

Checkpoints are not committed, but the exported ONNX graphs hold every weight (fp16-rounded; for the text encoder
and UNet the EMA weights). So a later session can continue where the last export stopped:
- VAE: saves the ~30 min VAE stage and the decoder fine-tune. The recovered weights are the *folded* ones (latent
  mean/std already inside quant_conv / post_quant_conv), so the run directory records latent stats mean 0 /
  std 1/0.18215, which make the folding at export an identity.
- text encoder + UNet (`--warm-start`): written as `warm_start.pt`, which train.py's UNet stage starts from
  instead of random weights. An exported UNet without coordinate channels is loaded into the current UNet with
  zero weights for the two coordinate inputs of conv_in, so it computes exactly what was exported at step 0.

How the anonymous initializers (GroupNorm scales exported as `onnx::Mul_123`, Linear weights folded into
transposed `onnx::MatMul_45`) are matched: a fresh module with the same structure gets a distinct random value in
every parameter, is exported the same way, and each initializer of that export is matched to the parameter
holding the same values (or their transpose); the anonymous names' order is the same in the trained export.

Usage: /usr/bin/python3 recover.py --from ../../models/sdblazor-mini --run-dir runs/main [--warm-start]
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO, RUNS, SCALING_FACTOR, atomic_save, log, model_config, setup_threads  # noqa: E402
from export import components, export_component  # noqa: E402
from models import AutoencoderKL, TextEncoder, UNet  # noqa: E402


def initializers(model):
    """name (without the `_fp16` storage suffix) -> float32 numpy array."""
    out = {}
    for init in model.graph.initializer:
        a = numpy_helper.to_array(init)
        if a.dtype.kind != "f":
            continue
        name = init.name[:-5] if init.name.endswith("_fp16") else init.name
        out[name] = a.astype(np.float32)
    return out


def name_map(module, component):
    """ONNX initializer name -> (parameter name, transposed?) for export.py's export of `component` from `module`
    (the same wrapper, example inputs and dynamic axes: static shapes would fold differently)."""
    te, un, vae = (module if component == "text_encoder" else None, module if component == "unet" else None,
                   module if component.startswith("vae") else None)
    wrap, args, in_names, out_names, dyn = components(te, un, vae)[component]
    gen = torch.Generator().manual_seed(0)
    params = dict(module.named_parameters())
    with torch.no_grad():
        for p in params.values():
            p.copy_(torch.rand(p.shape, generator=gen) + 0.5)
    with tempfile.TemporaryDirectory() as d:
        raw = export_component("probe", wrap, args, in_names, out_names, dyn, d)
    by_values = {}
    for pname, p in params.items():
        a = p.detach().numpy().astype(np.float32)
        by_values.setdefault(a.tobytes(), (pname, False))
        if a.ndim == 2:
            by_values.setdefault(np.ascontiguousarray(a.T).tobytes(), (pname, True))
    mapping, shapes = {}, {}
    for name, a in initializers(raw).items():
        shapes[name] = a.shape
        hit = by_values.get(a.tobytes())
        if hit is not None:
            mapping[name] = hit
    return mapping, shapes


def recover_state(module, component, src, prefixes=("",)):
    """The module's parameters as exported in onnx_path (float32 tensors keyed like module.state_dict()); every
    parameter whose name starts with one of `prefixes` must be found."""
    onnx_path = os.path.join(src, component, "model.onnx")
    mapping, probe_shapes = name_map(module, component)
    trained = initializers(onnx.load(onnx_path))
    mapping = align_anonymous(mapping, probe_shapes, trained, component)
    expected = dict(module.named_parameters())
    state = {}
    for oname, (pname, transposed) in mapping.items():
        if oname not in trained:
            raise SystemExit(f"{onnx_path}: initializer {oname} ({pname}) missing from the trained export")
        a = trained[oname].T if transposed else trained[oname]
        state[pname] = torch.from_numpy(np.ascontiguousarray(a).reshape(expected[pname].shape))
    missing = sorted(n for n in set(expected) - set(state) if n.startswith(prefixes))
    if missing:
        raise SystemExit(f"{onnx_path}: parameters not recovered: {missing}")
    return state


def align_anonymous(mapping, probe_shapes, trained, comp):
    """Anonymous names (`onnx::Mul_509`) carry a graph-wide node counter that differs between export runs, but
    their order does not: pair the probe's and the trained export's anonymous float initializers by rank."""
    def rank(names):
        return sorted((n for n in names if n.startswith("onnx::")), key=lambda n: int(n.rsplit("_", 1)[1]))
    probe_anon, trained_anon = rank(probe_shapes), rank(trained)
    if len(probe_anon) != len(trained_anon):
        raise SystemExit(f"{comp}: {len(probe_anon)} anonymous initializers in the probe, {len(trained_anon)} exported")
    out = {n: p for n, p in mapping.items() if not n.startswith("onnx::")}
    for pn, tn in zip(probe_anon, trained_anon):
        if probe_shapes[pn] != trained[tn].shape:
            raise SystemExit(f"{comp}: {pn} {probe_shapes[pn]} pairs with {tn} {trained[tn].shape}")
        if pn in mapping:
            out[tn] = mapping[pn]
    return out


def recover_vae(src, run_dir):
    cfg = model_config()["vae"]
    vae = AutoencoderKL(tuple(cfg["ch"]), cfg["z"])
    state = {}
    state.update(recover_state(vae, "vae_encoder", src, ("encoder.", "quant_conv.")))
    state.update(recover_state(vae, "vae_decoder", src, ("decoder.", "post_quant_conv.")))
    vae.load_state_dict(state, strict=True)
    # folded weights: stats that make export's folding an identity (sd * 0.18215 == 1, mean 0)
    atomic_save({"model": vae.state_dict(), "config": cfg, "step": 0, "elapsed": 0.0,
                 "recovered_from": os.path.relpath(src, REPO),
                 "latent_stats": {"mean": [0.0] * cfg["z"], "std": [1.0 / SCALING_FACTOR] * cfg["z"]}},
                os.path.join(run_dir, "vae_final.pt"))
    log(f"recovered VAE ({len(state)} tensors)")


def recover_text_unet(src, run_dir, vocab_size):
    cfg = model_config()
    te = TextEncoder(vocab_size, cfg["text"]["width"], cfg["text"]["layers"], cfg["text"]["heads"])
    te_state = recover_state(te, "text_encoder", src)
    unet_path = os.path.join(src, "unet", "model.onnx")
    conv_in = next(i for i in onnx.load(unet_path).graph.initializer if i.name.startswith("conv_in.weight"))
    exported_coords = conv_in.dims[1] == 4 + 2
    old = UNet(tuple(cfg["unet"]["ch"]), tuple(cfg["unet"]["attn"]), cfg["unet"]["ctx_dim"], coords=exported_coords)
    un_state = recover_state(old, "unet", src)
    if cfg["unet"]["coords"] and not exported_coords:
        w = un_state["conv_in.weight"]
        un_state["conv_in.weight"] = torch.cat([w, torch.zeros(w.shape[0], 2, *w.shape[2:])], dim=1)
    atomic_save({"te": te_state, "unet": un_state, "recovered_from": os.path.relpath(src, REPO),
                 "coordinate_channels_added": cfg["unet"]["coords"] and not exported_coords},
                os.path.join(run_dir, "warm_start.pt"))
    log(f"recovered text encoder ({len(te_state)} tensors) and UNet ({len(un_state)} tensors; coordinate channels "
        f"{'added with zero weights' if cfg['unet']['coords'] and not exported_coords else 'as exported'})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="src", default=os.path.join(REPO, "models", "sdblazor-mini"))
    ap.add_argument("--run-dir", default=os.path.join(RUNS, "main"))
    ap.add_argument("--warm-start", action="store_true", help="also recover the text encoder and UNet")
    a = ap.parse_args()
    setup_threads()
    os.makedirs(a.run_dir, exist_ok=True)
    tok_dst = os.path.join(a.run_dir, "tokenizer")
    if not os.path.exists(os.path.join(tok_dst, "vocab.json")):
        shutil.copytree(os.path.join(a.src, "tokenizer"), tok_dst, dirs_exist_ok=True)
    recover_vae(a.src, a.run_dir)
    if a.warm_start:
        with open(os.path.join(tok_dst, "vocab.json")) as f:
            vocab_size = len(json.load(f))
        recover_text_unet(a.src, a.run_dir, vocab_size)
    log(f"recovered from {a.src} into {a.run_dir}")


if __name__ == "__main__":
    main()
