"""Export trained checkpoints to the diffusers ONNX layout (models/sdblazor-mini) + fp16 test fixture.

Usage: /usr/bin/python3 export.py [--run-dir runs/main] [--out ../../models/sdblazor-mini] [--fp16-out DIR]
"""
import argparse
import copy
import json
import os
import shutil
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from common import REPO, RUNS, SCALING_FACTOR, log, model_config, setup_threads  # noqa: E402
from models import AutoencoderKL, TextEncoder, UNet, n_params  # noqa: E402
import tokenizer as tk  # noqa: E402

OPSET = 17
SCHEDULER_CONFIG = {
    "_class_name": "PNDMScheduler",
    "_diffusers_version": "0.6.0",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "num_train_timesteps": 1000,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
}


# ------------------------------------------------------------------ loading + folding
def round_fp16_(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.half().float())
    return module


def load_models(run_dir, use_ema=True):
    """Returns (tokenizer, text_encoder, unet, vae_folded) in eval mode, weights rounded to fp16 values.
    vae_folded has the dataset latent mean/std folded into quant_conv / post_quant_conv so that
    encoder_mean * 0.18215 is normalised and decode takes latents / 0.18215."""
    cfg = model_config()
    tok = tk.Tokenizer.load(os.path.join(run_dir, "tokenizer"))
    s = torch.load(os.path.join(run_dir, "unet_final.pt" if os.path.exists(os.path.join(run_dir, "unet_final.pt"))
                                else "unet_ckpt.pt"))
    te = TextEncoder(len(tok.encoder), cfg["text"]["width"], cfg["text"]["layers"], cfg["text"]["heads"])
    un = UNet(tuple(cfg["unet"]["ch"]), tuple(cfg["unet"]["attn"]), cfg["unet"]["ctx_dim"],
              coords=cfg["unet"]["coords"])
    te.load_state_dict(s["ema_te" if use_ema else "te"])
    un.load_state_dict(s["ema_unet" if use_ema else "unet"])
    info = {"unet_step": s["step"], "unet_minutes": s["elapsed"] / 60}
    vae_file = next(f for f in ("vae_decft_final.pt", "vae_decft_ckpt.pt", "vae_final.pt")
                    if os.path.exists(os.path.join(run_dir, f)))
    vs = torch.load(os.path.join(run_dir, vae_file))
    vae = AutoencoderKL(tuple(vs["config"]["ch"]), vs["config"]["z"])
    vae.load_state_dict(vs["model"])
    info.update({"vae_file": vae_file, "vae_step": vs["step"], "vae_minutes": vs["elapsed"] / 60})
    lat = torch.load(os.path.join(run_dir, "latents.pt"))
    fold_latent_stats_(vae, lat["latent_mean"], lat["latent_std"])
    for m in (te, un, vae):
        m.eval()
        round_fp16_(m)
    return tok, te, un, vae, info


def fold_latent_stats_(vae, mu, sd):
    z = vae.z
    s = (sd * SCALING_FACTOR).double()
    mu = mu.double()
    with torch.no_grad():
        qw, qb = vae.quant_conv.weight.double(), vae.quant_conv.bias.double()
        qw[:z] = qw[:z] / s[:, None, None, None]
        qb[:z] = (qb[:z] - mu) / s
        qb[z:] = qb[z:] - 2 * torch.log(s)
        vae.quant_conv.weight.copy_(qw.float()); vae.quant_conv.bias.copy_(qb.float())
        pw, pb = vae.post_quant_conv.weight.double(), vae.post_quant_conv.bias.double()
        # z_orig = s * z' + mu ; W z_orig + b = (W*s) z' + (W mu + b)
        nb = pb + (pw[:, :, 0, 0] @ mu)
        nw = pw * s[None, :, None, None]
        vae.post_quant_conv.weight.copy_(nw.float()); vae.post_quant_conv.bias.copy_(nb.float())


# ------------------------------------------------------------------ wrappers with ONNX signatures
class TextWrap(torch.nn.Module):
    def __init__(self, te):
        super().__init__(); self.te = te

    def forward(self, input_ids):
        return self.te(input_ids)


