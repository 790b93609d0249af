#!/usr/bin/env python3
"""Markdown tables of a sweep's Pareto fronts (docs/sweeps.md): the cells that no other cell beats
on both accuracy and energy per inference (and on accuracy and latency), from the sweep's
pareto.csv, each with its 95% interval from results.csv and the device, clock, K, L and training
that make it.

usage: pareto_table.py DIR                   DIR: a sweep's output folder (pareto.csv, results.csv)
       [--cpu FILE --time FILE --command C]  a first line naming the CPU (FILE: one line), the run's
                                             wall and CPU time (FILE: what `/usr/bin/time -f "%e %U %S"`
                                             wrote) and the command that ran it
       [--write DOC | --check DOC] --marker NAME
                                             replace (or check) the block between <!-- NAME:begin -->
                                             and <!-- NAME:end --> of DOC
"""
import argparse
import csv
import pathlib
import sys

import doc_block
from sweep_table import measured_line, si


def rows_of(path):
    try:
        return list(csv.DictReader(open(path, newline="")))
    except OSError as e:
        sys.exit(f"pareto_table.py: cannot read '{path}': {e}")


def front_table(front, cells):
    out = ["| accuracy (%) | energy / inference | latency / inference | device | clock | K | L | training |",
           "|---:|---:|---:|---|---:|---:|---:|---|"]
    for p in front:
        c = cells.get(p["cell"])
        if c is None:
            sys.exit(f"pareto_table.py: front cell {p['cell']} is not in results.csv")
        m = 100 * float(c["accuracy_mean"])
        half = 100 * (float(c["accuracy_ci95_high"]) - float(c["accuracy_ci95_low"])) / 2 if c["accuracy_ci95_high"] else 0.0
        device = c.get("device/name") or c["source"]
        clock = si(float(c["device/sample_period_s"]), "s") if c.get("device/sample_period_s") else ""
        training = c["training"].replace("_sc", " SC").replace("_", " ")
        out.append(f"| {m:.2f} ± {half:.2f} | {si(float(p['energy_j']), 'J')} | {si(float(p['latency_s']), 's')} | {device} | "
                   f"{clock} | {c['states']} | {c['length']} | {training} |")
    return out


def body(folder):
    folder = pathlib.Path(folder)
    cells = {r["cell"]: r for r in rows_of(folder / "results.csv")}
    pareto = rows_of(folder / "pareto.csv")
    out = []
    for name, what in (("energy", "energy per inference"), ("latency", "latency per inference")):
        front = sorted((p for p in pareto if p["front"] == name), key=lambda p: float(p["accuracy_mean"]))
        if not front:
            sys.exit(f"pareto_table.py: {folder / 'pareto.csv'} has no '{name}' front")
        out += [f"Accuracy against {what}: the {len(front)} cells of the front (no other cell is both more accurate "
                f"and cheaper), least accurate first.", ""]
        out += front_table(front, cells) + [""]
    return out, len(cells)


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("dir")
    ap.add_argument("--cpu")
    ap.add_argument("--time")
    ap.add_argument("--command")
    ap.add_argument("--write")
    ap.add_argument("--check")
    ap.add_argument("--marker")
    a = ap.parse_args()
    out, n = body(a.dir)
    if a.cpu and a.time:
        out = [measured_line(a.cpu, a.time, n, "`scripts/pareto_table.py` wrote this block from the run's pareto.csv and "
                             "results.csv", a.command), ""] + out
    text = "\n".join(out).rstrip("\n")
    if not (a.write or a.check):
        print(text)
        return
    if not a.marker:
        sys.exit("pareto_table.py: --write and --check need --marker NAME")
    doc_block.update(a.write or a.check, a.marker, text, check=bool(a.check), source=str(pathlib.Path(a.dir) / "pareto.csv"))


if __name__ == "__main__":
    main()
