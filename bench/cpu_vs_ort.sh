#!/usr/bin/env bash
# hwnas CPU latency next to ONNX Runtime (CPU, fp32) and the physical floor, on this machine, now.
#
# Usage: bench/cpu_vs_ort.sh [HWNAS_BIN] [PEERS_DIR] [OUT_FILE]
#   HWNAS_BIN  hwnas binary       (default $HWNAS, else <repo>/build/release/hwnas)
#   PEERS_DIR  peers scripts      (default $PEERS, else <repo>/../shared/peers)
#   OUT_FILE   the table, written (default $OUT, else <repo>/build/bench/cpu_vs_ort-<UTC stamp>.md;
#              raw hwnas JSON records go beside it in OUT_FILE.raw/)
# Environment: ORT_NODE (onnxruntime-node folder, default /tmp/ortpeer/node_modules/onnxruntime-node),
#   ONNX_CACHE (exported models, default ${TMPDIR:-/tmp}/hwnas-bench-onnx), ROUNDS (3), THREADS (2),
#   ONNX_FROM (hwnas: the model ORT runs is `hwnas export`'s, any preset — default; torch: the DeiT
#   family from peers/export_onnx.py), PYTORCH (python with torch+onnx for that, default /usr/bin/python3),
#   CASES ("preset:batch ...", default "deit-tiny:1 deit-small:1 deit-tiny:8 deit-small:8 litv2-s:1").
#
# Per case, ROUNDS rounds of: hwnas f32, ORT f32, hwnas bf16 (alternating, so drift hits both sides);
# each side's figure is the median over the rounds. The fp32 GEMM peak is measured by `hwnas device`
# in this run (before and after the cases; the larger is used). Target rule (shared/MEASURE.md):
#   floor  = 2·MACs·batch / measured fp32 GEMM peak
#   target = max(0.8·ORT, 1.2·floor); met when hwnas f32 ≤ target.
# Without the ORT peer (node and onnxruntime-node; python3-torch/onnx for ONNX_FROM=torch) the ORT columns are skipped and
# only 1.2·floor is checked. This is a benchmark, not a test: it never fails on a missed target.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HWNAS_BIN=${1:-${HWNAS:-$ROOT/build/release/hwnas}}
PEERS_DIR=${2:-${PEERS:-$ROOT/../shared/peers}}
STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT_FILE=${3:-${OUT:-$ROOT/build/bench/cpu_vs_ort-$STAMP.md}}
ORT_NODE=${ORT_NODE:-/tmp/ortpeer/node_modules/onnxruntime-node}
ONNX_CACHE=${ONNX_CACHE:-${TMPDIR:-/tmp}/hwnas-bench-onnx}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
PYTORCH=${PYTORCH:-/usr/bin/python3}
PY=$(command -v python3 || echo /usr/bin/python3)

# Cases "preset:batch". The ORT model is hwnas's own export (`hwnas export --format onnx`, any
# preset); ONNX_FROM=torch uses peers/export_onnx.py instead (torch.onnx, the DeiT family only).
ONNX_FROM=${ONNX_FROM:-hwnas}
read -r -a CASE_LIST <<<"${CASES:-deit-tiny:1 deit-small:1 deit-tiny:8 deit-small:8 litv2-s:1}"
CASES=()
for c in "${CASE_LIST[@]}"; do
  [[ $c == *:* ]] || { echo "cpu_vs_ort: bad case '$c' (want preset:batch)" >&2; exit 2; }
  name=${c%%:*}
  has=1
  if [[ $ONNX_FROM == torch ]]; then case $name in deit-tiny | deit-small | deit-base) ;; *) has=0 ;; esac; fi
  CASES+=("$name ${c#*:} $has")
done

die() { echo "cpu_vs_ort: $*" >&2; exit 2; }
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

[[ -x $HWNAS_BIN ]] || die "no hwnas binary at '$HWNAS_BIN' (pass it as the first argument or set HWNAS=)"
HWNAS_BIN=$(cd "$(dirname "$HWNAS_BIN")" && pwd)/$(basename "$HWNAS_BIN")
mkdir -p "$(dirname "$OUT_FILE")" || die "cannot create the folder of '$OUT_FILE'"
RAW="$OUT_FILE.raw"
mkdir -p "$RAW" || die "cannot create '$RAW'"
RES="$RAW/results.tsv"   # side<TAB>case<TAB>round<TAB>ms<TAB>noisy
: >"$RES"

