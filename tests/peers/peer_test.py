#!/usr/bin/python3
"""Numerical-equality ("peer") test: hwnas's engine vs an independent PyTorch reference.

usage: peer_test.py HWNAS_BINARY WORKDIR [--only NAME] [--torch-only]

For every model below: build the PyTorch reference (ref_models.py) from hwnas's own architecture
JSON, check that its state_dict names/shapes are exactly `hwnas weights list --names hwnas` and that
checkpoint_names.py maps them onto the default-convention names of `hwnas weights list`, fill every
tensor with seeded random values at realistic scales, save them as safetensors in the model's
default convention, run torch in float32 and float64, run `hwnas run` on the same input and
compare the logits: dev = max|hwnas − torch| / max|torch| must be ≤ 1e-4 (bf16, where the CPU has
it: ≤ 5e-2).
Then `hwnas export --format onnx` of the same weights runs in ONNX Runtime (onnxruntime-node, where
found) and must agree with hwnas's logits to the same tolerance, and `hwnas export --format pytorch`
(hwnas's own module source, not ref_models.py) must load its safetensors with strict keys and agree
with hwnas's logits too.
Last, SPViT carving: `hwnas compress spvit --preset deit-tiny --to spvit-deit-tiny` carves deit-tiny's
peer weights (calibrated on the same input) into bottleneck convs with folded-from-calibration
BatchNorm and narrowed FFNs; ref_models.py runs the carved arch with the carved safetensors and must
agree with `hwnas run` of the same files to the same tolerance.
--torch-only skips `hwnas run` and checks every weights file with `hwnas weights check` instead.
Exit 0: all pass; 1: a failure; 77: torch is not installed (ctest's skip code).
"""
import argparse
import importlib.util
import json
import os
import struct
import subprocess
import sys
import time

try:
    import numpy as np
    import torch
except ImportError:
    print("peer test skipped: python3-torch not installed (apt-get install python3-torch)")
    sys.exit(77)

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import checkpoint_names  # noqa: E402
import ref_models  # noqa: E402

TOLERANCE = 1e-4
# bf16 (oneDNN on AVX512_BF16 CPUs): activations and weights rounded to 8 significant bits, fp32
# accumulation; the logits are compared with torch fp32 relative to their max magnitude.
BF16_TOLERANCE = 5e-2
INPUT_SEED = 20261203
WEIGHT_SEED = 1234

PRESETS = ["deit-tiny", "litv2-s", "pvtv2-b0", "swin-t", "lit-s", "hvt-ti-1", "spvit-deit-tiny"]
# `hwnas space sample --space hybrid-vit -n 4 --seed 3`: together these four cover hilo (s = 1, 2,
# 4), msa, bconv 1x1 and 3x3, skip, ffn none, dtm, patch downsamples, convffn, window and sra.
SAMPLE_SPACE, SAMPLE_SEED, SAMPLE_COUNT = "hybrid-vit", 3, 4
SAMPLE_MUST_COVER = ["mixer:hilo", "mixer:msa", "mixer:bconv", "mixer:skip", "ds:dtm", "ffn:convffn",
                     "mixer:window", "mixer:sra"]

