#!/usr/bin/env bash
# The README's device-study block (the Pareto fronts) is what scripts/pareto_table.py writes from
# the committed run (docs/results/device-study): no figure of it is typed or left from an older run.
spinsc=${1:?usage: device_study_current.sh /path/to/spinsc}  # unused: the script reads files only
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
run=$src/docs/results/device-study
/usr/bin/python3 "$src/scripts/pareto_table.py" "$run" --cpu "$run/cpu.txt" --time "$run/time.txt" \
  --command "spinsc sweep device-study --out study" --check "$src/README.md" --marker device-study ||
  fail "the README's device-study block is not what docs/results/device-study gives (regenerate: see its README.md)"
echo "README device study: generated from docs/results/device-study"
