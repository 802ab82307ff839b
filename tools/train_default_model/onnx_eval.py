"""Minimal ONNX interpreter (torch ops) for the operators used by the exported graphs.
There is no onnxruntime for Python here; this runs the exported graph itself (dynamic shapes, casts, fp16
initialisers, float16 graphs) so it can be compared numerically with the torch modules."""
import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

DT = {1: torch.float32, 10: torch.float16, 6: torch.int32, 7: torch.int64, 9: torch.bool, 11: torch.float64}


def _attrs(n):
    return {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}


def _t(a):
    return torch.from_numpy(np.array(a).copy())


def run(model, feeds):
    env = {}
    for init in model.graph.initializer:
        env[init.name] = _t(numpy_helper.to_array(init))
    for k, v in feeds.items():
        env[k] = v if isinstance(v, torch.Tensor) else _t(v)
    for n in model.graph.node:
        a = _attrs(n)
        x = [env[i] if i else None for i in n.input]
        op = n.op_type
        f32 = lambda t: t.float() if t.dtype == torch.float16 else t
        back = lambda r, ref: r.to(ref.dtype) if ref.dtype == torch.float16 else r
        if op == "Constant":
            y = _t(numpy_helper.to_array(a["value"]))
        elif op == "ConstantOfShape":
            val = _t(numpy_helper.to_array(a["value"])) if "value" in a else torch.zeros(1)
            y = val.reshape(1).expand(*[int(s) for s in x[0].tolist()]).clone()
        elif op == "Cast":
            y = x[0].to(DT[a["to"]])
        elif op in ("Add", "Sub", "Mul", "Div", "Equal", "Pow"):
            fn = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div, "Equal": torch.eq,
                  "Pow": torch.pow}[op]
            if op == "Div" and not x[0].is_floating_point():
                y = torch.div(x[0], x[1], rounding_mode="trunc")
            elif x[0].dtype == torch.float16 and op != "Equal":
                y = fn(x[0].float(), x[1].float()).half()
            else:
                y = fn(x[0], x[1])
        elif op == "Where":
            y = torch.where(x[0], x[1], x[2])
        elif op in ("Sigmoid", "Erf", "Cos", "Sin", "Sqrt", "Exp", "Neg", "Tanh"):
            fn = {"Sigmoid": torch.sigmoid, "Erf": torch.erf, "Cos": torch.cos, "Sin": torch.sin,
                  "Sqrt": torch.sqrt, "Exp": torch.exp, "Neg": torch.neg, "Tanh": torch.tanh}[op]
            y = back(fn(f32(x[0])), x[0])
        elif op == "MatMul":
            y = back(torch.matmul(f32(x[0]), f32(x[1])), x[0])
        elif op == "Gemm":
            A, B = f32(x[0]), f32(x[1])
            if a.get("transA", 0): A = A.t()
            if a.get("transB", 0): B = B.t()
            y = a.get("alpha", 1.0) * (A @ B)
            if len(x) > 2 and x[2] is not None:
                y = y + a.get("beta", 1.0) * f32(x[2])
            y = back(y, x[0])
        elif op == "Conv":
            pads = a.get("pads", [0, 0, 0, 0])
            y = F.conv2d(f32(x[0]), f32(x[1]), f32(x[2]) if len(x) > 2 else None, stride=a.get("strides", [1, 1]),
                         padding=(pads[0], pads[1]), dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
            assert pads[0] == pads[2] and pads[1] == pads[3]
            y = back(y, x[0])
        elif op == "InstanceNormalization":
            y = back(F.instance_norm(f32(x[0]), weight=f32(x[1]), bias=f32(x[2]), eps=a.get("epsilon", 1e-5)), x[0])
        elif op == "LayerNormalization":
            ax = a.get("axis", -1)
            shp = x[0].shape[ax:] if ax != -1 else x[0].shape[-1:]
            y = back(F.layer_norm(f32(x[0]), shp, f32(x[1]), f32(x[2]) if len(x) > 2 else None,
                                  eps=a.get("epsilon", 1e-5)), x[0])
        elif op == "Softmax":
            y = back(torch.softmax(f32(x[0]), dim=a.get("axis", -1)), x[0])
        elif op == "Reshape":
            shape = [int(s) for s in x[1].tolist()]
            shape = [x[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
            y = x[0].reshape(shape)
        elif op == "Transpose":
            y = x[0].permute(*a["perm"])
        elif op == "Shape":
            y = torch.tensor(list(x[0].shape), dtype=torch.int64)
        elif op == "Gather":
            ax = a.get("axis", 0)
            idx = x[1].long()
            idx = torch.where(idx < 0, idx + x[0].shape[ax], idx)
            y = torch.index_select(x[0], ax, idx.reshape(-1)).reshape(
                list(x[0].shape[:ax]) + list(idx.shape) + list(x[0].shape[ax + 1:]))
        elif op == "GatherElements":
            y = torch.gather(x[0], a.get("axis", 0), x[1].long())
        elif op == "Unsqueeze":
            y = x[0]
            for ax in sorted(int(v) for v in x[1].tolist()):
                y = y.unsqueeze(ax if ax >= 0 else ax + y.dim() + 1)
        elif op == "Squeeze":
            y = x[0].squeeze(*[int(v) for v in x[1].tolist()]) if len(x) > 1 else x[0].squeeze()
        elif op == "Concat":
            y = torch.cat(x, dim=a["axis"])
        elif op == "Expand":
            shape = [int(s) for s in x[1].tolist()]
            nd = max(len(shape), x[0].dim())
            src = [1] * (nd - x[0].dim()) + list(x[0].shape)
            shape = [1] * (nd - len(shape)) + shape
            tgt = [max(s, t) if t != 1 else s for s, t in zip(src, shape)]
            y = x[0].reshape(src).expand(*tgt).clone()
        elif op == "Slice":
            starts, ends = x[1].tolist(), x[2].tolist()
            axes = x[3].tolist() if len(x) > 3 and x[3] is not None else list(range(len(starts)))
            steps = x[4].tolist() if len(x) > 4 and x[4] is not None else [1] * len(starts)
            y = x[0]
            for s, e, axx, st in zip(starts, ends, axes, steps):
                dim = y.shape[axx]
                s = max(0, min(dim, s + dim if s < 0 else s)); e = max(0, min(dim, e + dim if e < 0 else e))
                assert st == 1
                y = y.narrow(axx, s, max(0, e - s))
        elif op == "ArgMax":
            assert x[0].dtype == torch.int32, "ArgMax input must be int32 (ORT has no int64 ArgMax)"
            y = torch.argmax(x[0].long(), dim=a.get("axis", 0), keepdim=bool(a.get("keepdims", 1)))
        elif op == "Identity":
            y = x[0]
        elif op == "Range":
            y = torch.arange(x[0].item(), x[1].item(), x[2].item(), dtype=x[0].dtype)
        else:
            raise NotImplementedError(op)
        outs = y if isinstance(y, (tuple, list)) else [y]
        for name, val in zip(n.output, outs):
            env[name] = val
    return [env[o.name] for o in model.graph.output]
