"""Regenerates the clip-skip fixture: a tiny CLIP text encoder exported at opset 14 (layer norms decomposed into
ReduceMean/Sub/Pow/…, as diffusers' and optimum's ONNX exports have them) and torch's own
final_layer_norm(hidden_states[-N]) for N = 1..3 on fixed ids.

    /usr/bin/python3 tests/SdBlazor.Engine.Tests/Fixtures/clip_skip/make_fixture.py
"""
import json, os, sys
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "..", "tools", "make_sd_models"))
from sd_modules import CLIPTextModel  # noqa: E402

torch.manual_seed(30)
model = CLIPTextModel(vocab=600, width=32, layers=3, heads=2, inner=64).eval()
ids = torch.tensor([[598] + list(range(5, 80)) + [599]], dtype=torch.int32)

hidden = []
def record(_module, _inputs, output):
    hidden.append(output)
for layer in model.encoder.layers:
    layer.register_forward_hook(record)
with torch.no_grad():
    last, _ = model(ids)
    expected = {"ids": ids[0].tolist(), "1": last[0].flatten().tolist()}
    for n in (2, 3):
        expected[str(n)] = model.final_layer_norm(hidden[-n])[0].flatten().tolist()

torch.onnx.export(model, (ids,), os.path.join(here, "text_encoder_opset14.onnx"), input_names=["input_ids"],
                  output_names=["last_hidden_state", "pooler_output"], dynamic_axes={"input_ids": {0: "batch"}}, opset_version=14)
with open(os.path.join(here, "expected.json"), "w") as f:
    json.dump(expected, f)
