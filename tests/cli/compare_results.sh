#!/usr/bin/env bash
# scripts/compare_results.py, the cell-by-cell comparison of two reproduce runs' results.json
# (the check of docs/reliability.md that two machines give the same results): identical files
# but for wall-clock times pass, any other difference is named and fails, bad input is exit 2.
spinsc=${1:?usage: compare_results.sh /path/to/spinsc}  # unused: the script reads files only
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
script=$src/scripts/compare_results.py
fixture=$src/tests/data/readme-results/results.json
cd "$tmp"
# Other wall-clock times only: identical.
/usr/bin/python3 -c "
import json, sys
c = json.load(open(sys.argv[1]))
for x in c: x['seconds'] = 1.0
json.dump(c, open('clock.json', 'w'))
c[3]['accuracy_mean'] += 1e-12
json.dump(c, open('changed.json', 'w'))
json.dump(c[:-1], open('fewer.json', 'w'))
" "$fixture"
out=$(expect_status 0 /usr/bin/python3 "$script" "$fixture" clock.json)
grep -q "0 differences (identical but for wall-clock times)" <<<"$out" || fail "identical runs: $out"
out=$(expect_status 1 /usr/bin/python3 "$script" "$fixture" changed.json)
grep -q "accuracy_mean" <<<"$out" && grep -q "1 differences" <<<"$out" || fail "a last-bit change must be named: $out"
out=$(expect_status 1 /usr/bin/python3 "$script" "$fixture" fewer.json)
grep -q "only in A" <<<"$out" || fail "a missing cell must be named: $out"
echo '{"not": "a list"}' >bad.json
out=$(expect_status 2 /usr/bin/python3 "$script" "$fixture" bad.json)
grep -q "bad.json" <<<"$out" || fail "bad input must name the file: $out"
out=$(expect_status 2 /usr/bin/python3 "$script" "$fixture" missing.json)
grep -q "missing.json" <<<"$out" || fail "a missing file must be named: $out"
echo "compare_results: identical, changed, missing cells and bad input as documented"
