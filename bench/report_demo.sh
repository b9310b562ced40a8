#!/usr/bin/env bash
# Issue 7's acceptance on this CPU: a store holding a search run, three presets profiled block by
# block and a fitted cost model, reported as HTML and rendered by headless Chromium to PNG.
#   HWNAS=build/release/hwnas DB=build/bench/search-…/bench.db bench/report_demo.sh
# Environment: HWNAS (binary), DB (a store with a search run, e.g. bench/search_target.sh's; without
# one, a short search is run first), PRESETS ("litv2-s deit-tiny pvtv2-b0"), THREADS (2),
# OUT (build/bench/report-<stamp>).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hwnas=${HWNAS:-$root/build/release/hwnas}
threads=${THREADS:-2}
out=${OUT:-$root/build/bench/report-$(date -u +%Y%m%dT%H%M%SZ)}
db=${DB:-$out/report.db}
mkdir -p "$out"
export OMP_PROC_BIND=${OMP_PROC_BIND:-close} OMP_PLACES=${OMP_PLACES:-cores}
if ! "$hwnas" db stats --db "$db" 2>/dev/null | grep -qE 'search_runs +[1-9]'; then
  echo "no search run in $db: running a short one" >&2
  "$hwnas" search --threads "$threads" --db "$db" --evaluations 300 --out "$out/search"
fi
for p in ${PRESETS:-litv2-s deit-tiny pvtv2-b0}; do
  "$hwnas" profile --preset "$p" --per-block --threads "$threads" --db "$db" >"$out/profile-$p.txt"
done
"$hwnas" report --db "$db" -o "$out/report.html"
"$hwnas" report --db "$db" --format json -o "$out/report.json"
if command -v chromium >/dev/null; then
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run "--user-data-dir=$out/chromium" --window-size=1400,7000 \
    --enable-logging=stderr --v=0 "--screenshot=$out/report.png" "file://$out/report.html" >"$out/chromium.log" 2>&1
  echo "rendered $out/report.png; console messages:"
  grep -E 'CONSOLE|Uncaught' "$out/chromium.log" || echo "  (none)"
fi
