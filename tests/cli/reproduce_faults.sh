#!/usr/bin/env bash
# `spinsc reproduce` under faults: kill -9 at random moments, damaged or edited cell and model
# files, a full disk, a read-only output folder. Each ends in a clear error (exit 2, naming the
# path) or in a resume whose results equal an uninterrupted run's; never a silently wrong report
# or a half-written file. The disk faults need root and tmpfs mounts; without them that part is
# skipped with the reason printed.
spinsc=${1:?usage: reproduce_faults.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
: "${SPINSC_DATA:?SPINSC_DATA must name the MNIST folder}"
mounts=()
cleanup() {
  local m
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

# A small grid: 4 trained models (~50 kB each) and 5 cells, a few seconds per run.
grid=(--depths 1 --arch1 784,16,10 -K 5 -L 8 --epochs 1 --sc-epochs 1 --limit 300 -r 2 --source ideal --threads 1 -q)
run() { "$spinsc" reproduce --out "$1" "${grid[@]}"; }
results() {  # results.json without the wall-clock fields
  /usr/bin/python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
for c in r: c.pop('seconds')
print(json.dumps(r, sort_keys=True))" "$1/results.json"
}
no_partial_files() {  # no temporary file left; every job record is whole JSON
  local dir=$1 left
  left=$(find "$dir" -name '.*tmp*' 2>/dev/null || true)
  [[ -z $left ]] || fail "temporary files left in $dir: $left"
  for f in "$dir"/jobs/*.json; do
    [[ -e $f ]] || continue
    /usr/bin/python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$f" || fail "half-written record $f"
  done
}

run ref >/dev/null
want=$(results ref)
files_in() { { find "$1" \( -name '*.safetensors' -o -name '*.json' \) -path "$1/*/*" 2>/dev/null || true; } | wc -l; }
total=$(files_in ref)  # models and job records of a whole run

# kill -9 at moments chosen by progress, not by time (the test must not depend on how fast or
# loaded the machine is): run after run into the same folder, each killed once the folder holds
# one or two more model and job files than when it started (never the whole run's count), plus
# 0-49 ms (a fixed random sequence), so that kills land inside jobs, during writes and in
# resumes of killed runs; then one resume to the end.
RANDOM=20261129
kills=0
for i in $(seq 1 6); do
  have=$(files_in killed)
  target=$((have + 1 + RANDOM % 2))
  (( target < total )) || target=$((total - 1))
  "$spinsc" reproduce --out killed "${grid[@]}" >/dev/null 2>&1 &  # the program itself, not a subshell
  pid=$!
  while kill -0 "$pid" 2>/dev/null && (( $(files_in killed) < target )); do sleep 0.01; done
  sleep "0.$(printf %03d $((RANDOM % 50)))"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
  for f in killed/jobs/*.json; do
    [[ -e $f ]] || continue
    /usr/bin/python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$f" || fail "half-written record $f after kill $i"
  done
done
(( kills >= 3 )) || fail "only $kills of 6 runs were killed before they finished"
run killed >/dev/null
[[ $(results killed) == "$want" ]] || fail "results after $kills kills differ from the uninterrupted run"
no_partial_files killed

# Damaged, truncated and edited files are recomputed, never trusted. A cell's evaluation record
# is the one whose model is the job behind that named model and whose length is the cell's.
record_of() {  # DIR MODEL_NAME LENGTH: the evaluation record of that model at that length
  /usr/bin/python3 - "$@" <<'PY'
import json, os, struct, sys
run, name, length = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(os.path.join(run, "models", name + ".safetensors"), "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    job = json.loads(json.loads(f.read(n))["__metadata__"]["training"])["job"]
for r in sorted(os.listdir(os.path.join(run, "jobs"))):
    j = json.load(open(os.path.join(run, "jobs", r)))
    if j["kind"] == "evaluate" and j["config"]["model"] == job and j["config"]["length"] == length:
        print(os.path.join(run, "jobs", r))
PY
}
job_model() {  # DIR MODEL_NAME: the job's own model file behind the report's name
  local ino
  ino=$(stat -c %i "$1/models/$2.safetensors")
  find "$1/models" -inum "$ino" ! -name "$2.safetensors" | head -1
}
base=$(basename "$(job_model ref d1-k5-base)")
sc=$(basename "$(job_model ref d1-k5-with_sc-L8)")
[[ -n $base && -n $sc ]] || fail "the named models are not the jobs' model files"
cp -r ref damaged
with_sc=$(record_of damaged d1-k5-with_sc-L8 8)
without_sc=$(record_of damaged d1-k5-without_sc 8)
float=$(record_of damaged d1-float 8)
[[ -n $with_sc && -n $without_sc && -n $float ]] || fail "no evaluation records found in damaged/jobs"
head -c 100 "$with_sc" >"$with_sc.cut" && mv "$with_sc.cut" "$with_sc"
printf 'garbage' >"$without_sc"
/usr/bin/python3 - "$float" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["result"]["digital_accuracy"] = 0.999  # configuration intact, result edited
json.dump(j, open(sys.argv[1], "w"), indent=1)
PY
head -c 3000 ref/models/d1-k5-base.safetensors >"damaged/models/$base"
dd if=/dev/urandom of="damaged/models/$sc" bs=1k count=8 status=none
rm damaged/results.json
run damaged >/dev/null
[[ $(results damaged) == "$want" ]] || fail "results after damaged files differ from the uninterrupted run"
no_partial_files damaged
cmp -s "damaged/models/$base" ref/models/d1-k5-base.safetensors || fail "the truncated model was not retrained"
cmp -s "damaged/models/$sc" ref/models/d1-k5-with_sc-L8.safetensors || fail "the overwritten model was not retrained"

# A job record replaced by a folder, the jobs folder replaced by a file: clear errors.
cp -r ref blocked
rec=$(record_of blocked d1-k5-with_sc-L8 8)
rm "$rec" && mkdir "$rec"
err=$(expect_status 2 run blocked)
grep -q "$(basename "$rec")" <<<"$err" || fail "a folder in a record's place: $err"
rm -rf blocked/jobs && touch blocked/jobs
err=$(expect_status 2 run blocked)
grep -q "blocked/jobs" <<<"$err" || fail "a file in the jobs folder's place: $err"

# Full disk and read-only folder: tmpfs mounts (root only).
mkdir probe
if ! mount -t tmpfs -o size=64k tmpfs probe 2>/dev/null; then
  echo "SKIP: full-disk and read-only cases need root and tmpfs mounts (mount -t tmpfs failed)"
  echo "reproduce faults: $kills kills, damaged files: resumes identical"
  exit 0
fi
mounts+=("$tmp/probe")
umount probe && mounts=()

for size in 64k 160k; do
  mkdir "full-$size"
  mount -t tmpfs -o "size=$size" tmpfs "full-$size"
  mounts+=("$tmp/full-$size")
  err=$(expect_status 2 run "full-$size")
  grep -q "No space left on device" <<<"$err" || fail "full disk ($size): $err"
  grep -q "full-$size" <<<"$err" || fail "full disk ($size): the error does not name the path: $err"
  no_partial_files "full-$size"
  [[ ! -e "full-$size/results.json" ]] || fail "full disk ($size): a report was written"
  # The space comes back (the files move to a larger disk): the resume equals the whole run.
  cp -r "full-$size" "resumed-$size"
  run "resumed-$size" >/dev/null
  [[ $(results "resumed-$size") == "$want" ]] || fail "resume after a full disk ($size) differs from the uninterrupted run"
done

mkdir ro
mount -t tmpfs -o size=4m tmpfs ro
mounts+=("$tmp/ro")
cp -r ref/. ro/
rm "$(record_of ro d1-k5-with_sc-L8 8)"
mount -o remount,ro ro
err=$(expect_status 2 run ro)
grep -q "Read-only file system" <<<"$err" && grep -q "$tmp/ro\|ro/" <<<"$err" || fail "read-only folder: $err"
[[ $(results ro) == "$want" ]] || fail "the read-only folder's report changed"
echo "reproduce faults: $kills kills, damaged files, full disks, read-only folder: clear errors or identical resumes"
