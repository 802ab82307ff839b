"""Stable Diffusion components written from the published diffusers/transformers architectures (no weights).

Module names and layer order follow diffusers (UNet2DConditionModel, AutoencoderKL) and transformers
(CLIPTextModel) so that parameter counts match the published checkpoints exactly; the forward passes are the
inference paths of those classes (no dropout, no gradient checkpointing). Attention is exported as matmul + softmax
(what Optimum's diffusers export writes) or, after `set_attention("fused")`, as ONNX Runtime's
`com.microsoft.MultiHeadAttention` contrib op (what ORT's transformer optimizer writes for SD), whose CPU kernel
is a flash-attention loop that never materialises the [batch, heads, tokens, tokens] score tensor.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


_ATTENTION = "matmul"


def set_attention(kind):
    """"matmul" or "fused"; read when a module is traced, so call it before building and exporting."""
    global _ATTENTION
    if kind not in ("matmul", "fused"):
        raise ValueError(f"unknown attention kind {kind!r}; use matmul or fused")
    _ATTENTION = kind


def _reference_attention(q, k, v, heads):
    """softmax(q k^T / sqrt(d)) v over [batch, tokens, heads * d] tensors."""
    b, n, c = q.shape
    d = c // heads

    def split(t):
        return t.reshape(b, -1, heads, d).permute(0, 2, 1, 3)

    attn = torch.softmax(torch.matmul(split(q), split(k).transpose(-1, -2)) * (1.0 / math.sqrt(d)), dim=-1)
    return torch.matmul(attn, split(v)).permute(0, 2, 1, 3).reshape(b, n, c)


class _MultiHeadAttention(torch.autograd.Function):
    """Runs the reference maths in torch; exports as one com.microsoft.MultiHeadAttention node (inputs [B, S, D],
    scale 1/sqrt(head size) by default, which is the reference's)."""

    @staticmethod
    def forward(ctx, q, k, v, heads):
        return _reference_attention(q, k, v, heads)

    @staticmethod
    def symbolic(g, q, k, v, heads):
        out = g.op("com.microsoft::MultiHeadAttention", q, k, v, num_heads_i=heads)
        out.setType(q.type())
        return out


def attention(q, k, v, heads):
    if _ATTENTION == "fused":
        return _MultiHeadAttention.apply(q, k, v, heads)
    return _reference_attention(q, k, v, heads)


def group_norm(channels, eps=1e-5):
    return nn.GroupNorm(32, channels, eps=eps)


# ------------------------------------------------------------------------------------------------ UNet pieces
class ResnetBlock2D(nn.Module):
    """diffusers ResnetBlock2D: GN-SiLU-conv, + time embedding projection, GN-SiLU-conv, 1x1 shortcut when widths differ."""

    def __init__(self, cin, cout, temb_channels=None):
        super().__init__()
        self.norm1 = group_norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb_channels, cout) if temb_channels else None
        self.norm2 = group_norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.time_emb_proj is not None:
            h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class Attention(nn.Module):
    """diffusers Attention (CrossAttention): q/k/v without bias, to_out with bias; softmax(q k^T / sqrt(d)) v."""

    def __init__(self, dim, heads, context_dim=None, bias=False):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=bias)
        self.to_k = nn.Linear(context_dim or dim, dim, bias=bias)
        self.to_v = nn.Linear(context_dim or dim, dim, bias=bias)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim)])

    def forward(self, x, context=None):
        context = x if context is None else context
        return self.to_out[0](attention(self.to_q(x), self.to_k(context), self.to_v(context), self.heads))


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        a, gate = self.proj(x).chunk(2, dim=-1)
        return a * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        # diffusers: net = [GEGLU, Dropout, Linear]; the dropout slot keeps the state-dict indices.
        self.net = nn.ModuleList([GEGLU(dim, dim * mult), nn.Identity(), nn.Linear(dim * mult, dim)])

    def forward(self, x):
        return self.net[2](self.net[0](x))


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, context_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads, context_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class Transformer2DModel(nn.Module):
    """GroupNorm, projection in (1x1 conv for SD 1.x, linear for SD 2.x/XL), `depth` transformer blocks (1 for SD 1.x/2.x,
    up to 10 for SDXL), projection out, residual."""

    def __init__(self, channels, heads, context_dim, linear_projection, depth=1):
        super().__init__()
        self.linear = linear_projection
        self.norm = group_norm(channels, eps=1e-6)
        proj = (lambda: nn.Linear(channels, channels)) if linear_projection else (lambda: nn.Conv2d(channels, channels, 1))
        self.proj_in = proj()
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(channels, heads, context_dim) for _ in range(depth)])
        self.proj_out = proj()

    def forward(self, x, context):
        b, c, hgt, wid = x.shape
        h = self.norm(x)
        if self.linear:
            h = self.proj_in(h.permute(0, 2, 3, 1).reshape(b, hgt * wid, c))
        else:
            h = self.proj_in(h).permute(0, 2, 3, 1).reshape(b, hgt * wid, c)
        for block in self.transformer_blocks:
            h = block(h, context)
        if self.linear:
            h = self.proj_out(h).reshape(b, hgt, wid, c).permute(0, 3, 1, 2)
        else:
            h = self.proj_out(h.reshape(b, hgt, wid, c).permute(0, 3, 1, 2))
        return h + x


