#!/usr/bin/env bash
# `spinsc cost`: Markdown, JSON (keys and consistency), --out files and plot, --model, --hw, errors.
spinsc=${1:?usage: cost_cli.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

# Markdown: the four designs, the ratios against the paper's figures.
out=$(expect_status 0 "$spinsc" cost --arch 784,128,10 --states 5)
for row in "| quantized | s-MTJ | 102544 |" "| analog | s-MTJ | 102544 |" "| quantized | LFSR |" "| analog | LFSR |" \
           "neuron activation latency, quantized / analog" "energy per inference, quantized / analog" "9× lower" "2.6× lower" \
           "energy per inference, s-MTJ / LFSR" "| 0 | 784 → 128 | quantized | s-MTJ | 784 | 100352 | 18 | 512 |"; do
  grep -qF -- "$row" <<<"$out" || fail "markdown lacks '$row': $out"
done

# JSON: required keys; totals are the sums of their breakdowns; ratios are the ratios of totals.
expect_status 0 "$spinsc" cost --arch 784,128,10 --states 5 --json > "$tmp/a.json"
for key in latency_s energy_j breakdown ratios config parameters; do
  [[ $(json_get "$tmp/a.json" "'$key' in j") == True ]] || fail "JSON lacks '$key'"
done
check=$(json_get "$tmp/a.json" "all(abs(sum(j['breakdown'][k]['energy_j'].values()) - j['energy_j'][k]) <= 1e-9 * j['energy_j'][k] \
  and abs(sum(j['breakdown'][k]['latency_s'].values()) - j['latency_s'][k]) <= 1e-9 * j['latency_s'][k] for k in j['energy_j'])")
[[ $check == True ]] || fail "breakdown does not add up to the totals"
check=$(json_get "$tmp/a.json" "abs(j['ratios']['quantized_over_analog']['smtj']['energy'] - j['energy_j']['quantized_smtj'] / j['energy_j']['analog_smtj']) < 1e-12")
[[ $check == True ]] || fail "energy ratio is not the ratio of the totals"
[[ $(json_get "$tmp/a.json" "len(j['breakdown']['analog_lfsr']['layers'])") == 2 ]] || fail "per-layer breakdown"

# More bits per stream: more energy and more latency, for every design.
expect_status 0 "$spinsc" cost --arch 784,128,10 -L 500 --json > "$tmp/b.json"
check=$(python3 -c "
import json; a=json.load(open('$tmp/a.json')); b=json.load(open('$tmp/b.json'))
print(all(b['energy_j'][k] > a['energy_j'][k] and b['latency_s'][k] > a['latency_s'][k] for k in a['energy_j']))")
[[ $check == True ]] || fail "L = 500 is not dearer than L = 100"

# per-level sharing: a handful of weight SNGs in the quantized design, one per synapse in the baseline.
expect_status 0 "$spinsc" cost --arch 784,128,10 --sharing per-level --json > "$tmp/p.json"
[[ $(json_get "$tmp/p.json" "j['breakdown']['quantized_smtj']['layers'][0]['weight_sngs']") == 2 ]] || fail "per-level weight SNGs"
[[ $(json_get "$tmp/p.json" "j['breakdown']['analog_smtj']['layers'][0]['weight_sngs']") == 100352 ]] || fail "analog weight SNGs"

# --out: the four files and a real PNG.
out=$(expect_status 0 "$spinsc" cost --arch 784,128,10 -K 11 --out "$tmp/out")
for f in cost.md cost.json cost.csv cost.png cost_plot.csv; do [[ -s $tmp/out/$f ]] || fail "--out did not write $f"; done
[[ $(head -c 8 "$tmp/out/cost.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "cost.png is not a PNG"
grep -q "^| smtj.bias_current | 10 | uA |" "$tmp/out/cost.md" || fail "cost.md lacks the parameter table"
grep -q "^quantized,smtj,total,energy_j,total," "$tmp/out/cost.csv" || fail "cost.csv lacks totals"
ls "$tmp/out" | grep -q '\.tmp' && fail "temporary files left in --out"

# Shipped parameter variants.
for hw in "$src"/configs/hw/*.json; do
  expect_status 0 "$spinsc" cost --arch 784,128,10 --hw "$hw" --json > "$tmp/hw.json"
done
expect_status 0 "$spinsc" cost --arch 784,128,10 --hw "$src/configs/hw/dedicated-weights.json" --json > "$tmp/d.json"
[[ $(json_get "$tmp/d.json" "j['breakdown']['quantized_smtj']['energy_j']['memory']") == 0.0 ]] || fail "dedicated weights still read memory"

# A model file (4-3-2, K = 5, written here in the safetensors layout): its weight levels decide
# the per-level devices: layer 0 uses |q| = 1 only, layer 1 |q| = 1 and 2.
python3 - "$tmp/m.safetensors" <<'EOF'
import json, struct, sys
arch = [4, 3, 2]
W = [[0.5] * 12, [0.5, 1.0, 0.0, -0.5, 0.0, 0.25]]
tensors, blobs, off = {}, b"", 0
for l in range(2):
    n, m = arch[l], arch[l + 1]
    for part, vals, shape in (("weight", W[l], [m, n]), ("bias", [0.0] * m, [m]), ("gain", [1.0] * m, [m])):
        b = struct.pack("<%df" % len(vals), *vals)
        tensors["layers.%d.%s" % (l, part)] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + len(b)]}
        blobs += b
        off += len(b)
tensors["__metadata__"] = {"format": "spinsc-mlp", "format_version": "1", "arch": "4,3,2", "states": "5",
                           "mode": "qat", "scales": "[1.0,1.0]", "training": "{}"}
head = json.dumps(tensors).encode()
head += b" " * ((8 - len(head) % 8) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(head)) + head + blobs)
EOF
expect_status 0 "$spinsc" cost --model "$tmp/m.safetensors" --sharing per-level --json > "$tmp/m.json"
[[ $(json_get "$tmp/m.json" "[l['weight_sngs'] for l in j['breakdown']['quantized_smtj']['layers']]") == "[1, 2]" ]] \
  || fail "model weight levels: $(cat "$tmp/m.json" | head -c 400)"
[[ $(json_get "$tmp/m.json" "j['config']['mode']") == qat ]] || fail "model mode"

# Errors: exit 2 with a message naming the fault.
out=$(expect_status 2 "$spinsc" cost --model "$tmp/m.safetensors" --arch 4,3,2)
grep -q "drop --arch" <<<"$out" || fail "--model with --arch: $out"
out=$(expect_status 2 "$spinsc" cost)
grep -q -- "--model FILE or --arch" <<<"$out" || fail "no architecture: $out"
out=$(expect_status 2 "$spinsc" cost --arch 784,128,10 -K 4)
grep -q "K = 4" <<<"$out" || fail "even K: $out"
out=$(expect_status 2 "$spinsc" cost --arch 784,128,10 -L 0)
grep -q "L = 0" <<<"$out" || fail "L = 0: $out"
out=$(expect_status 2 "$spinsc" cost --model "$tmp/none.safetensors")
grep -q "none.safetensors" <<<"$out" || fail "missing model: $out"
python3 -c "
import json; j=json.load(open('$src/configs/hw/default.json')); j['logic']['and_energy']['value']=-1
json.dump(j, open('$tmp/neg.json','w'))"
out=$(expect_status 2 "$spinsc" cost --arch 784,128,10 --hw "$tmp/neg.json")
grep -q "neg.json.*logic.and_energy.*negative" <<<"$out" || fail "negative energy: $out"
printf '{"name": "x", "extends": "default", "smtj": {"bit_period": {"value": 20, "unit": "parsec", "source": "x"}}}' > "$tmp/unit.json"
out=$(expect_status 2 "$spinsc" cost --arch 784,128,10 --hw "$tmp/unit.json")
grep -q "unit 'parsec' is not a time" <<<"$out" || fail "unknown unit: $out"
rc=0
"$spinsc" cost --arch 784,128,10 --sharing shared >/dev/null 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "--sharing shared was accepted"
# Convolutional networks: priced by their stages; per-tap sharing needs one weight SNG per kernel weight.
expect_status 0 "$spinsc" cost --arch lenet5 --json > "$tmp/c.json"
expect_status 0 "$spinsc" cost --arch lenet5 --sharing per-tap --json > "$tmp/t.json"
check=$(/usr/bin/python3 -c "
import json; c=json.load(open('$tmp/c.json')); t=json.load(open('$tmp/t.json'))
l = c['breakdown']['quantized_smtj']['layers']; lt = t['breakdown']['quantized_smtj']['layers']
ok = (c['config']['architecture'].startswith('input:1x28x28,conv:6x5x5:p2') and len(l) == 5 and l[0]['in'] == 784
      and l[0]['out'] == 1176 and lt[0]['weight_sngs'] == 150 and lt[1]['weight_sngs'] == 2400
      and l[1]['weight_sngs'] == 16 * 100 * 150 and l[2]['weight_sngs'] == lt[2]['weight_sngs'] == 48000
      and t['energy_j']['quantized_smtj'] < c['energy_j']['quantized_smtj'])
print(ok)")
[[ $check == True ]] || fail "lenet5 cost: $check"
out=$(expect_status 2 "$spinsc" cost --arch conv:6x5x5,maxpool:5,dense:10)
grep -q "does not tile" <<<"$out" || fail "bad layer list: $out"

# --device: the s-MTJ's clock, bias currents, resistance and sense energy come from the device
# description (the one the smtj source simulates); without it the hardware file's figures stand.
[[ $(json_get "$tmp/a.json" "(j['config']['device'], j['config']['smtj']['from'])") == "(None, 'hw')" ]] || fail "default device"
expect_status 0 "$spinsc" cost --arch 784,128,10 --device "$src/configs/device/perpendicular_ns.json" --json > "$tmp/dev.json"
expect_status 0 "$spinsc" cost --arch 784,128,10 --device "$src/configs/device/reference.json" --json > "$tmp/ref.json"
check=$(/usr/bin/python3 -c "
import json; d=json.load(open('$tmp/dev.json')); r=json.load(open('$tmp/ref.json')); a=json.load(open('$tmp/a.json'))
ok = (d['config']['device']['name'] == 'perpendicular_ns' and d['config']['smtj']['from'] == 'device'
      and d['config']['bit_period_s']['smtj'] == 1e-8 and r['config']['bit_period_s']['smtj'] == 2.5e-4
      and abs(d['breakdown']['quantized_smtj']['latency_s']['stream'] - 2 * 100 * 1e-8) < 1e-15
      and abs(r['breakdown']['quantized_smtj']['latency_s']['stream'] - 2 * 100 * 2.5e-4) < 1e-12
      and d['energy_j']['quantized_lfsr'] == a['energy_j']['quantized_lfsr']
      and r['config']['sng_bit_energy_j']['smtj'] > d['config']['sng_bit_energy_j']['smtj'])
print(ok)")
[[ $check == True ]] || fail "cost --device: $check"
out=$(expect_status 0 "$spinsc" cost --arch 784,128,10 --device "$src/configs/device/inplane_ns.json" --params)
grep -q "device 'inplane_ns'" <<<"$out" || fail "markdown does not name the device: $out"
grep -q "^| smtj.bit_period | 2e-08 | s | from device 'inplane_ns'" <<<"$out" || fail "parameter table: $out"
out=$(expect_status 2 "$spinsc" cost --arch 784,128,10 --device "$tmp/nodevice.json")
grep -q "nodevice.json" <<<"$out" || fail "missing device file: $out"
printf '{"sense_energy_J": -5e-15}' > "$tmp/badsense.json"
out=$(expect_status 2 "$spinsc" cost --arch 784,128,10 --device "$tmp/badsense.json")
grep -q "badsense.json.*sense_energy_J" <<<"$out" || fail "negative sense energy: $out"
printf '{"sample_period_s": "fast"}' > "$tmp/badclock.json"
out=$(expect_status 2 "$spinsc" cost --arch 784,128,10 --device "$tmp/badclock.json")
grep -q "badclock.json.*sample_period_s" <<<"$out" || fail "bad clock: $out"

# --accumulate mux: the scaled adder's counting hardware (select + up/down counter), named in the
# record; the rest of the design unchanged.
expect_status 0 "$spinsc" cost --arch 784,128,10 --accumulate mux --json > "$tmp/mux.json"
check=$(/usr/bin/python3 -c "
import json; m=json.load(open('$tmp/mux.json')); a=json.load(open('$tmp/a.json'))
bm, ba = m['breakdown']['quantized_smtj']['energy_j'], a['breakdown']['quantized_smtj']['energy_j']
print(m['config']['accumulate'] == 'mux' and a['config']['accumulate'] == 'apc' and bm['counters'] < ba['counters']
      and bm['gates'] == ba['gates'] and bm['weight_sng'] == ba['weight_sng'])")
[[ $check == True ]] || fail "cost --accumulate mux: $check"
expect_status 2 "$spinsc" cost --arch 784,128,10 --accumulate tree > /dev/null

out=$(expect_status 0 "$spinsc" cost --help)
grep -q -- "--sc-length" <<<"$out" || fail "help lacks --sc-length"
echo "cost_cli: ok"
