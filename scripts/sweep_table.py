#!/usr/bin/env python3
"""A Markdown table from a sweep's results.csv (docs/sweeps.md): one row per value of ROW, one
column per value of COL, each cell 'accuracy ± half 95% interval' (percent); then the latency and
the energy per inference of each cell's design.

usage: sweep_table.py DIR/results.csv ROW COL     e.g. device/sample_period_s length
"""
import csv
import sys


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


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    path, row_key, col_key = sys.argv[1:]
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
    print("\n".join(out))


if __name__ == "__main__":
    main()