class Downsample2D(nn.Module):
    def __init__(self, channels, padding=1):
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=padding)

    def forward(self, x):
        if self.padding == 0:  # the VAE encoder pads right/bottom only
            x = F.pad(x, (0, 1, 0, 1))
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    """CrossAttnDownBlock2D (heads set) or DownBlock2D (heads None)."""

    def __init__(self, cin, cout, temb, layers, heads, context_dim, linear, downsample, depth=1):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout, temb) for i in range(layers)])
        self.attentions = nn.ModuleList([Transformer2DModel(cout, heads, context_dim, linear, depth) for _ in range(layers)]) if heads else None
        self.downsamplers = nn.ModuleList([Downsample2D(cout)]) if downsample else None

    def forward(self, x, temb, context):
        skips = []
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x, context)
            skips.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class UpBlock(nn.Module):
    """CrossAttnUpBlock2D (heads set) or UpBlock2D; each resnet takes the previous output concatenated with one skip."""

    def __init__(self, cin, cout, prev, temb, layers, heads, context_dim, linear, upsample, depth=1):
        super().__init__()
        self.resnets = nn.ModuleList()
        for i in range(layers):
            skip = cin if i == layers - 1 else cout
            self.resnets.append(ResnetBlock2D((prev if i == 0 else cout) + skip, cout, temb))
        self.attentions = nn.ModuleList([Transformer2DModel(cout, heads, context_dim, linear, depth) for _ in range(layers)]) if heads else None
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if upsample else None

    def forward(self, x, skips, temb, context):
        for i, resnet in enumerate(self.resnets):
            x = resnet(torch.cat([x, skips.pop()], dim=1), temb)
            if self.attentions is not None:
                x = self.attentions[i](x, context)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class MidBlock(nn.Module):
    def __init__(self, channels, temb, heads, context_dim, linear, depth=1):
        super().__init__()
        self.attentions = nn.ModuleList([Transformer2DModel(channels, heads, context_dim, linear, depth)])
        self.resnets = nn.ModuleList([ResnetBlock2D(channels, channels, temb), ResnetBlock2D(channels, channels, temb)])

    def forward(self, x, temb, context):
        x = self.resnets[0](x, temb)
        return self.resnets[1](self.attentions[0](x, context), temb)