# Small hand-written architectures for what neither the presets nor the sampled ones reach: HiLo
# padding (56 % 3, 14 % 4), HiLo with only Lo-Fi (alpha 1, s > 1) or only Hi-Fi (alpha 0), a window
# covering the map (shift dropped), stage position embeddings after stage 0, HVT pooling inside a
# pyramid, rel-pos MSA, SRA ratio 1, normskip, bconv 3x3 with a cls token, no head norm.
EXTRAS = {
    "extra-pyramid": {
        "input": {"resolution": 224, "channels": 3, "classes": 100},
        "norm_eps": 1e-5,
        "stem": {"kind": "patch", "kernel": 4, "stride": 4, "padding": 0, "norm": False},
        "stages": [
            {"dim": 32, "heads": 2, "blocks": [
                {"mixer": {"kind": "hilo", "alpha": 0.5, "window": 3}, "ffn": {"kind": "convffn", "hidden": 64}},
                {"mixer": "normskip", "ffn": {"kind": "mlp", "hidden": 48}}]},
            {"dim": 48, "heads": 2, "downsample": "merge", "pos_embed": True, "blocks": [
                {"mixer": {"kind": "window", "size": 7, "shift": False}, "ffn": {"kind": "mlp", "hidden": 96}},
                {"mixer": {"kind": "window", "size": 7, "shift": True}, "ffn": "none"},
                {"mixer": {"kind": "hilo", "alpha": 1.0, "window": 4}, "ffn": {"kind": "convffn", "hidden": 96}}]},
            {"dim": 64, "heads": 4, "norm_out": True,
             "downsample": {"kind": "overlap", "kernel": 3, "stride": 2, "padding": 1, "norm": True}, "blocks": [
                {"mixer": {"kind": "hilo", "alpha": 0.5, "window": 4}, "ffn": {"kind": "mlp", "hidden": 128}},
                {"mixer": {"kind": "hilo", "alpha": 0.0, "window": 2}, "ffn": "none"},
                {"mixer": {"kind": "sra", "ratio": 2}, "ffn": {"kind": "convffn", "hidden": 128}},
                {"mixer": {"kind": "sra", "ratio": 1}, "ffn": "none"},
                {"mixer": {"kind": "msa", "rel_pos": True}, "ffn": {"kind": "mlp", "hidden": 128}}]},
            {"dim": 96, "heads": 3, "downsample": "dtm", "blocks": [
                {"mixer": {"kind": "window", "size": 7, "shift": True}, "ffn": {"kind": "mlp", "hidden": 192}},
                {"mixer": {"kind": "bconv", "kernel": 3}, "ffn": "none"},
                {"mixer": {"kind": "bconv", "kernel": 1}, "ffn": {"kind": "convffn", "hidden": 192}},
                {"mixer": "skip", "ffn": {"kind": "mlp", "hidden": 192}, "pool": True},
                {"mixer": "msa", "ffn": {"kind": "mlp", "hidden": 192}}]},
        ],
        "head": {"kind": "mean", "norm": False},
    },
    "extra-cls": {
        "input": {"resolution": 224, "channels": 3, "classes": 100},
        "norm_eps": 1e-6,
        "cls_token": True,
        "stem": {"kind": "patch", "kernel": 16, "stride": 16, "padding": 0, "norm": False},
        "stages": [
            {"dim": 64, "heads": 2, "pos_embed": True, "blocks": [
                {"mixer": {"kind": "bconv", "kernel": 3}, "ffn": {"kind": "mlp", "hidden": 100}},
                {"mixer": {"kind": "bconv", "kernel": 1}, "ffn": "none"},
                {"mixer": "normskip", "ffn": {"kind": "mlp", "hidden": 128}},
                {"mixer": "skip", "ffn": {"kind": "mlp", "hidden": 96}},
                {"mixer": "msa", "ffn": "none"}]},
        ],
        "head": {"kind": "cls", "norm": True},
    },
}


# ----------------------------------------------------------------------------------------------
# hwnas CLI helpers


def hwnas(binary, *args, check=True):
    result = subprocess.run([binary, *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join([binary, *args])} failed ({result.returncode}):\n"
                           f"{result.stdout}{result.stderr}")
    return result


def weights_list(binary, target, convention=None):
    """Rows of `hwnas weights list`: (name, shape, hwnas name); the last column is blank in the
    table where both names are equal."""
    args = ["weights", "list", *target] + (["--names", convention] if convention else [])
    lines = hwnas(binary, *args).stdout.splitlines()
    shape_at, hwnas_at = lines[0].index("shape"), lines[0].index("hwnas name")
    rows = []
    for line in lines[2:]:
        if "[" not in line:  # the closing "N tensors, M values" line
            continue
        name = line[:shape_at].strip()
        shape = json.loads(line[shape_at:line.index("]", shape_at) + 1])
        rows.append((name, shape, line[hwnas_at:].strip() or name))
    return rows


def canonical_arch(binary, target):
    return json.loads(hwnas(binary, "space", "show", *target, "--canonical").stdout)


# ----------------------------------------------------------------------------------------------
# weights


