#!/usr/bin/env bash
# Bad input of every kind found by trying spinsc as a new user would: each ends in exit status 2
# and a message naming the file, field or value; never an abort (134), a hang, a half-written
# file or a silent success. Grouped by the kind of fault.
spinsc=${1:?usage: bad_input.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
: "${SPINSC_DATA:?SPINSC_DATA must name the MNIST folder}"
cd "$tmp"

expect_error() {  # expect_error PATTERN spinsc-arguments...: exit 2 and PATTERN in the message
  local pattern=$1 err
  shift
  err=$(expect_status 2 timeout 60 "$spinsc" "$@")
  grep -qF -- "$pattern" <<<"$err" || fail "'$*' error does not mention '$pattern': $err"
}
tiny=(--depths 1 --arch1 784,8,10 -K 5 -L 8 --epochs 1 --sc-epochs 0 --limit 20 --no-baselines -q)

"$spinsc" train --arch 784,16,10 -K 5 --epochs 1 --train-limit 1000 -o m.safetensors -q >/dev/null
"$spinsc" device simulate --samples 50 --out short >/dev/null  # traces of 50 samples

# Errors raised inside parallel regions (worker threads) reach the command line.
expect_error "has 50 samples, fewer than the stream length 100" eval --model m.safetensors --sc-length 100 --source trace:short --limit 20
for bits in "" --exact-bits; do
  # shellcheck disable=SC2086
  expect_error "fewer than the stream length 100" train --arch 784,16,10 --epochs 1 --train-limit 300 --mode sc --sc-length 100 $bits \
    --source trace:short -o s.safetensors -q
done
[[ ! -e s.safetensors ]] || fail "a failed training wrote a model"
# One meaning per flag: --limit counts test images (eval, reproduce); train says where its count is.
expect_error "--train-limit N" train --arch 784,16,10 --epochs 1 --limit 300 -o s.safetensors -q
# SC noise the moment-matched model does not have: refused, with the way out.
expect_error "not signmag with mux" train --arch 784,16,10 --epochs 1 --train-limit 300 --mode sc --sc-length 16 \
  --accumulate mux -o s.safetensors -q
echo '{"variation": {"delta": {"sigma": 1000, "distribution": "lognormal"}}}' >wide.json
expect_error "smtj:wide.json" eval --model m.safetensors --sc-length 10 --source smtj:wide.json --limit 50
expect_error "repeats must be in [1, 1000000]" eval --model m.safetensors --sc-length 10 --repeats 2000000000 --limit 20

# Path problems: spinsc::Error naming the path, not an uncaught filesystem_error.
ln -s loop loop
mkdir -p jobs-file/out && touch jobs-file/out/jobs
long=$(printf 'a%.0s' $(seq 5000))
expect_error "/etc/passwd" reproduce --out /etc/passwd "${tiny[@]}"
expect_error "/dev/null" reproduce --out /dev/null "${tiny[@]}"
expect_error "loop" reproduce --out loop/out "${tiny[@]}"
expect_error "jobs-file/out/jobs" reproduce --out jobs-file/out "${tiny[@]}"
expect_error "$long" reproduce --out "$long" "${tiny[@]}"
expect_error "loop" eval --model m.safetensors --sc-length 10 --source trace:loop --limit 10
expect_error "/proc/1/fd" eval --model m.safetensors --sc-length 10 --source trace:/proc/1/fd --limit 10
expect_error "loop" device import --in loop --out imported
expect_error "$long" device import --in "$long" --out imported
expect_error "loop" device import --in short --out loop/x
expect_error "loop" device calibrate --traces loop
expect_error "$long" device calibrate --traces "$long"

# Numbers beyond double's range in JSON (json's out_of_range.406 used to abort).
echo 1e400 >big.json
expect_error "big.json: not valid JSON" cost --arch 784,16,10 --hw big.json
expect_error "big.json: not valid JSON" eval --model m.safetensors --sc-length 10 --source smtj:big.json --limit 10
echo '{"delta": 1e400}' >bigdelta.json
expect_error "bigdelta.json: not valid JSON" device stats --device bigdelta.json --out st

# Devices outside the physical ranges, or that never switch.
echo '{"sample_period_s": 1e-300}' >fast.json
expect_error "fast.json: field 'sample_period_s'" device stats --device fast.json --out st
echo '{"temperature_K": 1e-300}' >cold.json
expect_error "cold.json: field 'temperature_K'" device stats --device cold.json --out st
echo '{"delta": 200, "temperature_K": 1e-310}' >frozen.json
expect_error "frozen.json" device simulate --device frozen.json --out sim
echo '{"delta": 60}' >stuck.json
expect_error "never switches" device simulate --device stuck.json --out sim
expect_error "--temperature" device simulate --temperature 1e-310 --out sim
[[ ! -e st && ! -e sim ]] || fail "a refused device left output behind"
expect_error "--samples" device simulate --samples 17179869184 --out sim

# reproduce checks every input before the first job, not after the training.
start=$SECONDS
expect_error "big.json: not valid JSON" reproduce --out early --hw big.json --depths 1 --arch1 784,64,10 --epochs 20 -q
(( SECONDS - start < 30 )) || fail "reproduce --hw big.json failed only after $((SECONDS - start)) s"
[[ ! -e early/models ]] || fail "reproduce trained before checking --hw"
expect_error "--limit -5" reproduce --out neg --depths 1 --arch1 784,8,10 -K 5 -L 8 --epochs 1 --limit -5 -q

# calibrate --write-device writes only devices spinsc accepts.
"$spinsc" device simulate --period 2e-6 --out lib >/dev/null
expect_error "fitted barrier Delta" device calibrate --traces lib --tau0 1 --write-device neg-delta.json
mkdir flipped
for f in lib/*.trace; do sed 's/^# high_state: ap$/# high_state: p/' "$f" >"flipped/$(basename "$f")"; done
expect_error "critical current" device calibrate --traces flipped --write-device neg-ic.json
[[ ! -e neg-delta.json && ! -e neg-ic.json ]] || fail "calibrate wrote a device it rejects"
"$spinsc" device calibrate --traces lib --write-device good.json >/dev/null
"$spinsc" device stats --device good.json --out good-stats --samples 1000 >/dev/null || fail "the fitted device is not accepted"

# Special and huge files: refused before reading, never a hang on a FIFO.
mkfifo fifo
expect_error "/dev/zero' is not a regular file" eval --model /dev/zero
expect_error "fifo' is not a regular file" eval --model fifo
expect_error "/dev/zero' is not a regular file" cost --arch 784,16,10 --hw /dev/zero
expect_error "is a directory" cost --arch 784,16,10 --hw lib
expect_error "fifo' is not a regular file" device stats --device fifo --out st

# Smaller ones.
{ head -7 lib/T300_b00.trace | sed 's/^# samples: .*/# samples: 4.5/'; echo 0101; } >half.txt
expect_error "samples '4.5' is not a whole number" device import --in half.txt --out imported
echo '{"name": "child", "extends": "nope.json"}' >child.json
expect_error "child.json: 'extends'" cost --arch 784,16,10 --hw child.json
start=$SECONDS
out=$(timeout 60 "$spinsc" eval --model m.safetensors --sc-length 1048576 --limit 10 --threads 1 --json) || fail "eval at L = 2^20 failed"
(( SECONDS - start < 20 )) || fail "eval at L = 2^20 took $((SECONDS - start)) s"
echo "bad input: all refused with exit 2"
