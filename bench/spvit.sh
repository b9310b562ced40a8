#!/usr/bin/env bash
# SPViT carving (issue: compression), deit-small, seeded random weights, 32 synthetic inputs, 2 threads:
# the latency-aware search to budgets of 70% and 50% of the original's measured latency (phases
# timed, the result measured), next to latency-aware FinerCut at the same budgets; and the carving
# into SPViT's published DeiT-S choices (--to spvit-deit-small).
#   bench/spvit.sh [HWNAS_BIN] [OUT_DIR]
# Environment: PRESET (deit-small), TO (spvit-deit-small), INPUTS (32), THREADS (2), SHARES ("0.7 0.5").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hwnas=${1:-${HWNAS:-$root/build/release/hwnas}}
out=${2:-$root/build/bench/spvit-$(date -u +%Y%m%dT%H%M%SZ)}
preset=${PRESET:-deit-small}
mkdir -p "$out"
db=$out/bench.db
export OMP_PROC_BIND=close OMP_PLACES=cores
common=(--preset "$preset" --synthetic "${INPUTS:-32}" --threads "${THREADS:-2}" --db "$db")
echo "# spvit bench: $preset, ${INPUTS:-32} synthetic inputs, ${THREADS:-2} threads, $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/summary.md"

start=$(date +%s.%N)
"$hwnas" compress spvit "${common[@]}" --to "${TO:-spvit-deit-small}" -o "$out/to" 2> "$out/to.log" > "$out/to.out"
end=$(date +%s.%N)
orig=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["original_ms"])' "$out/to.spvit.json")
/usr/bin/python3 - "$out/to.spvit.json" "$start" "$end" <<'PY' | tee -a "$out/summary.md"
import json, sys
o = json.load(open(sys.argv[1])); s = float(sys.argv[3]) - float(sys.argv[2])
print(f"--to: measured {o['original_ms']:.3f} -> {o['carved_ms']:.3f} ms, distance {o['result_distance']:.4g}, {s:.0f} s wall")
for l in o["carving"]:
    print(f"  {l['block']}: taps -> heads {l['tap_head']}, fit error 1x1 {l['fit_error_1x1']:.3f}, 3x3 {l['fit_error_3x3']:.3f}")
PY
for share in ${SHARES:-0.7 0.5}; do
  budget=$(/usr/bin/python3 -c "print(round($orig * $share, 3))")
  start=$(date +%s.%N)
  "$hwnas" compress spvit "${common[@]}" --budget-ms "$budget" -o "$out/spvit-$share" 2> "$out/spvit-$share.log" > "$out/spvit-$share.out"
  mid=$(date +%s.%N)
  "$hwnas" compress finercut "${common[@]}" --budget-ms "$budget" --method latency -o "$out/finercut-$share" \
    2> "$out/finercut-$share.log" > "$out/finercut-$share.out"
  end=$(date +%s.%N)
  /usr/bin/python3 - "$out" "$share" "$budget" "$start" "$mid" "$end" <<'PY' | tee -a "$out/summary.md"
import json, sys
out, share, budget = sys.argv[1], sys.argv[2], float(sys.argv[3])
t0, t1, t2 = map(float, sys.argv[4:7])
s = json.load(open(f"{out}/spvit-{share}.spvit.json")); f = json.load(open(f"{out}/finercut-{share}.order.json"))
q = s["search"]; c = q["points"][q["chosen"]]
print(f"budget {budget:.3f} ms ({float(share):.0%}):")
print(f"  spvit   : distance {c['distance']:.4g}, measured {s['original_ms']:.3f} -> {s['carved_ms']:.3f} ms; "
      f"{len(q['sensitivity'])} single changes, {q['runs'] - len(q['sensitivity'])} finalists, "
      f"{q['proxy_evaluations']} predicted, {q['rounds']} round(s), proxy Spearman {q['proxy_spearman']:.2f}, "
      f"correction {q['latency_correction']:.3f}; {(t1 - t0) / 60:.1f} min")
print(f"    blocks: {' '.join(c['blocks'])}")
last = f["steps"][-1]["distance"] if f["steps"] else 0
print(f"  finercut (latency-aware): distance {last:.4g}, measured {f['original_ms']:.3f} -> {f['pruned_ms']:.3f} ms, "
      f"{len(f['steps'])} removed; {(t2 - t1) / 60:.1f} min")
PY
done
