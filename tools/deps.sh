#!/usr/bin/env bash
# Installs the Debian packages hwnas needs that are missing. As root it runs apt-get; otherwise it
# prints the exact command to run and fails.
set -euo pipefail
packages=(
  cmake ninja-build g++ ccache git pkg-config
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers
  libsqlite3-dev libboost-program-options-dev libfmt-dev nlohmann-json3-dev libgtest-dev
  libjpeg62-turbo-dev libpng-dev libonnx-dev libprotobuf-dev
)
# Extra packages for the test command: clang for the fuzz target, chromium for the report browser
# test, PyTorch (+ NumPy, PIL) and Node.js for the peer test (tests/peers; ONNX Runtime comes from npm).
if [[ "${1:-}" == "--test" ]]; then
  packages+=(clang clang-format chromium python3-torch python3-numpy python3-pil libopenblas0-pthread)
  # OpenMPI for the device-farm tests (tests/cli_mpi_test.cc; the farm is optional at build time).
  packages+=(libopenmpi-dev openmpi-bin)
  # Node.js and npm as commands: a nodesource nodejs bundles npm and conflicts with Debian's npm.
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -eq 0 ]]; then
  echo "hwnas: installing missing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "hwnas: missing Debian packages; run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
