"""Small Stable-Diffusion-shaped models: CLIP-style text encoder, UNet with cross-attention, KL autoencoder."""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F

MAX_LEN = 77


def gn(ch):
    return nn.GroupNorm(min(32, ch // 4) if ch >= 8 else 1, ch, eps=1e-5)


def attention(q, k, v, heads, mask=None):
    """q [b,n,c], k/v [b,m,c]; explicit matmul + softmax (no fused SDPA)."""
    b, n, c = q.shape
    m = k.shape[1]
    d = c // heads
    q = q.reshape(b, n, heads, d).transpose(1, 2)
    k = k.reshape(b, m, heads, d).transpose(1, 2)
    v = v.reshape(b, m, heads, d).transpose(1, 2)
    w = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d))
    if mask is not None:
        w = w + mask
    w = torch.softmax(w, dim=-1)
    o = torch.matmul(w, v)
    return o.transpose(1, 2).reshape(b, n, c)


# ---------------------------------------------------------------- text encoder
class TextBlock(nn.Module):
    def __init__(self, w, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(w)
        self.q = nn.Linear(w, w)
        self.k = nn.Linear(w, w)
        self.v = nn.Linear(w, w)
        self.o = nn.Linear(w, w)
        self.ln2 = nn.LayerNorm(w)
        self.fc1 = nn.Linear(w, 4 * w)
        self.fc2 = nn.Linear(4 * w, w)

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.o(attention(self.q(h), self.k(h), self.v(h), self.heads, mask))
        h = self.fc1(self.ln2(x))
        h = h * torch.sigmoid(1.702 * h)  # quick_gelu as in CLIP
        return x + self.fc2(h)


class TextEncoder(nn.Module):
    def __init__(self, vocab_size, width=128, layers=4, heads=4, max_len=MAX_LEN):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.position_embedding = nn.Parameter(torch.randn(max_len, width) * 0.01)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        self.blocks = nn.ModuleList([TextBlock(width, heads) for _ in range(layers)])
        self.final_ln = nn.LayerNorm(width)
        mask = torch.full((max_len, max_len), -1e4).triu(1)
        self.register_buffer("causal_mask", mask, persistent=False)
        self.width = width

    def forward(self, input_ids):
        L = input_ids.shape[1]
        x = self.token_embedding(input_ids) + self.position_embedding[:L]
        mask = self.causal_mask[:L, :L]
        for blk in self.blocks:
            x = blk(x, mask)
        x = self.final_ln(x)
        # pooled = hidden state at the end token (= highest id); argmax on int32 ids
        idx = torch.argmax(input_ids, dim=-1)
        pooled = torch.gather(x, 1, idx.reshape(-1, 1, 1).expand(-1, 1, x.shape[2]))[:, 0]
        return x, pooled


# ---------------------------------------------------------------- shared conv blocks
class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb=None):
        super().__init__()
        self.norm1 = gn(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout) if temb else None
        self.norm2 = gn(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, t=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.temb is not None:
            h = h + self.temb(F.silu(t))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.skip(x) if self.skip is not None else x) + h


class Downsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


def upsample_nearest2x(x):
    # nearest 2x without Resize (type-agnostic: Unsqueeze/Expand/Reshape)
    b, c, h, w = x.shape
    x = x.reshape(b, c, h, 1, w, 1).expand(b, c, h, 2, w, 2)
    return x.reshape(b, c, h * 2, w * 2)


class Upsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(upsample_nearest2x(x))


