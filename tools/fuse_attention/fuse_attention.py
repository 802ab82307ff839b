"""Rewrites a UNet's MatMul -> (Mul scale) -> Softmax -> MatMul attention into ONNX Runtime's
com.microsoft.MultiHeadAttention, whose CPU kernel never materialises the [batch, heads, tokens, tokens] scores,
so attention memory grows linearly with the latent token count instead of with its square (issue 27).

Pattern (what torch.onnx writes for sd_modules' reference attention and the embedded model's):
    q = Transpose(0,2,1,3)(Reshape(Q [B,S,D]))        k = Transpose(0,2,3,1)(Reshape(K [B,T,D]))
    scores = Mul(MatMul(q, k), scale) ; p = Softmax(scores, axis=-1)
    v = Transpose(0,2,1,3)(Reshape(V [B,T,D])) ; out = Reshape(Transpose(0,2,1,3)(MatMul(p, v))) -> [B,S,D]
becomes out = MultiHeadAttention(Q, K, V, num_heads=D/head, scale=scale). Nodes left without consumers are removed.

Usage: /usr/bin/python3 tools/fuse_attention/fuse_attention.py <in.onnx> <out.onnx>
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def main(src, dst):
    model = onnx.load(src)
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    consumers = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)

    def prod(name, op):
        n = producer.get(name)
        if n is None or n.op_type != op:
            raise ValueError(f"expected {op} producing {name}, got {n.op_type if n else None}")
        return n

    def perm(n):
        return list(helper.get_attribute_value(next(a for a in n.attribute if a.name == "perm")))

    fused = 0
    replacements = []
    for softmax in [n for n in graph.node if n.op_type == "Softmax"]:
        axis = next((helper.get_attribute_value(a) for a in softmax.attribute if a.name == "axis"), -1)
        if axis not in (-1, 3):
            continue
        mul = prod(softmax.input[0], "Mul")
        scale = float(consts[mul.input[1]])
        scores = prod(mul.input[0], "MatMul")
        tq, tk = prod(scores.input[0], "Transpose"), prod(scores.input[1], "Transpose")
        assert perm(tq) == [0, 2, 1, 3] and perm(tk) == [0, 2, 3, 1], (perm(tq), perm(tk))
        q = prod(tq.input[0], "Reshape").input[0]
        k = prod(tk.input[0], "Reshape").input[0]
        (pv,) = consumers[softmax.output[0]]
        assert pv.op_type == "MatMul" and pv.input[0] == softmax.output[0]
        tv = prod(pv.input[1], "Transpose")
        assert perm(tv) == [0, 2, 1, 3]
        v = prod(tv.input[0], "Reshape").input[0]
        (to,) = consumers[pv.output[0]]
        assert to.op_type == "Transpose" and perm(to) == [0, 2, 1, 3]
        (out,) = consumers[to.output[0]]
        assert out.op_type == "Reshape"
        head = round(1.0 / (scale * scale))
        # The head size is 1/scale²; the width D comes from the query projection's weight [D_in, D].
        weight = prod(q, "MatMul").input[1]
        if weight in producer and producer[weight].op_type == "Cast":
            weight = producer[weight].input[0]
        width = next(i.dims[1] for i in graph.initializer if i.name == weight)
        assert width % head == 0, (width, head)
        heads = width // head
        mha = helper.make_node("MultiHeadAttention", [q, k, v], [out.output[0]], name=softmax.name.replace("Softmax", "MultiHeadAttention"),
                               domain="com.microsoft", num_heads=heads, scale=scale)
        replacements.append((out, mha))
        fused += 1

    nodes = list(graph.node)
    for old, new in replacements:
        nodes[nodes.index(old)] = new
    # Drop everything no longer used (the old attention nodes, their shape arithmetic).
    outputs = {o.name for o in graph.output}
    while True:
        used = {i for n in nodes for i in n.input} | outputs
        keep = [n for n in nodes if any(o in used for o in n.output)]
        if len(keep) == len(nodes):
            break
        nodes = keep
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for n in nodes for i in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(model, dst)
    print(f"{src}: {fused} attention blocks fused -> {dst} ({len(nodes)} nodes)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
