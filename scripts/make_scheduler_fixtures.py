#!/usr/bin/env python3
"""Copies the golden numbers the engine tests need into the test project's fixtures.

Usage: make_scheduler_fixtures.py GOLDENS_DIR OUT_DIR
Reads schedulers_sd15_20steps.json and torch_randn.json (diffusers v0.40.0 / torch reference values) and writes
trimmed copies, so tests never read the shared goldens folder.
"""
import json
import sys

goldens, out = sys.argv[1], sys.argv[2]

with open(f"{goldens}/schedulers_sd15_20steps.json") as f:
    sched = json.load(f)
entries = []
for e in sched["entries"]:
    loop = e["dummy_loop"]
    entries.append({
        "sampler": e["sampler"],
        "schedule_type": e["schedule_type"],
        "diffusers_class": e["diffusers_class"],
        "num_inference_steps": e["num_inference_steps"],
        "order": e["order"],
        "timesteps": e["timesteps"],
        "init_noise_sigma": e["init_noise_sigma"],
        "sigmas": e.get("sigmas"),
        "alphas_cumprod_0_499_999": e["alphas_cumprod_0_499_999"],
        "model_calls": loop["model_calls"],
        "stochastic": loop["stochastic"],
        "final_sum": loop["final_sum"],
        "final_values": loop["final_values"],
        "sum_after_each_step": loop["sum_after_each_step"],
    })
with open(f"{out}/schedulers_sd15_20steps.json", "w") as f:
    json.dump({
        "source": f"diffusers {sched['diffusers']}, torch {sched['torch']}",
        "scheduler_config": sched["scheduler_config"],
        "entries": entries,
    }, f, indent=1)

with open(f"{goldens}/torch_randn.json") as f:
    randn = json.load(f)
records = [{k: r[k] for k in ("seed", "shape", "numel", "first16", "last16", "sum")} for r in randn["records"]]
with open(f"{out}/torch_randn.json", "w") as f:
    json.dump({"source": f"torch {randn['torch']}", "records": records}, f, indent=1)
