"""Parity reference images for the C# engine, computed in torch with the exported (fp16-rounded) weights.

Usage: /usr/bin/python3 parity.py [--run-dir runs/main] [--out ../../tests/SdBlazor.Engine.Tests/Fixtures/parity]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO, RUNS, log, setup_threads  # noqa: E402
from sampler import sample, to_uint8  # noqa: E402

CASES = [
    ("red_circle_top_left_euler20", "a red circle on a blue background, top left", 42, 20),
    ("yellow_triangle_center_euler20", "a yellow triangle on a purple background, center", 1234, 20),
    ("white_square_bottom_right_euler8", "a white square on a black background, bottom right", 7, 8),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", default=os.path.join(RUNS, "main"))
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "SdBlazor.Engine.Tests", "Fixtures", "parity"))
    a = ap.parse_args()
    setup_threads()
    from export import load_models
    tok, te, un, vae, info = load_models(a.run_dir)
    os.makedirs(a.out, exist_ok=True)
    for name, prompt, seed, steps in CASES:
        cond = torch.tensor([tok(prompt)], dtype=torch.int32)
        unc = torch.tensor([tok("")], dtype=torch.int32)
        img, lat = sample(lambda ids: te(ids)[0], un, vae.decode, cond, unc, [seed], steps=steps, cfg=7.5)
        u8 = to_uint8(img)[0]
        Image.fromarray(u8).save(os.path.join(a.out, name + ".png"))
        case = {"prompt": prompt, "negative_prompt": "", "seed": seed, "steps": steps, "sampler": "Euler",
                "cfg_scale": 7.5, "width": 64, "height": 64}
        with open(os.path.join(a.out, name + ".json"), "w") as f:
            json.dump(case, f, indent=2)
            f.write("\n")
        log(f"parity {name}: mean pixel {u8.reshape(-1, 3).mean(0).round(1).tolist()} "
            f"final latent abs-mean {float(lat.abs().mean()):.4f}")


if __name__ == "__main__":
    main()
