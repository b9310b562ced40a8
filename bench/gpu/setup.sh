#!/usr/bin/env bash
# On the lent GPU machine: unpacks .devcarry/hwnas-gpu.tar.xz (from bench/gpu/pack.sh) into /tmp/hw.
# Source it: `source bench/gpu/setup.sh`; then hwnas, cuda_ops_tests and the peers are on hand.
mkdir -p /tmp/hw && tar -xJf .devcarry/hwnas-gpu.tar.xz -C /tmp/hw
cudalib=$(ls -d /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH=/tmp/hw/pkg/lib:${cudalib}${LD_LIBRARY_PATH:-}
export PATH=/tmp/hw/pkg/bin:$PATH PYTHONUNBUFFERED=1
if ldd /tmp/hw/pkg/bin/hwnas | grep -q "not found"; then
  echo "setup.sh: libraries still missing:" && ldd /tmp/hw/pkg/bin/hwnas | grep "not found"
fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv
