#!/usr/bin/env bash
# `spinsc reproduce --suite cnn`: the paper's grid on a conv network (here a tiny one, one epoch
# on a few thousand images) writes the usual report with conv cells and the conv design's cost,
# resumes without recomputing, and a bad --suite or --cnn-arch is refused by name, exit 2, before
# any training.
spinsc=${1:?usage: reproduce_cnn.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
: "${SPINSC_DATA:?SPINSC_DATA must name the MNIST folder}"

grid=(--suite cnn --cnn-arch conv:3x5x5:s2,maxpool:2,dense:10 -K 5 -L 8,32 --repeats 2 --source ideal
      --epochs 1 --sc-epochs 1 --limit 200 --train-limit 3000 --threads 2 --data-dir "$SPINSC_DATA" -q)
expect_status 0 "$spinsc" reproduce --out "$tmp/cnn" "${grid[@]}" >/dev/null
for f in table.md results.json results.csv cost.md config.json accuracy_vs_length_cnn.csv \
         plan.json models/cnn-k5-base.safetensors models/cnn-k5-with_sc-L32.safetensors; do
  [[ -s $tmp/cnn/$f ]] || fail "missing $f"
done
grep -q "conv:3x5x5:s2" "$tmp/cnn/table.md" || fail "table.md does not name the network"
grep -q "| per-tap |" "$tmp/cnn/cost.md" || fail "cost.md has no per-tap conv design"
/usr/bin/python3 - "$tmp/cnn/results.json" <<'PY' || fail "results.json: $(cat "$tmp/cnn/results.json")"
import json, sys
cells = json.load(open(sys.argv[1]))
grid = [c for c in cells if c["kind"] == "grid"]
assert len(grid) == 4, len(grid)  # K x L x training
assert {c["training"] for c in grid} == {"without_sc", "with_sc"}
assert all(c["depth"] == 1 and c["images"] == 200 and c["repeats"] == 2 for c in grid)
assert all(0.3 < c["accuracy_mean"] <= 1 for c in grid), grid  # chance is 0.1
assert {c["kind"] for c in cells} == {"grid", "digital", "float", "analog"}
PY
# A second run reuses every job: same results, no job record rewritten.
stamp=$(stat -c '%y %n' "$tmp"/cnn/jobs/*.json | md5sum)
cp "$tmp/cnn/results.json" "$tmp/first.json"
expect_status 0 "$spinsc" reproduce --out "$tmp/cnn" "${grid[@]}" >/dev/null
[[ $(stat -c '%y %n' "$tmp"/cnn/jobs/*.json | md5sum) == "$stamp" ]] || fail "the resumed run rewrote job records"
/usr/bin/python3 - "$tmp/first.json" "$tmp/cnn/results.json" <<'PY' || fail "resumed results differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a == b
PY

# scripts/cnn_table.py writes the docs block from the folder and checks it.
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
printf 'before\n<!-- cnn_table: begin -->\nstale\n<!-- cnn_table: end -->\nafter\n' >"$tmp/doc.md"
/usr/bin/python3 "$src/scripts/cnn_table.py" "$tmp/cnn" --check "$tmp/doc.md" 2>/dev/null && fail "cnn_table --check passed a stale block"
/usr/bin/python3 "$src/scripts/cnn_table.py" "$tmp/cnn" --write "$tmp/doc.md" || fail "cnn_table --write failed"
/usr/bin/python3 "$src/scripts/cnn_table.py" "$tmp/cnn" --check "$tmp/doc.md" || fail "cnn_table --check failed after --write"
grep -q "^| 5 | with SC | .* ± .* | .* ± .* | per L: " "$tmp/doc.md" || fail "cnn_table: no with-SC row: $(cat "$tmp/doc.md")"
grep -q "^| 5 | gain of SC training | " "$tmp/doc.md" || fail "cnn_table: no gain row"
grep -q "^after$" "$tmp/doc.md" || fail "cnn_table --write lost the text after the block"
# A run under way (no results.json yet) is read from its finished jobs: the same block.
mkdir "$tmp/partial" && cp -r "$tmp/cnn/." "$tmp/partial/" && rm "$tmp/partial/results.json"
/usr/bin/python3 "$src/scripts/cnn_table.py" "$tmp/cnn" | sed 's/--out [^`]*`/--out X`/' >"$tmp/whole.txt"
/usr/bin/python3 "$src/scripts/cnn_table.py" "$tmp/partial" | sed 's/--out [^`]*`/--out X`/' >"$tmp/partial.txt"
diff "$tmp/whole.txt" "$tmp/partial.txt" >&2 || fail "cnn_table: the finished jobs of a run give another block than its results.json"

# Bad input: named, exit 2, nothing trained.
out=$(expect_status 2 "$spinsc" reproduce --out "$tmp/bad" --suite resnet -q)
grep -q "'resnet'" <<<"$out" || fail "--suite resnet: $out"
out=$(expect_status 2 "$spinsc" reproduce --out "$tmp/bad" --suite cnn --cnn-arch conv:6x5x5,pool:2,dense:10 -q)
grep -q -- "--cnn-arch" <<<"$out" || fail "bad --cnn-arch: $out"
out=$(expect_status 2 "$spinsc" reproduce --out "$tmp/bad" --suite cnn --depths 1 -q)
grep -q -- "--depths does not apply to --suite cnn" <<<"$out" || fail "--suite cnn --depths: $out"
out=$(expect_status 2 "$spinsc" reproduce --out "$tmp/bad" --cnn-arch lenet5 -q)
grep -q -- "--cnn-arch does not apply to --suite mlp" <<<"$out" || fail "--cnn-arch without --suite cnn: $out"
[[ ! -e $tmp/bad/models ]] || fail "trained before refusing the input"
echo "reproduce --suite cnn: report, resume, docs table, bad suite and network refused"
