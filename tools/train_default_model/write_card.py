"""Write models/sdblazor-mini/README.md (model card) from runs/<run>/export_meta.json, eval.json and the logs."""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO, RUNS  # noqa: E402


def last_step_line(path, key):
    if not os.path.exists(path):
        return None
    lines = [l for l in open(path) if key in l]
    return lines[-1].strip() if lines else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", default=os.path.join(RUNS, "main"))
    ap.add_argument("--out", default=os.path.join(REPO, "models", "sdblazor-mini", "README.md"))
    ap.add_argument("--status", default="final")
    a = ap.parse_args()
    meta = json.load(open(os.path.join(a.run_dir, "export_meta.json")))
    ev_path = os.path.join(os.path.dirname(a.out), "eval.json")
    ev = json.load(open(ev_path)) if os.path.exists(ev_path) else None
    ver_path = os.path.join(a.run_dir, "verify_onnx.json")
    ver = json.load(open(ver_path)) if os.path.exists(ver_path) else {}
    p = meta["params"]
    ti = meta["train_info"]
    total_p = sum(p.values())
    runs = os.path.dirname(a.run_dir.rstrip("/"))
    vae_last = last_step_line(os.path.join(runs, "train_vae.log"), "vae step")
    dec_last = last_step_line(os.path.join(runs, "train_decoder.log"), "decft step")
    unet_last = last_step_line(os.path.join(runs, "train_run4.log"), "unet step")
    acc = ev["accuracy"] if ev else {}
    tgt = ev["targets"] if ev else {}
    rows = "\n".join(f"| {k} | {acc[k] * 100:.1f} % | {('>= %d %%' % round(tgt[k] * 100)) if k in tgt else ''} |"
                     for k in ("background", "color", "position", "shape", "all_four") if k in acc)
    ver_rows = "\n".join(f"| {k} | {max(v['max_abs_err']):.2e} | {max(v['ref_max_abs']):.3g} |" for k, v in ver.items())
    mb = lambda b: f"{b / 1e6:.2f} MB"
    missed = [k for k in ("background", "color", "position", "shape") if k in acc and acc[k] < tgt.get(k, 0)]
    position_note = "" if not missed else (
        f"- **Targets missed: {', '.join(f'{k} {acc[k] * 100:.1f} % (target {tgt[k] * 100:.0f} %)' for k in missed)}.** "
        "The model itself does better without strong guidance (see Training: with run 3's weights colour was 89 % at "
        "CFG 1 against 82 % at CFG 7.5); run 4's guidance-consistent loss closed most of that gap for shape. "
        "What should reach the rest: a longer run 4 (colour was still rising when its 40-minute budget ended) on an "
        "idle machine, and a colour term in the guidance-consistent loss's weighting (the remaining colour errors are "
        "mostly neighbours: orange/yellow, black objects drifting towards the background's hue).\n\n")
    card = f"""# sdblazor-mini — SdBlazor's embedded default text-to-image model

Status: **{a.status}**. A tiny latent-diffusion model with Stable Diffusion 1.5's structure and file layout
(diffusers ONNX export layout), trained from scratch on a procedural "coloured shape" dataset so SdBlazor works
out of the box with no download. It is a functional demo / test model, not a general image generator.

Licence: MIT (the SdBlazor project's licence). Training data is generated procedurally by
`tools/train_default_model/data.py`; no third-party data or weights are used.

## What it draws

Prompts of the form `a <colour> <shape> on a <colour> background, <position>` at **64 x 64** pixels
(native size, `unet/config.json` `sample_size` 8 x VAE factor 8):

- colours: red, green, blue, yellow, purple, orange, white, black (object colour != background colour)
- shapes: circle, square, triangle
- positions: top left, top right, bottom left, bottom right, center

840 combinations; a fixed 10 % (84) is held out (never trained on) for evaluation.

## Files

| path | |
| --- | --- |
| `model_index.json` | `OnnxStableDiffusionPipeline` |
| `tokenizer/` | CLIP-format byte-level BPE (`vocab.json`, `merges.txt` `#version: 0.2`, {len(json.load(open(os.path.join(os.path.dirname(a.out), "tokenizer", "vocab.json"))))} tokens, `<|startoftext|>`/`<|endoftext|>` highest ids, pad = `<|endoftext|>`, max length 77) |
| `text_encoder/model.onnx` | `input_ids` int32 [batch,77] -> `last_hidden_state` [batch,77,128], `pooler_output` [batch,128] ({mb(meta['onnx_bytes']['text_encoder'])}) |
| `unet/model.onnx` | `sample` [batch,4,h,w], `timestep` float32 [1], `encoder_hidden_states` [batch,77,128] -> `out_sample` (epsilon) ({mb(meta['onnx_bytes']['unet'])}) |
| `vae_encoder/model.onnx` | `sample` [batch,3,H,W] in [-1,1] -> `latent_parameters` [batch,8,H/8,W/8] (mean, log-variance; unscaled) ({mb(meta['onnx_bytes']['vae_encoder'])}) |
| `vae_decoder/model.onnx` | `latent_sample` [batch,4,h,w] (= latents / 0.18215) -> `sample` [batch,3,8h,8w] in about [-1,1] ({mb(meta['onnx_bytes']['vae_decoder'])}) |
| `scheduler/scheduler_config.json` | SD 1.5's PNDM config (scaled_linear 0.00085-0.012, 1000 steps, steps_offset 1) |
| `latent_preview.json` | least-squares linear map scaled latents -> 8x8 RGB in [-1,1] (R^2 {meta['scaled_latent_stats'].get('preview_r2', float('nan')):.3f}) |
| `eval.json` | evaluation output (below) |

ONNX opset 17; batch, height and width are dynamic everywhere (multiples of 8 px; the UNet needs latent sizes
divisible by 4). Weights are stored as float16 initialisers followed by `Cast` to float32; inputs, outputs and
compute are float32. Total size: {mb(meta['total_bytes'])}. A fully float16 copy of the text encoder, UNet and
VAE decoder (float16 inputs/outputs/compute; `input_ids` stays int32; the sinusoidal timestep embedding is
computed in float32 inside the graph) is in `tests/SdBlazor.Engine.Tests/Fixtures/sdblazor-mini-fp16/`.

## Architecture and parameters

| component | structure | parameters |
| --- | --- | --- |
| text encoder | CLIP-style causal transformer: token + learned position embeddings (77), 4 pre-LN blocks, width 128, 4 heads, MLP 512 quick-GELU, final LayerNorm; pooled = state at the end token (argmax of int32 ids) | {p['text_encoder']:,} |
| UNet | channels 64/128/128 at 8x8/4x4/2x2 latents; ResNet blocks (GroupNorm, SiLU, timestep injection); spatial transformers (self-attention, cross-attention to the text states, GELU MLP; matmul + softmax) at 8x8, 4x4 and in the mid block; 1 ResNet per down level, 2 per up level with skips; sinusoidal timestep embedding + MLP (256) | {p['unet']:,} |
| VAE encoder | KL autoencoder, channels 24/48/96/128, 3 stride-2 downsamplings (factor 8), 8-channel mean/log-variance via 1x1 quant conv | {p['vae_encoder']:,} |
| VAE decoder | 1x1 post-quant conv, mirrored decoder with nearest 2x upsampling | {p['vae_decoder']:,} |
| total | | {total_p:,} |

The dataset's per-channel latent mean/std is folded into `quant_conv` / `post_quant_conv`, so the standard SD
scaling factor 0.18215 applies: `encoder mean * 0.18215` has per-channel mean
{[round(v, 3) for v in meta['scaled_latent_stats']['mean']]} and std {[round(v, 3) for v in meta['scaled_latent_stats']['std']]}
on training images. The UNet was trained on exactly these latents.

## Training

CPU only (2 cores shared with other jobs), PyTorch 1.13.1 (Debian), seeds recorded in
`tools/train_default_model/README.md`. Four runs: run 1 from scratch, each later one continuing from the one before
(run 2 from run 1's export, since checkpoints are not committed: `recover.py` reads the weights back out of the
exported ONNX graphs; runs 3 and 4 from run 2's and run 3's checkpoints). Commands (from
`tools/train_default_model/`, with `OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1`):

```sh
# run 1 (session 1): VAE, latent cache, UNet + text encoder from scratch, decoder fine-tune
TORCH_THREADS=2 /usr/bin/python3 train.py --run-dir runs/main --vae-minutes 27 --unet-minutes 85 --resume   # VAE + latent cache (stopped after the cache)
TORCH_THREADS=1 /usr/bin/python3 train.py --run-dir runs/main --stage unet --unet-minutes 72 --resume
TORCH_THREADS=1 /usr/bin/python3 train.py --run-dir runs/main --stage decoder --decoder-minutes 65 --resume  # concurrently
# run 2 (session 2): VAE kept; UNet gains coordinate channels; text encoder at 3x LR with attribute heads on its
# pooled state; half the captions position-first; more high-noise timesteps with an x0-space loss term
/usr/bin/python3 recover.py --from ../../models/sdblazor-mini --run-dir runs/warm --warm-start
TORCH_THREADS=2 /usr/bin/python3 train.py --run-dir runs/warm --stage unet --unet-minutes 36 --unet-lr 1.5e-4 --text-lr-mult 3 --position-first 0.5 --high-t 0.3 --x0-weight 0.05 --attr-weight 0.02 --resume
# run 3 (session 3): run 2's checkpoint, longer at a lower LR, fewer high-noise steps (a warm restart of the
# cosine schedule: the budget grows from 36 to 126 min); stopped at minute 87.3 (step 4,282) for run 4
cp -r runs/warm runs/run3   # tokenizer, latents.pt, vae_final.pt, unet_ckpt.pt
TORCH_THREADS=2 /usr/bin/python3 train.py --run-dir runs/run3 --stage unet --unet-minutes 126 --resume --unet-lr 1e-4 --text-lr-mult 3 --position-first 0.5 --high-t 0.15 --x0-weight 0.05 --attr-weight 0.02
# run 4 (session 3): run 3's checkpoint, fresh 40-min schedule, plus the guidance-consistent loss
cp -r runs/run3 runs/run4
TORCH_THREADS=2 /usr/bin/python3 train.py --run-dir runs/run4 --stage unet --unet-minutes 40 --resume --fresh-budget --unet-lr 8e-5 --text-lr-mult 3 --position-first 0.5 --high-t 0.15 --x0-weight 0.05 --attr-weight 0.02 --guided-weight 0.2 --guided-cfg 3,9 --guided-batch 16
/usr/bin/python3 export.py --run-dir runs/run4 && /usr/bin/python3 verify_onnx.py --run-dir runs/run4 && /usr/bin/python3 evaluate.py --run-dir runs/run4 && /usr/bin/python3 parity.py --run-dir runs/run4
```

| run | stage | steps | wall time |
| --- | --- | --- | --- |
| 1 | VAE (batch 16) | 875 | 27.0 min |
| 1 | latent cache (18,144 images) | | 18.2 min (machine heavily loaded) |
| 1 | decoder fine-tune (batch 16, encoder frozen) | 5,173 | 65.0 min (concurrent with the UNet) |
| 1 | UNet + text encoder from scratch (batch 32) | 5,916 | 72.0 min |
| 2 | recover weights from run 1's export, latent cache | | 0.3 + 3.3 min |
| 2 | UNet + text encoder, warm start (batch 32) | 1,898 | 36.0 min |
| 3 | UNet + text encoder, continued (batch 32) | 1,898 -> 4,282 | 51.3 min |
| 4 | UNet + text encoder + guidance-consistent loss (batch 32 + 16 unconditional passes), EMA exported | 4,282 -> {ti['unet_step']:,} | {ti['unet_minutes']:.1f} min |

Last log line of run 4: `{unet_last}`.

Run 1 took 118 min of wall time (19:03-21:01 UTC) on two cores shared with five C# builds (5-10x slowdown);
run 2 about 40 min while other engineers' builds and tests shared the cores (1.0-1.3 s per
batch-32 step against ~0.5 s on an idle machine); three earlier run-2 tries that did not move position are recorded
in `tools/train_default_model/README.md` (its budget was started as 22 min and raised to 36 at minute 9.5 with
`--resume`). Run 1 alone reached background 100 %, colour 83.9 %,
position 18.5 % (chance), shape 65.5 %: its UNet had no way to know where it was except from the zero padding,
and its text encoder carried the position words only in their own two states (changing them moved the UNet's
noise prediction by 0.1 %, changing a colour by 9-21 %). Run 2 adds two coordinate channels (x, y in [-1, 1],
computed from the sample's size inside the graph) to the UNet input, initialised with zero weights so the warm
start computes exactly run 1's function. The decisive change was on the text side: an auxiliary loss that classifies
the caption's four attributes from the text encoder's pooled end-token state (training only, not exported; CLIP's own
objective lives on that state) made the encoder carry the position words into the end and padding states, which
receive most of the UNet's cross-attention (a position change now moves those states by 6-10 instead of 0.1-0.4).
Half of the training captions are also rewritten with the position first (`top left, a red circle on a blue
background`), and 30 % of the timesteps are drawn from the high-noise range where the layout is decided.
Run 3 (session 3) continued run 2 at a lower learning rate: colour rose to 82.1 % at step 4,100 but shape stayed at
56 % — squares came out as four-pointed stars and circles as four-lobed blobs. The same weights evaluated at other
guidance scales showed why: shape 91.1 % / colour 89.3 % at CFG 1, 78.0 % / 87.5 % at CFG 3, 56.0 % / 82.1 % at
CFG 7.5. The model knew the shapes; classifier-free guidance at 7.5 multiplied the small differences between its
conditional and unconditional predictions along the object's edges into star-shaped artifacts. Run 4 adds a
guidance-consistent loss term (`--guided-weight 0.2`): for 16 samples per batch the UNet also runs with the empty
prompt, and the guided prediction `eps_u + w (eps_c - eps_u)`, with w drawn uniformly from [3, 9] (SD's 7.5 inside),
must match the true noise as well (the idea of guidance distillation, applied as a regulariser on the ordinary
model, which still runs with real CFG). Held-out shape at CFG 7.5 went 56 % -> 68 % (step 4,700) -> 85 % (step
5,050). Runs 3 and 4 shared the two cores with builds and browser tests for part of the time (1.1-1.7 s per step).
The VAE after the decoder fine-tune: {meta['folded_vae_heldout_psnr_db']:.1f} dB PSNR on held-out renders with the
folded (exported) weights; scoring its reconstructions of the held-out combos (2 renders each) gives background
100 %, colour 97.6 %, position 100 %, shape 96.4 %, so the VAE is not what limits the numbers below.

## Evaluation

`tools/train_default_model/evaluate.py`: every held-out caption ({ev['held_out_captions'] if ev else '?'}) x
{(ev['samples'] // ev['held_out_captions']) if ev else '?'} seeds, 20 Euler steps (diffusers
`EulerDiscreteScheduler` semantics), CFG 7.5 with the empty prompt as unconditional, exported fp16-rounded
weights. Automatic scoring of the decoded 64x64 image: background = nearest palette colour of the border median;
object = largest connected region far from the background colour; object colour = nearest palette colour of its
median; position = nearest anchor to its bounding-box centre; shape = bounding-box fill ratio (< 0.64 triangle,
< 0.90 circle, else square). The scorer scores 100 % on ground-truth renders
({json.dumps(ev['scorer_accuracy_on_ground_truth']) if ev else ''}).

| metric | held-out accuracy | target |
| --- | --- | --- |
{rows}

## ONNX verification

No onnxruntime for Python exists on the build machine, so `verify_onnx.py` runs the exported graphs with a small
ONNX interpreter (`onnx_eval.py`) at batch/height/width different from the export trace and compares with the
torch modules holding the same fp16-rounded weights (also `onnx.checker` + shape inference at export):

| graph | max abs error | output max abs |
| --- | --- | --- |
{ver_rows}

## Limitations

{position_note}- The evaluation is 168 generations (84 held-out captions x 2 seeds): a standard error of about 2.7 points at 85 %,
  so colour's margin over its target (0.7 points) is within noise; shape (+10.7) and position (+13.8) are not.
- Only the caption grammar above; other words are tokenised (byte fallback) but have no trained meaning.
- 64 x 64 native resolution; other sizes run (dynamic axes) but were never trained.
- Small, CPU-trained model with a short, load-limited training budget: edges are soft, and results depend on the
  guidance scale more than a large model's do. The guidance-consistent loss (run 4) tuned it for the CFG range people
  use with SD; far below that it falls apart, as SD 1.5 does at CFG 1. Held-out accuracy of this model by CFG
  (background / colour / position / shape, same protocol as above): CFG 1: 25.6 / 17.3 / 31.5 / 46.4 %; CFG 3:
  74.4 / 48.2 / 72.0 / 76.8 %; CFG 5: 92.9 / 77.4 / 91.7 / 89.9 %; CFG 7.5: the table above; CFG 10: 100 / 82.7 /
  99.4 / 79.2 %. Use CFG 6-10 (the app's default is 7.5). Run 3's weights were the opposite (best at CFG 1).
- Trained only with the empty prompt as the unconditional input; arbitrary negative prompts have no meaning.
"""
    with open(a.out, "w") as f:
        f.write(card)
    print(card[:300])


if __name__ == "__main__":
    main()
