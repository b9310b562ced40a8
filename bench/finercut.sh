#!/usr/bin/env bash
# FinerCut targets (issue: compression), deit-small, seeded random weights, 32 synthetic inputs,
# 2 threads:
#   1. greedy FinerCut over all 24 sublayers (23 removals) finishes in <= 10 minutes;
#   2. to the same latency budget, latency-aware FinerCut ends with a lower distance than plain
#      greedy (both stop at the first step predicted within it; both results measured).
#   bench/finercut.sh [HWNAS_BIN] [OUT_DIR]
# Environment: PRESET (deit-small), INPUTS (32), THREADS (2), BUDGET_SHARE (0.7 of the original's
# predicted latency), DB (OUT_DIR/bench.db; a cost model is calibrated there first when missing,
# CALIBRATE_MIN minutes, 2), SKIP_TIMING (set: skip target 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hwnas=${1:-${HWNAS:-$root/build/release/hwnas}}
out=${2:-$root/build/bench/finercut-$(date -u +%Y%m%dT%H%M%SZ)}
preset=${PRESET:-deit-small}
inputs=${INPUTS:-32}
threads=${THREADS:-2}
share=${BUDGET_SHARE:-0.7}
mkdir -p "$out"
db=${DB:-$out/bench.db}
export OMP_PROC_BIND=close OMP_PLACES=cores
common=(--preset "$preset" --synthetic "$inputs" --threads "$threads" --db "$db")
echo "# finercut bench: $preset, $inputs synthetic inputs, $threads threads, $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/summary.md"

if [[ -z ${SKIP_TIMING:-} ]]; then
start=$(date +%s.%N)
"$hwnas" compress finercut "${common[@]}" --ratio 0.99 --method greedy -o "$out/greedy-all" 2> "$out/greedy-all.log"
end=$(date +%s.%N)
/usr/bin/python3 - "$out/greedy-all.order.json" "$start" "$end" <<'PY' | tee -a "$out/summary.md"
import json, sys
o = json.load(open(sys.argv[1])); s = float(sys.argv[3]) - float(sys.argv[2])
print(f"greedy, all sublayers: {len(o['steps'])} removals of {o['candidates']}, {o['evaluations']} networks evaluated, "
      f"{s/60:.2f} min wall (target <= 10 min: {'ok' if s <= 600 else 'MISSED'})")
for i, st in enumerate(o["steps"], 1):
    print(f"  {i:2} {st['removed']:28} distance {st['distance']:.4g}  predicted {st['predicted_ms']:.3f} ms")
PY
fi

# Latency-aware over (nearly) everything: needs the cost model, calibrated into $db first if missing.
"$hwnas" compress finercut "${common[@]}" --ratio 0.99 --method latency --calibrate-min "${CALIBRATE_MIN:-2}" \
  -o "$out/latency-all" 2> "$out/latency-all.log"
orig=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["original_predicted_ms"])' "$out/latency-all.order.json")
budget=$(/usr/bin/python3 -c "print(round($orig * $share, 4))")
for m in greedy latency; do
  "$hwnas" compress finercut "${common[@]}" --budget-ms "$budget" --method "$m" -o "$out/$m-budget" 2> "$out/$m-budget.log"
done
/usr/bin/python3 - "$out" "$budget" <<'PY' | tee -a "$out/summary.md"
import json, sys
out, budget = sys.argv[1], float(sys.argv[2])
r = {m: json.load(open(f"{out}/{m}-budget.order.json")) for m in ("greedy", "latency")}
for m, o in r.items():
    last = o["steps"][-1]
    print(f"budget {budget:.3f} ms, {m:7}: {len(o['steps'])} removed, distance {last['distance']:.4g}, predicted "
          f"{last['predicted_ms']:.3f} ms, measured {o['original_ms']:.3f} -> {o['pruned_ms']:.3f} ms")
g, l = r["greedy"]["steps"][-1]["distance"], r["latency"]["steps"][-1]["distance"]
print(f"latency-aware distance / greedy distance at the budget: {l / g:.3f} ({'lower: ok' if l < g else 'NOT lower'})")
for m, o in r.items():
    print(f"  {m} curve: " + ", ".join(f"{s['predicted_ms']:.2f} ms:{s['distance']:.3g}" for s in o["steps"]))
PY
