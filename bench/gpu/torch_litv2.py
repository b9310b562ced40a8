"""LITv2 (S/M/B) in plain PyTorch, written from shared/SEEDS.md §1-§3, for timing as a GPU peer of hwnas.
Parameter names follow hwnas's (space/params.cc: stem.*, stages.{i}.downsample.*, stages.{i}.blocks.{j}.*,
head.*), so `--check` compares with `hwnas space show --json` unit by unit. Tokens stay [B, H, W, C].
Usage: python3 torch_litv2.py --check [--preset litv2-s] [--hwnas PATH]     (CPU; exit 1 on a mismatch)
       python3 torch_litv2.py [--batch 64] [--dtype bf16|fp16|fp32] [--device cuda]   (one JSON line)
torchvision's deform_conv2d has no bf16 kernel, so in bf16 the DTM conv runs in fp32 (as its autocast rule does).
On the H200, max-autotune compilation takes about 9 minutes: give the run a 600 s limit."""
import argparse, json, os, statistics, subprocess, sys, torch, torch.nn as nn, torch.nn.functional as F

PRESETS = {"litv2-s": (96, (2, 2, 6, 2), (3, 6, 12, 24)), "litv2-m": (96, (2, 2, 18, 2), (3, 6, 12, 24)),
           "litv2-b": (128, (2, 2, 18, 2), (4, 8, 16, 32))}  # C1, depths, heads (SEEDS §2)
GOLDEN_PARAMS = {"litv2-s": 27_844_000, "litv2-m": 48_830_368, "litv2-b": 86_520_704}  # SEEDS §9

try:
    from torchvision.ops import deform_conv2d; DEFORM_IMPL = "torchvision"
except ImportError:  # Only when torchvision is missing (e.g. Debian's CPU python): same op via grid_sample.
    def deform_conv2d(x, offset, weight, bias, stride):
        """torchvision semantics for k=2, pad 0, dilation 1: tap k = ki*2+kj samples at
        (stride*i + ki + dy, stride*j + kj + dx), offset channels (dy, dx) per tap, bilinear, zeros outside."""
        B, C, H, W = x.shape; O, _, k, _ = weight.shape; Ho, Wo = offset.shape[-2:]
        ys = (torch.arange(Ho, device=x.device) * stride).view(Ho, 1).to(x.dtype)
        xs = (torch.arange(Wo, device=x.device) * stride).view(1, Wo).to(x.dtype)
        taps = []
        for t in range(k * k):
            py = ys + t // k + offset[:, 2 * t]; px = xs + t % k + offset[:, 2 * t + 1]
            grid = torch.stack([px * 2 / max(W - 1, 1) - 1, py * 2 / max(H - 1, 1) - 1], -1)
            taps.append(F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True))
        cols = torch.stack(taps, 2).reshape(B, C * k * k, Ho * Wo)  # index c*k*k + tap, as weight.reshape(O, -1)
        return (weight.reshape(O, -1) @ cols + bias.view(1, O, 1)).view(B, O, Ho, Wo)
    DEFORM_IMPL = "grid_sample"

