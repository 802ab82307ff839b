"""Training pipeline: tokenizer -> VAE -> latent cache -> UNet + text encoder.

Usage: /usr/bin/python3 train.py [--run-dir DIR] [--vae-minutes M] [--unet-minutes M] [--resume]
Each stage is skipped when its final artefact exists; the running stage resumes from its checkpoint.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import tokenizer as tk  # noqa: E402
from common import RUNS, SCALING_FACTOR, alphas_cumprod, atomic_save, log, model_config, setup_threads  # noqa: E402
from models import AutoencoderKL, TextEncoder, UNet, n_params  # noqa: E402

POOL_SEED = 42
VAE_SEED = 0
UNET_SEED = 1
PER_COMBO = 24


def get_pool(run_dir):
    p = os.path.join(run_dir, "pool.npz")
    if os.path.exists(p):
        z = np.load(p)
        return z["images"], list(z["captions"])
    train, _ = data.split_combos()
    t0 = time.time()
    imgs, caps = data.make_set(train, PER_COMBO, POOL_SEED)
    np.savez(p, images=imgs, captions=np.array(caps))
    log(f"pool: {len(imgs)} images from {len(train)} training combos in {time.time() - t0:.0f}s")
    return imgs, caps


def ensure_tokenizer(run_dir):
    d = os.path.join(run_dir, "tokenizer")
    if not os.path.exists(os.path.join(d, "vocab.json")):
        caps = [data.caption(*c) for c in data.all_combos()]
        merges = tk.train_bpe(caps)
        tk.save(d, merges)
        log(f"tokenizer: {len(merges)} merges, vocab {len(merges) + 514}")
    return tk.Tokenizer.load(d)


def lr_at(base, frac, warm_frac=0.02, floor=0.05):
    if frac < warm_frac:
        return base * max(frac / warm_frac, 0.01)
    p = min(1.0, (frac - warm_frac) / (1 - warm_frac))
    return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * p)))


def grad_loss(a, b):
    dxa, dxb = a[..., :, 1:] - a[..., :, :-1], b[..., :, 1:] - b[..., :, :-1]
    dya, dyb = a[..., 1:, :] - a[..., :-1, :], b[..., 1:, :] - b[..., :-1, :]
    return (dxa - dxb).abs().mean() + (dya - dyb).abs().mean()


def train_vae(run_dir, minutes, batch, resume):
    final = os.path.join(run_dir, "vae_final.pt")
    if os.path.exists(final):
        log("vae: final checkpoint exists, skipping")
        return
    imgs, _ = get_pool(run_dir)
    cfg = model_config()["vae"]
    torch.manual_seed(VAE_SEED)
    vae = AutoencoderKL(tuple(cfg["ch"]), cfg["z"])
    opt = torch.optim.Adam(vae.parameters(), lr=1e-3)
    ck = os.path.join(run_dir, "vae_ckpt.pt")
    step, elapsed = 0, 0.0
    rng = np.random.default_rng(VAE_SEED)
    if resume and os.path.exists(ck):
        s = torch.load(ck)
        vae.load_state_dict(s["model"]); opt.load_state_dict(s["opt"])
        step, elapsed = s["step"], s["elapsed"]
        rng = np.random.default_rng(VAE_SEED + step)
        log(f"vae: resumed at step {step}, {elapsed / 60:.1f} min done")
    log(f"vae: {n_params(vae)} params, budget {minutes} min, batch {batch}")
    budget = minutes * 60
    t_start = time.time() - elapsed
    last_ck = time.time()
    acc = {"l1": 0.0, "grad": 0.0, "mse": 0.0, "kl": 0.0, "n": 0}
    t_log = time.time()
    while True:
        elapsed = time.time() - t_start
        if elapsed >= budget:
            break
        lr = lr_at(1e-3, elapsed / budget)
        for g in opt.param_groups:
            g["lr"] = lr
        idx = rng.integers(0, len(imgs), batch)
        x = torch.from_numpy(data.to_tensor_range(imgs[idx]))
        params = vae.encode(x)
        mean, logvar = params.chunk(2, dim=1)
        logvar = logvar.clamp(-30, 20)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        rec = vae.decode(z)
        l1 = (rec - x).abs().mean()
        gl = grad_loss(rec, x)
        mse = F.mse_loss(rec, x)
        kl = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).sum(dim=(1, 2, 3)).mean()
        loss = l1 + gl + mse + 1e-6 * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        step += 1
        acc["l1"] += l1.item(); acc["grad"] += gl.item(); acc["mse"] += mse.item(); acc["kl"] += kl.item(); acc["n"] += 1
        if step % 25 == 0:
            n = acc["n"]
            psnr = 10 * math.log10(4.0 / max(acc["mse"] / n, 1e-10))
            log(f"vae step {step} l1 {acc['l1'] / n:.4f} grad {acc['grad'] / n:.4f} psnr {psnr:.2f}dB kl {acc['kl'] / n:.1f} "
                f"lr {lr:.2e} {(time.time() - t_log) / n:.3f}s/step elapsed {elapsed / 60:.1f}min")
            acc = {k: 0.0 for k in acc}; acc["n"] = 0
            t_log = time.time()
        if time.time() - last_ck > 180:
            atomic_save({"model": vae.state_dict(), "opt": opt.state_dict(), "step": step,
                         "elapsed": time.time() - t_start}, ck)
            last_ck = time.time()
    atomic_save({"model": vae.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed": time.time() - t_start}, ck)
    atomic_save({"model": vae.state_dict(), "step": step, "elapsed": time.time() - t_start, "config": cfg}, final)
    log(f"vae: done, {step} steps in {(time.time() - t_start) / 60:.1f} min")


@torch.no_grad()
def encode_means(vae, imgs, bs=256):
    out = []
    for i in range(0, len(imgs), bs):
        x = torch.from_numpy(data.to_tensor_range(imgs[i:i + bs]))
        out.append(vae.encode(x)[:, :vae.z])
    return torch.cat(out)


def cache_latents(run_dir):
    p = os.path.join(run_dir, "latents.pt")
    if os.path.exists(p):
        return torch.load(p)
    imgs, caps = get_pool(run_dir)
    s = torch.load(os.path.join(run_dir, "vae_final.pt"))
    cfg = s["config"]
    vae = AutoencoderKL(tuple(cfg["ch"]), cfg["z"]).eval()
    vae.load_state_dict(s["model"])
    t0 = time.time()
    means = encode_means(vae, imgs)
    if "latent_stats" in s:  # recovered, already-folded VAE (recover_vae.py): fixed stats, folding is an identity
        mu = torch.tensor(s["latent_stats"]["mean"])
        sd = torch.tensor(s["latent_stats"]["std"])
    else:
        mu = means.mean(dim=(0, 2, 3))
        sd = means.std(dim=(0, 2, 3))
    # normalised latents == exported encoder mean * 0.18215 (stats folded into quant conv at export)
    x0 = (means - mu[None, :, None, None]) / sd[None, :, None, None]
    # reconstruction quality on the pool
    with torch.no_grad():
        idx = torch.arange(0, len(imgs), max(1, len(imgs) // 512))
        rec = vae.decode(means[idx])
        x = torch.from_numpy(data.to_tensor_range(imgs[idx.numpy()]))
        mse = F.mse_loss(rec, x).item()
    uniq = sorted(set(caps))
    cap_index = {c: i for i, c in enumerate(uniq)}
    obj = {"x0": x0.float(), "cap_idx": torch.tensor([cap_index[c] for c in caps]), "captions": uniq,
           "latent_mean": mu, "latent_std": sd}
    atomic_save(obj, p)
    log(f"latents cached: {tuple(x0.shape)} mu {mu.tolist()} sd {sd.tolist()} pool PSNR(mean) "
        f"{10 * math.log10(4 / mse):.2f}dB in {time.time() - t0:.0f}s")
    return obj


def build_text_unet(vocab_size):
    cfg = model_config()
    te = TextEncoder(vocab_size, cfg["text"]["width"], cfg["text"]["layers"], cfg["text"]["heads"])
    un = UNet(tuple(cfg["unet"]["ch"]), tuple(cfg["unet"]["attn"]), cfg["unet"]["ctx_dim"],
              coords=cfg["unet"]["coords"])
    return te, un


def attribute_labels(caption, groups):
    """`a red circle on a blue background, top left` -> indices of (colour, shape, background, position)."""
    words, position = caption.rsplit(", ", 1)
    w = words.split()
    return [groups[0].index(w[1]), groups[1].index(w[2]), groups[2].index(w[5]), groups[3].index(position)]


def train_unet(run_dir, minutes, batch, resume, lr_base=3e-4, ema_decay=0.999, p_uncond=0.1, snr_gamma=5.0,
               text_lr_mult=2.0, p_position_first=0.0, p_high_t=0.0, x0_weight=0.0, attr_weight=0.0,
               guided_weight=0.0, guided_cfg=(3.0, 9.0), guided_batch=16, fresh_budget=False):
    final = os.path.join(run_dir, "unet_final.pt")
    if os.path.exists(final):
        log("unet: final exists, skipping")
        return
    tok = ensure_tokenizer(run_dir)
    lat = cache_latents(run_dir)
    x0_all, cap_idx = lat["x0"], lat["cap_idx"]
    cap_ids = torch.tensor([tok(c) for c in lat["captions"]], dtype=torch.int32)
    # "top left, a red circle on a blue background": with the position words first, the causal text encoder carries
    # them into every later state (as it does for colours), which gives the UNet an easy position signal to learn
    # from; the canonical order then has to follow. Without this the position words reached only their own states
    # and the UNet never used them (chance-level position).
    position_first = torch.tensor([tok("{1}, {0}".format(*c.rsplit(", ", 1))) for c in lat["captions"]],
                                  dtype=torch.int32)
    empty_ids = torch.tensor(tok(""), dtype=torch.int32)
    torch.manual_seed(UNET_SEED)
    te, un = build_text_unet(len(tok.encoder))
    warm = os.path.join(run_dir, "warm_start.pt")
    if os.path.exists(warm) and not (resume and os.path.exists(os.path.join(run_dir, "unet_ckpt.pt"))):
        w = torch.load(warm)  # written by recover.py --warm-start from an earlier export
        te.load_state_dict(w["te"]); un.load_state_dict(w["unet"])
        log(f"unet: warm start from {w['recovered_from']} (coordinate channels added: {w['coordinate_channels_added']})")
    # Auxiliary caption-attribute heads on the pooled (end-token) state, training only (not exported): CLIP's own
    # objective lives on that state too. They make the causal encoder carry every attribute -- position included --
    # into the end and padding states, which hold most of the UNet's cross-attention mass; without them only the
    # colour words got there and the UNet ignored position.
    groups = [data.COLOR_NAMES, data.SHAPES, data.COLOR_NAMES, data.POSITION_NAMES]
    attr_head = torch.nn.Linear(te.width, sum(len(g) for g in groups))
    labels = torch.tensor([attribute_labels(c, groups) for c in lat["captions"]])
    params = list(te.parameters()) + list(un.parameters())
    # the text encoder learns from the UNet's gradient only; a higher rate helped it separate the position words
    opt = torch.optim.AdamW([{"params": list(te.parameters()) + list(attr_head.parameters()), "lr_mult": text_lr_mult},
                             {"params": list(un.parameters()), "lr_mult": 1.0}], lr=lr_base, weight_decay=0.01)
    ema_te, ema_un = build_text_unet(len(tok.encoder))
    ema_te.load_state_dict(te.state_dict()); ema_un.load_state_dict(un.state_dict())
    ema_params = list(ema_te.parameters()) + list(ema_un.parameters())
    ac = alphas_cumprod().float()
    snr = ac / (1 - ac)
    w_t = torch.clamp(snr, max=snr_gamma) / snr  # min-SNR-gamma weighting for epsilon prediction
    # The layout (where the object goes) is decided in the first sampling steps, at t > ~750, where the noisy latent
    # shows nothing of it and an epsilon loss barely sees a wrong x0 (its x0 error is scaled by the SNR, ~0.01 there).
    # An added x0-space term (epsilon error / SNR, capped) and more samples at high t make those steps learn it.
    w_t = w_t + x0_weight * torch.clamp(1 / snr, max=50.0)
    ck = os.path.join(run_dir, "unet_ckpt.pt")
    step, elapsed = 0, 0.0
    if resume and os.path.exists(ck):
        s = torch.load(ck)
        te.load_state_dict(s["te"]); un.load_state_dict(s["unet"])
        ema_te.load_state_dict(s["ema_te"]); ema_un.load_state_dict(s["ema_unet"])
        opt.load_state_dict(s["opt"])
        if "attr_head" in s:
            attr_head.load_state_dict(s["attr_head"])
        step, elapsed = s["step"], (0.0 if fresh_budget else s["elapsed"])
        torch.manual_seed(UNET_SEED + step)
        log(f"unet: resumed at step {step}, {elapsed / 60:.1f} min done")
    log(f"unet: text encoder {n_params(te)} params, unet {n_params(un)} params; {len(x0_all)} latents; "
        f"budget {minutes} min, batch {batch}")
    budget = minutes * 60
    t_start = time.time() - elapsed
    last_ck = time.time()
    t_log = time.time()
    acc, nacc = 0.0, 0
    while True:
        elapsed = time.time() - t_start
        if elapsed >= budget:
            break
        lr = lr_at(lr_base, elapsed / budget)
        for g in opt.param_groups:
            g["lr"] = lr * g["lr_mult"]
        idx = torch.randint(0, len(x0_all), (batch,))
        x0 = x0_all[idx]
        ids = cap_ids[cap_idx[idx]].clone()
        flip = torch.rand(batch) < p_position_first
        ids[flip] = position_first[cap_idx[idx[flip]]]
        drop = torch.rand(batch) < p_uncond
        ids[drop] = empty_ids
        t = torch.randint(0, 1000, (batch,))
        high = torch.rand(batch) < p_high_t
        t[high] = torch.randint(600, 1000, (int(high.sum()),))
        eps = torch.randn_like(x0)
        a = ac[t].view(-1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        ctx, pooled = te(ids)
        pred = un(xt, t.float(), ctx)
        loss = (((pred - eps) ** 2).mean(dim=(1, 2, 3)) * w_t[t]).mean()
        if guided_weight > 0 and (~drop).any():
            # Guidance-consistent term: the guided prediction eps_u + w (eps_c - eps_u), for a guidance scale w drawn
            # from the range users run (SD's 7.5 inside it), must also match the true noise. Without it the tiny
            # model's cond/uncond differences at object edges, amplified 7.5x, turned squares into four-point stars
            # (held-out shape 91 % at CFG 1, 78 % at CFG 3, 56 % at CFG 7.5 with the same weights).
            k = torch.nonzero(~drop).flatten()[:guided_batch]
            ctx_u, _ = te(empty_ids.unsqueeze(0))
            pred_u = un(xt[k], t[k].float(), ctx_u.expand(len(k), -1, -1))
            w = torch.empty(len(k), 1, 1, 1).uniform_(*guided_cfg)
            guided = pred_u + w * (pred[k] - pred_u)
            loss = loss + guided_weight * (((guided - eps[k]) ** 2).mean(dim=(1, 2, 3)) * w_t[t[k]]).mean()
        if attr_weight > 0 and (~drop).any():
            logits = attr_head(pooled[~drop]).split([len(g) for g in groups], dim=1)
            target = labels[cap_idx[idx[~drop]]]
            loss = loss + attr_weight * sum(F.cross_entropy(lg, target[:, k]) for k, lg in enumerate(logits))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        d = min(ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, p in zip(ema_params, params):
                pe.mul_(d).add_(p.detach(), alpha=1 - d)
        acc += loss.item(); nacc += 1
        if step % 50 == 0:
            log(f"unet step {step} loss {acc / nacc:.4f} lr {lr:.2e} {(time.time() - t_log) / nacc:.3f}s/step "
                f"elapsed {elapsed / 60:.1f}min")
            acc, nacc, t_log = 0.0, 0, time.time()
        if time.time() - last_ck > 180:
            atomic_save({"te": te.state_dict(), "unet": un.state_dict(), "ema_te": ema_te.state_dict(),
                         "ema_unet": ema_un.state_dict(), "opt": opt.state_dict(), "step": step,
                         "elapsed": time.time() - t_start, "attr_head": attr_head.state_dict()}, ck)
            last_ck = time.time()
    s = {"te": te.state_dict(), "unet": un.state_dict(), "ema_te": ema_te.state_dict(),
         "ema_unet": ema_un.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed": time.time() - t_start,
         "attr_head": attr_head.state_dict()}
    atomic_save(s, ck)
    atomic_save({"ema_te": ema_te.state_dict(), "ema_unet": ema_un.state_dict(), "step": step,
                 "elapsed": time.time() - t_start}, final)
    log(f"unet: done, {step} steps in {(time.time() - t_start) / 60:.1f} min")


def finetune_decoder(run_dir, minutes, batch, resume, lr_base=5e-4, latent_noise=0.03, grad_w=2.0):
    """Decoder-only fine-tune on the cached (frozen-encoder) latents: the latent space the UNet is trained on
    does not change, so this can run concurrently with / after UNet training."""
    final = os.path.join(run_dir, "vae_decft_final.pt")
    if os.path.exists(final):
        log("decoder ft: final exists, skipping")
        return
    imgs, _ = get_pool(run_dir)
    lat = cache_latents(run_dir)
    x0_all, mu, sd = lat["x0"], lat["latent_mean"], lat["latent_std"]
    s = torch.load(os.path.join(run_dir, "vae_final.pt"))
    cfg = s["config"]
    vae = AutoencoderKL(tuple(cfg["ch"]), cfg["z"])
    vae.load_state_dict(s["model"])
    params = list(vae.decoder.parameters()) + list(vae.post_quant_conv.parameters())
    opt = torch.optim.Adam(params, lr=lr_base)
    ck = os.path.join(run_dir, "vae_decft_ckpt.pt")
    step, elapsed = 0, 0.0
    if resume and os.path.exists(ck):
        c = torch.load(ck)
        vae.load_state_dict(c["model"]); opt.load_state_dict(c["opt"])
        step, elapsed = c["step"], c["elapsed"]
        log(f"decoder ft: resumed at step {step}")
    torch.manual_seed(VAE_SEED + 100 + step)
    rng = np.random.default_rng(VAE_SEED + 100 + step)
    n = len(x0_all)  # pool order == latent order (first n pool images)
    log(f"decoder ft: {n_params(vae.decoder)} decoder params, budget {minutes} min, batch {batch}")
    budget = minutes * 60
    t_start = time.time() - elapsed
    last_ck = time.time(); t_log = time.time()
    acc = {"l1": 0.0, "grad": 0.0, "mse": 0.0, "n": 0}
    while True:
        elapsed = time.time() - t_start
        if elapsed >= budget:
            break
        lr = lr_at(lr_base, elapsed / budget, warm_frac=0.01)
        for g in opt.param_groups:
            g["lr"] = lr
        idx = rng.integers(0, n, batch)
        x = torch.from_numpy(data.to_tensor_range(imgs[idx]))
        z = x0_all[idx] + latent_noise * torch.randn(batch, 4, 8, 8)
        z = z * sd[None, :, None, None] + mu[None, :, None, None]
        rec = vae.decode(z)
        l1 = (rec - x).abs().mean(); gl = grad_loss(rec, x); mse = F.mse_loss(rec, x)
        loss = l1 + grad_w * gl + mse
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        acc["l1"] += l1.item(); acc["grad"] += gl.item(); acc["mse"] += mse.item(); acc["n"] += 1
        if step % 25 == 0:
            k = acc["n"]
            log(f"decft step {step} l1 {acc['l1'] / k:.4f} grad {acc['grad'] / k:.4f} "
                f"psnr {10 * math.log10(4.0 / max(acc['mse'] / k, 1e-10)):.2f}dB lr {lr:.2e} "
                f"{(time.time() - t_log) / k:.3f}s/step elapsed {elapsed / 60:.1f}min")
            acc = {kk: 0.0 for kk in acc}; acc["n"] = 0; t_log = time.time()
        if time.time() - last_ck > 180:
            atomic_save({"model": vae.state_dict(), "opt": opt.state_dict(), "step": step,
                         "elapsed": time.time() - t_start, "config": cfg}, ck)
            last_ck = time.time()
    atomic_save({"model": vae.state_dict(), "opt": opt.state_dict(), "step": step,
                 "elapsed": time.time() - t_start, "config": cfg}, ck)
    atomic_save({"model": vae.state_dict(), "step": step, "elapsed": time.time() - t_start, "config": cfg,
                 "base_vae_step": s["step"], "base_vae_elapsed": s["elapsed"]}, final)
    log(f"decoder ft: done, {step} steps")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", default=os.path.join(RUNS, "main"))
    ap.add_argument("--vae-minutes", type=float, default=27)
    ap.add_argument("--unet-minutes", type=float, default=80)
    ap.add_argument("--vae-batch", type=int, default=16)
    ap.add_argument("--unet-batch", type=int, default=32)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--stage", choices=["all", "vae", "cache", "unet", "decoder"], default="all")
    ap.add_argument("--decoder-minutes", type=float, default=60)
    ap.add_argument("--text-lr-mult", type=float, default=2.0, help="text encoder learning rate / UNet learning rate")
    ap.add_argument("--unet-lr", type=float, default=3e-4)
    ap.add_argument("--position-first", type=float, default=0.0,
                    help="share of training captions rewritten with the position words first")
    ap.add_argument("--high-t", type=float, default=0.0, help="share of timesteps drawn from [600, 1000) instead of [0, 1000)")
    ap.add_argument("--x0-weight", type=float, default=0.0, help="weight of the added x0-space loss term (1/SNR, capped at 50)")
    ap.add_argument("--guided-weight", type=float, default=0.0,
                    help="weight of the guidance-consistent loss (the CFG-guided prediction must match the noise)")
    ap.add_argument("--guided-cfg", default="3,9", help="range of guidance scales drawn for --guided-weight")
    ap.add_argument("--guided-batch", type=int, default=16, help="samples per batch that get the extra unconditional pass")
    ap.add_argument("--fresh-budget", action="store_true",
                    help="with --resume: keep weights, optimizer and step count, but restart the time budget and LR schedule")
    ap.add_argument("--attr-weight", type=float, default=0.0,
                    help="weight of the auxiliary caption-attribute loss on the text encoder's pooled state")
    a = ap.parse_args()
    setup_threads()
    os.makedirs(a.run_dir, exist_ok=True)
    log(f"args {vars(a)} torch {torch.__version__} threads {torch.get_num_threads()}")
    ensure_tokenizer(a.run_dir)
    if a.stage in ("all", "vae"):
        train_vae(a.run_dir, a.vae_minutes, a.vae_batch, a.resume)
    if a.stage in ("all", "cache"):
        cache_latents(a.run_dir)
    if a.stage in ("all", "unet"):
        train_unet(a.run_dir, a.unet_minutes, a.unet_batch, a.resume, lr_base=a.unet_lr, text_lr_mult=a.text_lr_mult,
                   p_position_first=a.position_first, p_high_t=a.high_t, x0_weight=a.x0_weight,
                   attr_weight=a.attr_weight, guided_weight=a.guided_weight,
                   guided_cfg=tuple(float(v) for v in a.guided_cfg.split(",")), guided_batch=a.guided_batch,
                   fresh_budget=a.fresh_budget)
    if a.stage == "decoder":
        finetune_decoder(a.run_dir, a.decoder_minutes, a.vae_batch, a.resume)
    log("all done")


if __name__ == "__main__":
    main()
