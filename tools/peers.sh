#!/usr/bin/env bash
# The npm peer of the peer test (tests/peers): ONNX Runtime for Node.js, installed once into
# build/peers as shared/peers/README.md does it. Never fatal: without it the peer test skips its
# ONNX Runtime check with a message.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/build/peers"
[[ -f $dir/node_modules/onnxruntime-node/package.json ]] && exit 0
if ! command -v npm >/dev/null; then
  echo "hwnas: npm not found; the peer test will skip ONNX Runtime (apt-get install nodejs npm)" >&2
  exit 0
fi
mkdir -p "$dir"
echo "hwnas: installing onnxruntime-node@1.30.0 into build/peers (npm, --ignore-scripts: the CPU library ships in the package)"
(cd "$dir" && { [[ -f package.json ]] || npm init -y >/dev/null; } && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 >npm.log 2>&1) ||
  echo "hwnas: npm install failed (see build/peers/npm.log); the peer test will skip ONNX Runtime" >&2
exit 0