def init_random(model, seed):
    """Every parameter and buffer at a realistic, non-degenerate scale (no zeros, no ones):
    linear/conv weights U(±1/sqrt(fan_in)), biases U(±0.05), LN/BN weights 1 ± 0.2 and biases
    ±0.1, BN running_mean ±0.1 and running_var U[0.5, 1.5], position embeddings / cls token /
    rel-pos tables N(0, 0.02)."""
    gen = torch.Generator().manual_seed(seed)
    done = set()

    def uniform(t, lo, hi):
        t.copy_(torch.rand(t.shape, generator=gen, dtype=torch.float64).mul(hi - lo).add(lo).to(t.dtype))

    def normal(t, std):
        t.copy_(torch.randn(t.shape, generator=gen, dtype=torch.float64).mul(std).to(t.dtype))

    with torch.no_grad():
        for prefix, module in sorted(model.named_modules(), key=lambda kv: kv[0]):
            own = dict(module.named_parameters(recurse=False))
            own.update(dict(module.named_buffers(recurse=False)))
            for name, tensor in sorted(own.items()):
                full = f"{prefix}.{name}" if prefix else name
                if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d, ref_models.DeformConv2d)) \
                        and name == "weight":
                    fan_in = tensor[0].numel()
                    uniform(tensor, -fan_in ** -0.5, fan_in ** -0.5)
                elif isinstance(module, (torch.nn.Linear, torch.nn.Conv2d, ref_models.DeformConv2d)) \
                        and name == "bias":
                    uniform(tensor, -0.05, 0.05)
                elif isinstance(module, (torch.nn.LayerNorm, ref_models.BatchNorm2dEval)) and name == "weight":
                    uniform(tensor, 0.8, 1.2)
                elif isinstance(module, (torch.nn.LayerNorm, ref_models.BatchNorm2dEval)) and name == "bias":
                    uniform(tensor, -0.1, 0.1)
                elif name == "running_mean":
                    uniform(tensor, -0.1, 0.1)
                elif name == "running_var":
                    uniform(tensor, 0.5, 1.5)
                elif name in ("pos_embed", "cls_token", "rel_pos_table"):
                    normal(tensor, 0.02)
                else:
                    raise RuntimeError(f"no initialisation rule for {full}")
                done.add(full)
    for name, tensor in model.state_dict().items():
        assert name in done, f"{name} not initialised"
        assert not bool(((tensor == 0) | (tensor == 1)).any()), f"{name} holds exact zeros or ones"
        assert float(tensor.std()) > 0 if tensor.numel() > 1 else True, f"{name} is constant"


def write_safetensors(path, tensors):
    """Minimal safetensors writer: u64 LE header length, JSON header padded with spaces to a
    multiple of 8, then the raw little-endian float32 data of every tensor in name order."""
    names, header, offset = sorted(tensors), {}, 0
    for n in names:
        header[n] = {"dtype": "F32", "shape": list(tensors[n].shape), "data_offsets": [offset, offset + tensors[n].nbytes]}
        offset += tensors[n].nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for n in names:
            f.write(np.ascontiguousarray(tensors[n], dtype="<f4").tobytes())


