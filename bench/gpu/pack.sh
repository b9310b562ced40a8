#!/usr/bin/env bash
# Packs what the lent GPU machine lacks (MEASURE.md, "Running hwnas on the lent GPU machine"): the
# hwnas binary and GPU test binary built here with CUDA on, the Debian libraries they link that the
# GPU image does not have, and the PyTorch peers. Usage: bench/gpu/pack.sh [BUILD_DIR]
# Writes .devcarry/hwnas-gpu.tar.xz (ignored by git); name `.devcarry` in the device tool's carry.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/release}
pkg=$root/.devcarry/pkg
rm -rf "$pkg" && mkdir -p "$pkg/bin" "$pkg/lib" "$pkg/peers"
mkdir -p "$root/.git/info"
grep -qx '/.devcarry/' "$root/.git/info/exclude" 2>/dev/null || echo '/.devcarry/' >>"$root/.git/info/exclude"
for b in hwnas tests/cuda_ops_tests; do
  [[ -x $build/$b ]] || { echo "pack.sh: $build/$b missing (build with CUDA on first)" >&2; exit 1; }
  strip -o "$pkg/bin/$(basename "$b")" "$build/$b"
done
# Debian libraries the GPU image lacks (CUDA's own libraries are there).
ldd "$build/hwnas" | awk '/=> \/(usr\/)?lib\/x86_64-linux-gnu\/lib(dnnl|gomp|sqlite3|boost_program_options|fmt|OpenCL)/ {print $3}' |
  while read -r lib; do cp -L "$lib" "$pkg/lib/"; done
cp "$root"/../shared/peers/*.py "$pkg/peers/" 2>/dev/null || true
cp "$root"/bench/gpu/*.py "$pkg/peers/" 2>/dev/null || true
tar -cJf "$root/.devcarry/hwnas-gpu.tar.xz" -C "$root/.devcarry" pkg
rm -rf "$pkg"
ls -la "$root/.devcarry/hwnas-gpu.tar.xz"
