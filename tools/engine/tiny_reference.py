"""Torch reference for the engine's tiny test model (tests/SdBlazor.Engine.Tests/TestModels/TinyModel.cs).

Re-implements the tiny graphs' maths in torch and samples with diffusers' EulerDiscreteScheduler semantics
(linspace spacing, init_noise_sigma = sigma_max, scale_model_input, CFG over [uncond, cond], step), noise from
torch.Generator('cpu').manual_seed(seed), VAE decode of latents / 0.18215, then diffusers' uint8 conversion.
Writes tests/SdBlazor.Engine.Tests/Fixtures/tiny_parity/<name>.png + .json, which TinyParityTests compares with
the C# pipeline's output.

Usage: /usr/bin/python3 tools/engine/tiny_reference.py
"""
import json
import os

import numpy as np
import torch
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(REPO, "tests", "SdBlazor.Engine.Tests", "Fixtures", "tiny_parity")
HIDDEN = 8
MERGES = ["c a", "ca t</w>", "d o", "do g</w>", "r e", "re d</w>"]  # TinyClipVocabulary.Merges
CASES = [
    ("red_cat_euler10_cfg7_5", "a red cat", "", 42, 10, 7.5),
    ("dog_euler6_cfg4_negative", "dog", "cat", 1234, 6, 4.0),
    ("cat_euler4_cfg1", "cat", "", 7, 4, 1.0),
]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


VOCAB = bytes_to_unicode()
VOCAB = VOCAB + [v + "</w>" for v in VOCAB] + [m.replace(" ", "") for m in MERGES] + ["<|startoftext|>", "<|endoftext|>"]
IDS = {t: i for i, t in enumerate(VOCAB)}


def tokenize(prompt):
    # The cases use words the merges turn into single tokens (or none): enough for a pipeline reference.
    words = prompt.lower().split()
    ids = [IDS["<|startoftext|>"]] + [IDS[w + "</w>"] for w in words] + [IDS["<|endoftext|>"]]
    return ids + [IDS["<|endoftext|>"]] * (77 - len(ids))


def text_encoder(ids):
    i = torch.arange(len(VOCAB), dtype=torch.float32)[:, None]
    j = torch.arange(HIDDEN, dtype=torch.float32)[None, :]
    table = torch.sin(0.37 * i + 1.3 * j)
    return table[torch.tensor(ids)][None]  # [1, 77, 8]


def unet(sample, t, hidden):
    ctx = hidden.mean(dim=(1, 2)).reshape(-1, 1, 1, 1)
    return 0.5 * sample + 0.1 * torch.sin(sample) + ctx + t.reshape(-1, 1, 1, 1) * 0.001


def vae_decoder(latents):
    w = torch.tensor([0.3, 0.2, -0.1, -0.2, 0.1, 0.4, 0.1, -0.2, 0.2, -0.1, 0.3, -0.6], dtype=torch.float32).reshape(3, 4, 1, 1)
    rgb = torch.nn.functional.conv2d(latents, w)
    return torch.tanh(torch.nn.functional.interpolate(rgb, scale_factor=8, mode="nearest"))


def euler_schedule(steps):
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float32) ** 2
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
    sigmas = np.array(((1 - alphas_cumprod) / alphas_cumprod) ** 0.5)
    timesteps = np.linspace(0, 999, steps, dtype=np.float32)[::-1].copy()
    sigmas = np.interp(timesteps, np.arange(0, len(sigmas)), sigmas)
    sigmas = torch.from_numpy(np.concatenate([sigmas, [0.0]]).astype(np.float32))
    return torch.from_numpy(timesteps), sigmas, sigmas.max()  # linspace spacing: init_noise_sigma = sigma_max


@torch.no_grad()
def generate(prompt, negative, seed, steps, cfg):
    timesteps, sigmas, init_sigma = euler_schedule(steps)
    guidance = cfg > 1
    cond = text_encoder(tokenize(prompt))
    hidden = torch.cat([text_encoder(tokenize(negative)), cond]) if guidance else cond
    latents = torch.randn([1, 4, 8, 8], generator=torch.Generator("cpu").manual_seed(seed)) * init_sigma
    for i, t in enumerate(timesteps):
        sigma = sigmas[i]
        x = latents / ((sigma ** 2 + 1) ** 0.5)
        x = torch.cat([x, x]) if guidance else x
        eps = unet(x, t.reshape(1), hidden)
        if guidance:
            uncond, text = eps.chunk(2)
            eps = uncond + cfg * (text - uncond)
        x0 = latents - sigma * eps
        derivative = (latents - x0) / sigma
        latents = latents + derivative * (sigmas[i + 1] - sigma)
    image = vae_decoder(latents / 0.18215)
    image = (image / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).numpy()
    return (image * 255).round().astype("uint8")[0]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, prompt, negative, seed, steps, cfg in CASES:
        Image.fromarray(generate(prompt, negative, seed, steps, cfg)).save(os.path.join(OUT, name + ".png"))
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump({"prompt": prompt, "negative_prompt": negative, "seed": seed, "steps": steps, "sampler": "Euler",
                       "cfg_scale": cfg, "width": 64, "height": 64}, f, indent=2)
            f.write("\n")
        print(name)


if __name__ == "__main__":
    main()
