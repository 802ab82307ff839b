"""Few-step scheduler goldens (tests/SdBlazor.Engine.Tests/Fixtures/schedulers_few_step.json).

Computed in numpy from the formulas published in diffusers v0.40 (no diffusers import needed):
EulerDiscreteScheduler.set_timesteps with timestep_spacing "trailing" (SD-Turbo / SDXL-Turbo configs) and
LCMScheduler.set_timesteps with original_inference_steps; the Euler dummy loop is the one of
../shared/goldens/README.md (sample0[i] = ((7 i) mod 17)/8 - 1, eps = x * 0.1 t / 1000).
"""
import json
import numpy as np

T = 1000
betas = np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, T, dtype=np.float32) ** 2  # scaled_linear, float32 as torch does
alphas_cumprod = np.cumprod(1.0 - betas.astype(np.float64), axis=0).astype(np.float32)


def euler_trailing(n):
    step_ratio = T / n
    timesteps = np.arange(T, 0, -step_ratio).round().copy().astype(np.float32) - 1
    sigmas = np.array(((1 - alphas_cumprod) / alphas_cumprod) ** 0.5)
    sigmas = np.interp(timesteps, np.arange(0, len(sigmas)), sigmas)
    sigmas = np.concatenate([sigmas, [0.0]]).astype(np.float32)
    init = float(sigmas.max())  # trailing/linspace: sigma_max, not sqrt(sigma_max^2 + 1)
    x = (np.array([((7 * i) % 17) / 8.0 - 1 for i in range(256)], dtype=np.float64)) * init
    for i, t in enumerate(timesteps):
        s = float(sigmas[i])
        inp = x / np.sqrt(s * s + 1)
        eps = inp * np.float32(0.1 * float(t) / 1000)
        x0 = x - s * eps
        x = x + (x - x0) / s * (float(sigmas[i + 1]) - s)
    return {"steps": n, "timesteps": timesteps.tolist(), "sigmas": sigmas.astype(float).tolist(), "init_noise_sigma": init,
            "final_values": x.tolist()}


def lcm(n, original):
    k = T // original
    origin = np.asarray(list(range(1, original + 1))) * k - 1
    origin = origin[::-1].copy()
    idx = np.floor(np.linspace(0, len(origin), num=n, endpoint=False)).astype(np.int64)
    return {"steps": n, "original_inference_steps": original, "timesteps": origin[idx].astype(float).tolist()}


out = {
    "source": "diffusers v0.40 formulas (EulerDiscreteScheduler trailing, LCMScheduler.set_timesteps), numpy float64; see tools/few_step_goldens/make.py",
    "config": {"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "num_train_timesteps": 1000},
    "euler_trailing": [euler_trailing(n) for n in (1, 2, 3, 4)],
    "lcm": [lcm(n, o) for o in (50, 100, 25) for n in (1, 2, 3, 4, 6, 8)],
}
with open("tests/SdBlazor.Engine.Tests/Fixtures/schedulers_few_step.json", "w") as f:
    json.dump(out, f, indent=1)
