"""PyTorch peers of the GPU issue on the lent GPU: timm's DeiT-S / Swin-T / PVTv2-B2 and LITv2-S
(torch_litv2.py), eager and torch.compile, CUDA events (torch_litv2.time_cuda); one JSON line per case.
Usage: python3 peers.py [--batch 64] [--dtypes bf16,fp16] [--cases deit_small,litv2_s] [--compile-mode default]
(`max-autotune-no-cudagraphs` tunes for ~9 min per model on the H200; `default` compiles in about a minute.)"""
import argparse, json, os, sys, torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_litv2 import LITv2, PRESETS, time_cuda

TIMM = {"deit_small": "deit_small_patch16_224", "swin_t": "swin_tiny_patch4_window7_224", "pvtv2_b2": "pvt_v2_b2"}

def model(case):
    if case == "litv2_s": return LITv2(*PRESETS["litv2-s"])
    import timm
    return timm.create_model(TIMM[case], pretrained=False)

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64); ap.add_argument("--dtypes", default="bf16,fp16")
    ap.add_argument("--cases", default="deit_small,litv2_s"); ap.add_argument("--compile-mode", default="default")
    ap.add_argument("--no-compile", action="store_true")
    a = ap.parse_args()
    for dts in a.dtypes.split(","):
        dt = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[dts]
        for case in a.cases.split(","):
            m = model(case).eval().cuda().to(dt)
            x = torch.randn(a.batch, 3, 224, 224, device="cuda", dtype=dt)
            row = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "case": case, "batch": a.batch,
                   "dtype": dts, "eager": time_cuda(m, x)}
            if not a.no_compile:
                try:
                    row["compile"] = time_cuda(torch.compile(m, mode=a.compile_mode), x)
                    row["compile_mode"] = a.compile_mode
                except Exception as ex:  # a peer that fails is reported, not fatal
                    row["compile_error"] = str(ex)[:200]
            print(json.dumps(row), flush=True)
