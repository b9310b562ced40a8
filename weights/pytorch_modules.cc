#include "weights/pytorch_modules.h"

namespace hwnas::weights::pytorch {

namespace {

// Tokens travel as [batch, tokens, channels] with their grid (h, w) beside them.
constexpr std::string_view kTokens = R"py(
def to_map(x, h, w):
    """Tokens [B, h*w, C] -> feature map [B, C, h, w]."""
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], h, w)


def to_tokens(x):
    """Feature map [B, C, h, w] -> tokens [B, h*w, C]."""
    return x.flatten(2).transpose(1, 2)
)py";

constexpr std::string_view kAttention = R"py(
def attention(q, k, v, heads, bias=None):
    """softmax(q k^T / sqrt(d) + bias) v per head; q, k, v are [..., tokens, heads * d] with the
    heads side by side in the channels; bias broadcasts against the scores [..., heads, Nq, Nk]."""
    d = q.shape[-1] // heads

    def split(t):  # [..., N, heads * d] -> [..., heads, N, d]
        return t.reshape(*t.shape[:-1], heads, d).transpose(-3, -2)

    scores = split(q) @ split(k).transpose(-2, -1) * d ** -0.5
    if bias is not None:
        scores = scores + bias
    out = scores.softmax(-1) @ split(v)
    return out.transpose(-3, -2).flatten(-2)
)py";

constexpr std::string_view kWindows = R"py(
def window_partition(x, s):
    """[B, H, W, C] -> [B, windows, s*s, C]: s x s windows in row-major order, tokens row-major."""
    B, H, W, C = x.shape
    x = x.reshape(B, H // s, s, W // s, s, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, (H // s) * (W // s), s * s, C)


def window_merge(x, H, W):
    """The inverse of window_partition: [B, windows, s*s, C] -> [B, H, W, C]."""
    B, _, n, C = x.shape
    s = math.isqrt(n)
    x = x.reshape(B, H // s, W // s, s, s, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, H, W, C)
)py";

constexpr std::string_view kRelPos = R"py(
class RelativePositionBias(nn.Module):
    """A learned bias per head and grid offset: rel_pos_table [(2h-1)(2w-1), heads], read at
    (dy + h - 1)(2w - 1) + (dx + w - 1) into the bias [heads, h*w, h*w] of an h x w grid."""

    def __init__(self, heads, h, w):
        super().__init__()
        self.rel_pos_table = nn.Parameter(torch.zeros((2 * h - 1) * (2 * w - 1), heads))
        rows = torch.arange(h).repeat_interleave(w)
        cols = torch.arange(w).repeat(h)
        index = (rows[:, None] - rows[None, :] + h - 1) * (2 * w - 1) + (cols[:, None] - cols[None, :] + w - 1)
        self.register_buffer("index", index, persistent=False)

    def forward(self):
        n = self.index.shape[0]
        return self.rel_pos_table[self.index.flatten()].reshape(n, n, -1).permute(2, 0, 1)
)py";

constexpr std::string_view kTokenEmbed = R"py(
class TokenEmbed(nn.Module):
    """Base of the stem and the downsamples: embed() makes a stage's tokens and grid from the image
    [B, C, H, W] or the previous stage's tokens; then the cls token is prepended and the position
    embedding added, where the architecture has them."""

    def __init__(self, dim, pos_tokens=0, cls_token=False):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim)) if cls_token else None
        self.pos_embed = nn.Parameter(torch.zeros(1, pos_tokens, dim)) if pos_tokens else None

    def forward(self, x, h=None, w=None):
        x, h, w = self.embed(x, h, w)
        if self.cls_token is not None:
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1)
        if self.pos_embed is not None:
            x = x + self.pos_embed
        return x, h, w
)py";

constexpr std::string_view kPatchEmbed = R"py(
class PatchEmbed(TokenEmbed):
    """A patch (kernel = stride) or overlapping (PVTv2) convolution, then an optional LayerNorm."""

    def __init__(self, in_dim, dim, kernel, stride, padding=0, norm=False, eps=EMBED_NORM_EPS, **embed):
        super().__init__(dim, **embed)
        self.proj = nn.Conv2d(in_dim, dim, kernel, stride, padding)
        self.norm = nn.LayerNorm(dim, eps=eps) if norm else None

    def embed(self, x, h, w):
        x = self.proj(x if x.dim() == 4 else to_map(x, h, w))
        h, w = x.shape[2:]
        x = to_tokens(x)
        return (x if self.norm is None else self.norm(x)), h, w
)py";

constexpr std::string_view kSameTokens = R"py(
class SameTokens(TokenEmbed):
    """A stage start that keeps the tokens (downsample 'none'), with its position embedding if any."""

    def embed(self, x, h, w):
        return x, h, w
)py";