class VaeEncWrap(torch.nn.Module):
    def __init__(self, vae):
        super().__init__(); self.vae = vae

    def forward(self, sample):
        return self.vae.encode(sample)


class VaeDecWrap(torch.nn.Module):
    def __init__(self, vae):
        super().__init__(); self.vae = vae

    def forward(self, latent_sample):
        return self.vae.decode(latent_sample)


def components(te, un, vae):
    b = 2
    return {
        "text_encoder": (TextWrap(te), (torch.tensor([[1] * 77] * b, dtype=torch.int32),), ["input_ids"],
                         ["last_hidden_state", "pooler_output"],
                         {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}, "pooler_output": {0: "batch"}}),
        "unet": (un, (torch.randn(b, 4, 8, 8), torch.tensor([500.0]), torch.randn(b, 77, 128)),
                 ["sample", "timestep", "encoder_hidden_states"], ["out_sample"],
                 {"sample": {0: "batch", 2: "height", 3: "width"}, "encoder_hidden_states": {0: "batch"},
                  "out_sample": {0: "batch", 2: "height", 3: "width"}}),
        "vae_encoder": (VaeEncWrap(vae), (torch.randn(1, 3, 64, 64),), ["sample"], ["latent_parameters"],
                        {"sample": {0: "batch", 2: "height", 3: "width"},
                         "latent_parameters": {0: "batch", 2: "height_latent", 3: "width_latent"}}),
        "vae_decoder": (VaeDecWrap(vae), (torch.randn(1, 4, 8, 8),), ["latent_sample"], ["sample"],
                        {"latent_sample": {0: "batch", 2: "height_latent", 3: "width_latent"},
                         "sample": {0: "batch", 2: "height", 3: "width"}}),
    }


# ------------------------------------------------------------------ graph post-processing
def fp16_initializers_with_cast(model):
    """float32 initializers whose values are exactly representable in fp16 -> fp16 initializer + Cast(to float)."""
    g = model.graph
    new_inits, casts = [], []
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT:
            a = numpy_helper.to_array(init)
            h = a.astype(np.float16)
            if a.size >= 16 and np.array_equal(h.astype(np.float32), a):
                name = init.name
                t = numpy_helper.from_array(h, name + "_fp16")
                new_inits.append(t)
                casts.append(helper.make_node("Cast", [name + "_fp16"], [name], to=TensorProto.FLOAT,
                                              name="CastW_" + name))
                continue
        new_inits.append(init)
    del g.initializer[:]
    g.initializer.extend(new_inits)
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    return model


def _set_elem_type(vi, t):
    vi.type.tensor_type.elem_type = t