def read_safetensors(path):
    """The F32 tensors of a safetensors file, as numpy arrays by name."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            raise Failure(f"{path}: {name} is {t['dtype']}, expected F32")
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(t["shape"])
    return out


# ----------------------------------------------------------------------------------------------
# one model


class Failure(Exception):
    pass


def check_names(binary, target, model, convention):
    """state_dict == `weights list --names hwnas` (names and shapes), and checkpoint_names maps
    each hwnas name onto the default-convention name of `weights list`."""
    ours = {k: list(v.shape) for k, v in model.state_dict().items()}
    theirs = {name: shape for name, shape, _ in weights_list(binary, target, "hwnas")}
    missing, extra = sorted(set(theirs) - set(ours)), sorted(set(ours) - set(theirs))
    shapes = sorted(k for k in set(ours) & set(theirs) if ours[k] != theirs[k])
    if missing or extra or shapes:
        raise Failure(f"state_dict vs weights list: missing {missing[:4]}, unexpected {extra[:4]}, "
                      f"mis-shaped {[(k, ours[k], theirs[k]) for k in shapes[:4]]}")
    for name, _, hw in weights_list(binary, target):
        mapped = checkpoint_names.to_convention(hw, convention)
        if mapped != name:
            raise Failure(f"to_convention({hw!r}, {convention!r}) = {mapped!r}, hwnas lists {name!r}")


def torch_logits(model, x, dtype):
    m = model.to(dtype)
    start = time.perf_counter()
    with torch.inference_mode():
        out = m(torch.from_numpy(x).to(dtype))
    return out.double().numpy(), time.perf_counter() - start


def run_model(args, name, target, arch, x_path, x, convention):
    model = ref_models.build(arch)
    check_names(args.binary, target, model, convention)
    init_random(model, WEIGHT_SEED)
    state = {checkpoint_names.to_convention(k, convention): v.detach().float().numpy()
             for k, v in model.state_dict().items()}
    weights = os.path.join(args.workdir, f"{name}.safetensors")
    write_safetensors(weights, state)

    ref32, t32 = torch_logits(model, x, torch.float32)
    ref64, t64 = torch_logits(model, x, torch.float64)
    scale = float(np.abs(ref32).max())
    info = {"max": scale, "t32": t32, "t64": t64, "dev32": None, "dev64": None,
            "torch_dev": float(np.abs(ref32 - ref64).max() / np.abs(ref64).max())}

    if args.torch_only:
        check = hwnas(args.binary, "weights", "check", *target, weights, check=False)
        if check.returncode != 0:
            raise Failure(f"weights check failed ({check.returncode}):\n{check.stdout}{check.stderr}")
        return info
    out_path = os.path.join(args.workdir, f"{name}.logits.npy")
    if os.path.exists(out_path):
        os.remove(out_path)
    run = hwnas(args.binary, "run", *target, "--weights", weights, "--input", x_path, "--logits", out_path,
                "--threads", str(args.threads), check=False)
    if run.returncode != 0:
        raise Failure(f"hwnas run failed ({run.returncode}):\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    got = np.load(out_path).astype(np.float64)
    if got.shape != ref32.shape:
        raise Failure(f"hwnas logits have shape {got.shape}, torch {ref32.shape}")
    info["dev32"] = float(np.abs(got - ref32).max() / scale)
    info["dev64"] = float(np.abs(got - ref64).max() / np.abs(ref64).max())
    if not np.isfinite(got).all() or not info["dev32"] <= TOLERANCE:
        raise Failure(f"dev vs torch fp32 {info['dev32']:.3e} > {TOLERANCE:g}")
    if args.bf16:
        info["dev_bf16"] = bf16_run(args, name, target, weights, x_path, ref32)
    if args.ort_node:
        info["dev_ort"] = onnx_in_ort(args, name, target, weights, x_path, got)
    info["dev_pt"] = pytorch_export(args, name, target, weights, x, got)
    return info


def bf16_run(args, name, target, weights, x_path, ref32):
    """`hwnas run --dtype bf16` against torch fp32; on a CPU without native bf16 hwnas refuses
    (exit 2, "bf16 needs native AVX512_BF16"), and the bf16 check is skipped for the whole run."""
    out_path = os.path.join(args.workdir, f"{name}.bf16.npy")
    run = hwnas(args.binary, "run", *target, "--weights", weights, "--input", x_path, "--logits", out_path,
                "--threads", str(args.threads), "--dtype", "bf16", check=False)
    if run.returncode == 2 and "bf16 needs" in run.stderr:
        print(f"bf16 check skipped: {run.stderr.strip()}")
        args.bf16 = False
        return None
    if run.returncode != 0:
        raise Failure(f"hwnas run --dtype bf16 failed ({run.returncode}):\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    got = np.load(out_path).astype(np.float64)
    dev = float(np.abs(got - ref32).max() / np.abs(ref32).max())
    if not dev <= BF16_TOLERANCE:
        raise Failure(f"bf16 dev vs torch fp32 {dev:.3e} > {BF16_TOLERANCE:g}")
    return dev


def pytorch_export(args, name, target, weights, x, hwnas_logits):
    """hwnas's PyTorch export of the same weights: the generated module, imported from its file,
    loads the safetensors written beside it (load_state_dict, strict) and runs in float32."""
    py = os.path.join(args.workdir, f"{name.replace('-', '_')}_export.py")
    hwnas(args.binary, "export", *target, "--weights", weights, "--format", "pytorch", "-o", py)
    spec = importlib.util.spec_from_file_location(f"export_{name.replace('-', '_')}", py)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.load()
    with torch.inference_mode():
        got = model(torch.from_numpy(x)).double().numpy()
    if got.shape != hwnas_logits.shape:
        raise Failure(f"PyTorch export gives shape {got.shape}, hwnas {hwnas_logits.shape}")
    dev = float(np.abs(got - hwnas_logits).max() / np.abs(hwnas_logits).max())
    if not dev <= TOLERANCE:
        raise Failure(f"PyTorch export vs hwnas: dev {dev:.3e} > {TOLERANCE:g}")
    return dev


def onnx_in_ort(args, name, target, weights, x_path, hwnas_logits):
    """hwnas's ONNX export of the same weights, run in ONNX Runtime at batch 2 (the batch is symbolic),
    against hwnas's logits."""
    model = os.path.join(args.workdir, f"{name}.onnx")
    hwnas(args.binary, "export", *target, "--weights", weights, "--format", "onnx", "-o", model)
    x = np.load(x_path)
    raw_in, raw_out = os.path.join(args.workdir, "x.f32"), os.path.join(args.workdir, f"{name}.ort.f32")
    x.astype("<f4").tofile(raw_in)
    run = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), model, raw_in, ",".join(map(str, x.shape)),
                          raw_out, str(args.threads)], capture_output=True, text=True,
                         env={**os.environ, "ORT_NODE": args.ort_node})
    if run.returncode != 0:
        raise Failure(f"ONNX Runtime failed on {model}:\n{run.stderr[-2000:]}")
    got = np.fromfile(raw_out, dtype="<f4").astype(np.float64)
    if got.size != hwnas_logits.size:
        raise Failure(f"ONNX Runtime output has {got.size} values, hwnas {hwnas_logits.size}")
    dev = float(np.abs(got.reshape(hwnas_logits.shape) - hwnas_logits).max() / np.abs(hwnas_logits).max())
    if not dev <= TOLERANCE:
        raise Failure(f"ONNX export in ORT vs hwnas: dev {dev:.3e} > {TOLERANCE:g}")
    return dev


