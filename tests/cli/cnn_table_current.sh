#!/usr/bin/env bash
# docs/cnn.md's measured block is what scripts/cnn_table.py writes from the committed CNN grids
# (docs/results/cnn-mnist and cnn-fashion, with the load recorded beside them): no figure of it
# is typed.
spinsc=${1:?usage: cnn_table_current.sh /path/to/spinsc}  # unused: the script reads files only
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
runs=("$src/docs/results/cnn-mnist" "$src/docs/results/cnn-fashion")
/usr/bin/python3 "$src/scripts/cnn_table.py" "${runs[@]}" --load "$(cat "$src/docs/results/cnn-mnist/load.txt")" \
  --cpu "$(cat "$src/docs/results/cnn-mnist/cpu.txt")" --check "$src/docs/cnn.md" ||
  fail "docs/cnn.md's measured block is not what docs/results/cnn-* give (regenerate: see docs/results/cnn-mnist/README.md)"
echo "docs/cnn.md measured block: generated from docs/results/cnn-mnist and cnn-fashion"
