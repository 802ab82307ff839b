"""Reference for the inpainting pipeline with a 9-channel UNet (issue 32), computed with the torch modules and the
tiny sd15-inpainting checkpoint's weights (fp16 rounded to fp32, as the importer widens them).

A1111's `inpainting_image_conditioning` (modules/processing.py), written independently of the C# code:
  conditioning_mask  = round(mask / 255)                                    [1, 1, H, W]
  conditioning_image = lerp(image, image * (1 - conditioning_mask), inpainting_mask_weight)   image in [-1, 1]
  masked latents     = vae_encoder(conditioning_image).mean * 0.18215       (the distribution's mean: deterministic)
  mask latents       = interpolate(conditioning_mask, size=latent size)     (nearest, torch's default)
  UNet input         = cat([scaled latents, mask latents, masked latents], dim=1)   (diffusers' channel order)
The image is a fixed 128x128 pattern, the mask a rectangle; two mask weights (1.0, A1111's default, and 0.5);
txt2img with an inpainting model conditions on a grey (0.5) image and a full mask (A1111's txt2img_image_conditioning).

Usage: /usr/bin/python3 tools/make_checkpoints/make_inpaint_reference.py --out ref.json
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "make_sd_models"))
from make_checkpoint import round_to  # noqa: E402
from make_graph_set import architecture, build_module  # noqa: E402

VARIANT = "sd15-inpainting"
SIZE = 128
RECT = (40, 24, 88, 72)  # x1, y1, x2, y2 of the white (repaint) area


def image_bytes():
    """RGB, row-major, deterministic and varied (so a wrong crop or channel order shows)."""
    out = []
    for y in range(SIZE):
        for x in range(SIZE):
            out += [(x * 2) % 256, (y * 2) % 256, (x * y) % 256]
    return out


def mask_bytes():
    x1, y1, x2, y2 = RECT
    return [255 if x1 <= x < x2 and y1 <= y < y2 else 0 for y in range(SIZE) for x in range(SIZE)]


def module(component, dtype):
    m = build_module(VARIANT, "tiny", component, 0)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(round_to(p, dtype))
    return m.eval()


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dtype", default="f16")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    text, _, _ = architecture(VARIANT, "tiny")
    encoder, unet = module("vae_encoder", a.dtype), module("unet", a.dtype)
    rgb = torch.tensor(image_bytes(), dtype=torch.float32).reshape(SIZE, SIZE, 3).permute(2, 0, 1)[None]
    image = rgb / 255 * 2 - 1
    mask = torch.round(torch.tensor(mask_bytes(), dtype=torch.float32).reshape(1, 1, SIZE, SIZE) / 255)
    gen = torch.Generator().manual_seed(4321)
    latents = torch.randn(1, 4, SIZE // 8, SIZE // 8, generator=gen)
    hidden = torch.randn(1, 77, text["width"], generator=gen)
    timestep = torch.tensor([500.0])

    def conditioning(source, m, weight):
        masked = torch.lerp(source, source * (1 - m), weight)
        mean = encoder(masked)[:, :4]
        return torch.cat([F.interpolate(m, size=latents.shape[-2:]), mean * 0.18215], dim=1)

    cases = {}
    with torch.no_grad():
        for name, source, m, weight in (("inpaint_weight_1", image, mask, 1.0), ("inpaint_weight_0.5", image, mask, 0.5),
                                        ("txt2img", torch.zeros_like(image), torch.ones_like(mask), 1.0)):
            cond = conditioning(source, m, weight)
            out = unet(torch.cat([latents, cond], dim=1), timestep, hidden)
            cases[name] = {"mask_weight": weight, "conditioning": flat(cond), "out_sample": flat(out)}
    ref = {"variant": VARIANT, "size": SIZE, "rect": RECT, "checkpoint_dtype": a.dtype,
           "image_rgb": image_bytes(), "mask": mask_bytes(), "latents": flat(latents), "hidden": flat(hidden),
           "timestep": 500.0, "note": __doc__.split("\n\n")[1], "cases": cases}
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {a.out} ({os.path.getsize(a.out):,d} bytes)")


if __name__ == "__main__":
    main()
