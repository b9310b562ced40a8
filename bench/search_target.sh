#!/usr/bin/env bash
# Issue 6's search target, end to end on this CPU: `hwnas search` on the default space with the
# default budget B (litv2-s measured at batch 1, 2 threads, halved) in a FRESH store (so the quick
# calibration is part of the time), timed; then checks that the best architecture was measured
# within B and beats, on the proxy, every preset that fits B.
#   HWNAS=build/release/hwnas bench/search_target.sh [extra search options]
# Environment: HWNAS (binary), THREADS (2), OUT (results folder, default build/bench/search-<stamp>).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hwnas=${HWNAS:-$root/build/release/hwnas}
threads=${THREADS:-2}
out=${OUT:-$root/build/bench/search-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
export OMP_PROC_BIND=${OMP_PROC_BIND:-close} OMP_PLACES=${OMP_PLACES:-cores}
rm -f "$out/bench.db"
start=$(date +%s.%N)
status=0
"$hwnas" search --threads "$threads" --db "$out/bench.db" --out "$out/run" "$@" >"$out/stdout.txt" 2>"$out/stderr.txt" || status=$?
end=$(date +%s.%N)
cat "$out/stdout.txt"
python3 - "$out/run/pareto.json" "$start" "$end" "$status" <<'PY'
import json, sys
pareto, start, end, status = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
r = json.load(open(pareto))
res = r["result"]
wall = end - start
best = next((p for p in r["front_measured"] if p["hash"] == res["best"]), None)
budget = res["budget_ms"]
presets = [p for p in res["presets"] if p["within_budget"] and p["score"] is not None]
top_preset = max(presets, key=lambda p: p["score"]) if presets else None
print(f"\nwall time {wall/60:.2f} min (target <= 5), exit {status}")
print(f"budget {budget:.3f} ms; best {res['best']}: measured {best['measured_ms']:.3f} ms, {res['objective']} {best['score']:.4g}" if best else "no best")
if top_preset:
    print(f"best preset within budget: {top_preset['name']} ({top_preset['measured_ms']:.3f} ms), {res['objective']} {top_preset['score']:.4g}")
ok = status == 0 and best is not None and best["measured_ms"] <= budget and wall <= 300 and \
     (top_preset is None or best["score"] > top_preset["score"])
print("target MET" if ok else "target MISSED")
PY