constexpr std::string_view kPatchMerging = R"py(
class PatchMerging(TokenEmbed):
    """Swin: each 2 x 2 neighbourhood's channels concatenated as (0,0), (1,0), (0,1), (1,1) in
    (row, col), LayerNorm over the 4C channels, then a linear reduction."""

    def __init__(self, in_dim, dim, eps=NORM_EPS, **embed):
        super().__init__(dim, **embed)
        self.norm = nn.LayerNorm(4 * in_dim, eps=eps)
        self.reduction = nn.Linear(4 * in_dim, dim, bias=False)

    def embed(self, x, h, w):
        B, _, C = x.shape
        x = x.reshape(B, h, w, C)
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x.reshape(B, -1, 4 * C))), h // 2, w // 2
)py";

constexpr std::string_view kDeformTokenMerge = R"py(
class DeformConv2d(nn.Module):
    """A 2 x 2, stride 2 deformable convolution: tap t = 2i + j of each output position is read at
    its grid position plus the learned (dy, dx) = offset channels (2t, 2t + 1) of conv_offset,
    bilinearly with zeros outside the map (torchvision's deform_conv2d)."""

    def __init__(self, in_dim, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(dim, in_dim, 2, 2))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.conv_offset = nn.Conv2d(in_dim, 8, 2, 2)

    def forward(self, x):
        H, W = x.shape[2:]
        offset = self.conv_offset(x)
        oh, ow = offset.shape[2:]
        rows = torch.arange(oh, dtype=x.dtype, device=x.device)[:, None] * 2
        cols = torch.arange(ow, dtype=x.dtype, device=x.device)[None, :] * 2
        taps = []
        for t in range(4):
            y = rows + t // 2 + offset[:, 2 * t]
            z = cols + t % 2 + offset[:, 2 * t + 1]
            grid = torch.stack([(2 * z + 1) / W - 1, (2 * y + 1) / H - 1], -1)  # (x, y), align_corners=False
            taps.append(F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False))
        out = torch.einsum("bcthw,oct->bohw", torch.stack(taps, 2), self.weight.flatten(2))
        return out + self.bias[:, None, None]


class DeformTokenMerge(TokenEmbed):
    """LIT's deformable token merging: DeformConv2d, BatchNorm, GELU."""

    def __init__(self, in_dim, dim, **embed):
        super().__init__(dim, **embed)
        self.dconv = DeformConv2d(in_dim, dim)
        self.norm = nn.BatchNorm2d(dim)

    def embed(self, x, h, w):
        x = F.gelu(self.norm(self.dconv(to_map(x, h, w))))
        return to_tokens(x), x.shape[2], x.shape[3]
)py";

constexpr std::string_view kAttentionModule = R"py(
class Attention(nn.Module):
    """Multi-head self-attention over all tokens, optionally with a relative position bias over the
    h x w grid (LIT's later stages)."""

    def __init__(self, dim, heads, rel_pos_grid=None):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.core = RelativePositionBias(heads, *rel_pos_grid) if rel_pos_grid else None
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, h, w):
        q, k, v = self.qkv(x).chunk(3, -1)
        return self.proj(attention(q, k, v, self.heads, None if self.core is None else self.core()))
)py";

constexpr std::string_view kHiLo = R"py(
class HiLo(nn.Module):
    """LITv2's HiLo attention. The map is zero-padded to a multiple of the window s; the Hi-Fi heads
    attend inside s x s windows, the Lo-Fi heads attend from every token to the s x s-average-pooled
    map; their outputs are concatenated (Hi-Fi channels first) and cropped back."""

    def __init__(self, dim, heads, lofi_heads, window):
        super().__init__()
        d = dim // heads
        self.window, self.h_heads, self.l_heads = window, heads - lofi_heads, lofi_heads
        if self.h_heads:
            self.h_qkv = nn.Linear(dim, 3 * self.h_heads * d)
            self.h_proj = nn.Linear(self.h_heads * d, self.h_heads * d)
        if self.l_heads:
            self.l_q = nn.Linear(dim, self.l_heads * d)
            self.l_kv = nn.Linear(dim, 2 * self.l_heads * d)
            self.l_proj = nn.Linear(self.l_heads * d, self.l_heads * d)

    def forward(self, x, h, w):
        B, N, C = x.shape
        s = self.window
        Hp, Wp = -(-h // s) * s, -(-w // s) * s
        x = F.pad(x.reshape(B, h, w, C), (0, 0, 0, Wp - w, 0, Hp - h))
        parts = []
        if self.h_heads:
            q, k, v = window_partition(self.h_qkv(x), s).chunk(3, -1)
            parts.append(self.h_proj(window_merge(attention(q, k, v, self.h_heads), Hp, Wp)))
        if self.l_heads:
            pooled = x if s == 1 else F.avg_pool2d(x.permute(0, 3, 1, 2), s, s).permute(0, 2, 3, 1)
            k, v = self.l_kv(pooled.flatten(1, 2)).chunk(2, -1)
            out = attention(self.l_q(x.flatten(1, 2)), k, v, self.l_heads)
            parts.append(self.l_proj(out).reshape(B, Hp, Wp, -1))
        return torch.cat(parts, -1)[:, :h, :w].reshape(B, N, C)
)py";