def find_ort_node():
    """onnxruntime-node from $ORT_NODE, the repo's build/peers (tools/peers.sh), or /tmp/ortpeer."""
    root = os.path.dirname(os.path.dirname(HERE))
    for c in [os.environ.get("ORT_NODE", ""), os.path.join(root, "build/peers/node_modules/onnxruntime-node"),
              "/tmp/ortpeer/node_modules/onnxruntime-node"]:
        if c and os.path.isfile(os.path.join(c, "package.json")):
            ok = subprocess.run(["node", "-e", f"require({json.dumps(c)})"], capture_output=True)
            if ok.returncode == 0:
                return c
    return ""


# ----------------------------------------------------------------------------------------------


def carved_check(args, x_path, x):
    """deit-tiny carved into spvit-deit-tiny by `hwnas compress spvit --to`: torch on the carved
    arch and weights vs `hwnas run` of them. Needs deit-tiny's peer weights (run it first)."""
    source = os.path.join(args.workdir, "deit-tiny.safetensors")
    prefix = os.path.join(args.workdir, "carved-deit-tiny")
    hwnas(args.binary, "compress", "spvit", "--preset", "deit-tiny", "--weights", source, "--input", x_path, "--to", "spvit-deit-tiny",
          "--threads", str(args.threads), "--db", os.path.join(args.workdir, "carve.db"), "-o", prefix)
    arch_path = prefix + ".json"
    with open(arch_path) as f:
        arch = json.load(f)
    model = ref_models.build(arch)
    state = {k: torch.from_numpy(v.copy()) for k, v in read_safetensors(prefix + ".safetensors").items()}
    model.load_state_dict(state, strict=True)
    ref32, _ = torch_logits(model, x, torch.float32)
    out_path = prefix + ".logits.npy"
    hwnas(args.binary, "run", arch_path, "--weights", prefix + ".safetensors", "--input", x_path, "--logits",
          out_path, "--threads", str(args.threads))
    got = np.load(out_path).astype(np.float64)
    dev = float(np.abs(got - ref32).max() / np.abs(ref32).max())
    if not dev <= TOLERANCE:
        raise Failure(f"carved deit-tiny: dev vs torch fp32 {dev:.3e} > {TOLERANCE:g}")
    bn = [k for k in state if k.endswith("attn.bn.running_var")]
    return dev, len(bn)


