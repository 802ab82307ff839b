"""Regenerates the textual-inversion fixture: a tiny CLIP text encoder (opset 14, as diffusers/optimum export them),
a 3-vector embedding in A1111's safetensors layout ("emb_params" [3, 32]) and torch's own hidden states with those
vectors written over the token embeddings at window positions 2..4 (A1111 EmbeddingsWithFixes), for clip skip 1 and 2.
The safetensors file is written by hand (8-byte header length, JSON header, raw little-endian data): no safetensors
package on this machine.

    /usr/bin/python3 tests/SdBlazor.Engine.Tests/Fixtures/embeddings/make_fixture.py
"""
import json, os, struct, sys
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "..", "tools", "make_sd_models"))
from sd_modules import CLIPTextModel  # noqa: E402

torch.manual_seed(3030)
model = CLIPTextModel(vocab=600, width=32, layers=3, heads=2, inner=64).eval()
position, count = 2, 3
ids = [598, 17] + [0] * count + [42, 599] + [599] * 70
ids_t = torch.tensor([ids], dtype=torch.int32)
vectors = torch.randn(count, 32) * 0.5


def hidden_states(inject):
    x = model.embeddings.token_embedding(ids_t.long())
    if inject:
        x = x.clone()
        x[0, position:position + count] = vectors
    x = x + model.embeddings.position_embedding.weight[:77][None]
    mask = torch.full((77, 77), float("-inf")).triu(1)[None, None]
    states = []
    for layer in model.encoder.layers:
        x = layer(x, mask)
        states.append(x)
    return model.final_layer_norm(states[-1]), model.final_layer_norm(states[-2])


with torch.no_grad():
    last, skip2 = hidden_states(True)
    plain, _ = hidden_states(False)
    reference, _ = model(ids_t)
    assert torch.allclose(plain, reference, atol=1e-6), "the hand-written forward must be the model's"
    expected = {"ids": ids, "position": position, "count": count,
                "1": last[0].flatten().tolist(), "2": skip2[0].flatten().tolist(), "plain": plain[0].flatten().tolist()}

torch.onnx.export(model, (ids_t,), os.path.join(here, "text_encoder.onnx"), input_names=["input_ids"],
                  output_names=["last_hidden_state", "pooler_output"], dynamic_axes={"input_ids": {0: "batch"}}, opset_version=14)
with open(os.path.join(here, "expected.json"), "w") as f:
    json.dump(expected, f)

data = vectors.numpy().astype("<f4").tobytes()
header = json.dumps({"__metadata__": {"step": "1500"},
                     "emb_params": {"dtype": "F32", "shape": [count, 32], "data_offsets": [0, len(data)]}}).encode()
header += b" " * (-len(header) % 8)
with open(os.path.join(here, "tiny-style.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header + data)
