#!/usr/bin/env python3
"""The block of docs/sweeps.md "Local and MPI executors, measured", from OUT/timing.json of one
run of scripts/mpi_vs_local.sh:

    /usr/bin/python3 scripts/mpi_table.py OUT                        # print the block
    /usr/bin/python3 scripts/mpi_table.py OUT --write docs/sweeps.md  # replace it there
    /usr/bin/python3 scripts/mpi_table.py OUT --check docs/sweeps.md  # exit 1 if it differs

The block sits between <!-- mpi-timing:begin --> and <!-- mpi-timing:end -->.
"""
import argparse
import json
import pathlib
import sys

import doc_block

BLOCK = "mpi-timing"


def fail(msg):
    print(f"mpi_table.py: {msg}", file=sys.stderr)
    sys.exit(2)


def block(run):
    path = pathlib.Path(run) / "timing.json"
    try:
        t = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        fail(f"cannot read {path}: {e}")
    jobs = t["jobs"]
    ratio = t["mpi_s"] / t["local_s"]
    per = {k: v["mean_s"] for k, v in jobs.items()}
    out = [f"Measured with `scripts/mpi_vs_local.sh OUT` on {t['cpu']}, {t['cores']} cores (load average "
           f"{t['load']} at the end): `{t['plan']}` ({t['cells']} cells), {t['threads_per_job']} threads per job, "
           f"from empty output folders.",
           "",
           "| executor | wall time | results.json |",
           "|---|---|---|",
           f"| local (`spinsc sweep`) | {t['local_s']:.1f} s | |",
           f"| MPI (`mpirun -np {t['mpi_ranks']} --bind-to none`: one worker) | {t['mpi_s']:.1f} s "
           f"({100 * (ratio - 1):+.1f}%) | {'identical' if t['identical'] else 'DIFFERENT'} |",
           "",
           "Per job (the local run's job records, mean wall time): "
           + ", ".join(f"{k} {v['mean_s']:.3g} s ({v['count']} job{'s' if v['count'] != 1 else ''})" for k, v in jobs.items()) + "."]
    if "train" in per and "evaluate" in per:
        cell = per["train"] + per["evaluate"] + per.get("cost", 0.0)
        out += ["",
                f"A 1000-cell device sweep whose every cell trains its own model like this one and evaluates it "
                f"like these costs about 1000 x {cell:.3g} s = {1000 * cell / 3600:.1f} hours of one such worker "
                f"({t['threads_per_job']} threads); on N workers about {1000 * cell / 3600:.1f}/N hours, as long as "
                f"every worker has a job (the jobs of a cell run in order, different cells in parallel)."]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--write", help="replace the block in this file")
    ap.add_argument("--check", help="exit 1 unless this file holds the block as generated")
    a = ap.parse_args()
    text = block(a.run)
    if not a.write and not a.check:
        sys.stdout.write(doc_block.render(BLOCK, text))
        return
    doc_block.update(a.write or a.check, BLOCK, text, check=bool(a.check), source=a.run)


if __name__ == "__main__":
    main()
