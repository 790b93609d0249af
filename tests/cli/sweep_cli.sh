#!/usr/bin/env bash
# `spinsc sweep`: plan validation with clear errors, --dry-run counts, --shard syntax, and a tiny
# run whose resumption runs nothing again.
spinsc=${1:?usage: sweep_cli.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
cd "$tmp"

cat > plan.json <<'JSON'
{"name": "tiny", "base": {"arch": "784,8,10", "epochs": 1, "sc_epochs": 1, "repeats": 2, "limit": 100, "source": "ideal"},
 "axes": {"length": [8, 16], "training": ["without_sc", "with_sc"]}}
JSON
out=$(expect_status 0 "$spinsc" sweep plan.json --dry-run)
grep -qF "4 cells, 10 jobs (4 train, 4 evaluate, 2 cost)" <<<"$out" || fail "dry run: $out"

printf '{"axes": {"length": [8, 0]}}' > bad.json
out=$(expect_status 2 "$spinsc" sweep bad.json --dry-run)
grep -qF "bad.json" <<<"$out" && grep -qF "'length' = 0" <<<"$out" || fail "bad length: $out"
printf '{"axes": {"device.barrier": [5]}}' > bad2.json
out=$(expect_status 2 "$spinsc" sweep bad2.json --dry-run)
grep -qF "'device.barrier' is not a device parameter" <<<"$out" || fail "bad device parameter: $out"
printf '{"axes": ' > bad3.json
out=$(expect_status 2 "$spinsc" sweep bad3.json --dry-run)
grep -qF "not valid JSON" <<<"$out" || fail "bad JSON: $out"
out=$(expect_status 2 "$spinsc" sweep plan.json --out o --shard 2/2)
grep -qF "i/N" <<<"$out" || fail "bad shard: $out"
out=$(expect_status 2 "$spinsc" sweep plan.json)
grep -qF -- "--out" <<<"$out" || fail "missing --out: $out"

expect_status 0 "$spinsc" sweep plan.json --out o -q >/dev/null
[[ $(json_get o/results.json "len([r for r in j if r['evaluation'] and r['cost']])") == 4 ]] || fail "results.json lacks cells"
out=$(expect_status 0 "$spinsc" sweep plan.json --out o)
grep -qF "0 jobs run now; 4 of 4 cells finished" <<<"$out" || fail "resume ran jobs again: $out"
echo "sweep_cli: ok"