constexpr std::string_view kWindowAttention = R"py(
def shift_mask(h, w, s, shift):
    """Swin's mask [windows, s*s, s*s] for a map rolled by -shift: 0 between tokens of the same
    region ([0, n - s), [n - s, n - shift), [n - shift, n) per axis), -100 across regions."""
    region = torch.zeros(h, w)
    for i, rows in enumerate((slice(0, h - s), slice(h - s, h - shift), slice(h - shift, h))):
        for j, cols in enumerate((slice(0, w - s), slice(w - s, w - shift), slice(w - shift, w))):
            region[rows, cols] = 3 * i + j
    r = window_partition(region[None, :, :, None], s)[0, :, :, 0]
    return (r[:, :, None] != r[:, None, :]).float() * -100.0


class WindowAttention(nn.Module):
    """Swin's window attention: self-attention inside s x s windows with a relative position bias;
    shifted windows roll the map by -s/2 first (and back after) and mask attention across the
    regions the roll joined."""

    def __init__(self, dim, heads, window, shift, grid):
        super().__init__()
        self.heads, self.window, self.shift = heads, window, shift
        self.qkv = nn.Linear(dim, 3 * dim)
        self.core = RelativePositionBias(heads, window, window)
        self.proj = nn.Linear(dim, dim)
        if shift:
            self.register_buffer("mask", shift_mask(*grid, window, shift)[:, None], persistent=False)

    def forward(self, x, h, w):
        B, N, C = x.shape
        x = x.reshape(B, h, w, C)
        if self.shift:
            x = torch.roll(x, (-self.shift, -self.shift), (1, 2))
        q, k, v = self.qkv(window_partition(x, self.window)).chunk(3, -1)
        bias = self.core()
        if self.shift:
            bias = bias + self.mask.to(bias.dtype)
        x = window_merge(self.proj(attention(q, k, v, self.heads, bias)), h, w)
        if self.shift:
            x = torch.roll(x, (self.shift, self.shift), (1, 2))
        return x.reshape(B, N, C)
)py";

constexpr std::string_view kSRAttention = R"py(
class SRAttention(nn.Module):
    """PVTv2's spatial-reduction attention: keys and values from the map reduced by an r x r,
    stride r convolution and a LayerNorm (ratio 1: from the tokens themselves)."""

    def __init__(self, dim, heads, ratio, eps=EMBED_NORM_EPS):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        if ratio > 1:
            self.sr = nn.Conv2d(dim, dim, ratio, ratio)
            self.norm = nn.LayerNorm(dim, eps=eps)
        else:
            self.sr = None
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, h, w):
        kv = x if self.sr is None else self.norm(to_tokens(self.sr(to_map(x, h, w))))
        k, v = self.kv(kv).chunk(2, -1)
        return self.proj(attention(self.q(x), k, v, self.heads))
)py";

constexpr std::string_view kBConv = R"py(
class BConv(nn.Module):
    """SPViT's bottleneck convolution carved from an attention layer: k x k conv (dim -> dim/heads),
    BatchNorm, ReLU, linear back to dim, over the spatial tokens; a cls token passes unchanged."""

    def __init__(self, dim, heads, kernel, cls_tokens=0):
        super().__init__()
        self.cls_tokens = cls_tokens
        self.conv = nn.Conv2d(dim, dim // heads, kernel, 1, kernel // 2)
        self.bn = nn.BatchNorm2d(dim // heads)
        self.proj = nn.Linear(dim // heads, dim)

    def forward(self, x, h, w):
        cls, x = x[:, :self.cls_tokens], x[:, self.cls_tokens:]
        x = self.proj(to_tokens(F.relu(self.bn(self.conv(to_map(x, h, w))))))
        return torch.cat([cls, x], 1)
)py";

constexpr std::string_view kMlp = R"py(
class Mlp(nn.Module):
    """The transformer FFN: linear, GELU, linear."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, h, w):
        return self.fc2(F.gelu(self.fc1(x)))
)py";

constexpr std::string_view kConvFfn = R"py(
class ConvFfn(nn.Module):
    """LITv2/PVTv2's FFN: linear, depthwise 3 x 3 convolution over the grid, GELU, linear."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, h, w):
        return self.fc2(F.gelu(to_tokens(self.dwconv(to_map(self.fc1(x), h, w)))))
)py";

constexpr std::string_view kBlock = R"py(
class Block(nn.Module):
    """x + attn(norm1(x)), then x + mlp(norm2(x)); either may be absent (attention-free or removed
    sublayers). normskip (SPViT's skip as coded) adds norm1(x) itself. pooled_tokens (HVT): then a
    max-pool over tokens (3, stride 2) and a new position embedding for the pooled tokens."""

    def __init__(self, dim, attn=None, mlp=None, normskip=False, pooled_tokens=0, eps=NORM_EPS):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps) if attn is not None or normskip else None
        self.attn = attn
        self.norm2 = nn.LayerNorm(dim, eps=eps) if mlp is not None else None
        self.mlp = mlp
        self.pos_embed = nn.Parameter(torch.zeros(1, pooled_tokens, dim)) if pooled_tokens else None

    def forward(self, x, h, w):
        if self.norm1 is not None:
            y = self.norm1(x)
            x = x + (y if self.attn is None else self.attn(y, h, w))
        if self.mlp is not None:
            x = x + self.mlp(self.norm2(x), h, w)
        if self.pos_embed is not None:
            x = F.max_pool1d(x.transpose(1, 2), 3, 2).transpose(1, 2) + self.pos_embed
        return x
)py";

