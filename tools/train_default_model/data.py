"""Procedural shapes dataset: 64x64 RGB images + canonical captions."""
import random
import numpy as np

COLORS = {
    "red": (220, 30, 30),
    "green": (30, 170, 50),
    "blue": (30, 60, 220),
    "yellow": (245, 215, 30),
    "purple": (140, 40, 180),
    "orange": (245, 135, 20),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
}
COLOR_NAMES = list(COLORS)
SHAPES = ["circle", "square", "triangle"]
POSITIONS = {
    "top left": (16.0, 16.0),
    "top right": (48.0, 16.0),
    "bottom left": (16.0, 48.0),
    "bottom right": (48.0, 48.0),
    "center": (32.0, 32.0),
}
POSITION_NAMES = list(POSITIONS)
IMAGE_SIZE = 64
SPLIT_SEED = 1234
HOLDOUT_FRACTION = 0.10


def caption(color, shape, bg, pos):
    return f"a {color} {shape} on a {bg} background, {pos}"


def all_combos():
    return [(c, s, bg, p) for c in COLOR_NAMES for s in SHAPES for bg in COLOR_NAMES
            if bg != c for p in POSITION_NAMES]


def split_combos(seed=SPLIT_SEED):
    """Deterministic train / held-out split of (colour, shape, bg, position) tuples."""
    combos = all_combos()
    rng = random.Random(seed)
    rng.shuffle(combos)
    n_hold = int(round(len(combos) * HOLDOUT_FRACTION))
    held = sorted(combos[:n_hold])
    train = sorted(combos[n_hold:])
    return train, held


_SS = 4  # supersampling factor for anti-aliasing
_grid = (np.arange(IMAGE_SIZE * _SS, dtype=np.float32) + 0.5) / _SS
_GX, _GY = np.meshgrid(_grid, _grid)


def shape_mask(shape, cx, cy, r):
    x, y = _GX, _GY
    if shape == "circle":
        m = (x - cx) ** 2 + (y - cy) ** 2 <= r * r
    elif shape == "square":
        h = r * 0.9
        m = (np.abs(x - cx) <= h) & (np.abs(y - cy) <= h)
    elif shape == "triangle":
        # upward isosceles triangle, apex at (cx, cy-r), base at y=cy+r with half width r
        t = (y - (cy - r)) / (2 * r)  # 0 at apex, 1 at base
        m = (t >= 0) & (t <= 1) & (np.abs(x - cx) <= t * r)
    else:
        raise ValueError(shape)
    m = m.astype(np.float32).reshape(IMAGE_SIZE, _SS, IMAGE_SIZE, _SS).mean(axis=(1, 3))
    return m


def render(color, shape, bg, pos, rng=None, jitter=True):
    """Returns uint8 HxWx3."""
    cx, cy = POSITIONS[pos]
    r = 12.0
    if jitter and rng is not None:
        r = rng.uniform(11.0, 13.0)
        cx += rng.uniform(-2.0, 2.0)
        cy += rng.uniform(-2.0, 2.0)
    m = shape_mask(shape, cx, cy, r)[..., None]
    fg = np.array(COLORS[color], np.float32)
    bgc = np.array(COLORS[bg], np.float32)
    img = m * fg + (1 - m) * bgc
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def make_set(combos, per_combo, seed):
    """Fixed jittered set: returns (uint8 N,64,64,3 array, list of captions)."""
    rng = random.Random(seed)
    imgs, caps = [], []
    for k in range(per_combo):
        for cmb in combos:
            imgs.append(render(*cmb, rng=rng))
            caps.append(caption(*cmb))
    return np.stack(imgs), caps


def to_tensor_range(u8):
    """uint8 NHWC -> float32 NCHW in [-1,1] (numpy)."""
    return (u8.astype(np.float32) / 127.5 - 1.0).transpose(0, 3, 1, 2)