class TimestepEmbedding(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.linear_1 = nn.Linear(cin, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class UNet2DConditionModel(nn.Module):
    """diffusers UNet2DConditionModel with the SD layout: CrossAttnDownBlock2D x3 + DownBlock2D, mid block with
    attention, UpBlock2D + CrossAttnUpBlock2D x3 (layers_per_block + 1 resnets each). `heads` per down block, as
    diffusers' legacy `attention_head_dim` means (8 for SD 1.x; 5/10/20/20 for SD 2.x)."""

    def __init__(self, block_out_channels, layers_per_block, context_dim, heads, linear_projection, in_channels=4):
        super().__init__()
        ch = list(block_out_channels)
        n = len(ch)
        temb = ch[0] * 4
        self.time_channels = ch[0]
        # 9 for inpainting models (sd-v1-5-inpainting): latents ++ mask ++ masked-image latents.
        self.conv_in = nn.Conv2d(in_channels, ch[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        self.down_blocks = nn.ModuleList()
        for i in range(n):
            attn = heads[i] if i < n - 1 else None
            self.down_blocks.append(DownBlock(ch[max(i - 1, 0)], ch[i], temb, layers_per_block, attn, context_dim,
                                              linear_projection, downsample=i < n - 1))
        self.mid_block = MidBlock(ch[-1], temb, heads[-1], context_dim, linear_projection)
        self.up_blocks = nn.ModuleList()
        rev, rev_heads = ch[::-1], list(heads)[::-1]
        for i in range(n):
            attn = rev_heads[i] if i > 0 else None
            self.up_blocks.append(UpBlock(rev[min(i + 1, n - 1)], rev[i], rev[max(i - 1, 0)], temb, layers_per_block + 1,
                                          attn, context_dim, linear_projection, upsample=i < n - 1))
        self.conv_norm_out = group_norm(ch[0])
        self.conv_out = nn.Conv2d(ch[0], 4, 3, padding=1)

    def time_proj(self, timestep, batch):
        # diffusers Timesteps(flip_sin_to_cos=True, downscale_freq_shift=0): [cos, sin]
        half = self.time_channels // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        args = timestep.float().reshape(-1).expand(batch)[:, None] * freqs[None, :]
        return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)

    def forward(self, sample, timestep, encoder_hidden_states):
        temb = self.time_embedding(self.time_proj(timestep, sample.shape[0]))
        x = self.conv_in(sample)
        skips = [x]
        for block in self.down_blocks:
            x, s = block(x, temb, encoder_hidden_states)
            skips.extend(s)
        x = self.mid_block(x, temb, encoder_hidden_states)
        for block in self.up_blocks:
            x = block(x, skips, temb, encoder_hidden_states)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


# ------------------------------------------------------------------------------------------------ VAE
class VaeAttention(nn.Module):
    """AutoencoderKL mid-block attention: one head over all channels, biases on q/k/v/out, GroupNorm first."""

    def __init__(self, channels):
        super().__init__()
        self.group_norm = group_norm(channels, eps=1e-6)
        self.to_q = nn.Linear(channels, channels)
        self.to_k = nn.Linear(channels, channels)
        self.to_v = nn.Linear(channels, channels)
        self.to_out = nn.ModuleList([nn.Linear(channels, channels)])

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.group_norm(x).reshape(b, c, h * w).transpose(1, 2)
        out = self.to_out[0](attention(self.to_q(t), self.to_k(t), self.to_v(t), 1))
        return out.transpose(1, 2).reshape(b, c, h, w) + x


class VaeMid(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.attentions = nn.ModuleList([VaeAttention(channels)])
        self.resnets = nn.ModuleList([ResnetBlock2D(channels, channels), ResnetBlock2D(channels, channels)])

    def forward(self, x):
        return self.resnets[1](self.attentions[0](self.resnets[0](x)))


class VaeBlock(nn.Module):
    def __init__(self, cin, cout, layers, down=False, up=False):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout) for i in range(layers)])
        self.downsamplers = nn.ModuleList([Downsample2D(cout, padding=0)]) if down else None
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if up else None

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class Encoder(nn.Module):
    def __init__(self, ch, layers, latent):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch[0], 3, padding=1)
        self.down_blocks = nn.ModuleList([VaeBlock(ch[max(i - 1, 0)], ch[i], layers, down=i < len(ch) - 1) for i in range(len(ch))])
        self.mid_block = VaeMid(ch[-1])
        self.conv_norm_out = group_norm(ch[-1], eps=1e-6)
        self.conv_out = nn.Conv2d(ch[-1], 2 * latent, 3, padding=1)

    def forward(self, x):
        x = self.conv_in(x)
        for b in self.down_blocks:
            x = b(x)
        return self.conv_out(F.silu(self.conv_norm_out(self.mid_block(x))))


