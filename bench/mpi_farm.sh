#!/usr/bin/env bash
# Issue 12's farm targets on this machine (bench/README.md, "mpi_farm.sh"):
#  1. measurement throughput, 1 -> 2 workers on distinct cores: `hwnas profile --archs` of N
#     architectures of the `tiny` space, 1 thread per rank, each worker pinned to its own core by an
#     --mpi-devices map (with 2 workers rank 0, the coordinator, shares core 0 with worker 1: it sleeps
#     while it waits); a fresh store per run, ROUNDS alternating rounds; target: >= 1.8x measurements
#     per minute;
#  2. coordinator overhead per job with the fake backend (target <= 1 ms), with 1 and 2 workers, and
#     the coordinator's CPU use while it waits (it must not spin a core).
#   bench/mpi_farm.sh [HWNAS_BIN] [OUT_DIR]     # N (48), ROUNDS (3), FAKE_N (300)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hwnas=${1:-$root/build/release/hwnas}
out=${2:-$root/build/bench/mpi-$(date -u +%Y%m%dT%H%M%SZ)}
n=${N:-48}
rounds=${ROUNDS:-3}
fake_n=${FAKE_N:-300}
mkdir -p "$out"
if ! command -v mpirun >/dev/null; then
  echo "mpi_farm.sh: no mpirun (install openmpi-bin libopenmpi-dev and rebuild)" >&2
  exit 1
fi
# As root (containers, CI) OpenMPI wants both; --oversubscribe: 3 ranks on 2 cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() { mpirun --oversubscribe --bind-to none -n "$1" "$hwnas" "${@:2}"; }

"$hwnas" space sample --space tiny -n "$n" --seed 12 >"$out/archs.jsonl"
"$hwnas" space sample --space tiny -n "$fake_n" --seed 13 >"$out/fake_archs.jsonl"
# One worker: on core 0, the coordinator on core 1. Two workers: on cores 0 and 1, the coordinator
# shares core 0 (a 2-core machine has no third; it sleeps while it waits). Every rank is pinned to
# one core, so all have the same device fingerprint (1 core, 1 thread).
cat >"$out/pinned1.json" <<'JSON'
{"ranks": [{"rank": 0, "threads": 1, "cores": "1"}, {"rank": 1, "threads": 1, "cores": "0"}]}
JSON
cat >"$out/pinned2.json" <<'JSON'
{"ranks": [{"rank": [0, 1], "threads": 1, "cores": "0"}, {"rank": 2, "threads": 1, "cores": "1"}]}
JSON

summary="$out/summary.md"
{
  echo "# MPI farm bench, $(date -u +%FT%TZ)"
  echo
  echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$("$hwnas" --version | head -1)"
  echo
  echo "## 1. Measurements per minute, profile --archs ($n tiny archs, onednn, 1 thread per rank, pinned)"
  echo
  echo "Per minute of the whole command (mpirun's start, MPI_Init and the workers' hello included) and"
  echo "per minute of the farm's own time (the jobs handed out and answered: the steady state)."
  echo
  echo "| round | workers | wall s | per min (wall) | farm s | per min (farm) | farm line |"
  echo "|---|---|---|---|---|---|---|"
} >"$summary"

rate() {  # workers round -> measurements per minute
  local w=$1 r=$2 db="$out/w$1_r$2.db"
  rm -f "$db" "$db-wal" "$db-shm"
  local t0 t1
  t0=$(date +%s.%N)
  mpi $((w + 1)) profile --archs "$out/archs.jsonl" --db "$db" --mpi --mpi-devices "$out/pinned$w.json" --no-peaks \
    >"$out/w${w}_r${r}.txt" 2>"$out/w${w}_r${r}.err"
  t1=$(date +%s.%N)
  local line
  line=$(grep '^MPI:' "$out/w${w}_r${r}.txt" || true)
  python3 - "$t0" "$t1" "$n" "$line" "$r" "$w" "$summary" <<'PY'
import re, sys
t0, t1, n, line, r, w, summary = sys.argv[1:]
wall = float(t1) - float(t0)
farm = float(re.search(r" in ([0-9.]+) s", line).group(1))
with open(summary, "a") as f:
    f.write(f"| {r} | {w} | {wall:.1f} | {60*int(n)/wall:.2f} | {farm:.1f} | {60*int(n)/farm:.2f} | {line[5:]} |\n")
print(f"{60*int(n)/wall:.2f},{60*int(n)/farm:.2f}")
PY
}
declare -a one two
for r in $(seq 1 "$rounds"); do
  one+=("$(rate 1 "$r")")
  two+=("$(rate 2 "$r")")
done
python3 - "${one[*]}" "${two[*]}" >>"$summary" <<'PY'
import statistics, sys
one = [[float(v) for v in x.split(",")] for x in sys.argv[1].split()]
two = [[float(v) for v in x.split(",")] for x in sys.argv[2].split()]
print()
for k, what in ((1, "farm time"), (0, "wall time")):
    m1, m2 = statistics.median(x[k] for x in one), statistics.median(x[k] for x in two)
    print(f"- median by {what}: 1 worker {m1:.2f}/min, 2 workers {m2:.2f}/min: **{m2/m1:.2f}x** (target >= 1.8x)")
print()
PY

{
  echo "## 2. Coordinator overhead, fake backend ($fake_n archs)"
  echo
} >>"$summary"
for w in 1 2; do
  db="$out/fake_w$w.db"
  rm -f "$db" "$db-wal" "$db-shm"
  mpi $((w + 1)) profile --archs "$out/fake_archs.jsonl" --backend fake --threads 1 --db "$db" --mpi \
    >"$out/fake_w$w.txt" 2>"$out/fake_w$w.err"
  echo "- $w worker(s): $(grep '^MPI:' "$out/fake_w$w.txt" | sed 's/^MPI: //')" >>"$summary"
done
echo >>"$summary"
cat "$summary"