def models(args):
    """(name, hwnas target args, canonical arch, default convention) of every model."""
    out = []
    for preset in PRESETS:
        out.append((preset, ["--preset", preset], checkpoint_names.default_convention(preset)))
    lines = hwnas(args.binary, "space", "sample", "--space", SAMPLE_SPACE, "-n", str(SAMPLE_COUNT),
                  "--seed", str(SAMPLE_SEED)).stdout.splitlines()
    for i, line in enumerate(l for l in lines if l.strip()):
        path = os.path.join(args.workdir, f"sampled-s{SAMPLE_SEED}-{i}.json")
        with open(path, "w") as f:
            f.write(line + "\n")
        out.append((f"sampled-s{SAMPLE_SEED}-{i}", [path], "hwnas"))
    for name, arch in EXTRAS.items():
        path = os.path.join(args.workdir, f"{name}.json")
        with open(path, "w") as f:
            json.dump(arch, f, indent=1)
        out.append((name, [path], "hwnas"))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("workdir")
    parser.add_argument("--only", action="append", help="run only this model (repeatable)")
    parser.add_argument("--torch-only", action="store_true", help="no hwnas run: check the weight files only")
    parser.add_argument("--threads", type=int, default=1, help="threads for hwnas run and torch (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.ort_node = "" if args.torch_only else find_ort_node()
    args.bf16 = not args.torch_only
    if not args.torch_only and not args.ort_node:
        print("ONNX Runtime check skipped: onnxruntime-node not found (tools/peers.sh installs it from npm)")
    os.makedirs(args.workdir, exist_ok=True)

    gen = torch.Generator().manual_seed(INPUT_SEED)
    x = torch.randn(2, 3, 224, 224, generator=gen).numpy().astype(np.float32)
    x_path = os.path.join(args.workdir, "x.npy")
    np.save(x_path, np.ascontiguousarray(x))

    todo = models(args)
    if args.only:
        unknown = set(args.only) - {m[0] for m in todo}
        if unknown:
            print(f"unknown model(s) {sorted(unknown)}; known: {[m[0] for m in todo]}")
            return 2
        todo = [m for m in todo if m[0] in args.only]

    failures, sampled_kinds = [], set()
    mode = "torch-only (weights check)" if args.torch_only else f"hwnas run vs torch, tolerance {TOLERANCE:g}"
    print(f"peer test: {len(todo)} models, {mode}")
    for name, target, convention in todo:
        try:
            arch = canonical_arch(args.binary, target)
            kinds = ref_models.kinds_of(arch)
            if name.startswith("sampled-"):
                sampled_kinds.update(kinds)
            info = run_model(args, name, target, arch, x_path, x, convention)
            verdict = "ok" if args.torch_only else "PASS"
            dev = "weights check ok" if args.torch_only else \
                f"dev fp32 {info['dev32']:.2e}  dev fp64 {info['dev64']:.2e}" + \
                (f"  onnx/ORT vs hwnas {info['dev_ort']:.2e}" if "dev_ort" in info else "") + \
                (f"  pytorch export vs hwnas {info['dev_pt']:.2e}" if "dev_pt" in info else "") + \
                (f"  bf16 vs torch {info['dev_bf16']:.2e}" if info.get("dev_bf16") is not None else "")
            print(f"{verdict:4} {name:16} max|logit| {info['max']:6.3f}  {dev}  torch {info['t32']:.2f}s fp32 "
                  f"+ {info['t64']:.2f}s fp64 (fp32 vs fp64 {info['torch_dev']:.1e})  [{convention}]  "
                  f"kinds: {' '.join(kinds)}")
        except (Failure, RuntimeError, ValueError, AssertionError) as e:
            failures.append(name)
            print(f"FAIL {name:16} {e}")
        sys.stdout.flush()
    if not args.torch_only and any(m[0] == "deit-tiny" for m in todo) and "deit-tiny" not in failures:
        try:
            dev, carved = carved_check(args, x_path, x)
            print(f"PASS carved deit-tiny -> spvit-deit-tiny ({carved} carved convs, BatchNorm from calibration)  "
                  f"dev fp32 {dev:.2e}")
        except (Failure, RuntimeError, ValueError, AssertionError) as e:
            failures.append("carved-deit-tiny")
            print(f"FAIL carved-deit-tiny {e}")
    if sampled_kinds:
        missing = [k for k in SAMPLE_MUST_COVER if not any(s.startswith(k) for s in sampled_kinds)]
        print(f"sampled ({SAMPLE_SPACE}, seed {SAMPLE_SEED}) cover: {' '.join(sorted(sampled_kinds))}"
              + (f"; MISSING {missing}" if missing else ""))
    if failures:
        print(f"peer test: {len(failures)} of {len(todo)} failed: {' '.join(failures)}")
        return 1
    print(f"peer test: all {len(todo)} passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
