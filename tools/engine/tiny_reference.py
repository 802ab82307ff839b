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
CASES = [  # name, prompt, negative prompt, seed, steps, cfg, img2img strength (None: txt2img)
    ("red_cat_euler10_cfg7_5", "a red cat", "", 42, 10, 7.5, None),
    ("dog_euler6_cfg4_negative", "dog", "cat", 1234, 6, 4.0, None),
    ("cat_euler4_cfg1", "cat", "", 7, 4, 1.0, None),
    ("img2img_red_cat_euler10_strength0_6", "a red cat", "", 5, 10, 7.5, 0.6),
]
INIT_IMAGE = "init_image.png"


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


def vae_encoder(image):
    # AveragePool 8×8 then 1×1 conv to mean ‖ logvar (bias −4 on the logvar channels), as TinyModel.VaeEncoder.
    w = (0.5 * torch.cos(torch.arange(24, dtype=torch.float32))).reshape(8, 3, 1, 1)
    bias = torch.tensor([0, 0, 0, 0, -4, -4, -4, -4], dtype=torch.float32)
    return torch.nn.functional.conv2d(torch.nn.functional.avg_pool2d(image, 8), w, bias)


def init_image():
    y, x = np.mgrid[0:64, 0:64]
    return np.stack([x * 3, y * 4, 255 - x * 2], axis=-1).astype(np.uint8)


def euler_schedule(steps):
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float32) ** 2
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
    sigmas = np.array(((1 - alphas_cumprod) / alphas_cumprod) ** 0.5)
    timesteps = np.linspace(0, 999, steps, dtype=np.float32)[::-1].copy()
    sigmas = np.interp(timesteps, np.arange(0, len(sigmas)), sigmas)
    sigmas = torch.from_numpy(np.concatenate([sigmas, [0.0]]).astype(np.float32))
    return torch.from_numpy(timesteps), sigmas, sigmas.max()  # linspace spacing: init_noise_sigma = sigma_max


@torch.no_grad()
def generate(prompt, negative, seed, steps, cfg, strength=None):
    timesteps, sigmas, init_sigma = euler_schedule(steps)
    guidance = cfg > 1
    cond = text_encoder(tokenize(prompt))
    hidden = torch.cat([text_encoder(tokenize(negative)), cond]) if guidance else cond
    generator = torch.Generator("cpu").manual_seed(seed)
    begin = 0
    if strength is None:
        latents = torch.randn([1, 4, 8, 8], generator=generator) * init_sigma
    else:
        # StableDiffusionImg2ImgPipeline: get_timesteps, then prepare_latents (sample the latent distribution with the
        # generator, × scaling factor, then the noise draw, add_noise at the first kept timestep).
        begin = steps - min(int(steps * strength), steps)
        image = torch.from_numpy(init_image()).permute(2, 0, 1)[None].float() / 255 * 2 - 1
        moments = vae_encoder(image)
        mean, logvar = moments[:, :4], torch.clamp(moments[:, 4:], -30.0, 20.0)
        sample = mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=generator)
        init_latents = 0.18215 * sample
        noise = torch.randn(init_latents.shape, generator=generator)
        latents = init_latents + noise * sigmas[begin]
    for i, t in enumerate(timesteps):
        if i < begin:
            continue
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
    Image.fromarray(init_image()).save(os.path.join(OUT, INIT_IMAGE))
    for name, prompt, negative, seed, steps, cfg, strength in CASES:
        Image.fromarray(generate(prompt, negative, seed, steps, cfg, strength)).save(os.path.join(OUT, name + ".png"))
        case = {"prompt": prompt, "negative_prompt": negative, "seed": seed, "steps": steps, "sampler": "Euler",
                "cfg_scale": cfg, "width": 64, "height": 64}
        if strength is not None:
            case.update({"init_image": INIT_IMAGE, "strength": strength})
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(case, f, indent=2)
            f.write("\n")
        print(name)


if __name__ == "__main__":
    main()
