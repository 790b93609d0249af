#!/usr/bin/env bash
# The whole test suite: set-up (packages, build, data), then every test through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --preset release -j2 "$@"