class Decoder(nn.Module):
    def __init__(self, ch, layers, latent):
        super().__init__()
        rev = ch[::-1]
        self.conv_in = nn.Conv2d(latent, rev[0], 3, padding=1)
        self.mid_block = VaeMid(rev[0])
        self.up_blocks = nn.ModuleList([VaeBlock(rev[max(i - 1, 0)], rev[i], layers + 1, up=i < len(ch) - 1) for i in range(len(ch))])
        self.conv_norm_out = group_norm(ch[0], eps=1e-6)
        self.conv_out = nn.Conv2d(ch[0], 3, 3, padding=1)

    def forward(self, z):
        x = self.mid_block(self.conv_in(z))
        for b in self.up_blocks:
            x = b(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class VaeEncoderPart(nn.Module):
    """encoder + quant_conv: image [b, 3, H, W] in [-1, 1] -> latent mean and log-variance [b, 8, H/8, W/8]."""

    def __init__(self, ch, layers=2, latent=4):
        super().__init__()
        self.encoder = Encoder(ch, layers, latent)
        self.quant_conv = nn.Conv2d(2 * latent, 2 * latent, 1)

    def forward(self, sample):
        return self.quant_conv(self.encoder(sample))


class VaeDecoderPart(nn.Module):
    """post_quant_conv + decoder: latents [b, 4, h, w] (already divided by the scaling factor) -> image [b, 3, 8h, 8w]."""

    def __init__(self, ch, layers=2, latent=4):
        super().__init__()
        self.post_quant_conv = nn.Conv2d(latent, latent, 1)
        self.decoder = Decoder(ch, layers, latent)

    def forward(self, latent_sample):
        return self.decoder(self.post_quant_conv(latent_sample))


# ------------------------------------------------------------------------------------------------ CLIP text encoder
class ClipAttention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(width, width) for _ in range(4))

    def forward(self, x, mask):
        b, n, c = x.shape
        h, d = self.heads, c // self.heads

        def split(t):
            return t.reshape(b, n, h, d).permute(0, 2, 1, 3)

        q, k, v = split(self.q_proj(x) * (d ** -0.5)), split(self.k_proj(x)), split(self.v_proj(x))
        attn = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) + mask, dim=-1)
        return self.out_proj(torch.matmul(attn, v).permute(0, 2, 1, 3).reshape(b, n, c))


class ClipMlp(nn.Module):
    def __init__(self, width, inner, act):
        super().__init__()
        self.act = act
        self.fc1 = nn.Linear(width, inner)
        self.fc2 = nn.Linear(inner, width)

    def forward(self, x):
        h = self.fc1(x)
        h = h * torch.sigmoid(1.702 * h) if self.act == "quick_gelu" else F.gelu(h)
        return self.fc2(h)


class ClipLayer(nn.Module):
    def __init__(self, width, heads, inner, act):
        super().__init__()
        self.self_attn = ClipAttention(width, heads)
        self.layer_norm1 = nn.LayerNorm(width)
        self.mlp = ClipMlp(width, inner, act)
        self.layer_norm2 = nn.LayerNorm(width)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class ClipTextEmbeddings(nn.Module):
    def __init__(self, vocab, width, positions):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width)
        self.position_embedding = nn.Embedding(positions, width)


class ClipEncoder(nn.Module):
    def __init__(self, width, layers, heads, inner, act):
        super().__init__()
        self.layers = nn.ModuleList([ClipLayer(width, heads, inner, act) for _ in range(layers)])


class CLIPTextModel(nn.Module):
    """transformers CLIPTextModel (text_model.*): causal pre-LN transformer, final LayerNorm; outputs
    last_hidden_state and pooler_output (the hidden state at the end-of-text token = the largest id)."""

    def __init__(self, vocab=49408, width=768, layers=12, heads=12, inner=3072, positions=77, act="quick_gelu"):
        super().__init__()
        self.positions = positions
        self.embeddings = ClipTextEmbeddings(vocab, width, positions)
        self.encoder = ClipEncoder(width, layers, heads, inner, act)
        self.final_layer_norm = nn.LayerNorm(width)

    def forward(self, input_ids):
        n = input_ids.shape[1]
        ids = input_ids.long()
        x = self.embeddings.token_embedding(ids) + self.embeddings.position_embedding.weight[:n][None]
        mask = torch.full((self.positions, self.positions), float("-inf")).triu(1)[:n, :n][None, None]
        for layer in self.encoder.layers:
            x = layer(x, mask)
        x = self.final_layer_norm(x)
        idx = torch.argmax(input_ids, dim=-1)
        pooled = torch.gather(x, 1, idx.reshape(-1, 1, 1).expand(-1, 1, x.shape[2]))[:, 0]
        return x, pooled


