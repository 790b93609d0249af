#!/usr/bin/env bash
# `spinsc reproduce` is a built-in plan run by the sweep executors: the plan it writes
# (DIR/plan.json) run by `spinsc sweep` on a copy of its store finds every job finished; under
# mpirun the MPI executor runs the same jobs into the same report; `spinsc sweep reproduce` is
# the default grid (100 cells, 50 trainings) and exports as an editable plan file.
spinsc=${1:?usage: reproduce_plan.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
: "${SPINSC_DATA:?SPINSC_DATA must name the MNIST folder}"
cd "$tmp"

grid=(--depths 1 --arch1 784,16,10 -K 5 -L 8,32 --epochs 1 --sc-epochs 1 --limit 300 --train-limit 2000 -r 2 --source ideal)
results() {  # results.json without the wall-clock fields
  json_get "$1/results.json" "json.dumps([{k: v for k, v in c.items() if k != 'seconds'} for c in j], sort_keys=True)"
}
expect_status 0 "$spinsc" reproduce --out local "${grid[@]}" --threads 2 -q >/dev/null
[[ -s local/plan.json && -s local/models/d1-k5-with_sc-L32.safetensors ]] || fail "no plan.json or named models in local/"
# The sweep of that plan over a copy of the store (its own report would replace reproduce's).
mkdir swept && cp -a local/jobs local/models swept/
out=$(expect_status 0 "$spinsc" sweep local/plan.json --out swept)
grep -qF "0 jobs run now; 6 of 6 cells finished" <<<"$out" || fail "the sweep of reproduce's plan reran jobs: $out"

if command -v mpirun >/dev/null; then
  expect_status 0 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 3 \
    "$spinsc" reproduce --out mpi "${grid[@]}" --threads 1 -q >/dev/null
  [[ $(results mpi) == "$(results local)" ]] || fail "reproduce under mpirun differs from the local run"
  cmp local/table.md mpi/table.md || fail "table.md under mpirun differs"
else
  echo "note: mpirun not installed (apt-get install openmpi-bin libopenmpi-dev): MPI part skipped"
fi

out=$(expect_status 0 "$spinsc" sweep reproduce --dry-run)
grep -qF "plan 'reproduce': 100 cells, 190 jobs (50 train, 100 evaluate, 40 cost)" <<<"$out" || fail "built-in reproduce: $out"
expect_status 0 "$spinsc" sweep reproduce --export r.json -q >/dev/null
out=$(expect_status 0 "$spinsc" sweep r.json --dry-run)
grep -qF "100 cells, 190 jobs" <<<"$out" || fail "exported reproduce plan: $out"
echo "reproduce_plan: the plan's jobs, MPI equal to local, built-in plan"
