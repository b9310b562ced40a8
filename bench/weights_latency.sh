#!/usr/bin/env bash
# Latency does not depend on weight values (issue: real weights): `hwnas profile` with the seeded
# random weights and with a checkpoint (`--weights`, here a file of other random values) must agree
# within noise. Alternates the two ROUNDS times per preset; the noise band is the larger spread
# (max − min)/median of the two sides' round medians, at least 3%.
#   bench/weights_latency.sh [HWNAS_BIN] [OUT_DIR]
# Environment: PRESETS ("deit-tiny litv2-s"), ROUNDS (5), THREADS (2), BATCH (1).
# Exit 1 when a preset's median ratio leaves the band (run it on a quiet machine).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hwnas=${1:-${HWNAS:-$root/build/release/hwnas}}
out=${2:-$root/build/bench/weights_latency-$(date -u +%Y%m%dT%H%M%SZ)}
presets=${PRESETS:-deit-tiny litv2-s}
rounds=${ROUNDS:-5}
threads=${THREADS:-2}
batch=${BATCH:-1}
mkdir -p "$out"
export OMP_PROC_BIND=close OMP_PLACES=cores
median_ms() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end_to_end"]["median_us"]/1e3)' "$1"; }
echo "# profile with random vs checkpoint weights, $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/summary.md"
status=0
for p in $presets; do
  "$hwnas" weights init --preset "$p" --seed 777 -o "$out/$p.safetensors" >/dev/null
  rand=() ckpt=()
  for ((r = 1; r <= rounds; r++)); do
    "$hwnas" profile --preset "$p" --batch "$batch" --threads "$threads" --no-db --no-peaks --json "$out/$p-random-$r.json" >/dev/null 2>&1
    rand+=("$(median_ms "$out/$p-random-$r.json")")
    "$hwnas" profile --preset "$p" --batch "$batch" --threads "$threads" --no-db --no-peaks --weights "$out/$p.safetensors" \
      --json "$out/$p-weights-$r.json" >/dev/null 2>&1
    ckpt+=("$(median_ms "$out/$p-weights-$r.json")")
  done
  /usr/bin/python3 - "$p" "${rand[*]}" "${ckpt[*]}" <<'PY' | tee -a "$out/summary.md" || status=1
import statistics, sys
name, a, b = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
ma, mb = statistics.median(a), statistics.median(b)
band = max(0.03, (max(a) - min(a)) / ma, (max(b) - min(b)) / mb)
ratio = mb / ma
ok = abs(ratio - 1) <= band
print(f"{name}: random {ma:.2f} ms {a}  checkpoint {mb:.2f} ms {b}  ratio {ratio:.3f}  noise band ±{100*band:.1f}%  {'ok' if ok else 'OUTSIDE THE BAND'}")
sys.exit(0 if ok else 1)
PY
done
exit $status
