"""Reference PyTorch definitions of every block kind of hwnas's architecture IR.

Written from the method definitions in shared/SEEDS.md (section numbers are cited in each
docstring) and the JSON schema in space/FORMAT.md, not from hwnas's C++ code. The point is to be
obviously correct, not fast: explicit reshapes, one class per kind, no fused kernels.

`build(arch)` turns an architecture dict (the canonical JSON of `hwnas space show --canonical`,
or any file `hwnas space validate` accepts) into an nn.Module whose state_dict() keys and shapes
are hwnas's own parameter names (`hwnas weights list ... --names hwnas`).

Conventions used throughout:
  * tokens are [B, N, C]; a spatial map of H x W tokens is row-major (token n = h * W + w);
  * a cls token, where the architecture has one, is token 0 and never part of the map;
  * every block is pre-norm residual, x + mixer(norm1(x)) then x + ffn(norm2(x)), and a norm exists
    only where its sublayer does (mixer none/skip: no norm1; ffn none: no norm2);
  * GELU is the exact erf form and LayerNorm uses the architecture's norm_eps (SEEDS §7), except
    the norms right after a patch/overlap conv and SRA's reduction norm, which use embed_norm_eps
    when the architecture sets it (PVTv2: plain nn.LayerNorm, 1e-5);
  * BatchNorm is inference-only (running statistics), eps 1e-5 (PyTorch's default, which every
    source model uses).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BN_EPS = 1e-5


def gelu(x):
    """Exact (erf) GELU, as in every source model (SEEDS §7)."""
    return F.gelu(x)


def attention(q, k, v, bias=None):
    """softmax(q kᵀ · d^-0.5 + bias) v over the last two axes; q [.., Nq, d], k/v [.., Nk, d]."""
    scores = torch.matmul(q, k.transpose(-2, -1)) * (q.shape[-1] ** -0.5)
    if bias is not None:
        scores = scores + bias
    return torch.matmul(scores.softmax(dim=-1), v)


def tokens_to_map(x, hw):
    """[B, H*W, C] -> [B, C, H, W]."""
    b, n, c = x.shape
    h, w = hw
    assert n == h * w, f"{n} tokens are not a {h}x{w} map"
    return x.transpose(1, 2).reshape(b, c, h, w)


def map_to_tokens(x):
    """[B, C, H, W] -> [B, H*W, C], (H, W)."""
    b, c, h, w = x.shape
    return x.reshape(b, c, h * w).transpose(1, 2), (h, w)


def conv_out(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


class BatchNorm2dEval(nn.Module):
    """BatchNorm2d in eval mode: (x - running_mean) / sqrt(running_var + eps) · weight + bias.

    Own class only so that state_dict() holds exactly weight, bias, running_mean, running_var
    (no num_batches_tracked, which hwnas does not have: weights/CHECKPOINTS.md)."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x):  # x [B, C, H, W]
        shape = (1, -1, 1, 1)
        inv = torch.rsqrt(self.running_var + BN_EPS)
        return (x - self.running_mean.view(shape)) * (inv * self.weight).view(shape) + self.bias.view(shape)


# ----------------------------------------------------------------------------------------------
# Stems and downsamples (FORMAT.md "Patch objects"). Each maps tokens + grid to tokens + grid;
# the stem takes the image [B, 3, H, W] instead.


class PatchConv(nn.Module):
    """`patch` / `overlap`: Conv2d(k, s, pad) then an optional LayerNorm (ViT/Swin/LITv2 patch
    embed; PVTv2 overlapping patch embed, SEEDS §7)."""

    def __init__(self, c_in, c_out, kernel, stride, padding, norm, eps):
        super().__init__()
        self.proj = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=True)
        self.norm = nn.LayerNorm(c_out, eps=eps) if norm else None

    def forward(self, x, hw):
        if x.dim() == 3:
            x = tokens_to_map(x, hw)
        x, hw = map_to_tokens(self.proj(x))
        if self.norm is not None:
            x = self.norm(x)
        return x, hw


