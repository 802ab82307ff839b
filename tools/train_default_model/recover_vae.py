"""Recover the trained VAE (and tokenizer) from an exported model folder into a run directory.

Checkpoints are not committed, but the exported ONNX graphs hold every VAE weight (fp16-rounded). Re-training
the UNet does not need a new VAE, so this saves the ~30 min VAE stage and the decoder fine-tune: the recovered
weights are the *folded* ones (latent mean/std already inside quant_conv / post_quant_conv), so the run
directory records latent stats mean 0 / std 1/0.18215, which make the folding at export an identity.

How the anonymous initializers (GroupNorm scales exported as `onnx::Mul_123`) are matched: a fresh VAE with the
same structure gets a distinct random value in every parameter, is exported the same way, and each initializer of
that export is matched to the parameter holding the same values; the trained export uses the same names.

Usage: /usr/bin/python3 recover_vae.py --from ../../models/sdblazor-mini --run-dir runs/main
"""
import argparse
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
from export import VaeDecWrap, VaeEncWrap, export_component  # noqa: E402
from models import AutoencoderKL  # noqa: E402


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


def name_map(vae, wrap, args, in_names, out_names):
    """ONNX initializer name -> (torch parameter name, shape) for the given wrapper's export."""
    gen = torch.Generator().manual_seed(0)
    params = dict(vae.named_parameters())
    with torch.no_grad():
        for p in params.values():
            p.copy_(torch.rand(p.shape, generator=gen) + 0.5)
    with tempfile.TemporaryDirectory() as d:
        raw = export_component("probe", wrap, args, in_names, out_names, None, d)
    by_values = {}
    for pname, p in params.items():
        by_values.setdefault(p.detach().numpy().astype(np.float32).tobytes(), pname)
    mapping = {}
    for name, a in initializers(raw).items():
        pname = by_values.get(a.tobytes())
        if pname is not None:
            mapping[name] = pname
    return mapping


def align_anonymous(mapping, trained, comp):
    """Anonymous names (`onnx::Mul_509`) carry a graph-wide node counter that differs between export runs, but
    their order does not: pair the probe's and the trained export's anonymous initializers by rank."""
    def rank(names):
        return sorted(names, key=lambda n: int(n.rsplit("_", 1)[1]))
    probe_anon = rank([n for n in mapping if n.startswith("onnx::")])
    trained_anon = rank([n for n in trained if n.startswith("onnx::") and trained[n].size > 1])
    if len(probe_anon) != len(trained_anon):
        raise SystemExit(f"{comp}: {len(probe_anon)} anonymous parameters in the probe, {len(trained_anon)} exported")
    out = {n: p for n, p in mapping.items() if not n.startswith("onnx::")}
    for pn, tn in zip(probe_anon, trained_anon):
        out[tn] = mapping[pn]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="src", default=os.path.join(REPO, "models", "sdblazor-mini"))
    ap.add_argument("--run-dir", default=os.path.join(RUNS, "main"))
    a = ap.parse_args()
    setup_threads()
    cfg = model_config()["vae"]
    vae = AutoencoderKL(tuple(cfg["ch"]), cfg["z"])
    state = {}
    for comp, wrap, args, inn, outn in (
            ("vae_encoder", VaeEncWrap(vae), (torch.randn(1, 3, 64, 64),), ["sample"], ["latent_parameters"]),
            ("vae_decoder", VaeDecWrap(vae), (torch.randn(1, 4, 8, 8),), ["latent_sample"], ["sample"])):
        mapping = name_map(vae, wrap, args, inn, outn)
        trained = initializers(onnx.load(os.path.join(a.src, comp, "model.onnx")))
        mapping = align_anonymous(mapping, trained, comp)
        for oname, pname in mapping.items():
            if oname not in trained:
                raise SystemExit(f"{comp}: initializer {oname} ({pname}) missing from the trained export")
            state[pname.replace("vae.", "", 1) if pname.startswith("vae.") else pname] = trained[oname]
    expected = dict(vae.named_parameters())
    missing = sorted(set(expected) - set(state))
    if missing:
        raise SystemExit(f"parameters not recovered: {missing}")
    sd = {k: torch.from_numpy(v.reshape(expected[k].shape)) for k, v in state.items()}
    vae.load_state_dict(sd, strict=True)
    os.makedirs(a.run_dir, exist_ok=True)
    # folded weights: stats that make export's folding an identity (sd * 0.18215 == 1, mean 0)
    atomic_save({"model": vae.state_dict(), "config": cfg, "step": 0, "elapsed": 0.0,
                 "recovered_from": os.path.relpath(a.src, REPO),
                 "latent_stats": {"mean": [0.0] * cfg["z"], "std": [1.0 / SCALING_FACTOR] * cfg["z"]}},
                os.path.join(a.run_dir, "vae_final.pt"))
    tok_dst = os.path.join(a.run_dir, "tokenizer")
    if not os.path.exists(os.path.join(tok_dst, "vocab.json")):
        shutil.copytree(os.path.join(a.src, "tokenizer"), tok_dst, dirs_exist_ok=True)
    log(f"recovered VAE ({len(sd)} tensors) and tokenizer from {a.src} into {a.run_dir}")


if __name__ == "__main__":
    main()