def convert_full_fp16(model, keep_fp32_prefixes=("/time_proj",)):
    """Whole-graph float16 (inputs, outputs, weights, compute). Nodes whose name starts with one of
    keep_fp32_prefixes stay float32 with Casts at their boundary (timestep sinusoid precision)."""
    m = copy.deepcopy(model)
    g = m.graph
    keep = set()
    for n in g.node:
        if any(n.name.startswith(p) for p in keep_fp32_prefixes):
            keep.add(n.name)
    keep_outputs = {o for n in g.node if n.name in keep for o in n.output}
    # initializers: used only by keep nodes stay fp32
    users = {}
    for n in g.node:
        for i in n.input:
            users.setdefault(i, []).append(n)
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT:
            us = users.get(init.name, [])
            if us and all(u.name in keep for u in us):
                continue
            a = numpy_helper.to_array(init).astype(np.float16)
            init.CopyFrom(numpy_helper.from_array(a, init.name))
    for n in g.node:
        if n.name in keep:
            continue
        for att in n.attribute:
            if n.op_type == "Cast" and att.name == "to" and att.i == TensorProto.FLOAT:
                att.i = TensorProto.FLOAT16
            if att.name == "value" and att.t.data_type == TensorProto.FLOAT:
                a = numpy_helper.to_array(att.t).astype(np.float16)
                att.t.CopyFrom(numpy_helper.from_array(a, att.t.name))
    for vi in list(g.input) + list(g.output):
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            _set_elem_type(vi, TensorProto.FLOAT16)
    del g.value_info[:]
    # boundary casts
    new_nodes = []
    fp32_map = {}
    graph_inputs = {i.name for i in g.input}
    init_names = {i.name for i in g.initializer}
    for n in g.node:
        if n.name in keep:
            for k, inp in enumerate(n.input):
                if inp in keep_outputs or inp in init_names or inp == "":
                    continue
                # producer is fp16 (or a graph input / non-float). only float tensors need casting: we cast
                # graph inputs and non-keep float outputs; integer tensors (shapes) pass through.
                if inp in graph_inputs or _is_float_producer(g, inp):
                    if inp not in fp32_map:
                        c = inp + "_to_fp32"
                        new_nodes.append(helper.make_node("Cast", [inp], [c], to=TensorProto.FLOAT,
                                                          name="CastIn_" + inp))
                        fp32_map[inp] = c
                    n.input[k] = fp32_map[inp]
        new_nodes.append(n)
    # outputs of keep nodes consumed by non-keep nodes -> cast to fp16
    out_map = {}
    final = []
    for n in new_nodes:
        if n.name not in keep:
            for k, inp in enumerate(n.input):
                if inp in keep_outputs and _keep_output_is_float(g, inp):
                    if inp not in out_map:
                        c = inp + "_to_fp16"
                        final.append(helper.make_node("Cast", [inp], [c], to=TensorProto.FLOAT16,
                                                      name="CastOut_" + inp))
                        out_map[inp] = c
                    n.input[k] = out_map[inp]
        final.append(n)
    del g.node[:]
    g.node.extend(_toposort(final, g))
    return m


_FLOAT_CACHE = {}


def _is_float_producer(g, name):
    for n in g.node:
        if name in n.output:
            return n.op_type not in ("Shape", "Size", "ArgMax", "ArgMin", "NonZero") and not (
                n.op_type == "Cast" and n.attribute[0].i not in (TensorProto.FLOAT, TensorProto.FLOAT16))
    return False


def _keep_output_is_float(g, name):
    return _is_float_producer(g, name)


def _toposort(nodes, g):
    avail = {i.name for i in g.input} | {i.name for i in g.initializer} | {""}
    out, pending = [], list(nodes)
    while pending:
        rest = []
        for n in pending:
            if all(i in avail for i in n.input):
                out.append(n)
                avail.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise RuntimeError("cycle / missing input: " + str([n.name for n in rest[:5]]))
        pending = rest
    return out


