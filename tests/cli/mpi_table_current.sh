#!/usr/bin/env bash
# docs/sweeps.md's timing of the local and MPI executors is what scripts/mpi_table.py writes from
# the committed run (docs/results/mpi-timing/timing.json): no figure of it is typed.
spinsc=${1:?usage: mpi_table_current.sh /path/to/spinsc}  # unused: the script reads files only
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
/usr/bin/python3 "$src/scripts/mpi_table.py" "$src/docs/results/mpi-timing" --check "$src/docs/sweeps.md" ||
  fail "docs/sweeps.md's MPI timing is not what docs/results/mpi-timing gives (regenerate: scripts/mpi_table.py)"
echo "docs/sweeps.md MPI timing: generated from docs/results/mpi-timing"
