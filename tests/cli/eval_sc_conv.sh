#!/usr/bin/env bash
# `spinsc eval` on a conv network (SPEC §9): digital and SC inference, every sharing (per-tap
# included), bipolar, mux and --exact-bits, the path each takes, determinism across threads.
spinsc=${1:?usage: eval_sc_conv.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
: "${SPINSC_DATA:?SPINSC_DATA must name the MNIST folder}"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

# A random quantized conv net (no trained model needed): padding, both pool kinds, dense head.
model="$tmp/conv.safetensors"
/usr/bin/python3 "$(dirname "$0")/lib/random_model.py" "$model" 5 1 1x28x28 conv:4:5:2 maxpool:2 conv:8:5 avgpool:2 dense:10

out=$("$spinsc" eval --model "$model" --limit 200 --json)
json "assert d['arch'].startswith('input:1x28x28,conv:4x5x5:p2,maxpool:2'), d; assert 0 <= d['digital_accuracy'] <= 1, d" <<<"$out" ||
  fail "digital conv eval: $out"

# Several lengths, the documented keys; the default path is the binomial shortcut, per-tap is bit level.
out=$("$spinsc" eval --model "$model" --sc-length 16,64 --limit 60 --json)
json "assert [e['length'] for e in d] == [16, 64], d; assert all(e['path'] == 'binomial' for e in d), d" <<<"$out" ||
  fail "conv SC eval: $out"
out=$("$spinsc" eval --model "$model" --sc-length 64 --limit 60 --sharing per-tap --json)
json "assert d['sharing'] == 'per-tap' and d['path'] == 'bit-level' and 0 <= d['accuracy_mean'] <= 1, d" <<<"$out" ||
  fail "conv per-tap eval: $out"
out=$("$spinsc" eval --model "$model" --sc-length 64 --limit 60 --sharing per-tap -q)
grep -q "per-tap weight streams, bit-level path" <<<"$out" || fail "per-tap text: $out"

# Every sharing with every multiply and accumulate runs, bit level and (where exact) shortcut.
for sh in independent per-tap per-level independent-all; do
  for opts in "" "--multiply bipolar" "--accumulate mux" "--exact-bits"; do
    # shellcheck disable=SC2086
    out=$("$spinsc" eval --model "$model" --sc-length 32 --limit 20 --sharing "$sh" $opts --json) ||
      fail "conv eval --sharing $sh $opts failed"
    json "assert 0 <= d['accuracy_mean'] <= 1 and d['images'] == 20, d" <<<"$out" || fail "--sharing $sh $opts: $out"
  done
done

# Same seed, same result on 1 and 2 threads (bit level per-tap, and the shortcut).
for opts in "--sharing per-tap" ""; do
  # shellcheck disable=SC2086
  a=$("$spinsc" eval --model "$model" --sc-length 40 --limit 100 --repeats 2 --threads 1 $opts --json | json "print(d['accuracy_per_repeat'])")
  # shellcheck disable=SC2086
  b=$("$spinsc" eval --model "$model" --sc-length 40 --limit 100 --repeats 2 --threads 2 $opts --json | json "print(d['accuracy_per_repeat'])")
  [[ $a == "$b" ]] || fail "conv $opts: 1 vs 2 threads differ: $a / $b"
done

err=$(expect_status 2 "$spinsc" eval --model "$model" --sc-length 10 --sharing per-row)
grep -q "per-row" <<<"$err" || fail "bad sharing not named: $err"
echo "eval_sc_conv: ok"