constexpr std::string_view kStage = R"py(
class Stage(nn.Module):
    """A downsample (or, for stage 0, nothing: the stem made the tokens), blocks, an optional
    LayerNorm at the end (PVTv2)."""

    def __init__(self, blocks, downsample=None, norm=None):
        super().__init__()
        self.downsample = downsample
        self.blocks = nn.ModuleList(blocks)
        self.norm = norm

    def forward(self, x, h, w):
        if self.downsample is not None:
            x, h, w = self.downsample(x, h, w)
        for block in self.blocks:
            x = block(x, h, w)
            if block.pos_embed is not None:
                h = w = None  # pooled tokens are a sequence, no longer a grid
        return (x if self.norm is None else self.norm(x)), h, w
)py";

constexpr std::string_view kHead = R"py(
class Head(nn.Module):
    """Optional LayerNorm, then the cls token or the mean of the tokens, then the classifier."""

    def __init__(self, dim, classes, pool, norm=True, eps=NORM_EPS):
        super().__init__()
        self.pool = pool
        self.norm = nn.LayerNorm(dim, eps=eps) if norm else None
        self.fc = nn.Linear(dim, classes)

    def forward(self, x):
        if self.norm is not None:
            x = self.norm(x)
        return self.fc(x[:, 0] if self.pool == "cls" else x.mean(1))
)py";

constexpr std::string_view kLoad = R"py(
def load_safetensors(path):
    """The tensors of a safetensors file by name: with the safetensors package where installed,
    else read here (F32, F16 and BF16; little-endian)."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        pass
    else:
        return load_file(path)
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, t in header.items():
        if name != "__metadata__":
            begin, end = t["data_offsets"]
            raw = torch.frombuffer(bytearray(data[begin:end]), dtype=dtypes[t["dtype"]])
            tensors[name] = raw.reshape(t["shape"])
    return tensors


def load(weights=None):
    """Net with its weights (default: the .safetensors file beside this one), in eval mode."""
    model = Net()
    model.load_state_dict(load_safetensors(weights or os.path.splitext(os.path.abspath(__file__))[0] + ".safetensors"))
    return model.eval()
)py";

}  // namespace

const std::vector<Snippet>& snippets() {
  static const std::vector<Snippet> all = {
      {"tokens", {}, kTokens},
      {"attention", {}, kAttention},
      {"windows", {}, kWindows},
      {"RelativePositionBias", {}, kRelPos},
      {"TokenEmbed", {"tokens"}, kTokenEmbed},
      {"PatchEmbed", {"TokenEmbed"}, kPatchEmbed},
      {"SameTokens", {"TokenEmbed"}, kSameTokens},
      {"PatchMerging", {"TokenEmbed"}, kPatchMerging},
      {"DeformTokenMerge", {"TokenEmbed"}, kDeformTokenMerge},
      {"Attention", {"attention"}, kAttentionModule},
      {"HiLo", {"attention", "windows"}, kHiLo},
      {"WindowAttention", {"attention", "windows", "RelativePositionBias"}, kWindowAttention},
      {"SRAttention", {"attention", "tokens"}, kSRAttention},
      {"BConv", {"tokens"}, kBConv},
      {"Mlp", {}, kMlp},
      {"ConvFfn", {"tokens"}, kConvFfn},
      {"Block", {}, kBlock},
      {"Stage", {}, kStage},
      {"Head", {}, kHead},
      {"load", {}, kLoad},
  };
  return all;
}

}  // namespace hwnas::weights::pytorch
