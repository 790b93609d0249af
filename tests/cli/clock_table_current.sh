#!/usr/bin/env bash
# docs/device.md's clock-sweep tables are what scripts/sweep_table.py writes from the committed
# run (docs/results/clock-sweep): no figure of them is typed or left from an older run.
spinsc=${1:?usage: clock_table_current.sh /path/to/spinsc}  # unused: the script reads files only
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
run=$src/docs/results/clock-sweep
/usr/bin/python3 "$src/scripts/sweep_table.py" "$run/results.csv" device/sample_period_s length --cpu "$run/cpu.txt" \
  --time "$run/time.txt" --check "$src/docs/device.md" --marker clock-sweep ||
  fail "docs/device.md's clock-sweep tables are not what docs/results/clock-sweep gives (regenerate: see its README.md)"
echo "docs/device.md clock sweep: generated from docs/results/clock-sweep"
