#!/usr/bin/env bash
# FinerCut targets (issue: compression), deit-small, seeded random weights, 32 synthetic inputs,
# 2 threads:
#   1. greedy FinerCut over all 24 sublayers (23 removals) finishes in <= 10 minutes;
#   2. at the same measured latency, latency-aware FinerCut has a lower distance than plain greedy:
#      both orders run over every sublayer with every step measured (--measure-steps); at targets of
#      90%…40% of the original's measured latency, each method's least-divergent step within it.
#   3. the same at each target as a user runs it: --budget-ms T per method (the pruned model
#      re-measured within T; latency-aware ends with its finisher and exchanges, compress/finercut.h).
#   bench/finercut.sh [HWNAS_BIN] [OUT_DIR]
# Environment: PRESET (deit-small), INPUTS (32), THREADS (2), DB (OUT_DIR/bench.db; latency from the
# table of units measured there), SKIP_TIMING (set: skip 1), SKIP_CURVES (set: skip 2),
# TARGETS (shares of the original's measured latency: "0.9 0.8 0.7 0.6 0.5 0.4").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hwnas=${1:-${HWNAS:-$root/build/release/hwnas}}
out=${2:-$root/build/bench/finercut-$(date -u +%Y%m%dT%H%M%SZ)}
preset=${PRESET:-deit-small}
inputs=${INPUTS:-32}
threads=${THREADS:-2}
share=${BUDGET_SHARE:-0.7}  # unused; kept for old invocations
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

targets=${TARGETS:-0.9 0.8 0.7 0.6 0.5 0.4}
if [[ -z ${SKIP_CURVES:-} ]]; then
# Both orders over (nearly) everything, every step measured: the measured curves. At a measured
# latency target T, a method's answer is the least-divergent step measured within T.
for m in greedy latency; do
  "$hwnas" compress finercut "${common[@]}" --ratio 0.99 --method "$m" --measure-steps -o "$out/$m-curve" \
    2> "$out/$m-curve.log"
done
/usr/bin/python3 - "$out" "$share" "$targets" <<'PY' | tee -a "$out/summary.md"
import json, sys
out, share = sys.argv[1], float(sys.argv[2])
r = {m: json.load(open(f"{out}/{m}-curve.order.json")) for m in ("greedy", "latency")}
orig = r["greedy"]["original_ms"]
def best_within(o, t):
    ok = [s["distance"] for s in o["steps"] if s["measured_ms"] <= t]
    return min(ok) if ok else None
print(f"original measured {orig:.3f} ms (greedy run), {r['latency']['original_ms']:.3f} ms (latency-aware run)")
print("| measured target | greedy distance | latency-aware distance | ratio |")
print("|---:|---:|---:|---:|")
wins = total = 0
for f in map(float, sys.argv[3].split()):
    t = orig * f
    g, l = best_within(r["greedy"], t), best_within(r["latency"], t)
    ratio = f"{l / g:.3f}" if g and l else "-"
    if g and l:
        total += 1
        wins += l < g
    print(f"| {t:.2f} ms ({f:.0%}) | {g if g is None else f'{g:.4g}'} | {l if l is None else f'{l:.4g}'} | {ratio} |")
print(f"latency-aware lower at {wins} of {total} measured targets")
for m, o in r.items():
    print(f"  {m} measured curve: " + ", ".join(f"{s['measured_ms']:.2f} ms:{s['distance']:.3g}" for s in o["steps"]))
PY
fi

# As a user runs it: one --budget-ms run per target and method, the pruned model re-measured.
"$hwnas" compress finercut "${common[@]}" --budget-ms 1e6 -o "$out/original" 2> "$out/original.log" > /dev/null
orig=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["original_ms"])' "$out/original.order.json")
for f in $targets; do
  t=$(/usr/bin/python3 -c "print(f'{$orig * $f:.3f}')")
  for m in greedy latency; do
    "$hwnas" compress finercut "${common[@]}" --budget-ms "$t" --method "$m" -o "$out/$m-budget-$f" \
      2> "$out/$m-budget-$f.log" > /dev/null
  done
done
/usr/bin/python3 - "$out" "$orig" "$targets" <<'PY' | tee -a "$out/summary.md"
import json, sys
out, orig, targets = sys.argv[1], float(sys.argv[2]), sys.argv[3].split()
print(f"budget runs (original measured {orig:.3f} ms):")
print("| budget | greedy: removals, measured, distance | latency-aware: removals, measured, distance | ratio |")
print("|---:|---:|---:|---:|")
wins = 0
for f in targets:
    r = {m: json.load(open(f"{out}/{m}-budget-{f}.order.json")) for m in ("greedy", "latency")}
    d = {m: o["result_distance"] for m, o in r.items()}
    cell = lambda m: f"{len(r[m]['removed'])}, {r[m]['pruned_ms']:.2f} ms, {d[m]:.4g}" + (
        f" (finish replaced {r[m]['finish_replaced']})" if r[m].get("finish_replaced") else "") + (
        f" ({len(r[m]['exchanges'])} exchange(s))" if r[m].get("exchanges") else "")
    wins += d["latency"] < d["greedy"]
    ratio = f"{d['latency'] / d['greedy']:.3f}" if d["greedy"] > 0 else "-"
    print(f"| {r['greedy']['budget_ms']:.2f} ms ({float(f):.0%}) | {cell('greedy')} | {cell('latency')} | {ratio} |")
print(f"latency-aware lower at {wins} of {len(targets)} budgets")
PY
