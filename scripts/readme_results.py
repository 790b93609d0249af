#!/usr/bin/python3
"""Regenerates the README's measured results of the default `spinsc reproduce` run.

    /usr/bin/python3 scripts/readme_results.py RESULTS_DIR --time TIME_FILE [--load TEXT] [--cpu TEXT] [--readme README.md]

RESULTS_DIR is the --out folder of a finished default run (`results.json` and `table.md` are
read); TIME_FILE is what `/usr/bin/time -v` printed for that run (wall time, peak memory). The
CPU is read from /proc/cpuinfo, so run this script on the machine that ran the grid (or give
it with --cpu, as tests/cli/readme_block_current.sh does with the committed run of
docs/results/mlp-default/). The block
between the markers `<!-- results:begin -->` and `<!-- results:end -->` of the README is
replaced; nothing else is touched, and the README is rewritten atomically. With --check, the
README is left alone and the exit status says whether its block is what the results give.

No figure in the block is typed: each comes from the results files.
"""
import argparse
import json
import math
import os
import re
import sys

import doc_block

BLOCK = "results"
TABLE_LENGTHS = (4, 8, 16, 100, 400)


def fail(msg):
    print(f"readme_results.py: {msg}", file=sys.stderr)
    sys.exit(2)


def load_cells(results_dir):
    path = os.path.join(results_dir, "results.json")
    try:
        with open(path) as f:
            cells = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read '{path}': {e}")
    if not isinstance(cells, list) or not cells:
        fail(f"'{path}': expected a non-empty list of cells")
    return cells


def load_archs(results_dir):
    """Depth -> architecture spelling, from table.md's section titles."""
    path = os.path.join(results_dir, "table.md")
    try:
        text = open(path).read()
    except OSError as e:
        fail(f"cannot read '{path}': {e}")
    archs = {int(d): a for d, a in re.findall(r"^## (\d+) hidden layers? \(([^)]+)\)", text, re.M)}
    if not archs:
        fail(f"'{path}': no '## N hidden layer(s) (ARCH)' sections")
    return archs, text


def wall_and_memory(time_file):
    try:
        text = open(time_file).read()
    except OSError as e:
        fail(f"cannot read '{time_file}': {e}")
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
    if not m:
        fail(f"'{time_file}': no 'Elapsed (wall clock) time' line (expected the output of /usr/bin/time -v)")
    seconds = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    cpu = [re.search(rf"{k} time \(seconds\): ([\d.]+)", text) for k in ("User", "System")]
    cpu_s = sum(float(m.group(1)) for m in cpu) if all(cpu) else None
    return seconds, (int(rss.group(1)) / 1024 if rss else None), cpu_s


def cpu_name():
    """Model name, family/model numbers and whether AVX-512 is there (the bit kernels use it)."""
    info = {}
    try:
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        return "unknown CPU"
    name = info.get("model name", "unknown CPU")
    extra = [f"family {info['cpu family']} model {info['model']}"] if "cpu family" in info and "model" in info else []
    extra.append("AVX-512" if "avx512f" in info.get("flags", "").split() else "no AVX-512")
    return f"{name} ({', '.join(extra)})"


def find(cells, kind, depth, states, length, training):
    for c in cells:
        if (c["kind"], c["depth"], c["states"], c["length"], c["training"]) == (kind, depth, states, length, training):
            return c
    return None


def significant_gain(without, with_sc):
    """with SC above without SC by more than two standard errors of the difference."""
    if without["repeats"] < 2 or with_sc["repeats"] < 2:
        return False
    se = math.sqrt(without["accuracy_std"] ** 2 / without["repeats"] + with_sc["accuracy_std"] ** 2 / with_sc["repeats"])
    return with_sc["accuracy_mean"] - without["accuracy_mean"] > 2 * se


def pct(c, digits=2):
    return "—" if c is None else f"{100 * c['accuracy_mean']:.{digits}f}"


