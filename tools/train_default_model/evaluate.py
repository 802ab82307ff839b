"""Evaluate the exported model (fp16-rounded weights, torch) on the held-out captions.

20 Euler steps (diffusers EulerDiscreteScheduler semantics), CFG 7.5, fixed seeds; automatic scoring of
background colour, object colour, position (centroid) and shape (bounding-box fill ratio).
Usage: /usr/bin/python3 evaluate.py [--run-dir runs/main] [--out ../../models/sdblazor-mini/eval.json]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from common import REPO, RUNS, log, setup_threads  # noqa: E402
from sampler import sample, to_uint8  # noqa: E402

PALETTE = np.array([data.COLORS[c] for c in data.COLOR_NAMES], np.float32)
ANCHORS = np.array([data.POSITIONS[p] for p in data.POSITION_NAMES], np.float32)
EVAL_SEED = 1000
FILL_THRESHOLDS = (0.64, 0.90)  # triangle ~0.5 | circle ~0.785 | square ~1.0


def nearest_color(rgb):
    return data.COLOR_NAMES[int(np.argmin(((PALETTE - rgb[None]) ** 2).sum(1)))]


def score_image(img):
    """img uint8 HxWx3 -> dict(bg, color, position, shape) predictions."""
    im = img.astype(np.float32)
    border = np.concatenate([im[0], im[-1], im[:, 0], im[:, -1]])
    bg_rgb = np.median(border, axis=0)
    bg = nearest_color(bg_rgb)
    d = np.sqrt(((im - bg_rgb[None, None]) ** 2).sum(-1))
    # object mask: pixels far from the background colour; threshold at half the distance to the farthest pixels
    far = np.percentile(d, 99)
    mask = d > max(far * 0.5, 30.0)
    if mask.sum() < 8:
        return {"background": bg, "color": None, "position": None, "shape": None, "fill": None}
    # keep the largest connected component
    mask = largest_component(mask)
    color = nearest_color(np.median(im[mask], axis=0))
    ys, xs = np.nonzero(mask)
    c = np.array([xs.mean() + 0.5, ys.mean() + 0.5])
    # triangle centroid is lower than its bbox centre: use the bbox centre for position
    bc = np.array([(xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2])
    pos = data.POSITION_NAMES[int(np.argmin(((ANCHORS - bc[None]) ** 2).sum(1)))]
    area = (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1)
    fill = mask.sum() / area
    shape = "triangle" if fill < FILL_THRESHOLDS[0] else ("circle" if fill < FILL_THRESHOLDS[1] else "square")
    return {"background": bg, "color": color, "position": pos, "shape": shape, "fill": float(fill),
            "centroid": c.tolist()}


def largest_component(mask):
    h, w = mask.shape
    lab = np.zeros((h, w), np.int32)
    best, best_n, cur = 0, 0, 0
    for y0 in range(h):
        for x0 in range(w):
            if mask[y0, x0] and not lab[y0, x0]:
                cur += 1
                stack = [(y0, x0)]
                lab[y0, x0] = cur
                n = 0
                while stack:
                    y, x = stack.pop()
                    n += 1
                    for yy, xx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                        if 0 <= yy < h and 0 <= xx < w and mask[yy, xx] and not lab[yy, xx]:
                            lab[yy, xx] = cur
                            stack.append((yy, xx))
                if n > best_n:
                    best, best_n = cur, n
    return lab == best


def score(imgs, combos):
    keys = ["background", "color", "position", "shape"]
    hits = {k: 0 for k in keys}
    rows = []
    for img, (c, s, bg, p) in zip(imgs, combos):
        r = score_image(img)
        ok = {"background": r["background"] == bg, "color": r["color"] == c, "position": r["position"] == p,
              "shape": r["shape"] == s}
        for k in keys:
            hits[k] += int(ok[k])
        rows.append({"caption": data.caption(c, s, bg, p), "pred": r, "ok": ok})
    n = len(combos)
    acc = {k: hits[k] / n for k in keys}
    acc["all_four"] = sum(all(r["ok"].values()) for r in rows) / n
    return acc, rows


def scorer_selfcheck(n_per=1):
    """Accuracy of the scorer itself on ground-truth renders of the held-out combos."""
    _, held = data.split_combos()
    imgs, _ = data.make_set(held, n_per, 5)
    acc, _ = score(imgs, held * n_per)
    return acc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", default=os.path.join(RUNS, "main"))
    ap.add_argument("--out", default=os.path.join(REPO, "models", "sdblazor-mini", "eval.json"))
    ap.add_argument("--seeds-per-caption", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--cfg", type=float, default=7.5)
    ap.add_argument("--save-grid", default=None)
    ap.add_argument("--no-ema", action="store_true")
    a = ap.parse_args()
    setup_threads()
    from export import load_models
    tok, te, un, vae, info = load_models(a.run_dir, use_ema=not a.no_ema)
    _, held = data.split_combos()
    combos, seeds = [], []
    for k in range(a.seeds_per_caption):
        for i, cmb in enumerate(held):
            combos.append(cmb)
            seeds.append(EVAL_SEED + k * 1000 + i)
    t0 = time.time()
    imgs = []
    bs = 48
    for i in range(0, len(combos), bs):
        cc = combos[i:i + bs]
        cond = torch.tensor([tok(data.caption(*c)) for c in cc], dtype=torch.int32)
        unc = torch.tensor([tok("")] * len(cc), dtype=torch.int32)
        img, _ = sample(lambda ids: te(ids)[0], un, vae.decode, cond, unc, seeds[i:i + bs], steps=a.steps, cfg=a.cfg)
        imgs.append(to_uint8(img))
    imgs = np.concatenate(imgs)
    gen_s = time.time() - t0
    acc, rows = score(imgs, combos)
    self_acc = scorer_selfcheck()
    res = {"held_out_captions": len(held), "samples": len(combos), "seeds": f"{EVAL_SEED} + 1000*k + i",
           "sampler": "Euler (diffusers EulerDiscreteScheduler, linspace)", "steps": a.steps, "cfg_scale": a.cfg,
           "accuracy": acc, "targets": {"background": 0.95, "color": 0.85, "position": 0.85, "shape": 0.75},
           "scorer_accuracy_on_ground_truth": self_acc, "train_info": info, "generation_seconds": round(gen_s, 1),
           "weights": "EMA, fp16-rounded (as exported)" if not a.no_ema else "raw, fp16-rounded",
           "per_sample": rows}
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    log(f"eval: {json.dumps(acc)} scorer-on-ground-truth {json.dumps(self_acc)} ({len(combos)} samples, {gen_s:.0f}s)")
    if a.save_grid:
        from PIL import Image
        n = min(len(imgs), 64)
        g = np.zeros((8 * 66, 8 * 66, 3), np.uint8)
        for i in range(n):
            y, x = divmod(i, 8)
            g[y * 66:y * 66 + 64, x * 66:x * 66 + 64] = imgs[i]
        Image.fromarray(g).save(a.save_grid)


if __name__ == "__main__":
    main()
