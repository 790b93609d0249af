#!/usr/bin/env bash
# A model trained by `spinsc reproduce` is rebuilt bit for bit by `spinsc train` from the settings
# its file records (docs/training.md, "Named seed streams"): both front-ends call the same
# training recipe and seed the SC noise the same way. Checked for the continuation without SC
# (mode qat from the base) and with SC (mode sc, the noise of L = 8), and for the base itself.
spinsc=${1:?usage: reproduce_model_rebuilt.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
: "${SPINSC_DATA:?SPINSC_DATA must name the MNIST folder}"
cd "$tmp"

"$spinsc" reproduce --out run --depths 1 --arch1 784,16,10 -K 5 -L 8 --epochs 1 --sc-epochs 1 --limit 300 \
  --train-limit 3000 -r 1 --source ideal --threads 1 -q

# The tensors' bytes (names, dtypes, shapes, data) of a model file.
tensors() {
  /usr/bin/python3 - "$1" <<'EOF'
import hashlib, json, struct, sys
blob = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + n])
h = hashlib.sha256()
for name in sorted(k for k in header if k != "__metadata__"):
    t = header[name]
    a, b = t["data_offsets"]
    h.update(json.dumps([name, t["dtype"], t["shape"]]).encode())
    h.update(blob[8 + n + a:8 + n + b])
print(h.hexdigest())
EOF
}
# The `spinsc train` arguments a model's training metadata gives.
train_args() {
  /usr/bin/python3 - "$1" <<'EOF'
import json, struct, sys
blob = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", blob[:8])
meta = json.loads(blob[8:8 + n])["__metadata__"]
t = json.loads(meta["training"])
args = ["--arch", t["arch"], "--states", str(t["states"]), "--mode", t["mode"], "--epochs", str(t["epochs"]),
        "--batch", str(t["batch"]), "--lr", repr(t["lr"]), "--optimizer", t["optimizer"], "--schedule", t["schedule"],
        "--weight-decay", repr(t["weight_decay"]), "--shift", str(t["shift"]), "--val", str(t["val"]),
        "--seed", str(t["seed"]), "--dataset", t["dataset"]]
if "train_limit" in t: args += ["--train-limit", str(t["train_limit"])]
if t.get("init", "").endswith(".safetensors"): args += ["--init", "run/" + t["init"]]  # else: how it was initialised
if "sc" in t: args += ["--sc-length", str(t["sc"]["length"]), "--source", t["sc"]["source"]]
print("\n".join(args))
EOF
}

for m in d1-k5-base d1-k5-without_sc d1-k5-with_sc-L8; do
  mapfile -t args < <(train_args "run/models/$m.safetensors")
  "$spinsc" train "${args[@]}" --threads 2 -q --out "$m.safetensors" >/dev/null
  a=$(tensors "run/models/$m.safetensors")
  b=$(tensors "$m.safetensors")
  [[ $a == "$b" ]] || fail "$m: spinsc train ${args[*]} gave other weights than reproduce ($b vs $a)"
done
echo "reproduce models rebuilt by spinsc train: identical tensors"
