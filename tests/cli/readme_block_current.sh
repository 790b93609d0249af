#!/usr/bin/env bash
# The README's measured-results block is what scripts/readme_results.py writes from the committed
# default run (docs/results/mlp-default: results.json, table.md, the /usr/bin/time -v output,
# the CPU and the load it ran under): no figure of it is typed or left from an older run.
spinsc=${1:?usage: readme_block_current.sh /path/to/spinsc}  # unused: the script reads files only
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
run=$src/docs/results/mlp-default
args=("$run" --time "$run/time.txt" --cpu "$(cat "$run/cpu.txt")" --readme "$src/README.md" --check)
[[ -s $run/load.txt ]] && args+=(--load "$(cat "$run/load.txt")")
/usr/bin/python3 "$src/scripts/readme_results.py" "${args[@]}" ||
  fail "README's results block is not what docs/results/mlp-default gives (regenerate: see docs/results/mlp-default/README.md)"
echo "README results block: generated from docs/results/mlp-default"