def block(cells, archs, seconds, rss_mib, cpu_s, cpu, repeats, load=None):
    depths = sorted(archs)
    states = sorted({c["states"] for c in cells if c["kind"] == "grid"})
    lengths = [L for L in TABLE_LENGTHS if any(c["kind"] == "grid" and c["length"] == L for c in cells)]
    out = []
    mem = f", {cpu_s:.0f} s of CPU time" if cpu_s else ""
    mem += f", peak memory {rss_mib:.0f} MiB" if rss_mib else ""
    out.append(f"**Measured default run: {seconds:.0f} s ({seconds / 60:.1f} min) wall on {cpu}, "
               f"{os.cpu_count()} cores{mem}** (`/usr/bin/time -v ./build/release/spinsc reproduce --out results`"
               + (f"; {load}" if load else "") + ").")
    out.append("")
    out.append(f"Results of that run (accuracy %, {repeats} repeats, without / with SC; bold: with SC above without SC "
               "by more than two standard errors of the difference; full table with the spread in `results/table.md`; "
               "this block is written by `scripts/readme_results.py` from the run's `results.json`):")
    out.append("")
    out.append("| network | K | " + " | ".join(f"L = {L}" for L in lengths) + " | digital |")
    out.append("|---|---|" + "---|" * (len(lengths) + 1))
    for d in depths:
        for K in states:
            row = [archs[d], str(K)]
            for L in lengths:
                wo, w = find(cells, "grid", d, K, L, "without_sc"), find(cells, "grid", d, K, L, "with_sc")
                ws = pct(w)
                if wo and w and significant_gain(wo, w):
                    ws = f"**{ws}**"
                row.append(f"{pct(wo)} / {ws}")
            row.append(pct(find(cells, "digital", d, K, 0, "without_sc")))
            out.append("| " + " | ".join(row) + " |")
    analog = [[find(cells, "analog", d, 0, L, "float") for d in depths] for L in lengths]
    if any(a for row in analog for a in row):
        names = " / ".join(f"{d} hidden" for d in depths)
        row = [f"analog SC (float nets, {names})", "—"]
        row += [" / ".join(pct(a, 1) for a in per_depth) for per_depth in analog]
        row.append(" / ".join(pct(find(cells, "float", d, 0, 0, "float")) for d in depths))
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    # Summary sentences, computed.
    with_sc = [c for c in cells if c["kind"] == "grid" and c["training"] == "with_sc"]
    if with_sc:
        best = max(with_sc, key=lambda c: c["accuracy_mean"])
        parts = []
        for d in depths:
            at100 = [c for c in with_sc if c["depth"] == d and c["length"] == 100]
            if at100:
                lo, hi = min(c["accuracy_mean"] for c in at100), max(c["accuracy_mean"] for c in at100)
                parts.append(f"{100 * lo:.2f}-{100 * hi:.2f}% ({d} hidden)")
        gains = []
        for c in with_sc:
            wo = find(cells, "grid", c["depth"], c["states"], c["length"], "without_sc")
            if wo:
                gains.append((c["accuracy_mean"] - wo["accuracy_mean"], c, wo))
        at100 = f"reach {' and '.join(parts)} at L = 100, and " if parts else ""
        s = ("The paper reports, with SC, 92% (1 hidden) and above 96% (3 hidden) at L = 100 and a peak of 96.82% at "
             f"L = 400; here the SC-trained cells {at100}peak at "
             f"{100 * best['accuracy_mean']:.2f}% ({best['depth']} hidden, K = {best['states']}, L = {best['length']}).")
        if gains:
            g, c, wo = max(gains, key=lambda t: t[0])
            s += (f" Training with SC pays most where streams are short: the largest gain is {100 * g:+.2f} points "
                  f"({c['depth']} hidden, K = {c['states']}, L = {c['length']}: {pct(wo)} → {pct(c)}%)")
            long_gains = [t[0] for t in gains if t[1]["length"] >= 16]
            if long_gains:
                s += (f"; from L = 16 on the two trainings differ by {100 * min(long_gains):+.2f} to "
                      f"{100 * max(long_gains):+.2f} points.")
            else:
                s += "."
        out.append(s + " See docs/training.md.")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results_dir")
    ap.add_argument("--time", required=True, help="output of /usr/bin/time -v for the run")
    ap.add_argument("--readme", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md"))
    ap.add_argument("--load", help="how loaded the machine was during the run, if it was (from uptime), "
                    "e.g. 'load average 13-17 from other jobs'")
    ap.add_argument("--cpu", help="the CPU that ran the grid, as this script names it (default: this machine's, from "
                    "/proc/cpuinfo); for --check on another machine, the text kept beside the results (cpu.txt)")
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 if the README's block differs")
    a = ap.parse_args()
    cells = load_cells(a.results_dir)
    archs, table_md = load_archs(a.results_dir)
    m = re.search(r"(\d+) repeats per cell", table_md)
    repeats = int(m.group(1)) if m else max(c["repeats"] for c in cells)
    seconds, rss, cpu_s = wall_and_memory(a.time)
    new = block(cells, archs, seconds, rss, cpu_s, a.cpu or cpu_name(), repeats, a.load)
    doc_block.update(a.readme, BLOCK, new, check=a.check, source=a.results_dir)

if __name__ == "__main__":
    main()