# ------------------------------------------------------------------------------------------------ SDXL
def timestep_embedding(t, dim):
    """diffusers Timesteps(dim, flip_sin_to_cos=True, downscale_freq_shift=0) over a flat float tensor: [cos, sin]."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float().reshape(-1)[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class SDXLUNet2DConditionModel(nn.Module):
    """diffusers UNet2DConditionModel as SDXL base configures it: DownBlock2D + CrossAttnDownBlock2D x2 (320/640/1280),
    transformer depth per level `depths` (0 = no attention; SDXL 0/2/10, the mid block takes the last), heads per
    level (64-wide: 5/10/20), linear projections, and the "text_time" additional embedding: the pooled text
    embedding concatenated with Timesteps(256) of the six size/crop numbers, through add_embedding, added to the time
    embedding. ONNX inputs as Optimum names them: sample, timestep, encoder_hidden_states, text_embeds, time_ids."""

    def __init__(self, block_out_channels, layers_per_block, context_dim, heads, depths, pooled_dim, time_ids_dim=256,
                 n_time_ids=6, mid_depth=None):
        super().__init__()
        ch = list(block_out_channels)
        n = len(ch)
        temb = ch[0] * 4
        self.time_channels = ch[0]
        self.time_ids_dim = time_ids_dim
        self.conv_in = nn.Conv2d(4, ch[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        # SDXL base: 6 numbers (original size, crop, target size); the refiner: 5 (original size, crop, aesthetic score).
        self.add_embedding = TimestepEmbedding(pooled_dim + n_time_ids * time_ids_dim, temb)
        self.down_blocks = nn.ModuleList()
        for i in range(n):
            self.down_blocks.append(DownBlock(ch[max(i - 1, 0)], ch[i], temb, layers_per_block, heads[i] if depths[i] else None,
                                              context_dim, True, downsample=i < n - 1, depth=depths[i]))
        # The refiner's last level has no attention but its mid block has (transformer depth 4 everywhere it attends).
        mid = depths[-1] if mid_depth is None else mid_depth
        self.mid_block = MidBlock(ch[-1], temb, heads[-1], context_dim, True, depth=mid)
        self.up_blocks = nn.ModuleList()
        rev, rev_heads, rev_depths = ch[::-1], list(heads)[::-1], list(depths)[::-1]
        for i in range(n):
            self.up_blocks.append(UpBlock(rev[min(i + 1, n - 1)], rev[i], rev[max(i - 1, 0)], temb, layers_per_block + 1,
                                          rev_heads[i] if rev_depths[i] else None, context_dim, True,
                                          upsample=i < n - 1, depth=rev_depths[i]))
        self.conv_norm_out = group_norm(ch[0])
        self.conv_out = nn.Conv2d(ch[0], 4, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds, time_ids):
        b = sample.shape[0]
        temb = self.time_embedding(timestep_embedding(timestep.float().reshape(-1).expand(b), self.time_channels))
        time_embeds = timestep_embedding(time_ids.reshape(-1), self.time_ids_dim).reshape(b, -1)
        temb = temb + self.add_embedding(torch.cat([text_embeds, time_embeds], dim=-1))
        x = self.conv_in(sample)
        skips = [x]
        for block in self.down_blocks:
            x, s = block(x, temb, encoder_hidden_states)
            skips.extend(s)
        x = self.mid_block(x, temb, encoder_hidden_states)
        for block in self.up_blocks:
            x = block(x, skips, temb, encoder_hidden_states)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class CLIPTextModelHiddenStates(CLIPTextModel):
    """CLIPTextModel that also returns every hidden state (embeddings, then each layer's output before the final
    LayerNorm), as Optimum's SDXL text_encoder export does: SDXL takes hidden_states[-2]."""

    def forward(self, input_ids):
        n = input_ids.shape[1]
        x = self.embeddings.token_embedding(input_ids.long()) + self.embeddings.position_embedding.weight[:n][None]
        mask = torch.full((self.positions, self.positions), float("-inf")).triu(1)[:n, :n][None, None]
        states = [x]
        for layer in self.encoder.layers:
            x = layer(x, mask)
            states.append(x)
        x = self.final_layer_norm(x)
        idx = torch.argmax(input_ids, dim=-1)
        pooled = torch.gather(x, 1, idx.reshape(-1, 1, 1).expand(-1, 1, x.shape[2]))[:, 0]
        return (x, pooled, *states)


class CLIPTextModelWithProjection(nn.Module):
    """transformers CLIPTextModelWithProjection (SDXL's text_encoder_2, OpenCLIP bigG): text_embeds = the pooled
    output through text_projection (no bias), then last_hidden_state and every hidden state."""

    def __init__(self, width, layers, heads, inner, act="gelu", proj=None):
        super().__init__()
        self.text_model = CLIPTextModelHiddenStates(width=width, layers=layers, heads=heads, inner=inner, act=act)
        self.text_projection = nn.Linear(width, proj or width, bias=False)

    def forward(self, input_ids):
        last, pooled, *states = self.text_model(input_ids)
        return (self.text_projection(pooled), last, *states)


def n_params(module):
    return sum(p.numel() for p in module.parameters())
