#!/usr/bin/env bash
# Browser test of hwnas report (issue 7): headless Chromium renders a report of a fake-backend store
# to PNG with no console errors, and its inline script runs (it marks <body data-ready="N"> with the
# number of sortable tables, and data-js-error on any error). Skips (exit 77) without Chromium.
#   tests/report_browser_test.sh HWNAS_BINARY OUT_DIR
set -euo pipefail
hwnas=$1
out=$2
chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$chromium" ]]; then
  echo "SKIP: chromium is not installed (Debian package 'chromium'; tools/deps.sh --test installs it)"
  exit 77
fi
rm -rf "$out" && mkdir -p "$out"
db="$out/report.db"
"$hwnas" calibrate --backend fake --threads 2 --budget-min 0.2 --eval-archs 4 --db "$db" >"$out/calibrate.log" 2>&1
"$hwnas" calibrate --backend fake --threads 1 --budget-min 0.2 --eval-archs 4 --db "$db" >>"$out/calibrate.log" 2>&1
"$hwnas" search --backend fake --space tiny --evaluations 96 --population 16 --quiet --objective params \
  --budget-ms 0.05 --db "$db" --out "$out/search" >"$out/search.log" 2>&1
"$hwnas" report --db "$db" -o "$out/report.html"
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
       --disable-sync --no-first-run --disable-quic "--user-data-dir=$out/profile" --window-size=1400,6000)
url="file://$(cd "$out" && pwd)/report.html"
timeout 120 "$chromium" "${flags[@]}" --enable-logging=stderr --v=0 "--screenshot=$out/report.png" "$url" \
  >"$out/chromium.log" 2>&1 || { cat "$out/chromium.log"; echo "FAIL: chromium exited with an error"; exit 1; }
[[ -s "$out/report.png" ]] || { echo "FAIL: no screenshot"; exit 1; }
size=$(stat -c %s "$out/report.png")
(( size > 20000 )) || { echo "FAIL: screenshot is only $size bytes (blank page?)"; exit 1; }
if grep -E 'CONSOLE|Uncaught' "$out/chromium.log" | grep -qiE 'error|uncaught'; then
  grep -E 'CONSOLE|Uncaught' "$out/chromium.log"
  echo "FAIL: console errors"
  exit 1
fi
timeout 120 "$chromium" "${flags[@]}" --dump-dom "$url" >"$out/dom.html" 2>"$out/chromium-dom.log" ||
  { cat "$out/chromium-dom.log"; echo "FAIL: chromium --dump-dom failed"; exit 1; }
if grep -qE '<body[^>]*data-js-error' "$out/dom.html"; then
  grep -oE '<body[^>]*>' "$out/dom.html"
  echo "FAIL: the page's script raised an error"
  exit 1
fi
ready=$(grep -oE '<body[^>]*data-ready="[0-9]+"' "$out/dom.html" | grep -oE '[0-9]+"$' | grep -o '[0-9]*' || true)
[[ -n "$ready" && "$ready" -gt 0 ]] || { echo "FAIL: the page's script did not run (no data-ready on <body>)"; exit 1; }
for id in summary comparison pareto breakdown diagrams accuracy progress cross-device; do
  grep -q "<section id=\"$id\">" "$out/dom.html" || { echo "FAIL: section $id missing from the rendered page"; exit 1; }
done
echo "ok: $url rendered to $out/report.png ($size bytes), $ready sortable tables, no console errors"