# ---------------------------------------------------------------- UNet
class SpatialTransformer(nn.Module):
    def __init__(self, ch, ctx_dim, head_dim=32):
        super().__init__()
        self.heads = max(1, ch // head_dim)
        self.norm = gn(ch)
        self.proj_in = nn.Conv2d(ch, ch, 1)
        self.ln1 = nn.LayerNorm(ch)
        self.q1, self.k1, self.v1, self.o1 = (nn.Linear(ch, ch, bias=False), nn.Linear(ch, ch, bias=False),
                                              nn.Linear(ch, ch, bias=False), nn.Linear(ch, ch))
        self.ln2 = nn.LayerNorm(ch)
        self.q2, self.k2, self.v2, self.o2 = (nn.Linear(ch, ch, bias=False), nn.Linear(ctx_dim, ch, bias=False),
                                              nn.Linear(ctx_dim, ch, bias=False), nn.Linear(ch, ch))
        self.ln3 = nn.LayerNorm(ch)
        self.ff1 = nn.Linear(ch, 4 * ch)
        self.ff2 = nn.Linear(4 * ch, ch)
        self.proj_out = nn.Conv2d(ch, ch, 1)

    def forward(self, x, ctx):
        b, c, h, w = x.shape
        r = x
        x = self.proj_in(self.norm(x))
        x = x.reshape(b, c, h * w).transpose(1, 2)
        y = self.ln1(x)
        x = x + self.o1(attention(self.q1(y), self.k1(y), self.v1(y), self.heads))
        y = self.ln2(x)
        x = x + self.o2(attention(self.q2(y), self.k2(ctx), self.v2(ctx), self.heads))
        x = x + self.ff2(F.gelu(self.ff1(self.ln3(x))))
        x = x.transpose(1, 2).reshape(b, c, h, w)
        return r + self.proj_out(x)


class TimeProj(nn.Module):
    """Sinusoidal timestep embedding (flip_sin_to_cos=True, shift 0 like SD)."""

    def __init__(self, dim):
        super().__init__()
        half = dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        self.register_buffer("freqs", freqs, persistent=False)

    def forward(self, t):
        a = t[:, None].float() * self.freqs[None]
        return torch.cat([torch.cos(a), torch.sin(a)], dim=-1)


def coordinate_channels(sample):
    """Two channels holding each latent pixel's normalised (x, y) in [-1, 1], computed from the sample's own size.

    Convolutions are translation-equivariant, so without them the UNet can only infer where it is from the zero
    padding at the borders, and binding "top left" / "bottom right" to a place was the weakest part of the first
    trained model (position at chance level). Built from Range over int64 so the float16 export stays valid."""
    h, w = sample.shape[2], sample.shape[3]
    ys = (torch.arange(h).to(sample.dtype) * 2 + 1) / h - 1
    xs = (torch.arange(w).to(sample.dtype) * 2 + 1) / w - 1
    zero = sample[:, :1] * 0
    return torch.cat([zero + xs.reshape(1, 1, 1, -1), zero + ys.reshape(1, 1, -1, 1)], dim=1)


class UNet(nn.Module):
    def __init__(self, ch=(64, 128, 128), attn=(True, True, False), ctx_dim=128, in_ch=4, temb_in=64, coords=True):
        super().__init__()
        tdim = ch[0] * 4
        self.coords = coords
        self.time_proj = TimeProj(temb_in)
        self.time_mlp1 = nn.Linear(temb_in, tdim)
        self.time_mlp2 = nn.Linear(tdim, tdim)
        self.conv_in = nn.Conv2d(in_ch + (2 if coords else 0), ch[0], 3, padding=1)
        self.down_res = nn.ModuleList()
        self.down_attn = nn.ModuleList()
        self.down_samp = nn.ModuleList()
        skip_ch = [ch[0]]
        cur = ch[0]
        for i, c in enumerate(ch):
            self.down_res.append(ResBlock(cur, c, tdim))
            self.down_attn.append(SpatialTransformer(c, ctx_dim) if attn[i] else nn.Identity())
            cur = c
            skip_ch.append(cur)
            if i < len(ch) - 1:
                self.down_samp.append(Downsample(cur))
                skip_ch.append(cur)
        self.mid_res1 = ResBlock(cur, cur, tdim)
        self.mid_attn = SpatialTransformer(cur, ctx_dim)
        self.mid_res2 = ResBlock(cur, cur, tdim)
        self.up_res = nn.ModuleList()
        self.up_attn = nn.ModuleList()
        self.up_samp = nn.ModuleList()
        for i in reversed(range(len(ch))):
            c = ch[i]
            res, att = nn.ModuleList(), nn.ModuleList()
            for _ in range(2):
                res.append(ResBlock(cur + skip_ch.pop(), c, tdim))
                att.append(SpatialTransformer(c, ctx_dim) if attn[i] else nn.Identity())
                cur = c
            self.up_res.append(res)
            self.up_attn.append(att)
            if i > 0:
                self.up_samp.append(Upsample(cur))
        self.norm_out = gn(cur)
        self.conv_out = nn.Conv2d(cur, in_ch, 3, padding=1)
        self.attn_flags = attn

    def forward(self, sample, timestep, ctx):
        t = timestep.expand(sample.shape[0]) if timestep.dim() == 1 else timestep
        temb = self.time_mlp2(F.silu(self.time_mlp1(self.time_proj(t))))
        h = self.conv_in(torch.cat([sample, coordinate_channels(sample)], dim=1) if self.coords else sample)
        skips = [h]
        n = len(self.down_res)
        for i in range(n):
            h = self.down_res[i](h, temb)
            if self.attn_flags[i]:
                h = self.down_attn[i](h, ctx)
            skips.append(h)
            if i < n - 1:
                h = self.down_samp[i](h)
                skips.append(h)
        h = self.mid_res1(h, temb)
        h = self.mid_attn(h, ctx)
        h = self.mid_res2(h, temb)
        for j in range(n):
            i = n - 1 - j
            for k in range(2):
                h = self.up_res[j][k](torch.cat([h, skips.pop()], dim=1), temb)
                if self.attn_flags[i]:
                    h = self.up_attn[j][k](h, ctx)
            if i > 0:
                h = self.up_samp[j](h)
        return self.conv_out(F.silu(self.norm_out(h)))


# ---------------------------------------------------------------- KL autoencoder (factor 8)
class Encoder(nn.Module):
    def __init__(self, ch=(32, 64, 128, 128), z=4):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch[0], 3, padding=1)
        layers = []
        cur = ch[0]
        for i, c in enumerate(ch):
            layers.append(ResBlock(cur, c))
            cur = c
            if i < len(ch) - 1:
                layers.append(Downsample(cur))
        layers.append(ResBlock(cur, cur))
        self.body = nn.Sequential(*layers)
        self.norm_out = gn(cur)
        self.conv_out = nn.Conv2d(cur, 2 * z, 3, padding=1)

    def forward(self, x):
        return self.conv_out(F.silu(self.norm_out(self.body(self.conv_in(x)))))


