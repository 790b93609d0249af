#!/usr/bin/env python3
"""A Markdown table from a sweep's results.csv (docs/sweeps.md): one row per value of ROW, one
column per value of COL, each cell 'accuracy ± half 95% interval' (percent); then the latency and
the energy per inference of each cell's design.

usage: sweep_table.py DIR/results.csv ROW COL     e.g. device/sample_period_s length
       [--cpu FILE --time FILE]    a first line naming the CPU (FILE: one line) and the run's
                                   wall time (FILE: what `/usr/bin/time -f "%e %U %S"` wrote)
       [--write DOC | --check DOC] --marker NAME
                                   replace (or check) the block between <!-- NAME:begin --> and
                                   <!-- NAME:end --> of DOC
"""
import argparse
import csv
import pathlib
import sys

import doc_block


def number(text):
    try:
        return float(text)
    except ValueError:
        return text


def si(v, unit):
    for f, p in ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1, "")):
        if abs(v) < f * 1000:
            return f"{v / f:.3g} {p}{unit}"
    return f"{v:.3g} {unit}"


def measured_line(cpu_file, time_file, cells, wrote, command=None):
    """The first line of a sweep's block: the CPU (cpu_file: one line), the command, the number of
    cells and the run's wall and CPU time (time_file: what `/usr/bin/time -f "%e %U %S"` wrote)."""
    wall, user, system = (float(v) for v in pathlib.Path(time_file).read_text().split())
    cpu = pathlib.Path(cpu_file).read_text().strip()
    ran = f" by `{command}`" if command else ""
    return (f"Measured on {cpu}{ran}: {cells} cells in {wall:.0f} s wall, {user + system:.0f} s of CPU "
            f"({wrote}).")


def table(path, row_key, col_key):
    rows = list(csv.DictReader(open(path, newline="")))
    if not rows or row_key not in rows[0] or col_key not in rows[0]:
        sys.exit(f"{path}: no column '{row_key}' or '{col_key}' (columns: {', '.join(rows[0]) if rows else 'none'})")
    cell = {(number(r[row_key]), number(r[col_key])): r for r in rows}
    rv = sorted({k[0] for k in cell})
    cv = sorted({k[1] for k in cell})
    head = lambda what: f"| {row_key} | " + " | ".join(f"{what} {col_key} = {c:g}" for c in cv) + " |"
    sep = "|---|" + "---:|" * len(cv)
    out = [head("accuracy (%),"), sep]
    for r in rv:
        vals = []
        for c in cv:
            x = cell.get((r, c))
            if x is None:
                vals.append("")
                continue
            m = 100 * float(x["accuracy_mean"])
            half = 100 * (float(x["accuracy_ci95_high"]) - float(x["accuracy_ci95_low"])) / 2 if x["accuracy_ci95_high"] else 0
            vals.append(f"{m:.2f} ± {half:.2f}")
        out.append(f"| {r:g} | " + " | ".join(vals) + " |")
    out += ["", head("latency, energy per inference,"), sep]
    for r in rv:
        vals = []
        for c in cv:
            x = cell.get((r, c))
            vals.append("" if x is None else f"{si(float(x['latency_s']), 's')}, {si(float(x['energy_j']), 'J')}")
        out.append(f"| {r:g} | " + " | ".join(vals) + " |")
    return out


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("csv")
    ap.add_argument("row")
    ap.add_argument("col")
    ap.add_argument("--cpu")
    ap.add_argument("--time")
    ap.add_argument("--write")
    ap.add_argument("--check")
    ap.add_argument("--marker")
    a = ap.parse_args()
    out = table(a.csv, a.row, a.col)
    if a.cpu and a.time:
        rows = sum(1 for _ in open(a.csv)) - 1
        out = [measured_line(a.cpu, a.time, rows, "`scripts/sweep_table.py` wrote this block from the run's results.csv"),
               ""] + out
    text = "\n".join(out)
    if not (a.write or a.check):
        print(text)
        return
    if not a.marker:
        sys.exit("sweep_table.py: --write and --check need --marker NAME")
    doc_block.update(a.write or a.check, a.marker, text, check=bool(a.check), source=a.csv)

if __name__ == "__main__":
    main()