def export_component(name, module, args, in_names, out_names, dyn, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.onnx")
    tmp = path + ".tmp.onnx"
    torch.onnx.export(module, args, tmp, input_names=in_names, output_names=out_names, dynamic_axes=dyn,
                      opset_version=OPSET, do_constant_folding=True)
    raw = onnx.load(tmp)
    os.remove(tmp)
    return raw


def save_model(model, path):
    onnx.checker.check_model(model)
    inferred = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(inferred)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(model, path)
    return os.path.getsize(path)


# ------------------------------------------------------------------ latent preview fit
@torch.no_grad()
def fit_latent_preview(vae, n=800, seed=7):
    train, _ = data.split_combos()
    imgs, _ = data.make_set(train, 1, seed)
    idx = np.random.default_rng(seed).permutation(len(imgs))[:n]
    imgs = imgs[idx]
    x = torch.from_numpy(data.to_tensor_range(imgs))
    lat = torch.cat([vae.encode(x[i:i + 250])[:, :4] for i in range(0, len(x), 250)]) * SCALING_FACTOR
    small = torch.nn.functional.avg_pool2d(x, 8)  # [n,3,8,8] in [-1,1]
    A = lat.permute(0, 2, 3, 1).reshape(-1, 4).double()
    A1 = torch.cat([A, torch.ones(len(A), 1, dtype=torch.float64)], 1)
    B = small.permute(0, 2, 3, 1).reshape(-1, 3).double()
    sol = torch.linalg.lstsq(A1, B).solution
    pred = A1 @ sol
    r2 = 1 - ((pred - B) ** 2).sum() / ((B - B.mean(0)) ** 2).sum()
    stats = {"mean": lat.mean(dim=(0, 2, 3)).tolist(), "std": lat.std(dim=(0, 2, 3)).tolist(), "preview_r2": float(r2)}
    return {"latent_rgb_factors": [[round(float(v), 6) for v in row] for row in sol[:4]],
            "latent_rgb_bias": [round(float(v), 6) for v in sol[4]]}, stats


# ------------------------------------------------------------------ verification (torch vs traced, dynamic shapes)
@torch.no_grad()
def verify_traced(comps):
    res = {}
    for name, (mod, args, _, _, _) in comps.items():
        tr = torch.jit.trace(mod, args, check_trace=False)
        if name == "text_encoder":
            tests = [(torch.randint(0, 580, (3, 77), dtype=torch.int32),)]
        elif name == "unet":
            tests = [(torch.randn(3, 4, 16, 8), torch.tensor([123.4]), torch.randn(3, 77, 128))]
        elif name == "vae_encoder":
            tests = [(torch.rand(2, 3, 128, 64) * 2 - 1,)]
        else:
            tests = [(torch.randn(2, 4, 8, 16),)]
        err = 0.0
        for t in tests:
            a, b = mod(*t), tr(*t)
            a = a if isinstance(a, tuple) else (a,)
            b = b if isinstance(b, tuple) else (b,)
            err = max(err, max(float((x - y).abs().max()) for x, y in zip(a, b)))
        res[name] = err
    return res


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", default=os.path.join(RUNS, "main"))
    ap.add_argument("--out", default=os.path.join(REPO, "models", "sdblazor-mini"))
    ap.add_argument("--fp16-out", default=os.path.join(REPO, "tests", "SdBlazor.Engine.Tests", "Fixtures",
                                                       "sdblazor-mini-fp16"))
    ap.add_argument("--no-ema", action="store_true")
    a = ap.parse_args()
    setup_threads()
    tok, te, un, vae, info = load_models(a.run_dir, use_ema=not a.no_ema)
    comps = components(te, un, vae)
    errs = verify_traced(comps)
    log(f"torch vs traced max abs diff (other shapes): {errs}")
    out = a.out
    if os.path.exists(out):
        for sub in ("text_encoder", "unet", "vae_encoder", "vae_decoder", "tokenizer", "scheduler"):
            shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    os.makedirs(out, exist_ok=True)
    # tokenizer
    shutil.copytree(os.path.join(a.run_dir, "tokenizer"), os.path.join(out, "tokenizer"))
    sizes, fp16_models = {}, {}
    for name, (mod, args, inn, outn, dyn) in comps.items():
        raw = export_component(name, mod, args, inn, outn, dyn, os.path.join(out, name))
        m32 = fp16_initializers_with_cast(copy.deepcopy(raw))
        sizes[name] = save_model(m32, os.path.join(out, name, "model.onnx"))
        fp16_models[name] = convert_full_fp16(raw)
        log(f"exported {name}: {sizes[name] / 1e6:.2f} MB, ops {sorted({n.op_type for n in raw.graph.node})}")
    # configs
    cfg = model_config()
    write_json(os.path.join(out, "unet", "config.json"), {
        "_class_name": "UNet2DConditionModel", "sample_size": 8, "in_channels": 4, "out_channels": 4,
        "cross_attention_dim": cfg["text"]["width"], "block_out_channels": cfg["unet"]["ch"],
        "attention_head_dim": 32, "layers_per_block": 1})
    write_json(os.path.join(out, "vae_decoder", "config.json"), {
        "_class_name": "AutoencoderKL", "sample_size": 64, "latent_channels": 4, "in_channels": 3, "out_channels": 3,
        "block_out_channels": cfg["vae"]["ch"], "scaling_factor": SCALING_FACTOR})
    write_json(os.path.join(out, "vae_encoder", "config.json"), {
        "_class_name": "AutoencoderKL", "sample_size": 64, "latent_channels": 4, "in_channels": 3, "out_channels": 3,
        "block_out_channels": cfg["vae"]["ch"], "scaling_factor": SCALING_FACTOR})
    write_json(os.path.join(out, "text_encoder", "config.json"), {
        "_class_name": "CLIPTextModel", "hidden_size": cfg["text"]["width"], "num_hidden_layers": cfg["text"]["layers"],
        "num_attention_heads": cfg["text"]["heads"], "intermediate_size": 4 * cfg["text"]["width"],
        "max_position_embeddings": 77, "vocab_size": len(tok.encoder), "hidden_act": "quick_gelu",
        "bos_token_id": tok.sot, "eos_token_id": tok.eot, "pad_token_id": tok.pad})
    write_json(os.path.join(out, "scheduler", "scheduler_config.json"), SCHEDULER_CONFIG)
    write_json(os.path.join(out, "model_index.json"), {
        "_class_name": "OnnxStableDiffusionPipeline", "_diffusers_version": "0.6.0",
        "feature_extractor": [None, None], "requires_safety_checker": False, "safety_checker": [None, None],
        "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["diffusers", "OnnxRuntimeModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "OnnxRuntimeModel"],
        "vae_decoder": ["diffusers", "OnnxRuntimeModel"], "vae_encoder": ["diffusers", "OnnxRuntimeModel"]})
    preview, stats = fit_latent_preview(vae)
    write_json(os.path.join(out, "latent_preview.json"), preview)
    log(f"latent preview fit: {preview} scaled-latent stats {stats}")
    # folded-conv check: encode->decode with exactly the folded weights
    with torch.no_grad():
        train, held = data.split_combos()
        imgs, _ = data.make_set(held, 1, 99)
        x = torch.from_numpy(data.to_tensor_range(imgs))
        mean = vae.encode(x)[:, :4]
        rec = vae.decode(mean)  # decoder input = latents / 0.18215 = mean
        psnr = 10 * np.log10(4.0 / float(((rec - x) ** 2).mean()))
    log(f"folded VAE on held-out images: PSNR {psnr:.2f} dB; encoder_mean*0.18215 per-channel mean "
        f"{stats['mean']} std {stats['std']}")
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(out) for f in fs)
    meta = {"params": {"text_encoder": n_params(te), "unet": n_params(un), "vae_encoder": n_params(vae.encoder) +
                       n_params(vae.quant_conv), "vae_decoder": n_params(vae.decoder) + n_params(vae.post_quant_conv)},
            "onnx_bytes": sizes, "total_bytes": total, "train_info": info, "trace_check_max_abs_diff": errs,
            "folded_vae_heldout_psnr_db": float(psnr), "scaled_latent_stats": stats}
    write_json(os.path.join(a.run_dir, "export_meta.json"), meta)
    log(f"total folder size {total / 1e6:.2f} MB; meta {meta}")
    # fp16 fixture
    fo = a.fp16_out
    shutil.rmtree(fo, ignore_errors=True)
    fp16_total = sum(len(m.SerializeToString()) for m in fp16_models.values())
    names = list(fp16_models) if fp16_total <= 15e6 else ["text_encoder", "unet", "vae_decoder"]
    for name in names:
        save_model(fp16_models[name], os.path.join(fo, name, "model.onnx"))
    for sub in ("tokenizer", "scheduler"):
        shutil.copytree(os.path.join(out, sub), os.path.join(fo, sub))
    for name in names:
        if os.path.exists(os.path.join(out, name, "config.json")):
            shutil.copy(os.path.join(out, name, "config.json"), os.path.join(fo, name, "config.json"))
    mi = json.load(open(os.path.join(out, "model_index.json")))
    if "vae_encoder" not in names:
        mi["vae_encoder"] = [None, None]
    write_json(os.path.join(fo, "model_index.json"), mi)
    shutil.copy(os.path.join(out, "latent_preview.json"), os.path.join(fo, "latent_preview.json"))
    ft = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(fo) for f in fs)
    log(f"fp16 fixture: {names}, {ft / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