class Decoder(nn.Module):
    def __init__(self, ch=(32, 64, 128, 128), z=4):
        super().__init__()
        cur = ch[-1]
        self.conv_in = nn.Conv2d(z, cur, 3, padding=1)
        layers = [ResBlock(cur, cur)]
        for i in reversed(range(len(ch))):
            layers.append(ResBlock(cur, ch[i]))
            cur = ch[i]
            if i > 0:
                layers.append(Upsample(cur))
        layers.append(ResBlock(cur, cur))
        self.body = nn.Sequential(*layers)
        self.norm_out = gn(cur)
        self.conv_out = nn.Conv2d(cur, 3, 3, padding=1)

    def forward(self, z):
        return self.conv_out(F.silu(self.norm_out(self.body(self.conv_in(z)))))


class AutoencoderKL(nn.Module):
    def __init__(self, ch=(32, 64, 128, 128), z=4):
        super().__init__()
        self.encoder = Encoder(ch, z)
        self.decoder = Decoder(ch, z)
        self.quant_conv = nn.Conv2d(2 * z, 2 * z, 1)
        self.post_quant_conv = nn.Conv2d(z, z, 1)
        self.z = z

    def encode(self, x):
        """Returns latent parameters (mean ++ logvar) [b, 2z, h/8, w/8]."""
        return self.quant_conv(self.encoder(x))

    def decode(self, z):
        return self.decoder(self.post_quant_conv(z))


def n_params(m):
    return sum(p.numel() for p in m.parameters())
