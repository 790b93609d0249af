#!/usr/bin/env bash
# Black-box test of `spinsc device simulate|import|calibrate|stats` (docs/device.md).
spinsc=${1:?usage: device_tools.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"

# Telegraph traces at a correlated clock, in resistance format, then import and calibrate.
"$spinsc" device simulate --out "$tmp/raw" --samples 50000 --period 10e-6 --format resistance --quiet >"$tmp/sim.txt"
[[ $(ls "$tmp/raw"/*.trace | wc -l) -eq 9 ]] || fail "simulate should write 9 traces"
grep -q "^# format: resistance" "$tmp/raw/T300_b00.trace" || fail "resistance format expected"
"$spinsc" device import --in "$tmp/raw" --out "$tmp/lib" >"$tmp/import.txt"
grep -q "imported 9 trace(s)" "$tmp/import.txt" || fail "import summary: $(cat "$tmp/import.txt")"
grep -q "^# format: bits" "$tmp/lib/T300_b04.trace" || fail "import writes canonical bits"
"$spinsc" device calibrate --traces "$tmp/lib" --json --write-device "$tmp/fitted.json" >"$tmp/cal.json"
python3 - "$tmp/cal.json" "$tmp/fitted.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
# Reference device: Delta 10, Ic 15 uA, offset 0, w = Ic / (2 Delta) = 0.75 uA; 5 standard errors.
def near(name, est, truth):
    v, se = est["value"], est["stderr"]
    assert abs(v - truth) < 5 * se + 1e-15, f"{name}: {v} +- {se}, expected {truth}"
near("center", c["sigmoid"]["center_A"], 0.0)
near("width", c["sigmoid"]["width_A"], 0.75e-6)
near("delta", c["delta"], 10.0)
near("Ic", c["critical_current_A"], 15e-6)
assert all(p["dwell_resolved"] for p in c["points"]), "dwell times must be resolved at Ts = 10 us"
f = json.load(open(sys.argv[2]))
assert abs(f["delta"] - 10) < 0.1 and f["name"] == "fitted", f
EOF
"$spinsc" device calibrate --traces "$tmp/lib" | grep -q "w = Ic/(2 Delta)" || fail "text report"

# Plots for the library and for a description with variation (CSV + PNG/SVG).
"$spinsc" device stats --traces "$tmp/lib" --out "$tmp/stats" >/dev/null
"$spinsc" device stats --device "${SPINSC_SOURCE_DIR:-$(dirname "$0")/../..}/configs/device/variation5.json" --out "$tmp/vstats" --format svg --samples 20000 >/dev/null
for f in p_vs_bias autocorrelation dwell_times; do
  [[ -s "$tmp/stats/$f.csv" ]] || fail "missing $f.csv"
  head -c 8 "$tmp/stats/$f.png" | grep -q PNG || fail "$f.png is not a PNG"
  grep -q "<svg" "$tmp/vstats/$f.svg" || fail "$f.svg is not an SVG"
done
head -1 "$tmp/vstats/p_vs_bias.csv" | grep -q "p_ap_device_0" || fail "variation adds device curves"

# Macrospin traces (tiny run) are valid trace files.
"$spinsc" device simulate --model llg --out "$tmp/llg" --samples 300 --alpha 0.5 --delta 3 --bias -1e-6,0,1e-6 --quiet >"$tmp/llg.txt"
[[ $(ls "$tmp/llg"/*.trace | wc -l) -eq 3 ]] || fail "llg: 3 traces expected"
"$spinsc" device import --in "$tmp/llg/T300_b01.trace" --out "$tmp/llg_lib" >/dev/null

# Malformed input: exit status 2, message naming file and line; nothing written.
mkdir -p "$tmp/bad"
printf '# bias_current_A: 1e-6\n# sample_period_s: 1e-6\n# format: resistance\n# units: ohm\n# threshold: 9000\n5000\n6000\n' >"$tmp/bad/const.txt"
set +e
"$spinsc" device import --in "$tmp/bad" --out "$tmp/bad_out" 2>"$tmp/err.txt"
status=$?
set -e
[[ $status -eq 2 ]] || fail "malformed trace: exit status $status, expected 2"
grep -q "const.txt:5: threshold 9000 ohm gives a constant stream" "$tmp/err.txt" || fail "error message: $(cat "$tmp/err.txt")"
[[ ! -e "$tmp/bad_out" ]] || fail "nothing may be written for a malformed input"
set +e
"$spinsc" device calibrate --traces "$tmp/nonexistent" 2>/dev/null
status=$?
set -e
[[ $status -eq 2 ]] || fail "missing library: exit status $status"
echo "device_tools: ok"
