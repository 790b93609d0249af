#!/usr/bin/env python3
"""A Markdown table of `spinsc bench --json` runs side by side (docs/sc-engine.md): one column per
run, each named by the bit kernels it ran, the figures as the bench measured them in that run
(speed against the machine's own AND+popcount peak and random-bit floor, measured in the same
run), and the ratio of the first run to the second where two are given.

usage: bench_table.py RUN.json [RUN2.json ...] [--cpu FILE] [--command TEXT]
       [--write DOC | --check DOC] --marker NAME
"""
import argparse
import json
import pathlib
import sys

import doc_block

ROWS = [
    ("images/s", "images_per_s", "{:.0f}"),
    ("synapse bit-ops/s", "synapse_bit_ops_per_s", "{:.3g}"),
    ("AND+popcount peak (bit-ops/s)", "roofline_bit_ops_per_s", "{:.3g}"),
    ("ratio to the peak", "ratio", "{:.3f}"),
    ("core time per generated weight stream (ns)", "ns_per_weight_stream", "{:.1f}"),
    ("random-bit floor per weight stream (ns)", "floor_ns_per_weight_stream", "{:.1f}"),
    ("weight stream / floor", "weight_stream_floor_ratio", "{:.1f}x"),
    ("conv (LeNet-5) images/s, independent weight streams", "conv_images_per_s", "{:.0f}"),
    ("binomial shortcut images/s", "shortcut_images_per_s", "{:.0f}"),
    ("shortcut / PyTorch shortcut", "shortcut_vs_torch_ratio", "{:.2f}x"),
]


def load(path):
    try:
        return json.loads(pathlib.Path(path).read_text())
    except (OSError, ValueError) as e:
        sys.exit(f"bench_table.py: cannot read '{path}': {e}")


def body(runs, cpu, command):
    out = []
    if cpu:
        t = runs[0]
        out += [f"Measured on {cpu}, {t['threads']} threads, {t['images']} {t['data']} images, L = {t['length']}"
                + (f", by `{command}`" if command else "")
                + " (`scripts/bench_table.py` wrote this table from the runs' JSON).", ""]
    head = "| figure | " + " | ".join(f"`{r.get('bit_kernels', '?')}`" for r in runs) + " |"
    if len(runs) == 2:
        head += " first / second |"
    out += [head, "|---|" + "---:|" * (len(runs) + (len(runs) == 2))]
    for label, key, form in ROWS:
        if not all(key in r for r in runs):
            continue
        vals = [form.format(r[key]) for r in runs]
        line = f"| {label} | " + " | ".join(vals) + " |"
        if len(runs) == 2:
            a, b = runs[0][key], runs[1][key]
            line += f" {a / b:.2f} |" if b else " |"
        out.append(line)
    return out


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--cpu")
    ap.add_argument("--command")
    ap.add_argument("--write")
    ap.add_argument("--check")
    ap.add_argument("--marker")
    a = ap.parse_args()
    runs = [load(p) for p in a.runs]
    cpu = pathlib.Path(a.cpu).read_text().strip() if a.cpu else None
    text = "\n".join(body(runs, cpu, a.command))
    if not (a.write or a.check):
        print(text)
        return
    if not a.marker:
        sys.exit("bench_table.py: --write and --check need --marker NAME")
    doc_block.update(a.write or a.check, a.marker, text, check=bool(a.check), source=", ".join(a.runs))


if __name__ == "__main__":
    main()
