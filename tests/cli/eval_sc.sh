#!/usr/bin/env bash
# `spinsc eval`: digital and SC accuracy, JSON keys, --limit wording, several lengths, every
# source and option, determinism across thread counts, and bad input (exit 2, named value).
spinsc=${1:?usage: eval_sc.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
: "${SPINSC_DATA:?SPINSC_DATA must name the MNIST folder}"
json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

model="$tmp/m.safetensors"
"$spinsc" train --arch 784,24,10 -K 5 --epochs 1 --train-limit 3000 --seed 3 -o "$model" -q >/dev/null
float="$tmp/f.safetensors"
"$spinsc" train --arch 784,24,10 --mode float --epochs 1 --train-limit 3000 --seed 3 -o "$float" -q >/dev/null

# Digital inference: the keys issue 2 relies on, on the full test set.
out=$("$spinsc" eval --model "$model" --json)
json "assert d['images'] == 10000, d; assert 0.5 < d['digital_accuracy'] <= 1, d; assert d['seconds'] >= 0, d" <<<"$out" ||
  fail "digital eval JSON: $out"
digital=$(json "print(d['digital_accuracy'])" <<<"$out")

# SC inference, one length: the documented keys and values.
out=$("$spinsc" eval --model "$model" --sc-length 64 --limit 300 --repeats 2 --seed 5 --json)
json "
for k in ['schema_version','spinsc_version','accuracy_mean','accuracy_std','accuracy_ci95','accuracy_per_repeat','repeats','images','length','source','seconds','multiply','accumulate','sharing','digital_accuracy']:
    assert k in d, k
assert d['repeats'] == 2 and d['images'] == 300 and d['length'] == 64 and d['source'] == 'smtj', d  # the default source
assert d['multiply'] == 'signmag' and d['accumulate'] == 'apc' and d['sharing'] == 'independent', d
assert len(d['accuracy_per_repeat']) == 2 and abs(sum(d['accuracy_per_repeat']) / 2 - d['accuracy_mean']) < 1e-12, d
lo, hi = d['accuracy_ci95']; assert lo <= d['accuracy_mean'] <= hi, d
assert 0.3 < d['accuracy_mean'] <= 1, d" <<<"$out" || fail "SC eval JSON: $out"

# Text output says when only part of the test set was used.
out=$("$spinsc" eval --model "$model" --sc-length 32 --limit 200 -q)
grep -q "first 200 of 10000 test images" <<<"$out" || fail "--limit not stated: $out"
grep -q "accuracy" <<<"$out" || fail "no accuracy line: $out"

# Several lengths: a table, and a JSON list with one object per length.
out=$("$spinsc" eval --model "$model" --sc-length 16,48 --limit 100 -q)
grep -Eq "^ +16 " <<<"$out" && grep -Eq "^ +48 " <<<"$out" || fail "no row per length: $out"
out=$("$spinsc" eval --model "$model" --sc-length 16,48 --limit 100 --json)
json "assert [e['length'] for e in d] == [16, 48], d" <<<"$out" || fail "several lengths JSON: $out"

# Same seed, same result on 1 and 2 threads; another seed, another draw.
a=$("$spinsc" eval --model "$model" --sc-length 40 --limit 400 --repeats 3 --threads 1 --json | json "print(d['accuracy_per_repeat'])")
b=$("$spinsc" eval --model "$model" --sc-length 40 --limit 400 --repeats 3 --threads 2 --json | json "print(d['accuracy_per_repeat'])")
[[ $a == "$b" ]] || fail "1 vs 2 threads differ: $a / $b"

# Long streams converge to the digital accuracy (500 images: the SC-digital gap at L = 4096 is
# within a few images).
out=$("$spinsc" eval --model "$model" --sc-length 4096 --limit 500 --json)
json "assert abs(d['accuracy_mean'] - d['digital_accuracy']) <= 0.02, d" <<<"$out" || fail "L=4096 far from digital: $out"

# Every source and option combination runs.
for src in ideal lfsr lfsr:16 sobol; do
  for opts in "" "--multiply bipolar" "--accumulate mux" "--sharing per-level" "--sharing independent-all" "--exact-bits"; do
    # shellcheck disable=SC2086
    out=$("$spinsc" eval --model "$model" --sc-length 100 --limit 50 --source "$src" $opts --json) ||
      fail "eval --source $src $opts failed"
    json "assert 0 <= d['accuracy_mean'] <= 1 and d['images'] == 50, d" <<<"$out" || fail "--source $src $opts: $out"
  done
done

# The analog baseline: automatic for a float model, selectable for a quantized one.
out=$("$spinsc" eval --model "$float" --sc-length 200 --limit 200 --json)
json "assert d['analog'] is True, d" <<<"$out" || fail "float model not run as analog: $out"
out=$("$spinsc" eval --model "$model" --sc-length 200 --limit 200 --analog --json)
json "assert d['analog'] is True, d" <<<"$out" || fail "--analog ignored: $out"

# Bad input: exit status 2 and a message naming the value.
expect_error() {  # expect_error PATTERN spinsc-arguments...
  local pattern=$1 err
  shift
  err=$(expect_status 2 "$spinsc" "$@")
  grep -q -- "$pattern" <<<"$err" || fail "'$*' error does not mention '$pattern': $err"
}
expect_error "sc-length" eval --model "$model" --sc-length 0
expect_error "abc" eval --model "$model" --sc-length 100,abc
expect_error "nosuch" eval --model "$model" --sc-length 10 --source nosuch
expect_error "lfsr:99" eval --model "$model" --sc-length 10 --source lfsr:99
expect_error "per-level" eval --model "$model" --sc-length 10 --analog --sharing per-level
expect_error "absent.safetensors" eval --model "$tmp/absent.safetensors"
expect_error "repeats" eval --model "$model" --sc-length 10 --repeats 0
expect_error "bogus" eval --model "$model" --sc-length 10 --sharing bogus  # refused by the option parser
echo "eval_sc: ok"
