#!/usr/bin/env bash
# docs/sc-engine.md's AVX2-path table is what scripts/bench_table.py writes from the committed
# `spinsc bench --json` runs (docs/results/bench-avx2): no figure of it is typed.
spinsc=${1:?usage: bench_table_current.sh /path/to/spinsc}  # unused: the script reads files only
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
run=$src/docs/results/bench-avx2
/usr/bin/python3 "$src/scripts/bench_table.py" "$run/avx2.json" "$run/portable.json" --cpu "$run/cpu.txt" \
  --command "spinsc bench --json" --check "$src/docs/sc-engine.md" --marker bench-avx2 ||
  fail "docs/sc-engine.md's bench-avx2 table is not what docs/results/bench-avx2 gives (regenerate: see its README.md)"
echo "docs/sc-engine.md AVX2 bench: generated from docs/results/bench-avx2"
