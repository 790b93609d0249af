#!/usr/bin/env bash
# docs/training.md's training-speed comparison with PyTorch is what scripts/train_speed_table.py
# writes from the committed run (docs/results/train-speed): no figure of it is typed.
spinsc=${1:?usage: train_speed_table_current.sh /path/to/spinsc}  # unused: the script reads files only
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
/usr/bin/python3 "$src/scripts/train_speed_table.py" "$src/docs/results/train-speed" --check "$src/docs/training.md" ||
  fail "docs/training.md's training-speed table is not what docs/results/train-speed gives (regenerate: scripts/train_speed_table.py)"
echo "docs/training.md training-speed table: generated from docs/results/train-speed"
