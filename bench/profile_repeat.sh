#!/usr/bin/env bash
# Run-to-run repeatability of `hwnas profile` (issue: CPU profiler, "repeating the same profile twice
# on an idle machine gives medians within 3%"): the same preset profiled in separate processes,
# alternating a single end-to-end burst (--bursts 1) with the default bursts (up to 3 until the two
# fastest agree within 3%; profilers/bursts.h). Every run measures the peaks and goes through the
# noise gate with a store (OUT_DIR/bench.db, --force: measured, never served from it), so that its
# GEMM peak compares with the device's best. Per mode: every run's median and gate verdict, the
# largest differences, and how many consecutive pairs are within 3%, over all pairs and over the
# pairs the gate passed (both runs clean).
#   bench/profile_repeat.sh [HWNAS_BIN] [OUT_DIR]
# Environment: PRESET (litv2-s), RUNS (6 per mode), THREADS (2), BATCH (1), PER_BLOCK (set: --per-block,
# so that the later bursts come after the units, minutes apart on big presets).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hwnas=${1:-${HWNAS:-$root/build/release/hwnas}}
out=${2:-$root/build/bench/profile_repeat-$(date -u +%Y%m%dT%H%M%SZ)}
preset=${PRESET:-litv2-s}
runs=${RUNS:-6}
threads=${THREADS:-2}
batch=${BATCH:-1}
extra=()
[[ -n ${PER_BLOCK:-} ]] && extra+=(--per-block)
mkdir -p "$out"
export OMP_PROC_BIND=close OMP_PLACES=cores
echo "# profile repeatability: $preset, batch $batch, $threads threads, $runs runs per mode, $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)" |
  tee "$out/summary.md"
for ((r = 1; r <= runs; r++)); do
  for b in 1 3; do
    "$hwnas" profile --preset "$preset" --batch "$batch" --threads "$threads" --db "$out/bench.db" --force \
      --bursts "$b" "${extra[@]}" --json "$out/bursts$b-$r.json" > "$out/bursts$b-$r.txt" 2>&1
  done
done
/usr/bin/python3 - "$out" "$runs" <<'PY' | tee -a "$out/summary.md"
import json, sys
out, runs = sys.argv[1], int(sys.argv[2])
for b in (1, 3):
    print(f"\n--bursts {b}: run, median, bursts (ms), gate")
    for r in range(1, runs + 1):
        x = json.load(open(f"{out}/bursts{b}-{r}.json"))
        nz = x["noise"]
        bursts = ", ".join(f"{v / 1e3:.2f}" for v in x.get("bursts_us") or [])
        print(f"  {r}: {x['end_to_end']['median_us'] / 1e3:.2f} ms, [{bursts}], "
              + (f"NOISY: {nz['reason']}" if nz["flagged"] else "clean"))
print()
print("| mode | medians (ms, in run order; * noisy) | largest consecutive diff | largest diff | consecutive pairs within 3% | clean pairs within 3% |")
print("|---|---|---:|---:|---:|---:|")
for b in (1, 3):
    rs = [json.load(open(f"{out}/bursts{b}-{r}.json")) for r in range(1, runs + 1)]
    m = [x["end_to_end"]["median_us"] / 1e3 for x in rs]
    noisy = [x["noise"]["flagged"] for x in rs]
    cons = [abs(a - c) / min(a, c) for a, c in zip(m, m[1:])]
    clean = [c for c, n1, n2 in zip(cons, noisy, noisy[1:]) if not n1 and not n2]
    print(f"| --bursts {b} | {', '.join(f'{v:.2f}' + ('*' if n else '') for v, n in zip(m, noisy))} | "
          f"{100 * max(cons):.1f}% | {100 * (max(m) / min(m) - 1):.1f}% | {sum(c <= 0.03 for c in cons)} of {len(cons)} | "
          f"{sum(c <= 0.03 for c in clean)} of {len(clean)} |")
PY
