"""Reference Euler sampler (diffusers EulerDiscreteScheduler semantics, timestep_spacing 'linspace')."""
import numpy as np
import torch

from common import SCALING_FACTOR


# init_noise_sigma: "sqrt" = sqrt(max_sigma^2 + 1) (as specified for the SdBlazor engine, and diffusers
# ~0.17-0.21); "max" = max_sigma (what diffusers >= 0.22 and <= 0.16 return for timestep_spacing linspace/trailing).
# The two differ by 0.23 % (14.6488 vs 14.6146). Parity fixtures use INIT_SIGMA_MODE.
INIT_SIGMA_MODE = "max"


def euler_schedule(steps, init_sigma_mode=None):
    # exactly as diffusers: float32 torch betas / alphas_cumprod
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float32) ** 2
    ac = torch.cumprod(1.0 - betas, dim=0)
    sigmas_all = np.array(((1 - ac) / ac) ** 0.5)
    timesteps = np.linspace(0, 1000 - 1, steps, dtype=float)[::-1].copy()
    sigmas = np.interp(timesteps, np.arange(0, len(sigmas_all)), sigmas_all)
    sigmas = np.concatenate([sigmas, [0.0]])
    sigmas_t = torch.from_numpy(sigmas).to(torch.float32)
    mode = init_sigma_mode or INIT_SIGMA_MODE
    init_noise_sigma = (sigmas_t.max() ** 2 + 1) ** 0.5 if mode == "sqrt" else sigmas_t.max()
    return torch.from_numpy(timesteps).to(torch.float32), sigmas_t, init_noise_sigma


@torch.no_grad()
def sample(text_fn, unet_fn, decode_fn, cond_ids, uncond_ids, seeds, steps=20, cfg=7.5, h=8, w=8):
    """cond_ids/uncond_ids: int32 [n,77]. seeds: list of ints (one per prompt, own generator each).
    text_fn(ids)->hidden; unet_fn(x, t[1], ctx)->eps; decode_fn(latents_div_scaling)->image [-1,1]."""
    n = cond_ids.shape[0]
    timesteps, sigmas, init_sigma = euler_schedule(steps)
    lat = torch.cat([torch.randn([1, 4, h, w], generator=torch.Generator("cpu").manual_seed(int(s))) for s in seeds])
    x = lat * init_sigma
    ctx = text_fn(torch.cat([uncond_ids, cond_ids]))
    for i, t in enumerate(timesteps):
        sigma = sigmas[i]
        xin = x / ((sigma ** 2 + 1) ** 0.5)
        eps = unet_fn(torch.cat([xin, xin]), t.reshape(1), ctx)
        eu, ec = eps[:n], eps[n:]
        eps = eu + cfg * (ec - eu)
        x0 = x - sigma * eps
        der = (x - x0) / sigma
        x = x + der * (sigmas[i + 1] - sigma)
    img = decode_fn(x / SCALING_FACTOR)
    return img, x


def to_uint8(img):
    """[-1,1] NCHW -> uint8 NHWC numpy: clamp((x+1)/2,0,1)*255 rounded."""
    return (torch.clamp((img + 1) / 2, 0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
