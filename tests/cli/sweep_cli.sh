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

# The built-in device study: counted, exported as a plan file that gives the same jobs; an
# unknown plan name says which are built in.
out=$(expect_status 0 "$spinsc" sweep device-study --dry-run)
grep -qF "128 cells, 260 jobs (68 train, 128 evaluate, 64 cost)" <<<"$out" || fail "device-study dry run: $out"
expect_status 0 "$spinsc" sweep device-study --export study.json -q >/dev/null
out=$(expect_status 0 "$spinsc" sweep study.json --dry-run)
grep -qF "128 cells, 260 jobs" <<<"$out" || fail "exported device-study: $out"
out=$(expect_status 2 "$spinsc" sweep device_study --dry-run)
grep -qF "no built-in plan 'device_study' (built in: device-study, reproduce)" <<<"$out" || fail "unknown plan name: $out"

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
[[ $(wc -l < o/results.csv) == 5 ]] || fail "results.csv: $(cat o/results.csv)"
head -1 o/results.csv | grep -qF "accuracy_ci95_low,accuracy_ci95_high" || fail "results.csv header"
grep -q "^energy," o/pareto.csv && grep -q "^latency," o/pareto.csv || fail "pareto.csv: $(cat o/pareto.csv)"
for f in accuracy_vs_energy accuracy_vs_latency; do
  head -c 8 o/$f.png | grep -q PNG || fail "$f.png"
  grep -q "</svg>" o/$f.svg || fail "$f.svg"
  head -c 5 o/$f.pdf | grep -q "%PDF" || fail "$f.pdf"
  [[ -s o/$f.csv && -s o/${f}_front.csv && -s o/$f.png.gp ]] || fail "$f data and script"
done

# kill -9 in the middle of a run, then resume: the results are those of the uninterrupted run.
printf '{"base": {"arch": "784,8,10", "epochs": 1, "sc_epochs": 1, "repeats": 2, "limit": 100, "source": "ideal"},
 "axes": {"length": [8, 16, 32], "training": ["without_sc", "with_sc"]}}' > long.json
expect_status 0 "$spinsc" sweep long.json --out whole -q >/dev/null
"$spinsc" sweep long.json --out killed -q >/dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do
  (( $(ls killed/jobs 2>/dev/null | wc -l) >= 3 )) && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
(( $(ls killed/jobs | wc -l) < $(ls whole/jobs | wc -l) )) || echo "note: the run finished before it was killed"
expect_status 0 "$spinsc" sweep long.json --out killed -q >/dev/null
cmp <(json_get whole/results.json "json.dumps(j, sort_keys=True)") <(json_get killed/results.json "json.dumps(j, sort_keys=True)") ||
  fail "a killed and resumed sweep differs from an uninterrupted one"

# MPI: rank 0 hands out the jobs, the others run them; the results equal the local run's.
if command -v mpirun >/dev/null; then
  mpi=(mpirun --allow-run-as-root --oversubscribe -np 3)
  expect_status 0 "${mpi[@]}" "$spinsc" sweep plan.json --out m --threads 1 -q >/dev/null
  cmp <(json_get o/results.json "json.dumps(j, sort_keys=True)") <(json_get m/results.json "json.dumps(j, sort_keys=True)") ||
    fail "MPI results differ from the local executor's"
  out=$(expect_status 0 "${mpi[@]}" "$spinsc" sweep plan.json --out m)
  grep -qF "0 jobs run now (MPI); 4 of 4 cells finished" <<<"$out" || fail "MPI resume: $out"
  out=$(expect_status 2 "${mpi[@]}" "$spinsc" sweep plan.json --out m --shard 0/2)
  grep -qF "do not mix" <<<"$out" || fail "MPI with --shard: $out"
  # Two ranks are bound to one core each by default: a worker that wants more threads says so,
  # and --bind-to none lets it use them.
  if (( $(nproc) >= 2 )); then
    out=$(mpirun --allow-run-as-root --oversubscribe -np 2 "$spinsc" sweep plan.json --out m2 --threads 2 -q 2>&1) ||
      fail "MPI run with 2 ranks: $out"
    grep -qF "give mpirun --bind-to none" <<<"$out" || fail "no note about the binding: $out"
    out=$(mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 "$spinsc" sweep plan.json --out m3 --threads 2 -q 2>&1) ||
      fail "MPI run with --bind-to none: $out"
    grep -qF "bind-to" <<<"$out" && fail "a note despite --bind-to none: $out"
  fi
else
  echo "note: mpirun not installed (apt-get install openmpi-bin libopenmpi-dev): MPI part skipped"
fi
echo "sweep_cli: ok"
