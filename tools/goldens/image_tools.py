"""Goldens for variation seeds and latent upscaling, computed with torch itself (CPU generator) and A1111's published
formulas written out here independently (modules/rng.py ImageRNG.first + slerp; torch.nn.functional.interpolate).

Run: /usr/bin/python3 tools/goldens/image_tools.py > tests/SdBlazor.Engine.Tests/Fixtures/image_tools_goldens.json
"""
import json

import torch
import torch.nn.functional as F


def randn(seed, shape):
    return torch.randn(shape, generator=torch.Generator("cpu").manual_seed(seed), dtype=torch.float32)


def slerp(val, low, high):
    # Per image [C, H, W]: norms along dim 1 (H); one angle per (channel, column).
    low_n = low / torch.norm(low, dim=1, keepdim=True)
    high_n = high / torch.norm(high, dim=1, keepdim=True)
    dot = (low_n * high_n).sum(1)
    if dot.mean() > 0.9995:
        return low * val + high * (1 - val)
    omega = torch.acos(dot)
    so = torch.sin(omega)
    return (torch.sin((1.0 - val) * omega) / so).unsqueeze(1) * low + (torch.sin(val * omega) / so).unsqueeze(1) * high


def first_noise(seed, subseed, strength, shape, resize_hw=None):
    c, h, w = shape
    noise_shape = shape if resize_hw is None else (c, resize_hw[0] // 8, resize_hw[1] // 8)
    gen = torch.Generator("cpu").manual_seed(seed)
    sub = randn(subseed, noise_shape) if strength != 0 else None
    noise = randn(seed, noise_shape) if noise_shape != shape else torch.randn(shape, generator=gen)
    if sub is not None:
        noise = slerp(strength, noise, sub)
    if noise_shape != shape:
        x = torch.randn(shape, generator=gen)
        dx = (shape[2] - noise_shape[2]) // 2
        dy = (shape[1] - noise_shape[1]) // 2
        ww = noise_shape[2] if dx >= 0 else noise_shape[2] + 2 * dx
        hh = noise_shape[1] if dy >= 0 else noise_shape[1] + 2 * dy
        tx, ty = max(dx, 0), max(dy, 0)
        sx, sy = max(-dx, 0), max(-dy, 0)
        x[:, ty:ty + hh, tx:tx + ww] = noise[:, sy:sy + hh, sx:sx + ww]
        noise = x
    return noise


def values(t):
    return [float(v) for v in t.flatten()]


cases = []
for seed, subseed, strength, shape, resize in [
    (42, 0, 0.3, (4, 8, 8), None),
    (7, 1234, 0.85, (4, 6, 10), None),
    (42, 0, 0.3, (4, 8, 8), (96, 48)),    # seed noise 12x6 centred into 8x8: crops rows, pads columns
    (3, 5, 0.0, (4, 8, 8), (32, 32)),      # resize only
]:
    cases.append({"seed": seed, "subseed": subseed, "strength": strength, "shape": list(shape),
                  "resize_from_hw": list(resize) if resize else None,
                  "values": values(first_noise(seed, subseed, strength, shape, resize))})

# Near-parallel noises take A1111's fallback: low*val + high*(1-val).
low = randn(11, (4, 8, 8))
high = low * 2 + randn(12, (4, 8, 8)) * 1e-3
parallel = {"val": 0.3, "low": values(low), "high": values(high), "values": values(slerp(0.3, low, high))}

latent = randn(5, (1, 4, 5, 7))
interp = []
for mode in ["bilinear", "bicubic", "nearest", "nearest-exact"]:
    for size in [(10, 14), (8, 11)]:
        kwargs = {} if mode.startswith("nearest") else {"align_corners": False}
        out = F.interpolate(latent, size=size, mode=mode, **kwargs)
        interp.append({"mode": mode, "size": list(size), "values": values(out)})

print(json.dumps({"source": "tools/goldens/image_tools.py (torch " + torch.__version__ + ")",
                  "variation": cases, "parallel": parallel,
                  "latent": {"shape": [4, 5, 7], "values": values(latent)}, "interpolate": interp}))