export OMP_NUM_THREADS=$THREADS OMP_PROC_BIND=close OMP_PLACES=cores

# ---- the ORT peer: present or skipped, never fatal ----
ORT_OK=1
ORT_WHY=()
if [[ $ONNX_FROM == torch ]]; then
  [[ -f $PEERS_DIR/export_onnx.py ]] || ORT_WHY+=("peers scripts not found in '$PEERS_DIR'")
  "$PYTORCH" -c 'import torch, onnx' >/dev/null 2>&1 || ORT_WHY+=("$PYTORCH cannot import torch and onnx (apt-get install python3-torch python3-onnx)")
fi
if ! command -v node >/dev/null 2>&1; then
  ORT_WHY+=("node not found (apt-get install nodejs)")
elif ! ORT_VERSION=$(ORT_NODE=$ORT_NODE node -e 'const o=require(process.env.ORT_NODE); console.log(o.env.versions.common||o.env.versions.node)' 2>/dev/null); then
  ORT_WHY+=("onnxruntime-node not loadable from '$ORT_NODE' (see shared/peers/README.md)")
fi
if ((${#ORT_WHY[@]})); then
  ORT_OK=0
  ORT_VERSION="absent"
  for w in "${ORT_WHY[@]}"; do log "ORT peer skipped: $w"; done
fi

export_onnx() {  # name batch -> path (cached)
  local f="$ONNX_CACHE/$1-b$2.onnx"
  [[ $ONNX_FROM == hwnas ]] && f="$RAW/$1.onnx"  # hwnas's export: fresh each run (dynamic batch, ~1 s)
  if [[ ! -s $f ]]; then
    mkdir -p "$ONNX_CACHE"
    local ok=0
    if [[ $ONNX_FROM == torch ]]; then
      "$PYTORCH" "$PEERS_DIR/export_onnx.py" "$1" "$2" "$f.tmp" >/dev/null 2>"$RAW/export-$1-b$2.log" && ok=1
    else
      "$HWNAS_BIN" export --preset "$1" --format onnx -o "$f.tmp" >/dev/null 2>"$RAW/export-$1-b$2.log" && ok=1
    fi
    if ((!ok)); then
      rm -f "$f.tmp"
      return 1
    fi
    mv "$f.tmp" "$f" || return 1
  fi
  echo "$f"
}

device_json() {  # out.json
  "$HWNAS_BIN" device --threads "$THREADS" --json >"$1" 2>"$1.err"
}

run_hwnas() {  # name batch dtype round
  local j="$RAW/hwnas-$1-b$2-$3-r$4.json" line
  if "$HWNAS_BIN" profile --preset "$1" --batch "$2" --threads "$THREADS" --dtype "$3" --no-peaks --no-db --json "$j" >"$j.log" 2>&1 &&
    line=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); e=d["end_to_end"]; print("%.4f\t%d\t%d" % (e["median_us"]/1e3, int(bool(e.get("noisy")) or bool(d.get("noise",{}).get("flagged"))), d["arch"]["macs"]))' "$j"); then
    IFS=$'\t' read -r ms noisy macs <<<"$line"
    printf 'hwnas-%s\t%s-b%s\t%s\t%s\t%s\n' "$3" "$1" "$2" "$4" "$ms" "$noisy" >>"$RES"
    printf 'macs\t%s-b%s\t0\t%s\t0\n' "$1" "$2" "$macs" >>"$RES"
    log "  hwnas $3 $1 b$2 round $4: $ms ms$([[ $noisy == 1 ]] && echo ' (noisy)')"
  else
    log "  hwnas $3 $1 b$2 round $4: FAILED (see $j.log)"
  fi
}

run_ort() {  # onnx name batch round
  local out ms
  if out=$(ORT_NODE=$ORT_NODE node "$ROOT/bench/ort_time.js" "$1" "$3" "$THREADS" 2>>"$RAW/ort.err") &&
    ms=$(sed -n 's/.*ort_median_ms=\([0-9.]*\).*/\1/p' <<<"$out") && [[ -n $ms ]]; then
    echo "$out" >>"$RAW/ort.log"
    printf 'ort-f32\t%s-b%s\t%s\t%s\t0\n' "$2" "$3" "$4" "$ms" >>"$RES"
    log "  ORT   f32  $2 b$3 round $4: $ms ms"
  else
    log "  ORT   f32  $2 b$3 round $4: FAILED (see $RAW/ort.err)"
  fi
}

T0=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "hwnas: $HWNAS_BIN; peers: $PEERS_DIR; ORT: $ORT_VERSION; $THREADS threads, $ROUNDS rounds; raw: $RAW"

# ---- exports first (not timed, cached across runs) ----
declare -A ONNX
if ((ORT_OK)); then
  for c in "${CASES[@]}"; do
    read -r name batch has <<<"$c"
    ((has)) || continue
    if f=$(export_onnx "$name" "$batch"); then ONNX[$name-b$batch]=$f
    else log "export of $name b$batch failed (see $RAW/export-$name-b$batch.log): its ORT columns stay empty"; fi
  done
fi

log "measuring the GEMM peak (hwnas device)"
device_json "$RAW/device-before.json" || die "hwnas device failed: $(cat "$RAW/device-before.json.err")"

for c in "${CASES[@]}"; do
  read -r name batch has <<<"$c"
  log "$name b$batch"
  for ((r = 1; r <= ROUNDS; r++)); do
    run_hwnas "$name" "$batch" f32 "$r"
    [[ -n ${ONNX[$name-b$batch]:-} ]] && run_ort "${ONNX[$name-b$batch]}" "$name" "$batch" "$r"
    run_hwnas "$name" "$batch" bf16 "$r"
  done
done

log "measuring the GEMM peak again (drift check)"
device_json "$RAW/device-after.json" || log "second hwnas device failed"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(($(date +%s) - T0))

# ---- the table ----
{
  echo "# hwnas CPU vs ONNX Runtime — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo
  echo '```'
  echo "host $(hostname); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); $(nproc) CPUs available"
  "$HWNAS_BIN" version 2>/dev/null | head -1
  echo "ONNX Runtime (onnxruntime-node): $ORT_VERSION; node $(node --version 2>/dev/null || echo absent)"
  echo "threads $THREADS, OMP_PROC_BIND=$OMP_PROC_BIND OMP_PLACES=$OMP_PLACES, $ROUNDS rounds (hwnas f32, ORT, hwnas bf16), median over rounds"
  echo "load average before: $LOAD_BEFORE; after: $LOAD_AFTER; elapsed ${ELAPSED} s"
  echo "hwnas device --threads $THREADS --json (before the cases):"
  cat "$RAW/device-before.json"
  echo '```'
  echo
  "$PY" - "$RES" "$RAW/device-before.json" "$RAW/device-after.json" "$ORT_OK" <<'EOF'
import json, statistics, sys
res, dev_b, dev_a, ort_ok = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
def load(p):
    try: return json.load(open(p))
    except Exception: return None
db, da = load(dev_b), load(dev_a)
p32 = [d["peak_f32_gflops"] for d in (db, da) if d and d.get("peak_f32_gflops", 0) > 0]
p16 = [d["peak_bf16_gflops"] for d in (db, da) if d and d.get("peak_bf16_gflops", 0) > 0]
peak = max(p32) if p32 else 0.0
vals, noisy, macs, order = {}, {}, {}, []
for line in open(res):
    side, case, rnd, v, nz = line.rstrip("\n").split("\t")
    if case not in order: order.append(case)
    if side == "macs": macs[case] = int(float(v)); continue
    vals.setdefault((side, case), []).append(float(v))
    noisy[(side, case)] = noisy.get((side, case), 0) + int(nz)
med = lambda s, c: statistics.median(vals[(s, c)]) if (s, c) in vals else None
f = lambda x, p=2: "-" if x is None else f"{x:.{p}f}"
print("fp32 GEMM peak (oneDNN matmul 2048^3, %s): before %s, after %s GFLOP/s -> floor uses %s"
      % ("hwnas device", f(p32[0] if db and p32 else None, 1), f(da["peak_f32_gflops"] if da else None, 1), f(peak, 1)))
if len(p32) == 2:
    drift = abs(p32[1] - p32[0]) / max(p32)
    print("peak drift before/after: %.1f%%%s" % (100 * drift, "  ** > 3%: the machine was busy, re-run **" if drift > 0.03 else ""))
print("bf16 GEMM peak: %s GFLOP/s" % " / ".join(f(x, 1) for x in p16))
print()
print("| case | hwnas f32 ms | hwnas bf16 ms | ORT f32 ms | hwnas/ORT | floor ms | hwnas/floor | attained % of fp32 peak | target ms | met? |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
def spread(s, c):  # (max - min) / median over the rounds
    v = vals.get((s, c))
    return (max(v) - min(v)) / statistics.median(v) if v and len(v) > 1 else 0.0
notes, any_star, any_unstable = [], False, False
for c in order:
    name, b = c.rsplit("-b", 1); b = int(b)
    h32, h16, ort = med("hwnas-f32", c), med("hwnas-bf16", c), med("ort-f32", c)
    floor = 2 * macs[c] * b / (peak * 1e6) if c in macs and peak > 0 else None
    if ort is not None and floor is not None: target, star = max(0.8 * ort, 1.2 * floor), ""
    elif floor is not None: target, star = 1.2 * floor, "*"
    else: target, star = None, ""
    if h32 is None or target is None: met = "-"
    elif h32 <= target: met = "yes"
    else: met = "no" if not star else "n/a (no ORT)"
    ratio = lambda a, d: None if a is None or d is None else a / d
    any_star |= bool(star)
    att = None if h32 is None or floor is None else 100 * floor / h32
    unstable = [s for s in ("hwnas-f32", "ort-f32") if spread(s, c) > 0.10]  # the sides the verdict uses
    if unstable:
        met += " †"
        any_unstable = True
    print(f"| {name} b{b} | {f(h32)} | {f(h16)} | {f(ort)} | {f(ratio(h32, ort))} | {f(floor)} | {f(ratio(h32, floor))} | {f(att, 1)} | {f(target)}{star} | {met} |")
    if h16 is not None and target is not None:
        notes.append(f"{name} b{b}: bf16 {f(h16)} ms vs target {f(target)} ms -> {'under' if h16 <= target else 'over'}")
print()
print("target = max(0.8·ORT, 1.2·floor); floor = 2·MACs·batch / fp32 peak; met? judges hwnas f32.")
if any_star:
    print("* no ORT figure: target shown is 1.2·floor only (stricter than the full rule; 'n/a' when above it).")
if any_unstable:
    print("† hwnas f32 or ORT round medians spread > 10% (machine busy): the verdict is not reliable, re-run.")
if not ort_ok: print("ORT peer absent on this machine: ORT columns skipped.")
print()
if notes: print("bf16 against the same target: " + "; ".join(notes))
print()
print("Per-round medians, ms (n = flagged noisy by hwnas's noise gate):")
for c in order:
    parts = []
    for s in ("hwnas-f32", "ort-f32", "hwnas-bf16"):
        if (s, c) in vals:
            parts.append(f"{s} [" + ", ".join(f"{v:.2f}" for v in vals[(s, c)]) + "]" + (f" {noisy[(s, c)]}n" if noisy[(s, c)] else ""))
    for s in ("hwnas-f32", "ort-f32", "hwnas-bf16"):
        if spread(s, c) > 0.10: parts.append(f"{s} spread {100 * spread(s, c):.0f}%")
    a, o = vals.get(("hwnas-f32", c)), vals.get(("ort-f32", c))
    if a and o and len(a) == len(o):
        pr = [x / y for x, y in zip(a, o)]
        parts.append("paired hwnas/ORT [" + ", ".join(f"{x:.2f}" for x in pr) + f"] median {statistics.median(pr):.2f}")
    print(f"  {c}: " + "; ".join(parts))
EOF
} | tee "$OUT_FILE"
log "table written to $OUT_FILE"
