#!/usr/bin/env bash
# docs/python.md's comparison of the torch example with `spinsc train` is what
# scripts/torch_table.py writes from the committed run (docs/results/torch-example): no figure
# of it is typed or left from an older run.
spinsc=${1:?usage: torch_table_current.sh /path/to/spinsc}  # unused: the script reads files only
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
/usr/bin/python3 "$src/scripts/torch_table.py" "$src/docs/results/torch-example" --check "$src/docs/python.md" ||
  fail "docs/python.md's torch table is not what docs/results/torch-example gives (regenerate: scripts/torch_table.py)"
echo "docs/python.md torch table: generated from docs/results/torch-example"
