"""Reference outputs of the torch modules for a checkpoint written by make_checkpoint.py (issue 28 test fixtures).

The modules get the checkpoint's weights exactly: the same seeded random weights rounded through the stored dtype
(fp16/bf16) back to fp32, as an importer widens them. Fixed small inputs go through the text encoder, the UNet and
the VAE; the JSON holds the inputs and the outputs (full tensors up to 4096 values, else the first 64 values, sum,
mean and mean absolute value), so the C# test can compare the imported model against an independent implementation.

Usage: /usr/bin/python3 tools/make_checkpoints/make_reference.py --variant sd15 --scale tiny --dtype f16 --out ref.json
       [--dump-inputs DIR] (also writes each component's ONNX-runner input file, for local checks)
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "make_sd_models"))
from make_checkpoint import GRAPH_VARIANT, round_to  # noqa: E402
from make_graph_set import architecture, build_module, unet_in_channels  # noqa: E402

FULL_LIMIT = 4096
PROMPT_IDS = [320, 1125, 539, 320, 2368, 530, 518, 2867, 267, 4562, 3365]  # CLIP BPE ids (any ids < 49408 serve)


def values(t):
    return [float(x) for x in t.detach().float().reshape(-1).tolist()]


def summary(t):
    flat = t.detach().double().reshape(-1)
    out = {"shape": list(t.shape)}
    if flat.numel() <= FULL_LIMIT:
        out["data"] = values(t)
    else:
        out["first"] = values(t.reshape(-1)[:64])
    out.update({"sum": float(flat.sum()), "mean": float(flat.mean()), "abs_mean": float(flat.abs().mean())})
    return out


def tensor_input(t, dtype="float32"):
    return {"dtype": dtype, "shape": list(t.shape), "data": [int(x) for x in t.reshape(-1).tolist()] if dtype == "int32" else values(t)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=sorted(GRAPH_VARIANT), required=True)
    ap.add_argument("--scale", choices=["full", "tiny"], default="tiny")
    ap.add_argument("--dtype", choices=["f16", "bf16", "f32"], required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dump-inputs")
    a = ap.parse_args()
    gv = GRAPH_VARIANT[a.variant]
    text, unet_cfg, _ = architecture(gv, a.scale)
    sd2, xl = gv == "sd21", gv == "sdxl"
    gen = torch.Generator().manual_seed(1234)

    ids = [49406] + PROMPT_IDS + [49407]
    ids += [0 if sd2 else 49407] * (77 - len(ids))  # OpenCLIP pads with 0, CLIP-L with the end token
    input_ids = torch.tensor([ids], dtype=torch.int32)
    # 16x16, not 8x8: at 8x8 the lowest UNet level is 1x1 and its 32-group GroupNorm of 32 channels normalises
    # single values (torch refuses it at batch 1; the output would be the norm bias alone).
    sample = torch.randn(1, unet_in_channels(gv), 16, 16, generator=gen)
    timestep = torch.tensor([500.0])
    hidden = torch.randn(1, 77, unet_cfg.get("context_dim", text["width"]), generator=gen)
    latent = torch.randn(1, 4, 4, 4, generator=gen)
    image = (torch.rand(1, 3, 32, 32, generator=gen) * 2 - 1)
    if xl:
        text_embeds = torch.randn(1, unet_cfg["pooled_dim"], generator=gen)
        time_ids = torch.tensor([[512.0, 512.0, 0.0, 0.0, 512.0, 512.0]])  # original size, crop top-left, target size

    def module(component):
        m = build_module(gv, a.scale, component, a.seed)
        with torch.no_grad():
            for p in m.parameters():
                p.copy_(round_to(p, a.dtype))
        return m

    ids2 = torch.tensor([[0 if (i > 0 and x == 49407 and ids[i - 1] == 49407) else x for i, x in enumerate(ids)]],
                        dtype=torch.int32)  # SDXL's second (OpenCLIP) tokenizer pads with 0
    inputs = {
        "text_encoder": {"input_ids": tensor_input(input_ids, "int32")},
        **({"text_encoder_2": {"input_ids": tensor_input(ids2, "int32")}} if xl else {}),
        "unet": {"sample": tensor_input(sample), "timestep": tensor_input(timestep),
                 "encoder_hidden_states": tensor_input(hidden),
                 **({"text_embeds": tensor_input(text_embeds), "time_ids": tensor_input(time_ids)} if xl else {})},
        "vae_decoder": {"latent_sample": tensor_input(latent)},
        "vae_encoder": {"sample": tensor_input(image)},
    }
    outputs = {}
    with torch.no_grad():
        if xl:
            last, pooled, *states = module("text_encoder")(input_ids)
            outputs["text_encoder"] = {"last_hidden_state": summary(last), "pooler_output": summary(pooled),
                                       f"hidden_states.{len(states) - 2}": summary(states[-2])}
            embeds, last, *states = module("text_encoder_2")(ids2)
            outputs["text_encoder_2"] = {"text_embeds": summary(embeds), "last_hidden_state": summary(last),
                                         f"hidden_states.{len(states) - 2}": summary(states[-2])}
            out = module("unet")(sample, timestep, hidden, text_embeds, time_ids)
        else:
            last, pooled = module("text_encoder")(input_ids)
            outputs["text_encoder"] = {"last_hidden_state": summary(last), "pooler_output": summary(pooled)}
            out = module("unet")(sample, timestep, hidden)
        outputs["unet"] = {"out_sample": summary(out)}
        outputs["vae_decoder"] = {"sample": summary(module("vae_decoder")(latent))}
        outputs["vae_encoder"] = {"latent_parameters": summary(module("vae_encoder")(image))}
    ref = {"variant": a.variant, "scale": a.scale, "seed": a.seed, "checkpoint_dtype": a.dtype,
           "note": "outputs of tools/make_sd_models/sd_modules.py with the checkpoint's weights widened to fp32; "
                   "inputs in ONNX input names; vae_decoder takes the latent as the UNet sees it divided by the "
                   "scaling factor already (the graph's input), vae_encoder returns mean and log-variance",
           "inputs": inputs, "outputs": outputs}
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    if a.dump_inputs:
        os.makedirs(a.dump_inputs, exist_ok=True)
        for c, v in inputs.items():
            with open(os.path.join(a.dump_inputs, c + ".json"), "w") as f:
                json.dump(v, f)
    print(f"wrote {a.out} ({os.path.getsize(a.out):,d} bytes)")


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
