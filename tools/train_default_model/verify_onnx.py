"""Run the exported ONNX graphs with the minimal interpreter (onnx_eval.py) and compare with torch.

Usage: /usr/bin/python3 verify_onnx.py [--run-dir runs/main] [--model ../../models/sdblazor-mini] [--fp16 DIR]
Uses batch/height/width different from the export trace to check the dynamic axes.
"""
import argparse
import json
import os
import sys

import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_eval  # noqa: E402
from common import REPO, RUNS, log, setup_threads  # noqa: E402


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", default=os.path.join(RUNS, "main"))
    ap.add_argument("--model", default=os.path.join(REPO, "models", "sdblazor-mini"))
    ap.add_argument("--fp16", default=os.path.join(REPO, "tests", "SdBlazor.Engine.Tests", "Fixtures",
                                                   "sdblazor-mini-fp16"))
    a = ap.parse_args()
    setup_threads()
    from export import load_models
    tok, te, un, vae, info = load_models(a.run_dir)
    g = torch.Generator().manual_seed(0)
    ids = torch.tensor([tok("a red circle on a blue background, top left"), tok(""), tok("a zebra")], dtype=torch.int32)
    ctx = torch.randn(3, 77, 128, generator=g)
    cases = {
        "text_encoder": ({"input_ids": ids}, lambda: te(ids)),
        "unet": ({"sample": torch.randn(3, 4, 8, 16, generator=g), "timestep": torch.tensor([946.42]),
                  "encoder_hidden_states": ctx}, None),
        "vae_encoder": ({"sample": torch.rand(2, 3, 64, 128, generator=g) * 2 - 1}, None),
        "vae_decoder": ({"latent_sample": torch.randn(2, 4, 16, 8, generator=g)}, None),
    }
    ref_fns = {"unet": lambda f: un(f["sample"], f["timestep"], f["encoder_hidden_states"]),
               "vae_encoder": lambda f: vae.encode(f["sample"]),
               "vae_decoder": lambda f: vae.decode(f["latent_sample"]),
               "text_encoder": lambda f: te(f["input_ids"])}
    report = {}
    for name, (feeds, _) in cases.items():
        ref = ref_fns[name](feeds)
        ref = ref if isinstance(ref, tuple) else (ref,)
        for variant, d in (("fp32", a.model), ("fp16", a.fp16)):
            p = os.path.join(d, name, "model.onnx")
            if not os.path.exists(p):
                continue
            m = onnx.load(p)
            f = {k: (v.half() if variant == "fp16" and v.is_floating_point() else v) for k, v in feeds.items()}
            outs = onnx_eval.run(m, f)
            errs = [float((o.float() - r).abs().max()) for o, r in zip(outs, ref)]
            scale = [float(r.abs().max()) for r in ref]
            report[f"{name}/{variant}"] = {"max_abs_err": errs, "ref_max_abs": scale,
                                           "out_dtypes": [str(o.dtype) for o in outs],
                                           "out_shapes": [list(o.shape) for o in outs]}
            log(f"{name} {variant}: max abs err {errs} (ref max {scale}) shapes {[list(o.shape) for o in outs]}")
    with open(os.path.join(a.run_dir, "verify_onnx.json"), "w") as fh:
        json.dump(report, fh, indent=1)


if __name__ == "__main__":
    main()
