#!/usr/bin/env bash
# `spinsc data verify|info` and flag handling of `spinsc data`.
spinsc=${1:?usage: data_verify.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
data=${SPINSC_DATA:?SPINSC_DATA must name the MNIST folder}

out=$(expect_status 0 "$spinsc" data verify --data-dir "$data")
[[ $(grep -c '^ok ' <<<"$out") -eq 4 ]] || fail "verify of the real data: $out"

# A copy with one damaged byte and one missing file.
cp "$data"/*labels* "$tmp/"
ln -s "$data/t10k-images-idx3-ubyte" "$tmp/"
printf '\x09' | dd of="$tmp/t10k-labels-idx1-ubyte" bs=1 seek=5000 conv=notrunc status=none
out=$(expect_status 1 "$spinsc" data verify --data-dir "$tmp")
grep -q "^BAD *t10k-labels-idx1-ubyte" <<<"$out" || fail "damaged file not reported: $out"
grep -q "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2" <<<"$out" || fail "expected hash not shown: $out"
grep -q "^MISSING *train-images-idx3-ubyte" <<<"$out" || fail "missing file not reported: $out"
grep -q "spinsc data fetch" <<<"$out" || fail "no hint to fetch: $out"
SPINSC_DATA=$tmp expect_status 1 "$spinsc" data verify --quiet >/dev/null

# A truncated image file is reported by the IDX reader, naming the file and the fault.
rm "$tmp/t10k-images-idx3-ubyte"
head -c 5000 "$data/t10k-images-idx3-ubyte" > "$tmp/t10k-images-idx3-ubyte"
cp "$data/t10k-labels-idx1-ubyte" "$tmp/"
cp "$data/train-images-idx3-ubyte" "$tmp/" 2>/dev/null || ln -s "$data/train-images-idx3-ubyte" "$tmp/"
out=$(expect_status 2 "$spinsc" data info --data-dir "$tmp")
grep -q "t10k-images-idx3-ubyte': truncated: header says 10000 images of 28x28 = 7840016 bytes, file has 5000 bytes" <<<"$out" \
  || fail "truncated file: $out"

out=$(expect_status 0 "$spinsc" data info --data-dir "$data")
grep -Eq "^test +10000 +28x28 +980 +1135 +1032" <<<"$out" || fail "info: $out"
grep -Eq "^train +60000 +28x28 +5923" <<<"$out" || fail "info: $out"
if [[ -e /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]]; then
  out=$(expect_status 0 "$spinsc" data info --dataset fashion-mnist --data-dir "$tmp/none")
  grep -Eq "^test +10000 +28x28( +1000){10}" <<<"$out" || fail "fashion info: $out"
  expect_status 0 "$spinsc" data verify --dataset fashion-mnist >/dev/null
fi

# Flags: help everywhere, unknown flags and values rejected.
for sub in "" fetch verify info; do
  out=$(expect_status 0 "$spinsc" data $sub --help)
  grep -q "Usage" <<<"$out" || fail "no help for 'data $sub'"
done
out=$(expect_status 0 "$spinsc" data verify --help)
grep -q -- "--data-dir" <<<"$out" || fail "verify --help lacks --data-dir"
for bad in "" "fetch --bogus" "verify --dataset cifar" "info --data-dir" "frobnicate"; do
  rc=0
  "$spinsc" data $bad >/dev/null 2>&1 || rc=$?
  [[ $rc -ne 0 ]] || fail "'data $bad' was accepted"
done
echo "data_verify: ok"
