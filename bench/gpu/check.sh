#!/usr/bin/env bash
# On the lent GPU machine, one call: the GPU tests, then hwnas on the presets and single attention
# layers of the GPU issue (batch 64, stored in $OUT/gpu.db), alternating with the PyTorch peers
# (peers.py: eager and torch.compile).
# Usage: [DTYPES='bf16 f16'] [PEERS='bf16 f16'] [SKIP_F32=1] bash bench/gpu/check.sh [--no-peers]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/setup.sh"
out=${OUT:-/tmp/out}
mkdir -p "$out"
db=$out/gpu.db
hwnas version | head -1
hwnas device --device cuda:0
cuda_ops_tests --gtest_brief=1 2>&1 | tail -3
prof() { hwnas profile --device cuda:0 --batch 64 --db "$db" "$@" 2>&1 | grep -E "on NVIDIA|end to end|CUDA graph|NOISY|rror"; }
for dt in ${DTYPES:-bf16 f16}; do
  for p in deit-small litv2-s; do prof --preset $p --dtype $dt; done
  # torch.compile for bf16 only: it costs about a minute per model of the lease.
  compile=$([[ $dt == bf16 ]] && echo "" || echo --no-compile)
  [[ ${1:-} == --no-peers || " ${PEERS:-bf16 f16} " != *" $dt "* ]] || python3 /tmp/hw/pkg/peers/peers.py --dtypes $([[ $dt == f16 ]] && echo fp16 || echo $dt) --cases deit_small,litv2_s $compile 2>&1 | grep -E '^\{|Error|error' | tail -4
  for p in deit-small litv2-s; do prof --preset $p --dtype $dt; done
done
for p in swin-t pvtv2-b2 deit-tiny; do prof --preset $p --dtype bf16; done
[[ -n ${SKIP_F32:-} ]] || for p in deit-small litv2-s; do prof --preset $p --dtype f32; done
for k in msa sra window hilo; do
  hwnas profile "$here/layers/$k.json" --device cuda:0 --batch 64 --dtype bf16 --per-block --no-db \
    --max-item-ms 500 2>&1 | grep -E "blocks.0 "
done
hwnas profile --preset litv2-s --device cuda:0 --batch 64 --dtype bf16 --per-op --no-db --max-item-ms 200 \
  --json "$out/litv2s-ops.json" >"$out/litv2s-ops.txt" 2>&1
tail -3 "$out/litv2s-ops.txt"