def attend(q, k, v):  # softmax(q·kᵀ·d^-0.5)·v; fused kernel where this torch has one
    if hasattr(F, "scaled_dot_product_attention"): return F.scaled_dot_product_attention(q, k, v)
    return ((q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5).softmax(-1) @ v

class HiLo(nn.Module):
    """SEEDS §1: Hi-Fi heads attend inside s×s windows, Lo-Fi heads attend to the s×s-average-pooled map;
    output = concat(Hi-Fi, Lo-Fi), each with its own projection. s == 1: all heads Lo-Fi, no pooling (MSA)."""
    def __init__(s, dim, heads, ws, alpha):
        super().__init__(); s.ws = ws; s.hd = dim // heads
        s.lh = heads if ws == 1 else int(heads * alpha); s.hh = heads - s.lh
        s.l_dim, s.h_dim = s.lh * s.hd, s.hh * s.hd
        if s.hh: s.h_qkv = nn.Linear(dim, 3 * s.h_dim); s.h_proj = nn.Linear(s.h_dim, s.h_dim)
        if s.lh: s.l_q = nn.Linear(dim, s.l_dim); s.l_kv = nn.Linear(dim, 2 * s.l_dim); s.l_proj = nn.Linear(s.l_dim, s.l_dim)
    def hifi(s, x):
        B, H, W, C = x.shape; w = s.ws; g = (H // w) * (W // w)
        x = x.reshape(B, H // w, w, W // w, w, C).transpose(2, 3).reshape(B, g, w * w, C)
        q, k, v = s.h_qkv(x).reshape(B, g, w * w, 3, s.hh, s.hd).permute(3, 0, 1, 4, 2, 5)
        o = attend(q, k, v).transpose(2, 3).reshape(B, H // w, W // w, w, w, s.h_dim)
        return s.h_proj(o.transpose(2, 3).reshape(B, H, W, s.h_dim))
    def lofi(s, x):
        B, H, W, C = x.shape
        q = s.l_q(x).reshape(B, H * W, s.lh, s.hd).transpose(1, 2)
        x_ = F.avg_pool2d(x.permute(0, 3, 1, 2), s.ws).flatten(2).transpose(1, 2) if s.ws > 1 else x.reshape(B, H * W, C)
        k, v = s.l_kv(x_).reshape(B, -1, 2, s.lh, s.hd).permute(2, 0, 3, 1, 4)
        return s.l_proj(attend(q, k, v).transpose(1, 2).reshape(B, H, W, s.l_dim))
    def forward(s, x):
        H, W = x.shape[1:3]; ph, pw = -H % s.ws, -W % s.ws
        if ph or pw: x = F.pad(x, (0, 0, 0, pw, 0, ph))  # zero-pad right/bottom to a multiple of s, crop below
        o = [f(x) for f, n in ((s.hifi, s.hh), (s.lofi, s.lh)) if n]
        return (torch.cat(o, -1) if len(o) > 1 else o[0])[:, :H, :W]

class ConvFFN(nn.Module):  # fc1 → depthwise 3×3 (bias) → GELU → fc2
    def __init__(s, dim, hidden):
        super().__init__(); s.fc1 = nn.Linear(dim, hidden); s.fc2 = nn.Linear(hidden, dim)
        s.dwconv = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden)
    def forward(s, x):
        return s.fc2(F.gelu(s.dwconv(s.fc1(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)))

class Block(nn.Module):  # [x + HiLo(LN(x))] then x + ConvFFN(LN(x)); stages 1-2 have no attention
    def __init__(s, dim, heads, ws, alpha, eps):
        super().__init__()
        if ws: s.norm1 = nn.LayerNorm(dim, eps=eps); s.attn = HiLo(dim, heads, ws, alpha)
        s.norm2 = nn.LayerNorm(dim, eps=eps); s.mlp = ConvFFN(dim, 4 * dim)
    def forward(s, x):
        if hasattr(s, "attn"): x = x + s.attn(s.norm1(x))
        return x + s.mlp(s.norm2(x))

class DeformConv(nn.Module):  # 2×2/2 deformable conv; offsets from a zero-initialised 2×2/2 conv (8 = 2·k² channels)
    def __init__(s, cin, cout):
        super().__init__(); s.weight = nn.Parameter(torch.empty(cout, cin, 2, 2)); s.bias = nn.Parameter(torch.zeros(cout))
        nn.init.kaiming_uniform_(s.weight, a=5 ** 0.5); s.conv_offset = nn.Conv2d(cin, 8, 2, 2)
        nn.init.zeros_(s.conv_offset.weight); nn.init.zeros_(s.conv_offset.bias)
    def forward(s, x):
        if x.dtype == torch.bfloat16 and DEFORM_IMPL == "torchvision":  # no bf16 kernel: fp32, as its autocast rule does
            return deform_conv2d(x.float(), s.conv_offset(x).float(), s.weight.float(), s.bias.float(), stride=2).to(x.dtype)
        return deform_conv2d(x, s.conv_offset(x), s.weight, s.bias, stride=2)

class DTM(nn.Module):  # deformable token merging: DeformConv → BatchNorm2d → GELU
    def __init__(s, cin, cout):
        super().__init__(); s.dconv = DeformConv(cin, cout); s.norm = nn.BatchNorm2d(cout)
    def forward(s, x):
        return F.gelu(s.norm(s.dconv(x.permute(0, 3, 1, 2)))).permute(0, 2, 3, 1)

class LITv2(nn.Module):
    def __init__(s, c1=96, depths=(2, 2, 6, 2), heads=(3, 6, 12, 24), alpha=0.9, classes=1000, eps=1e-5):
        super().__init__()
        s.stem = nn.Module(); s.stem.proj = nn.Conv2d(3, c1, 4, 4); s.stem.norm = nn.LayerNorm(c1, eps=eps)
        s.stages = nn.ModuleList()
        for i, (n, h) in enumerate(zip(depths, heads)):
            st = nn.Module(); d = c1 << i; ws = (0, 0, 2, 1)[i]  # no attention / HiLo s=2 / s=1 (MSA)
            if i: st.downsample = DTM(d // 2, d)
            st.blocks = nn.Sequential(*[Block(d, h, ws, alpha, eps) for _ in range(n)]); s.stages.append(st)
        s.head = nn.Module(); s.head.norm = nn.LayerNorm(c1 << 3, eps=eps); s.head.fc = nn.Linear(c1 << 3, classes)
    def forward(s, x):
        x = s.stem.norm(s.stem.proj(x).permute(0, 2, 3, 1))
        for st in s.stages:
            if hasattr(st, "downsample"): x = st.downsample(x)
            x = st.blocks(x)
        return s.head.fc(s.head.norm(x).mean((1, 2)))  # LayerNorm → mean over tokens → Linear

def unit_params(m):  # trainable params per hwnas unit label ("stem", "stages.1.downsample", "stages.2.blocks.0", "head")
    out = {}
    for name, p in m.named_parameters():
        parts = name.split("."); key = parts[0] if parts[0] != "stages" else ".".join(parts[:3 if parts[2] == "downsample" else 4])
        out[key] = out.get(key, 0) + p.numel()
    return out

def check(preset, hwnas):
    m = LITv2(*PRESETS[preset]); mine = unit_params(m); total = sum(mine.values())
    try:
        j = json.loads(subprocess.run([hwnas, "space", "show", "--preset", preset, "--json"], capture_output=True, check=True).stdout)
        ref, src = {u["label"]: u["params"] for u in j["units"]}, "hwnas"; ref_total = j["totals"]["params"]
    except (OSError, subprocess.CalledProcessError, ValueError):
        ref, src, ref_total = {}, "SEEDS.md golden (hwnas not runnable)", GOLDEN_PARAMS[preset]
    for k in ref:
        if ref[k] != mine.get(k, 0): print(f"  {k}: torch {mine.get(k, 0)} vs hwnas {ref[k]}")
    with torch.no_grad(): shape = list(m.eval()(torch.randn(1, 3, 224, 224)).shape)
    ok = total == ref_total and shape == [1, 1000]
    print(f"{preset}: torch params {total}, {src} params {ref_total}, forward {shape}: {'OK' if ok else 'MISMATCH'}")
    return ok

def time_cuda(fn, x, warm_s=0.5, reps=50):  # as shared/peers/torch_gpu_bench.py: time-and-count warm-up, CUDA events
    with torch.inference_mode():
        s = torch.cuda.Event(enable_timing=True); e = torch.cuda.Event(enable_timing=True)
        s.record(); n = 0
        while True:
            fn(x); n += 1; e.record(); torch.cuda.synchronize()
            if s.elapsed_time(e) > warm_s * 1e3 and n >= 10: break
        t = []
        for _ in range(reps):
            s.record(); fn(x); e.record(); torch.cuda.synchronize(); t.append(s.elapsed_time(e))
    t.sort()
    return {"median_ms": statistics.median(t), "p10_ms": t[len(t) // 10], "p90_ms": t[9 * len(t) // 10], "n": len(t)}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true"); ap.add_argument("--preset", default="litv2-s", choices=PRESETS)
    ap.add_argument("--hwnas", default=os.environ.get("HWNAS", "/work/build/hwnas"))
    ap.add_argument("--batch", type=int, default=64); ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"])
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    if args.check: sys.exit(0 if check(args.preset, args.hwnas) else 1)
    dt = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
    m = LITv2(*PRESETS[args.preset]).eval().to(args.device, dt)
    x = torch.randn(args.batch, 3, 224, 224, device=args.device, dtype=dt)
    row = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "case": args.preset.replace("-", "_"),
           "batch": args.batch, "dtype": args.dtype, "deform_conv2d": DEFORM_IMPL}
    row["eager"] = time_cuda(m, x)
    try:
        c = torch.compile(m, mode="max-autotune-no-cudagraphs"); row["compile"] = time_cuda(c, x)
    except Exception as ex:  # report, don't die: a peer that fails is a figure too
        row["compile_error"] = str(ex)[:200]
    row["img_per_s_eager"] = args.batch / row["eager"]["median_ms"] * 1e3
    print(json.dumps(row), flush=True)