class PatchMerge(nn.Module):
    """`merge`: Swin patch merging (SEEDS §7): concat each 2x2 neighbourhood in the order
    (row 0, col 0), (row 1, col 0), (row 0, col 1), (row 1, col 1) -> LayerNorm(4C) ->
    Linear(4C -> C_out) without bias."""

    def __init__(self, c_in, c_out, eps):
        super().__init__()
        self.norm = nn.LayerNorm(4 * c_in, eps=eps)
        self.reduction = nn.Linear(4 * c_in, c_out, bias=False)

    def forward(self, x, hw):
        b, n, c = x.shape
        h, w = hw
        assert h % 2 == 0 and w % 2 == 0, "patch merging needs an even grid"
        grid = x.reshape(b, h, w, c)
        parts = [grid[:, 0::2, 0::2], grid[:, 1::2, 0::2], grid[:, 0::2, 1::2], grid[:, 1::2, 1::2]]
        x = torch.cat(parts, dim=-1).reshape(b, (h // 2) * (w // 2), 4 * c)
        return self.reduction(self.norm(x)), (h // 2, w // 2)


def bilinear_zero_padded(x, py, px):
    """Sample x [B, C, H, W] at real positions py, px [B, Ho, Wo] (pixel units) by bilinear
    interpolation, reading 0 outside the map (the DCN / torchvision deform_conv2d rule)."""
    b, c, h, w = x.shape
    y0 = torch.floor(py)
    x0 = torch.floor(px)
    fy = py - y0
    fx = px - x0
    flat = x.reshape(b, c, h * w)
    out = torch.zeros(b, c, *py.shape[1:], dtype=x.dtype)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            yi = (y0 + dy).long()
            xi = (x0 + dx).long()
            inside = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
            index = (yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1)).reshape(b, 1, -1).expand(b, c, -1)
            value = torch.gather(flat, 2, index).reshape(b, c, *py.shape[1:])
            weight = (wy * wx * inside.to(x.dtype)).unsqueeze(1)
            out = out + value * weight
    return out


class DeformConv2d(nn.Module):
    """Deformable convolution v1 (SEEDS §3 DTM) with its offset conv `conv_offset`:
    Conv2d(C_in, 2·k², k, s, pad). Offset channel 2t is dy and 2t+1 is dx of tap t = kh·k + kw
    (weights/CHECKPOINTS.md §4). Tap (kh, kw) of output (i, j) reads the input at
    (i·s − pad + kh + dy, j·s − pad + kw + dx), bilinearly, zero outside the map."""

    def __init__(self, c_in, c_out, kernel, stride, padding):
        super().__init__()
        self.kernel, self.stride, self.padding = kernel, stride, padding
        self.weight = nn.Parameter(torch.zeros(c_out, c_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.conv_offset = nn.Conv2d(c_in, 2 * kernel * kernel, kernel, stride=stride, padding=padding, bias=True)

    def forward(self, x):  # x [B, C, H, W]
        k, s, p = self.kernel, self.stride, self.padding
        offset = self.conv_offset(x)  # [B, 2k², Ho, Wo]
        b, _, ho, wo = offset.shape
        base_y = (torch.arange(ho, dtype=x.dtype) * s - p).view(1, ho, 1)
        base_x = (torch.arange(wo, dtype=x.dtype) * s - p).view(1, 1, wo)
        taps = []
        for kh in range(k):
            for kw in range(k):
                t = kh * k + kw
                py = base_y + kh + offset[:, 2 * t]
                px = base_x + kw + offset[:, 2 * t + 1]
                taps.append(bilinear_zero_padded(x, py, px))  # [B, C, Ho, Wo]
        columns = torch.stack(taps, dim=2)  # [B, C, k², Ho, Wo], tap t = kh·k + kw
        weight = self.weight.reshape(self.weight.shape[0], self.weight.shape[1], k * k)  # [O, C, k²]
        out = torch.einsum("bctyx,oct->boyx", columns, weight)
        return out + self.bias.view(1, -1, 1, 1)


class DeformableTokenMerge(nn.Module):
    """`dtm`: LIT's deformable token merging (SEEDS §3): DeformConv2d(C_in, C_out, k=2, s=2,
    pad 0) with offsets from Conv2d(C_in, 8, k=2, s=2), then BatchNorm2d(C_out), then GELU."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.dconv = DeformConv2d(c_in, c_out, kernel=2, stride=2, padding=0)
        self.norm = BatchNorm2dEval(c_out)

    def forward(self, x, hw):
        x = gelu(self.norm(self.dconv(tokens_to_map(x, hw))))
        return map_to_tokens(x)


class NoDownsample(nn.Module):
    """`none`: keeps grid and width (a holder for a stage's position embedding if it has one)."""

    def forward(self, x, hw):
        return x, hw


# ----------------------------------------------------------------------------------------------
# Token mixers (FORMAT.md "Mixers"). forward(x, hw) with x = norm1(tokens), returns [B, N, C].


class RelPosBias(nn.Module):
    """Relative position bias over an Hb x Wb grid of tokens (Swin windows, LIT's whole map):
    table [(2Hb−1)(2Wb−1), heads]; query (hq, wq) and key (hk, wk) read row
    (hq − hk + Hb − 1)·(2Wb − 1) + (wq − wk + Wb − 1) (weights/CHECKPOINTS.md §3)."""

    def __init__(self, grid, heads):
        super().__init__()
        self.grid = grid
        hb, wb = grid
        self.rel_pos_table = nn.Parameter(torch.zeros((2 * hb - 1) * (2 * wb - 1), heads))

    def forward(self):  # -> [heads, Hb*Wb, Hb*Wb]
        hb, wb = self.grid
        hs = torch.arange(hb).repeat_interleave(wb)  # row of token n
        ws = torch.arange(wb).repeat(hb)  # column of token n
        index = (hs[:, None] - hs[None, :] + hb - 1) * (2 * wb - 1) + (ws[:, None] - ws[None, :] + wb - 1)
        return self.rel_pos_table[index].permute(2, 0, 1)


class Msa(nn.Module):
    """`msa`: multi-head self-attention (DeiT, SEEDS §7), qkv Linear(D, 3D) with rows ordered
    (q|k|v, head, head_dim), proj Linear(D, D); with `rel_pos` a relative position bias over the
    whole stage map (LIT stages 3–4, SEEDS §3)."""

    def __init__(self, dim, heads, rel_pos, grid):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.core = RelPosBias(grid, heads) if rel_pos else None
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, hw):
        b, n, c = x.shape
        d = c // self.heads
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, d).permute(2, 0, 3, 1, 4)  # [3, B, h, N, d]
        bias = None
        if self.core is not None:
            assert tuple(hw) == tuple(self.core.grid)
            bias = self.core().unsqueeze(0)
        out = attention(qkv[0], qkv[1], qkv[2], bias)  # [B, h, N, d]
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


def hilo_lofi_heads(heads, alpha, window):
    """SEEDS §1: l = int(heads·alpha) (truncation); window 1 -> every head is Lo-Fi."""
    return heads if window == 1 else int(heads * alpha)


class HiLo(nn.Module):
    """`hilo`: HiLo attention (LITv2, SEEDS §1). Hi-Fi: h = heads − l heads of plain attention
    inside non-overlapping s x s windows (h_qkv, h_proj). Lo-Fi: l heads whose queries are all
    tokens and whose keys/values come from AvgPool2d(s, s) of the map (l_q, l_kv, l_proj).
    Output = concat(Hi-Fi channels, Lo-Fi channels). Maps not divisible by s are zero-padded
    right/bottom to a multiple of s and the output is cropped back."""

    def __init__(self, dim, heads, alpha, window):
        super().__init__()
        self.s = window
        self.d = dim // heads
        self.l_heads = hilo_lofi_heads(heads, alpha, window)
        self.h_heads = heads - self.l_heads
        h_dim, l_dim = self.h_heads * self.d, self.l_heads * self.d
        if self.h_heads > 0:
            self.h_qkv = nn.Linear(dim, 3 * h_dim)
            self.h_proj = nn.Linear(h_dim, h_dim)
        if self.l_heads > 0:
            self.l_q = nn.Linear(dim, l_dim)
            self.l_kv = nn.Linear(dim, 2 * l_dim)
            self.l_proj = nn.Linear(l_dim, l_dim)

    def hifi(self, grid):  # grid [B, Hp, Wp, D] -> [B, Hp, Wp, h_dim]
        b, hp, wp, c = grid.shape
        s, d, nh = self.s, self.d, self.h_heads
        # windows: [B, Hp/s, s, Wp/s, s, D] -> [B, nW, s*s, D], windows and tokens row-major
        win = grid.reshape(b, hp // s, s, wp // s, s, c).permute(0, 1, 3, 2, 4, 5)
        win = win.reshape(b, (hp // s) * (wp // s), s * s, c)
        qkv = self.h_qkv(win).reshape(b, win.shape[1], s * s, 3, nh, d).permute(3, 0, 1, 4, 2, 5)
        out = attention(qkv[0], qkv[1], qkv[2])  # [B, nW, h, s*s, d]
        out = out.permute(0, 1, 3, 2, 4).reshape(b, win.shape[1], s * s, nh * d)
        out = self.h_proj(out)
        out = out.reshape(b, hp // s, wp // s, s, s, nh * d).permute(0, 1, 3, 2, 4, 5)
        return out.reshape(b, hp, wp, nh * d)

    def lofi(self, grid):  # grid [B, Hp, Wp, D] -> [B, Hp, Wp, l_dim]
        b, hp, wp, c = grid.shape
        s, d, nl = self.s, self.d, self.l_heads
        tokens = grid.reshape(b, hp * wp, c)
        q = self.l_q(tokens).reshape(b, hp * wp, nl, d).transpose(1, 2)  # [B, l, Np, d]
        if s > 1:
            pooled = F.avg_pool2d(grid.permute(0, 3, 1, 2), kernel_size=s, stride=s)
            kv_in, _ = map_to_tokens(pooled)  # [B, Np/s², D]
        else:
            kv_in = tokens
        kv = self.l_kv(kv_in).reshape(b, kv_in.shape[1], 2, nl, d).permute(2, 0, 3, 1, 4)
        out = attention(q, kv[0], kv[1]).transpose(1, 2).reshape(b, hp * wp, nl * d)
        return self.l_proj(out).reshape(b, hp, wp, nl * d)

    def forward(self, x, hw):
        b, n, c = x.shape
        h, w = hw
        s = self.s
        hp, wp = s * math.ceil(h / s), s * math.ceil(w / s)
        grid = x.reshape(b, h, w, c)
        if (hp, wp) != (h, w):
            grid = F.pad(grid, (0, 0, 0, wp - w, 0, hp - h))  # zeros right and bottom
        parts = []
        if self.h_heads > 0:
            parts.append(self.hifi(grid))
        if self.l_heads > 0:
            parts.append(self.lofi(grid))
        out = torch.cat(parts, dim=-1)[:, :h, :w]
        return out.reshape(b, h * w, c)


class WindowAttention(nn.Module):
    """`window`: Swin (shifted) window attention (SEEDS §7): qkv/proj as MSA inside
    non-overlapping windows, plus a relative position bias over the window. With `shift` the map
    is cyclically rolled by −⌊size/2⌋ on both axes first (and rolled back after), and tokens that
    came from different regions of the unrolled map get −100 added to their score, as Swin does.
    A window covering the whole map becomes the map and drops the shift (FORMAT.md)."""

    def __init__(self, dim, heads, size, shift, grid):
        super().__init__()
        h, w = grid
        if size >= h and size >= w:
            self.win, self.shift = (h, w), 0
        else:
            assert h % size == 0 and w % size == 0, "window must divide the map"
            self.win, self.shift = (size, size), (size // 2 if shift else 0)
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.core = RelPosBias(self.win, heads)
        self.proj = nn.Linear(dim, dim)

    def region_mask(self, h, w, dtype):
        """[nW, T, T]: 0 where query and key come from the same region, −100 elsewhere."""
        (wh, ww), s = self.win, self.shift
        label = torch.zeros(h, w)
        count = 0
        for rows in (slice(0, h - wh), slice(h - wh, h - s), slice(h - s, h)):
            for cols in (slice(0, w - ww), slice(w - ww, w - s), slice(w - s, w)):
                label[rows, cols] = count
                count += 1
        label = label.reshape(h // wh, wh, w // ww, ww).permute(0, 2, 1, 3).reshape(-1, wh * ww)
        differ = label[:, :, None] != label[:, None, :]
        return torch.where(differ, torch.tensor(-100.0, dtype=dtype), torch.tensor(0.0, dtype=dtype))

    def forward(self, x, hw):
        b, n, c = x.shape
        h, w = hw
        (wh, ww), s = self.win, self.shift
        d = c // self.heads
        grid = x.reshape(b, h, w, c)
        if s:
            grid = torch.roll(grid, shifts=(-s, -s), dims=(1, 2))
        win = grid.reshape(b, h // wh, wh, w // ww, ww, c).permute(0, 1, 3, 2, 4, 5)
        nw = (h // wh) * (w // ww)
        win = win.reshape(b, nw, wh * ww, c)
        qkv = self.qkv(win).reshape(b, nw, wh * ww, 3, self.heads, d).permute(3, 0, 1, 4, 2, 5)
        bias = self.core().unsqueeze(0).unsqueeze(0)  # [1, 1, heads, T, T]
        if s:
            bias = bias + self.region_mask(h, w, x.dtype).unsqueeze(0).unsqueeze(2)  # [1, nW, 1, T, T]
        out = attention(qkv[0], qkv[1], qkv[2], bias)  # [B, nW, heads, T, d]
        out = self.proj(out.permute(0, 1, 3, 2, 4).reshape(b, nw, wh * ww, c))
        out = out.reshape(b, h // wh, w // ww, wh, ww, c).permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, c)
        if s:
            out = torch.roll(out, shifts=(s, s), dims=(1, 2))
        return out.reshape(b, h * w, c)


class SpatialReductionAttention(nn.Module):
    """`sra`: PVTv2 spatial-reduction attention (SEEDS §7): q = Linear(D, D) on every token; keys
    and values from kv = Linear(D, 2D) applied to Conv2d(D, D, k=s=ratio) of the map followed by a
    LayerNorm (ratio 1: to the tokens themselves, no conv and no norm); proj Linear(D, D)."""

    def __init__(self, dim, heads, ratio, eps):
        super().__init__()
        self.heads = heads
        self.ratio = ratio
        self.q = nn.Linear(dim, dim)
        if ratio > 1:
            self.sr = nn.Conv2d(dim, dim, ratio, stride=ratio, bias=True)
            self.norm = nn.LayerNorm(dim, eps=eps)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, hw):
        b, n, c = x.shape
        d = c // self.heads
        q = self.q(x).reshape(b, n, self.heads, d).transpose(1, 2)
        if self.ratio > 1:
            reduced, _ = map_to_tokens(self.sr(tokens_to_map(x, hw)))
            reduced = self.norm(reduced)
        else:
            reduced = x
        kv = self.kv(reduced).reshape(b, reduced.shape[1], 2, self.heads, d).permute(2, 0, 3, 1, 4)
        out = attention(q, kv[0], kv[1])
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class BottleneckConv(nn.Module):
    """`bconv`: SPViT's bottleneck convolution carved from an MSA (SEEDS §4), in its fine-tuned
    (materialised) form: Conv2d(D -> d = D/heads, k, pad k//2, bias) on the token map -> BatchNorm
    -> ReLU -> Linear(d -> D). A cls token bypasses it: its output is its input (the normed cls
    token), so the block adds LN(x_cls) to x_cls, as SPViT codes it."""

    def __init__(self, dim, heads, kernel, has_cls):
        super().__init__()
        bottleneck = dim // heads
        self.has_cls = has_cls
        self.conv = nn.Conv2d(dim, bottleneck, kernel, padding=kernel // 2, bias=True)
        self.bn = BatchNorm2dEval(bottleneck)
        self.proj = nn.Linear(bottleneck, dim)

    def forward(self, x, hw):
        cls, patches = (x[:, :1], x[:, 1:]) if self.has_cls else (None, x)
        y = torch.relu(self.bn(self.conv(tokens_to_map(patches, hw))))
        y, _ = map_to_tokens(y)
        y = self.proj(y)
        return y if cls is None else torch.cat([cls, y], dim=1)


class NormSkip(nn.Module):
    """`normskip`: SPViT's skip as coded (SEEDS §4): the mixer returns its own input, which is
    already norm1(x), so the block computes x + LN(x)."""

    def forward(self, x, hw):
        return x


# ----------------------------------------------------------------------------------------------
# FFNs (FORMAT.md "FFNs").


class Mlp(nn.Module):
    """`mlp`: fc1 (D -> hidden) -> GELU -> fc2 (hidden -> D)."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, hw):
        return self.fc2(gelu(self.fc1(x)))


class ConvFfn(nn.Module):
    """`convffn`: fc1 -> depthwise Conv3x3 (groups = hidden, pad 1, bias) on the map -> GELU ->
    fc2 (LITv2 / PVTv2, SEEDS §2 and §7)."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden, bias=True)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, hw):
        y = self.fc1(x)
        y, _ = map_to_tokens(self.dwconv(tokens_to_map(y, hw)))
        return self.fc2(gelu(y))


# ----------------------------------------------------------------------------------------------
# Blocks, stages, model.


def hvt_pooled_length(n):
    """MaxPool1d(3, 2) output length: floor((L − 3)/2 + 1) (SEEDS §6)."""
    return (n - 3) // 2 + 1


class Block(nn.Module):
    """x + mixer(norm1(x)); x + ffn(norm2(x)); then, with `pool`, HVT token pooling (SEEDS §6):
    MaxPool1d(k=3, s=2) along the token axis and a new learned position embedding added."""

    def __init__(self, spec, dim, heads, hw, tokens, has_cls, norm_eps, embed_eps):
        super().__init__()
        mixer, ffn = spec["mixer"], spec["ffn"]
        kind = mixer["kind"]
        self.mixer_kind = kind
        if kind not in ("none", "skip"):
            self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        if kind in ("none", "skip"):
            self.attn = None
        elif kind == "normskip":
            self.attn = NormSkip()
        elif kind == "msa":
            self.attn = Msa(dim, heads, mixer.get("rel_pos", False), hw)
        elif kind == "hilo":
            self.attn = HiLo(dim, heads, mixer.get("alpha", 0.9), mixer.get("window", 2))
        elif kind == "window":
            self.attn = WindowAttention(dim, heads, mixer.get("size", 7), mixer.get("shift", False), hw)
        elif kind == "sra":
            self.attn = SpatialReductionAttention(dim, heads, mixer.get("ratio", 1), embed_eps)
        elif kind == "bconv":
            self.attn = BottleneckConv(dim, heads, mixer.get("kernel", 3), has_cls)
        else:
            raise ValueError(f"unknown mixer kind {kind!r}")
        if kind in ("msa",) and mixer.get("rel_pos") and has_cls:
            raise ValueError("rel_pos needs a map without a cls token")
        if kind in ("hilo", "window", "sra") and has_cls:
            raise ValueError(f"{kind} cannot be used with a cls token")

        fkind = ffn["kind"]
        if fkind != "none":
            self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        if fkind == "none":
            self.mlp = None
        elif fkind == "mlp":
            self.mlp = Mlp(dim, ffn["hidden"])
        elif fkind == "convffn":
            if has_cls:
                raise ValueError("convffn cannot be used with a cls token")
            self.mlp = ConvFfn(dim, ffn["hidden"])
        else:
            raise ValueError(f"unknown ffn kind {fkind!r}")

        self.pool = bool(spec.get("pool", False))
        if self.pool:
            if has_cls:
                raise ValueError("HVT pooling with a cls token is not defined")
            self.pos_embed = nn.Parameter(torch.zeros(1, hvt_pooled_length(tokens), dim))

    def forward(self, x, hw):
        if self.attn is not None:
            x = x + self.attn(self.norm1(x), hw)
        if self.mlp is not None:
            x = x + self.mlp(self.norm2(x), hw)
        if self.pool:
            x = F.max_pool1d(x.transpose(1, 2), kernel_size=3, stride=2).transpose(1, 2)
            x = x + self.pos_embed
            hw = None  # no longer a grid
        return x, hw


class Stem(nn.Module):
    """Image -> tokens: patch/overlap conv (+ LN), then the cls token prepended and stage 0's
    position embedding added (DeiT: pos_embed [1, N+1, D], the cls row first)."""

    def __init__(self, spec, c_in, dim, embed_eps, cls_token, pos_tokens):
        super().__init__()
        if spec["kind"] not in ("patch", "overlap"):
            raise ValueError(f"stem kind {spec['kind']!r} is not a patch conv")
        kernel, stride, padding, norm = patch_geometry(spec)
        self.proj = nn.Conv2d(c_in, dim, kernel, stride=stride, padding=padding, bias=True)
        self.norm = nn.LayerNorm(dim, eps=embed_eps) if norm else None
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim)) if cls_token else None
        self.pos_embed = nn.Parameter(torch.zeros(1, pos_tokens, dim)) if pos_tokens else None

    def forward(self, image):
        x, hw = map_to_tokens(self.proj(image))
        if self.norm is not None:
            x = self.norm(x)
        if self.cls_token is not None:
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        if self.pos_embed is not None:
            x = x + self.pos_embed
        return x, hw


def patch_geometry(spec):
    """kernel, stride, padding, norm of a patch/overlap object with FORMAT.md's defaults."""
    kernel = spec["kernel"]
    stride = spec.get("stride", kernel)
    padding = spec.get("padding", kernel // 2 if spec["kind"] == "overlap" else 0)
    norm = spec.get("norm", spec["kind"] == "overlap")
    return kernel, stride, padding, norm


def patch_conv(spec, c_in, c_out, embed_eps):
    kernel, stride, padding, norm = patch_geometry(spec)
    return PatchConv(c_in, c_out, kernel, stride, padding, norm, embed_eps)


class Stage(nn.Module):
    """downsample (stage > 0) -> position embedding (if any) -> blocks -> LayerNorm (norm_out)."""

    def __init__(self, index, spec, c_in, hw, has_cls, norm_eps, embed_eps):
        super().__init__()
        dim, heads = spec["dim"], spec.get("heads", 1)
        ds = spec.get("downsample", {"kind": "none"})
        self.downsample = None
        if index > 0:
            kind = ds["kind"]
            if kind in ("patch", "overlap"):
                self.downsample = patch_conv(ds, c_in, dim, embed_eps)
                k, s, p, _ = patch_geometry(ds)
                hw = (conv_out(hw[0], k, s, p), conv_out(hw[1], k, s, p))
            elif kind == "merge":
                self.downsample = PatchMerge(c_in, dim, norm_eps)
                hw = (hw[0] // 2, hw[1] // 2)
            elif kind == "dtm":
                self.downsample = DeformableTokenMerge(c_in, dim)
                hw = (conv_out(hw[0], 2, 2, 0), conv_out(hw[1], 2, 2, 0))
            elif kind == "none":
                assert c_in == dim, "downsample none keeps the width"
                self.downsample = NoDownsample()
            else:
                raise ValueError(f"unknown downsample kind {kind!r}")
            if spec.get("pos_embed", False):  # hwnas: stages.i.downsample.pos_embed
                self.downsample.pos_embed = nn.Parameter(torch.zeros(1, hw[0] * hw[1], dim))
        self.blocks = nn.ModuleList()
        tokens = hw[0] * hw[1] + (1 if has_cls else 0)
        grid = hw
        for b in spec["blocks"]:
            if grid is None and (b["mixer"]["kind"] not in ("none", "skip", "normskip", "msa")
                                 or b["mixer"].get("rel_pos") or b["ffn"]["kind"] == "convffn"):
                raise ValueError("after HVT pooling only grid-free mixers/FFNs are defined")
            block = Block(b, dim, heads, grid, tokens, has_cls, norm_eps, embed_eps)
            self.blocks.append(block)
            if block.pool:
                tokens, grid = hvt_pooled_length(tokens), None
        self.norm = nn.LayerNorm(dim, eps=norm_eps) if spec.get("norm_out", False) else None
        self.out_hw, self.out_tokens = grid, tokens

    def forward(self, x, hw):
        if self.downsample is not None:
            x, hw = self.downsample(x, hw)
            if getattr(self.downsample, "pos_embed", None) is not None:
                x = x + self.downsample.pos_embed
        for block in self.blocks:
            x, hw = block(x, hw)
        if self.norm is not None:
            x = self.norm(x)
        return x, hw


class Head(nn.Module):
    """Optional LayerNorm, then the mean over tokens (`mean`) or the cls token (`cls`), then
    Linear(D, classes)."""

    def __init__(self, spec, dim, classes, norm_eps):
        super().__init__()
        self.kind = spec.get("kind", "mean")
        self.norm = nn.LayerNorm(dim, eps=norm_eps) if spec.get("norm", True) else None
        self.fc = nn.Linear(dim, classes)

    def forward(self, x):
        if self.norm is not None:
            x = self.norm(x)
        x = x[:, 0] if self.kind == "cls" else x.mean(dim=1)
        return self.fc(x)


class Model(nn.Module):
    def __init__(self, arch):
        super().__init__()
        inp = arch.get("input", {})
        res = inp.get("resolution", 224)
        height, width = (res, res) if isinstance(res, int) else tuple(res)
        channels, classes = inp.get("channels", 3), inp.get("classes", 1000)
        norm_eps = arch.get("norm_eps", 1e-6)
        embed_eps = arch.get("embed_norm_eps", norm_eps)
        has_cls = bool(arch.get("cls_token", False))
        stages = arch["stages"]
        if has_cls and (len(stages) != 1 or arch.get("head", {}).get("kind") != "cls"):
            raise ValueError("a cls token needs a single stage and a cls head")
        st = arch["stem"]
        k, s, p, _ = patch_geometry(st)
        hw = (conv_out(height, k, s, p), conv_out(width, k, s, p))
        pos_tokens = hw[0] * hw[1] + (1 if has_cls else 0) if stages[0].get("pos_embed", False) else 0
        self.stem = Stem(st, channels, stages[0]["dim"], embed_eps, has_cls, pos_tokens)
        self.stages = nn.ModuleList()
        c_in = stages[0]["dim"]
        for i, spec in enumerate(stages):
            stage = Stage(i, spec, c_in, hw, has_cls, norm_eps, embed_eps)
            self.stages.append(stage)
            hw, c_in = stage.out_hw, spec["dim"]
        self.head = Head(arch.get("head", {}), c_in, classes, norm_eps)

    def forward(self, image):
        x, hw = self.stem(image)
        for stage in self.stages:
            x, hw = stage(x, hw)
        return self.head(x)


def normalise(arch):
    """Expand the shorthand FORMAT.md allows (kind names as strings, depth + block) so that the
    builder only sees objects. The canonical JSON of `hwnas space show --canonical` is already in
    this form."""
    arch = dict(arch)
    stages = []
    for spec in arch["stages"]:
        spec = dict(spec)
        if "blocks" not in spec:
            spec["blocks"] = [spec["block"]] * spec["depth"]
        blocks = []
        for b in spec["blocks"]:
            b = dict(b)
            for key in ("mixer", "ffn"):
                if isinstance(b[key], str):
                    b[key] = {"kind": b[key]}
            if "ratio" in b["ffn"] and "hidden" not in b["ffn"]:
                b["ffn"] = dict(b["ffn"], hidden=int(round(b["ffn"]["ratio"] * spec["dim"])))
            blocks.append(b)
        spec["blocks"] = blocks
        ds = spec.get("downsample", {"kind": "none"})
        spec["downsample"] = {"kind": ds} if isinstance(ds, str) else ds
        stages.append(spec)
    arch["stages"] = stages
    if isinstance(arch["stem"], str):
        arch["stem"] = {"kind": arch["stem"]}
    return arch


def build(arch):
    """Architecture dict (FORMAT.md) -> nn.Module whose state_dict() carries hwnas's names."""
    model = Model(normalise(arch))
    model.eval()
    return model


def kinds_of(arch):
    """Sorted set of the kinds an architecture exercises, for coverage reports."""
    arch = normalise(arch)
    out = {"stem:" + arch["stem"]["kind"], "head:" + arch.get("head", {}).get("kind", "mean")}
    if arch.get("cls_token"):
        out.add("cls_token")
    for i, spec in enumerate(arch["stages"]):
        if i > 0:
            out.add("ds:" + spec["downsample"]["kind"])
        if spec.get("pos_embed"):
            out.add("pos_embed")
        if spec.get("norm_out"):
            out.add("norm_out")
        for b in spec["blocks"]:
            m = b["mixer"]
            name = m["kind"]
            if name == "msa" and m.get("rel_pos"):
                name += "+rel_pos"
            if name == "hilo":
                name += f"(s{m.get('window', 2)})"
            if name == "window" and m.get("shift"):
                name += "+shift"
            if name == "bconv":
                name += f"(k{m.get('kernel', 3)})"
            out.add("mixer:" + name)
            out.add("ffn:" + b["ffn"]["kind"])
            if b.get("pool"):
                out.add("pool")
    return sorted(out)
