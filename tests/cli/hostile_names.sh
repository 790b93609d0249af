#!/usr/bin/env bash
# Texts from files reach gnuplot only as escaped strings: hostile or awkward names in device and
# hardware files (quotes, backquotes, a gnuplot `system` call, macros, newlines, "DATA") neither
# run anything nor break the plot.
spinsc=${1:?usage: hostile_names.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$tmp"

names=(
  'x" ; system "touch PWNED" ; set title "'
  "x' ; system 'touch PWNED' ; set title '"
  'x`touch PWNED`y'
  '@PWNED x DATA "quoted" it'"'"'s'
  $'line one\n system "touch PWNED"'
  'snake_case^super_sub'
)
i=0
for name in "${names[@]}"; do
  i=$((i + 1))
  /usr/bin/python3 - "$src/configs/device/reference.json" "$name" dev$i.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["name"] = sys.argv[2]; json.dump(d, open(sys.argv[3], "w"))
PY
  expect_status 0 "$spinsc" device stats --device dev$i.json --out stats$i --samples 20000 >/dev/null
  [[ ! -e PWNED ]] || fail "device name '$name' ran a command"
  for f in p_vs_bias autocorrelation dwell_times; do
    head -c 8 "stats$i/$f.png" | grep -q PNG || fail "device name '$name': $f.png missing"
  done
  grep -qF "PWNED" stats$i/p_vs_bias.png.gp || [[ $name != *PWNED* ]] || fail "device name '$name' not in the script as text"

  /usr/bin/python3 - "$name" hw$i.json <<'PY'
import json, sys
json.dump({"extends": "default", "name": sys.argv[1]}, open(sys.argv[2], "w"))
PY
  expect_status 0 "$spinsc" cost --arch 784,32,10 --hw hw$i.json --out cost$i >/dev/null
  [[ ! -e PWNED ]] || fail "hardware name '$name' ran a command"
  head -c 8 cost$i/cost.png | grep -q PNG || fail "hardware name '$name': cost.png missing"
done
echo "hostile names: ${#names[@]} device and ${#names[@]} hardware names plotted, nothing run"
