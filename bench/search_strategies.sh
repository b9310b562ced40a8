#!/usr/bin/env bash
# Strategies compared at equal evaluation budgets over seeds: hypervolume of the predicted front
# (believed latency ≤ budget vs score; reference: the budget and the objective's reference score)
# and of the measured finalists, per strategy and seed, then mean ± sd. One store for all runs: the
# cost model is calibrated once, measurements and proxy scores are shared through the caches.
#   HWNAS=build/release/hwnas bench/search_strategies.sh
# Environment: SEEDS ("1 2 3 4 5"), STRATEGIES ("random evolution nsga2"), EVALUATIONS (300),
# OBJECTIVE (zen), SPACE (hybrid-vit), BUDGET_MS (default: litv2-s measured here, halved), THREADS (2),
# DB (build/bench/search.db), OUT (build/bench/strategies-<stamp>.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hwnas=${HWNAS:-$root/build/release/hwnas}
threads=${THREADS:-2}
seeds=${SEEDS:-"1 2 3 4 5"}
strategies=${STRATEGIES:-"random evolution nsga2"}
evaluations=${EVALUATIONS:-300}
objective=${OBJECTIVE:-zen}
space=${SPACE:-hybrid-vit}
db=${DB:-$root/build/bench/search.db}
out=${OUT:-$root/build/bench/strategies-$(date -u +%Y%m%dT%H%M%SZ).md}
mkdir -p "$(dirname "$db")" "$out.raw"
export OMP_PROC_BIND=${OMP_PROC_BIND:-close} OMP_PLACES=${OMP_PLACES:-cores}
budget_args=()
[[ -n "${BUDGET_MS:-}" ]] && budget_args=(--budget-ms "$BUDGET_MS")
for s in $strategies; do
  for seed in $seeds; do
    echo "strategy $s seed $seed ..." >&2
    "$hwnas" search --threads "$threads" --db "$db" --space "$space" --objective "$objective" --strategy "$s" \
      --seed "$seed" --evaluations "$evaluations" --measure-top 3 --measure-front 0 --no-presets --quiet \
      "${budget_args[@]}" --out "$out.raw/$s-$seed" >"$out.raw/$s-$seed.txt" 2>&1 || true
  done
done
python3 - "$out.raw" "$strategies" "$seeds" "$evaluations" "$objective" "$space" >"$out" <<'PY'
import json, statistics, sys
raw, strategies, seeds = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
evals, objective, space = sys.argv[4], sys.argv[5], sys.argv[6]
print(f"# strategies on {space}, objective {objective}, {evals} evaluations each\n")
print("| strategy | " + " | ".join(f"seed {s}" for s in seeds) + " | mean ± sd | best measured score (mean) |")
print("|---|" + "---|" * (len(seeds) + 2))
budget = None
for st in strategies:
    hv, best = [], []
    for s in seeds:
        try:
            r = json.load(open(f"{raw}/{st}-{s}/pareto.json"))["result"]
        except Exception:
            hv.append(float("nan")); continue
        budget = r["budget_ms"]
        hv.append(r["hypervolume_predicted"])
        front = json.load(open(f"{raw}/{st}-{s}/pareto.json"))["front_measured"]
        best.append(max((p["score"] for p in front), default=float("nan")))
    ok = [h for h in hv if h == h]
    sd = statistics.stdev(ok) if len(ok) > 1 else 0.0
    print(f"| {st} | " + " | ".join(f"{h:.4g}" for h in hv) + f" | {statistics.mean(ok):.4g} ± {sd:.2g} | {statistics.mean(best):.4g} |")
print(f"\nhypervolume of the predicted front (believed latency vs {objective}), budget {budget} ms")
PY
cat "$out"
