import json
import os
import time
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = os.path.join(HERE, "runs")
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SCALING_FACTOR = 0.18215
BETA_START, BETA_END, T_TRAIN = 0.00085, 0.012, 1000


def alphas_cumprod():
    betas = torch.linspace(BETA_START ** 0.5, BETA_END ** 0.5, T_TRAIN, dtype=torch.float64) ** 2
    return torch.cumprod(1.0 - betas, dim=0)


def log(msg, f=None):
    line = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) + "Z " + msg
    print(line, flush=True)


def atomic_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def setup_threads():
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))


def tokenizer_dir(run_dir):
    return os.path.join(run_dir, "tokenizer")


def model_config():
    return {
        "text": {"width": 128, "layers": 4, "heads": 4},
        "unet": {"ch": [64, 128, 128], "attn": [True, True, False], "ctx_dim": 128, "coords": True},
        "vae": {"ch": [24, 48, 96, 128], "z": 4},
    }
