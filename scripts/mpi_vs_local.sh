#!/usr/bin/env bash
# The executors timed against each other (docs/sweeps.md, "Local and MPI executors, measured"):
# the evaluation-heavy plan configs/plans/mpi-timing.json run by the local executor and by
# `mpirun -np 2 --bind-to none` (rank 0 hands out jobs, one worker computes), both with 2
# threads per job, from empty output folders; then the two results.json must be identical.
#
#   scripts/mpi_vs_local.sh OUT        # about 2 min on 2 cores
#   /usr/bin/python3 scripts/mpi_table.py OUT --write docs/sweeps.md
#
# Writes OUT/local/ and OUT/mpi/ (the sweeps), OUT/timing.json (wall times, identity, per-job
# seconds by kind from the local run's job records, CPU, load). Needs the release build with MPI
# (libopenmpi-dev, openmpi-bin) and the data (scripts/setup.sh).
set -euo pipefail
out=${1:?usage: scripts/mpi_vs_local.sh OUT}
root=$(cd "$(dirname "$0")/.." && pwd)
spinsc=$root/build/release/spinsc
plan=$root/configs/plans/mpi-timing.json
mkdir -p "$out"
rm -rf "$out/local" "$out/mpi"
mpi=(mpirun --oversubscribe --bind-to none -np 2)
[[ $(id -u) == 0 ]] && mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2)
/usr/bin/time -f "%e" -o "$out/local.time" "$spinsc" sweep "$plan" --out "$out/local" --threads 2 --quiet
/usr/bin/time -f "%e" -o "$out/mpi.time" "${mpi[@]}" "$spinsc" sweep "$plan" --out "$out/mpi" --threads 2 --quiet
/usr/bin/python3 - "$out" "$root" <<'PY'
import glob, json, os, pathlib, sys
out, root = pathlib.Path(sys.argv[1]), sys.argv[2]
sys.path.insert(0, os.path.join(root, "scripts"))
import readme_results
local = json.loads((out / "local" / "results.json").read_text())
mpi = json.loads((out / "mpi" / "results.json").read_text())
jobs = {}
for f in glob.glob(str(out / "local" / "jobs" / "*.json")):
    j = json.loads(pathlib.Path(f).read_text())
    jobs.setdefault(j["kind"], []).append(j["timing"]["seconds"])
timing = {
    "plan": "configs/plans/mpi-timing.json",
    "cells": len(local),
    "local_s": float((out / "local.time").read_text()),
    "mpi_s": float((out / "mpi.time").read_text()),
    "mpi_ranks": 2,
    "threads_per_job": 2,
    "identical": local == mpi,
    "jobs": {k: {"count": len(v), "mean_s": sum(v) / len(v), "total_s": sum(v)} for k, v in sorted(jobs.items())},
    "cpu": readme_results.cpu_name(),
    "cores": os.cpu_count(),
    "load": " ".join(open("/proc/loadavg").read().split()[:3]),
}
tmp = out / "timing.json.tmp"
tmp.write_text(json.dumps(timing, indent=1) + "\n")
tmp.replace(out / "timing.json")
print(json.dumps(timing, indent=1))
if not timing["identical"]:
    sys.exit("mpi_vs_local.sh: the MPI run's results.json differs from the local run's")
PY
