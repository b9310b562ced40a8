#!/usr/bin/env bash
# Cost-model accuracy (issue 5): calibrate for N minutes per configuration, fit, print the held-out
# table (cost model next to the MACs-proportional and sum-of-measured-blocks baselines).
#   bench/cost_model_accuracy.sh [HWNAS_BIN] [OUT_DIR]
# Environment: MINUTES (15: training budget per configuration), EVAL (100: held-out samples of the
# space, besides every preset), CONFIGS ("1:1 1:2 8:1 8:2": batch:threads), DTYPE (f32),
# MAX_ITEM_MS (400), DB (OUT_DIR/cost.db: reused, so a second run resumes and only adds).
# The held-out measurements come on top of MINUTES (about 20 units per arch, ~0.3 s each at batch 1),
# then every network's further bursts (calibrate --network-bursts N, default 3: a second for every
# network, a third where the two disagree by more than 3%; 3 + 2 min at batch 1 / 1 thread,
# 10 + 7 min at batch 8 / 2 threads on this host). BURSTS sets N (unset: calibrate's default).
# Threads are pinned (OMP_PROC_BIND=close OMP_PLACES=cores; MEASURE.md). A busy machine makes the
# measurements, and so the model, worse: run it alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hwnas=${1:-${HWNAS:-$root/build/release/hwnas}}
out=${2:-$root/build/bench/cost_model_accuracy-$(date -u +%Y%m%dT%H%M%SZ)}
minutes=${MINUTES:-15}
eval=${EVAL:-100}
configs=${CONFIGS:-"1:1 1:2 8:1 8:2"}
dtype=${DTYPE:-f32}
max_item_ms=${MAX_ITEM_MS:-400}
mkdir -p "$out"
db=${DB:-$out/cost.db}
export OMP_PROC_BIND=close OMP_PLACES=cores
{
  echo "# cost model accuracy, $(date -u +%FT%TZ)"
  echo "hwnas: $("$hwnas" version | head -1); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "budget $minutes min per configuration, $eval held-out samples + every preset, $dtype, store $db"
} | tee "$out/summary.md"
for c in $configs; do
  batch=${c%%:*}
  threads=${c##*:}
  echo | tee -a "$out/summary.md"
  echo "## batch $batch, $threads threads" | tee -a "$out/summary.md"
  start=$(date +%s)
  "$hwnas" calibrate --budget-min "$minutes" --batch "$batch" --threads "$threads" --dtype "$dtype" \
    --eval-archs "$eval" --max-item-ms "$max_item_ms" ${BURSTS:+--network-bursts "$BURSTS"} --db "$db" --no-fit 2>"$out/calibrate-b$batch-t$threads.log" |
    tee -a "$out/summary.md"
  "$hwnas" fit --batch "$batch" --threads "$threads" --dtype "$dtype" --db "$db" \
    --json "$out/model-b$batch-t$threads.json" | tee -a "$out/summary.md"
  echo "wall time $(( $(date +%s) - start )) s" | tee -a "$out/summary.md"
done
echo "summary: $out/summary.md"
