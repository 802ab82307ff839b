"""Golden numbers for LMS img2img (a schedule that starts part-way), from the published formulas.

diffusers' LMSDiscreteScheduler.step: derivative d = (x - x0)/sigma is appended (last 4 kept); the order is
min(step_index + 1, 4) -- the step index counts from the start of the whole schedule, not of this run -- and the
coefficients of that order are zipped with the derivatives held, newest first (zip stops at the shorter list).
Coefficient j = integral from sigma_t to sigma_t+1 of the Lagrange basis polynomial over sigma_t..sigma_t-order+1.
Integrated exactly here with numpy polynomials (diffusers uses scipy quad), in float64.

Inputs: timesteps and sigmas of SD 1.5 LMS at 20 steps from schedulers_sd15_20steps.json (diffusers' own numbers);
the goldens' dummy model eps = scale_model_input(x) * 0.1 * t / 1000; init = ((7i mod 17)/8 - 1);
noise_i = cos(0.11 i); img2img start index = 20 - int(20 * strength); x = init + noise * sigma[start].

Run: /usr/bin/python3 tools/goldens/lms_img2img.py > tests/SdBlazor.Engine.Tests/Fixtures/lms_img2img_sd15_20steps.json
"""
import json
import math
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "..", "tests", "SdBlazor.Engine.Tests", "Fixtures")
entry = next(e for e in json.load(open(os.path.join(fixtures, "schedulers_sd15_20steps.json")))["entries"]
             if e["sampler"] == "LMS" and e["schedule_type"] == "Automatic")
timesteps = np.array(entry["timesteps"], dtype=np.float64)
sigmas = np.array(entry["sigmas"], dtype=np.float64)
steps = len(timesteps)


def coefficient(order, t, j):
    basis = np.poly1d([1.0])
    for k in range(order):
        if k == j:
            continue
        basis = basis * np.poly1d([1.0, -sigmas[t - k]]) / (sigmas[t - j] - sigmas[t - k])
    antiderivative = np.polyint(basis)
    return antiderivative(sigmas[t + 1]) - antiderivative(sigmas[t])


def run(strength):
    start = steps - int(steps * strength)
    init = np.array([(7 * i % 17) / 8 - 1 for i in range(256)], dtype=np.float64)
    noise = np.array([math.cos(0.11 * i) for i in range(256)], dtype=np.float64)
    x = init + noise * sigmas[start]
    derivatives = []
    sums = []
    for index in range(start, steps):
        sigma, t = sigmas[index], timesteps[index]
        eps = x / math.sqrt(sigma * sigma + 1) * (0.1 * t / 1000)
        x0 = x - sigma * eps
        derivatives.append((x - x0) / sigma)
        derivatives = derivatives[-4:]
        order = min(index + 1, 4)
        coefficients = [coefficient(order, index, j) for j in range(order)]
        x = x + sum(c * d for c, d in zip(coefficients, reversed(derivatives)))
        sums.append(float(x.sum()))
    return {"strength": strength, "start_index": start, "final_values": [float(v) for v in x],
            "sum_after_each_step": sums}


print(json.dumps({
    "source": "tools/goldens/lms_img2img.py (diffusers LMSDiscreteScheduler.step order rule, float64)",
    "runs": [run(s) for s in (0.75, 0.5, 0.3, 0.1)],
}, indent=1))
