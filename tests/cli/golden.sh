#!/usr/bin/env bash
# Golden results: the same numbers on any x86-64 machine, from any build of this source.
#
# Trains small models (qat, float, SC fine-tuning with the s-MTJ noise) and evaluates them
# (digital; SC with the binomial shortcut, bit by bit, and with the smtj source), then compares
# a checksum of each model's tensors and every accuracy, bit for bit, with tests/cli/golden.expected.
# The float code is compiled for one fixed instruction set (SPINSC_ISA_BASELINE) without
# contraction, Eigen plans its blocking with fixed cache sizes, and only integer bit kernels are
# chosen from the CPU at run time: so these values may not depend on the CPU, the thread count or
# the bit kernels (the test runs once more with SPINSC_BIT_KERNELS=portable). A failure means a
# result now depends on the machine or the build, or the computation itself changed.
#
# The expected values must never change silently. When a change of the computation is intended
# (a new training rule, another baseline), regenerate them and commit the file with that change,
# saying why in the commit message:
#   bash tests/cli/golden.sh build/release/spinsc --update
spinsc=${1:?usage: golden.sh /path/to/spinsc [--update]}
update=${2:-}
source "$(dirname "$0")/lib/common.sh"
: "${SPINSC_DATA:?SPINSC_DATA must name the MNIST folder}"
expected="$(dirname "$0")/golden.expected"

# sha256 of a model's tensors (names, dtypes, shapes, bytes) and of the metadata that results
# decide (scales, and each epoch's loss and training accuracy; not its seconds or threads).
digest() {
  /usr/bin/python3 - "$1" <<'EOF'
import hashlib, json, struct, sys
blob = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + n])
meta = header.pop("__metadata__")
training = json.loads(meta["training"])
history = [{k: e[k] for k in ("epoch", "loss", "train_accuracy")} for e in training["history"]]
h = hashlib.sha256()
h.update(json.dumps(header, sort_keys=True).encode())
h.update(json.dumps([meta.get("scales"), history], sort_keys=True).encode())
h.update(blob[8 + n:])
print(h.hexdigest())
EOF
}
accuracy() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(repr(d.get('accuracy_mean', d.get('digital_accuracy'))), repr(d.get('accuracy_per_repeat')))"; }

run_all() {  # prints "key value" lines
  local q="$tmp/q.safetensors" f="$tmp/f.safetensors" s="$tmp/s.safetensors"
  "$spinsc" train --arch 784,32,10 --epochs 1 --train-limit 3000 --seed 1 -o "$q" -q >/dev/null
  echo "qat_model $(digest "$q")"
  "$spinsc" train --arch 784,32,10 --mode float --epochs 1 --train-limit 2000 --seed 2 -o "$f" -q >/dev/null
  echo "float_model $(digest "$f")"
  "$spinsc" train --arch 784,32,10 --mode sc --init "$q" --sc-length 16 --epochs 1 --train-limit 1000 --seed 3 -o "$s" -q >/dev/null
  echo "sc_model $(digest "$s")"
  echo "digital $("$spinsc" eval --model "$q" --json | accuracy)"
  echo "sc_shortcut $("$spinsc" eval --model "$s" --source ideal --sc-length 32 --limit 1000 --repeats 2 --json | accuracy)"
  echo "sc_exact_bits $("$spinsc" eval --model "$s" --source ideal --sc-length 32 --limit 200 --exact-bits --json | accuracy)"
  echo "sc_smtj $("$spinsc" eval --model "$s" --source smtj --sc-length 32 --limit 200 --json | accuracy)"
  echo "sc_lfsr_bipolar $("$spinsc" eval --model "$s" --source lfsr --multiply bipolar --sc-length 100 --limit 100 --json | accuracy)"
  echo "analog_float $("$spinsc" eval --model "$f" --source ideal --sc-length 64 --limit 200 --json | accuracy)"
}

run_all >"$tmp/actual"
if [[ $update == --update ]]; then
  cp "$tmp/actual" "$expected"
  echo "golden: wrote $expected"
  exit 0
fi
diff -u "$expected" "$tmp/actual" >&2 ||
  fail "results differ from tests/cli/golden.expected (see the header of tests/cli/golden.sh)"
SPINSC_BIT_KERNELS=portable run_all >"$tmp/portable"
diff -u "$expected" "$tmp/portable" >&2 || fail "results differ with SPINSC_BIT_KERNELS=portable"
echo "golden: ok"
