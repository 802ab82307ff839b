"""Writes a random kohya-format LoRA for a diffusers-ONNX folder, for switch-time benchmarks (docs/performance.md).

The modules are the ones kohya's sd-scripts trains by default on SD 1.x/2.x (networks.lora): in the UNet every
Linear and 1x1 Conv of the Transformer2DModel blocks (attn1/attn2 to_q/to_k/to_v/to_out.0, ff.net.0.proj, ff.net.2,
proj_in, proj_out), in the text encoder every Linear of the CLIP layers (q/k/v/out_proj, mlp.fc1/fc2). Module paths
and shapes come from the folder's own graphs (initializer names, or the MatMul node's module path for anonymous
transposed weights), so the file matches the folder the way a real LoRA matches its base model. Weights are fp16,
down ~ N(0, 1/in), up ~ N(0, 0.02), alpha = rank / 2. No safetensors package here: the format is written by hand.

    /usr/bin/python3 tools/make_lora/make_lora.py --folder /work/bigmodels/sd15-fused-folder --rank 32 --out /work/bigmodels/lora-sd15-rank32.safetensors
"""
import argparse, json, re, struct

import numpy as np
import onnx

UNET = re.compile(r"attentions\.\d+\.(proj_in|proj_out|transformer_blocks\.\d+\.(attn[12]\.(to_q|to_k|to_v|to_out\.0)|ff\.net\.0\.proj|ff\.net\.2))$")
TEXT = re.compile(r"layers\.\d+\.(self_attn\.(q_proj|k_proj|v_proj|out_proj)|mlp\.(fc1|fc2))$")


def modules(path):
    """module path -> (out, in) of its weight, from one component's graph."""
    model = onnx.load(path, load_external_data=False)
    inits = {i.name: i for i in model.graph.initializer}
    casts = {n.output[0]: n.input[0] for n in model.graph.node if n.op_type == "Cast" and n.input[0] in inits}
    found = {}
    for node in model.graph.node:
        if node.op_type in ("MatMul", "Gemm") and len(node.input) > 1 and "/" in node.name:
            src = node.input[1] if node.input[1] in inits else casts.get(node.input[1])
            if src is None or len(inits[src].dims) != 2:
                continue
            dims = list(inits[src].dims)
            trans_b = any(a.name == "transB" and a.i == 1 for a in node.attribute)
            out, inp = (dims[0], dims[1]) if node.op_type == "Gemm" and trans_b else (dims[1], dims[0])
            found[node.name.strip("/").rsplit("/", 1)[0].replace("/", ".")] = (out, inp, 1)
    for name, t in inits.items():
        if name.endswith(".weight") and len(t.dims) == 4 and t.dims[2] == t.dims[3] == 1:
            found.setdefault(name[: -len(".weight")], (t.dims[0], t.dims[1], 4))
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", required=True)
    parser.add_argument("--rank", type=int, default=32)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    tensors = {}
    for component, prefix, pattern in (("unet", "lora_unet_", UNET), ("text_encoder", "lora_te_", TEXT)):
        for module, (out, inp, rank4) in sorted(modules(f"{args.folder}/{component}/model.onnx").items()):
            if not pattern.search(module):
                continue
            path = module if component == "unet" or module.startswith("text_model.") else "text_model.encoder." + module
            name = prefix + path.replace(".", "_")
            shape_down = [args.rank, inp] + ([1, 1] if rank4 == 4 else [])
            shape_up = [out, args.rank] + ([1, 1] if rank4 == 4 else [])
            tensors[name + ".lora_down.weight"] = (rng.standard_normal(shape_down) / np.sqrt(inp)).astype("<f2")
            tensors[name + ".lora_up.weight"] = (rng.standard_normal(shape_up) * 0.02).astype("<f2")
            tensors[name + ".alpha"] = np.array(args.rank / 2, dtype="<f4")
    header, offset, blobs = {"__metadata__": {"ss_network_module": "networks.lora", "ss_network_dim": str(args.rank)}}, 0, []
    for name, value in tensors.items():
        data = value.tobytes()
        header[name] = {"dtype": "F16" if value.dtype == np.float16 else "F32", "shape": list(value.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(args.out, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for blob in blobs:
            f.write(blob)
    print(f"{args.out}: {sum(1 for n in tensors if n.endswith('.alpha'))} modules, rank {args.rank}, {offset / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
