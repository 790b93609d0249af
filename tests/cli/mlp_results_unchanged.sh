#!/usr/bin/env bash
# A committed small MLP model (version 1 file, tests/data/mlp-v1-784-16-10-k5.safetensors) gives
# exactly the digital and SC results recorded in tests/data/mlp-v1-expected.json, for every
# source, sharing, multiply, accumulate, the binomial shortcut and the bit-level path: what
# was measured before a change to the network representation or the engines is what is
# measured after it.
#   usage: mlp_results_unchanged.sh SPINSC             check
#          mlp_results_unchanged.sh SPINSC --record    rewrite the expectations (only when a
#                                                      change of results is intended; say why
#                                                      in the commit)
spinsc=${1:?usage: mlp_results_unchanged.sh /path/to/spinsc [--record]}
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
model=$src/tests/data/mlp-v1-784-16-10-k5.safetensors
expected=$src/tests/data/mlp-v1-expected.json
cases=(
  ""
  "--sc-length 8,100 --repeats 2 --limit 300"
  "--sc-length 16 --repeats 2 --limit 300 --exact-bits"
  "--sc-length 16 --source smtj --repeats 2 --limit 300"
  "--sc-length 16 --source smtj:$src/configs/device/correlated.json --limit 200"
  "--sc-length 16 --source smtj:$src/configs/device/variation5.json --limit 200"
  "--sc-length 16 --source lfsr --limit 300"
  "--sc-length 16 --source sobol --limit 300"
  "--sc-length 16 --sharing per-level --limit 300"
  "--sc-length 16 --sharing independent-all --limit 300"
  "--sc-length 16 --multiply bipolar --limit 300 --exact-bits"
  "--sc-length 32 --accumulate mux --limit 300"
  "--sc-length 16 --analog --repeats 2 --limit 300"
)
for c in "${cases[@]}"; do
  # shellcheck disable=SC2086
  expect_status 0 "$spinsc" eval --model "$model" $c --json --quiet > "$tmp/out.json"
  key=${c//$src\//}
  /usr/bin/python3 - "$tmp/out.json" "$key" "$tmp/results.jsonl" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
rows = j if isinstance(j, list) else [j]
values = [r.get("accuracy_per_repeat", [r.get("digital_accuracy")]) for r in rows]
with open(sys.argv[3], "a") as f:
    f.write(json.dumps({"case": sys.argv[2], "accuracies": values}) + "\n")
PY
done
if [[ ${2:-} == --record ]]; then
  /usr/bin/python3 -c "
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
json.dump({r['case']: r['accuracies'] for r in rows}, open(sys.argv[2], 'w'), indent=1, sort_keys=True)
" "$tmp/results.jsonl" "$expected"
  echo "recorded ${#cases[@]} cases in $expected"
  exit 0
fi
/usr/bin/python3 - "$tmp/results.jsonl" "$expected" <<'PY' || fail "results differ from the recorded ones (see above)"
import json, sys
want = json.load(open(sys.argv[2]))
rows = [json.loads(l) for l in open(sys.argv[1])]
bad = [r for r in rows if want.get(r["case"]) != r["accuracies"]]
for r in bad:
    print(f"case '{r['case']}': got {r['accuracies']}, recorded {want.get(r['case'])}", file=sys.stderr)
missing = set(want) - {r["case"] for r in rows}
if missing:
    print(f"recorded cases not run: {sorted(missing)}", file=sys.stderr)
sys.exit(1 if bad or missing else 0)
PY
echo "mlp results unchanged: ${#cases[@]} cases identical to the recorded ones"
