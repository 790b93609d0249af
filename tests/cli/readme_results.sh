#!/usr/bin/env bash
# scripts/readme_results.py, which writes the README's measured-results block from a reproduce
# run's files: the block it writes from a small committed run (tests/data/readme-results: a
# 784-16-10 grid, K 5 and 11, L 4..16, 3 repeats), its bold rule (with SC above without SC by
# more than two standard errors), --check, and clear errors for missing or damaged inputs.
spinsc=${1:?usage: readme_results.sh /path/to/spinsc}  # unused: the script reads files only
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
script=$src/scripts/readme_results.py
fixture=$src/tests/data/readme-results
cd "$tmp"
printf 'head\n<!-- results:begin -->\nstale\n<!-- results:end -->\ntail\n' >R.md
/usr/bin/python3 "$script" "$fixture" --time "$fixture/time.txt" --readme R.md
[[ $(head -2 R.md | tail -1) == "<!-- results:begin -->" && $(tail -1 R.md) == tail ]] || fail "text outside the block changed"
grep -q stale R.md && fail "the old block is still there"
grep -q "Measured default run: 19 s (0.3 min) wall on .*, [0-9]* s of CPU time, peak memory 60 MiB" R.md || fail "wall time or memory: $(cat R.md)"
# K = 11, L = 4: 84.00 / 86.56 over 3 repeats is significant; K = 5, L = 8 (89.33 / 88.44) is a loss.
grep -q "| 784-16-10 | 11 | 84.00 / \*\*86.56\*\* |" R.md || fail "K = 11 row: $(grep '| 11 |' R.md)"
grep -q "89.33 / 88.44 |" R.md || fail "K = 5, L = 8 must not be bold: $(grep '| 5 |' R.md)"
grep -q "largest gain is +2.56 points (1 hidden, K = 11, L = 4" R.md || fail "summary: $(tail -3 R.md)"
/usr/bin/python3 "$script" "$fixture" --time "$fixture/time.txt" --readme R.md --check || fail "--check after writing"
sed -i 's/86.56/86.57/' R.md
rc=0; /usr/bin/python3 "$script" "$fixture" --time "$fixture/time.txt" --readme R.md --check || rc=$?
[[ $rc == 1 ]] || fail "--check on an edited block exited $rc, expected 1"

# Bad input: clear errors, exit 2, README untouched.
cp R.md before.md
err=$(expect_status 2 /usr/bin/python3 "$script" "$fixture" --time missing.txt --readme R.md)
grep -q "missing.txt" <<<"$err" || fail "missing time file: $err"
echo 'nothing useful' >bad-time.txt
err=$(expect_status 2 /usr/bin/python3 "$script" "$fixture" --time bad-time.txt --readme R.md)
grep -q "bad-time.txt.*Elapsed" <<<"$err" || fail "time file without wall time: $err"
mkdir broken && cp "$fixture/table.md" broken/ && echo '[{"kind"' >broken/results.json
err=$(expect_status 2 /usr/bin/python3 "$script" broken --time "$fixture/time.txt" --readme R.md)
grep -q "broken/results.json" <<<"$err" || fail "damaged results.json: $err"
printf 'no markers\n' >plain.md
err=$(expect_status 2 /usr/bin/python3 "$script" "$fixture" --time "$fixture/time.txt" --readme plain.md)
grep -q "plain.md.*results:begin" <<<"$err" || fail "README without markers: $err"
cmp -s R.md before.md || fail "a failed run changed the README"
echo "readme_results.py: block written, bold rule, --check, errors"
