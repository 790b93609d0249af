#!/usr/bin/env bash
# `spinsc train` on conv networks: float, qat and sc train and save a model whose digital
# accuracy `spinsc eval` reproduces; sc gives the same weights on 1 and 2 threads (the unit
# tests check every mode); --exact-bits (bit-level SC noise) trains a conv net too.
spinsc=${1:?usage: train_conv.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
: "${SPINSC_DATA:?SPINSC_DATA must name the MNIST folder}"

arch=conv:4x5x5:s2,avgpool:2,conv:8x3x3,maxpool:2,dense:10
for mode in float qat sc; do
  threads_list="1"
  [[ $mode == sc ]] && threads_list="1 2"
  for threads in $threads_list; do
    out=$("$spinsc" train --arch "$arch" --mode $mode -K 5 --sc-length 16 --epochs 2 --train-limit 3000 --seed 4 \
      --threads $threads -o "$tmp/$mode-$threads.safetensors" --json)
    /usr/bin/python3 -c "import json,sys; d=json.loads(sys.argv[1]); assert 0.2 < d['digital_accuracy'] <= 1, d" "$out" ||
      fail "$mode on $threads threads: $out"
    echo "$out" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['digital_accuracy'])" >"$tmp/$mode-$threads.acc"
  done
  [[ $mode != sc ]] || cmp -s "$tmp/$mode-1.safetensors" "$tmp/$mode-2.safetensors" ||
    /usr/bin/python3 - "$tmp/$mode-1.safetensors" "$tmp/$mode-2.safetensors" <<'PY' || fail "$mode: weights differ between 1 and 2 threads"
import json, struct, sys
def tensors(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n])
    return {k: b[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]] for k, v in h.items() if k != '__metadata__'}
sys.exit(0 if tensors(sys.argv[1]) == tensors(sys.argv[2]) else 1)
PY
  eval_acc=$("$spinsc" eval --model "$tmp/$mode-1.safetensors" --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['digital_accuracy'])")
  [[ "$eval_acc" == "$(cat "$tmp/$mode-1.acc")" ]] || fail "$mode: eval gives $eval_acc, train reported $(cat "$tmp/$mode-1.acc")"
done

expect_status 0 "$spinsc" train --arch "$arch" --mode sc --exact-bits --sc-length 8 --epochs 1 --train-limit 200 -o "$tmp/x.safetensors" \
  --quiet >/dev/null
[[ -s "$tmp/x.safetensors" ]] || fail "--exact-bits on a conv net wrote no model"
echo ok
