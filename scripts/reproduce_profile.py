#!/usr/bin/env python3
"""Where the time of a `spinsc reproduce` run goes, from its output folder: the training of each
kind of model (from the models' metadata: every epoch's seconds and thread count) and the
evaluation of each kind of cell (from the cells' seconds).

    /usr/bin/python3 scripts/reproduce_profile.py RUN_DIR --time TIME_FILE --json OUT.json [--load TEXT]
    /usr/bin/python3 scripts/reproduce_profile.py PROFILE.json --write docs/performance.md
    /usr/bin/python3 scripts/reproduce_profile.py PROFILE.json --check docs/performance.md

The first form reads RUN_DIR/models/*.safetensors and RUN_DIR/cells/*.json (and the
`/usr/bin/time -v` output of the run for its wall and CPU time) and writes the profile as JSON;
the others turn a profile into the block between <!-- reproduce-profile:begin --> and
<!-- reproduce-profile:end --> of a Markdown file.
"""
import argparse
import glob
import json
import os
import pathlib
import re
import struct
import sys

import doc_block

BLOCK = "reproduce-profile"


def fail(msg):
    print(f"reproduce_profile.py: {msg}", file=sys.stderr)
    sys.exit(2)


def model_training(path):
    """The `training` metadata of a safetensors model file (its JSON header)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    return json.loads(header["__metadata__"]["training"])


def model_kind(name):
    if name.endswith("-float"):
        return "float base"
    if name.endswith("-base"):
        return "qat base"
    if "-without_sc" in name:
        return "continuation without SC"
    if "-with_sc-" in name:
        return "continuation with SC noise"
    return "other"


def cell_kind(cell, exact_bits):
    if cell["length"] == 0:
        return "digital (float and quantized)"
    if cell["kind"] == "analog":
        return "analog baseline (bit level)"
    # The reference s-MTJ gives i.i.d. bits: the shortcut, unless the run asked for every bit.
    return "grid, quantized (bit level)" if exact_bits else "grid, quantized (binomial shortcut)"


def profile(run, time_file, load=None):
    run = pathlib.Path(run)
    models = sorted(glob.glob(str(run / "models" / "*.safetensors")))
    cells = sorted(glob.glob(str(run / "cells" / "*.json")))
    if not models or not cells:
        fail(f"{run} holds no models/*.safetensors or cells/*.json: not a reproduce output folder")
    config = json.loads((run / "config.json").read_text())
    training = {}
    for m in models:
        t = model_training(m)
        k = model_kind(pathlib.Path(m).stem)
        e = training.setdefault(k, {"jobs": 0, "epochs": 0, "seconds": 0.0, "thread_seconds": 0.0})
        e["jobs"] += 1
        for h in t["history"]:
            e["epochs"] += 1
            e["seconds"] += h["seconds"]
            e["thread_seconds"] += h["seconds"] * h["threads"]
    evaluation = {}
    for c in cells:
        cell = json.loads(pathlib.Path(c).read_text())["cell"]
        k = cell_kind(cell, config.get("exact_bits", False))
        e = evaluation.setdefault(k, {"jobs": 0, "seconds": 0.0})
        e["jobs"] += 1
        e["seconds"] += cell["seconds"]
    text = pathlib.Path(time_file).read_text()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
    if not wall:
        fail(f"{time_file}: no wall clock time (the output of /usr/bin/time -v)")
    wall_s = int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
    cpu_s = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", text).group(1)) for k in ("User", "System"))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import readme_results
    p = {"run": "spinsc reproduce (defaults)", "threads": config.get("threads", 0), "wall_s": wall_s, "cpu_s": cpu_s,
         "cpu": readme_results.cpu_name(), "cores": os.cpu_count(), "training": training, "evaluation": evaluation}
    if load:
        p["load"] = load
    return p


def block(p):
    out = [f"Measured from the output folder of a default `spinsc reproduce --out results` on {p['cpu']}, "
           f"{p['cores']} cores: {p['wall_s']:.0f} s wall, {p['cpu_s']:.0f} s of CPU (`/usr/bin/time -v`), made by "
           "`scripts/reproduce_profile.py`. Trainings run side by side, one thread each (their summed times overlap); "
           "evaluations one after another on every core." + (f" Load: {p['load']}." if p.get("load") else ""),
           "",
           "| part | jobs | epochs | summed job time (s) | share of the summed job time x threads |",
           "|---|---|---|---|---|"]
    total_cpu = sum(e["thread_seconds"] for e in p["training"].values()) + \
        sum(e["seconds"] * p["cores"] for e in p["evaluation"].values())
    for k, e in sorted(p["training"].items()):
        out.append(f"| training: {k} | {e['jobs']} | {e['epochs']} | {e['seconds']:.0f} | "
                   f"{100 * e['thread_seconds'] / total_cpu:.0f}% |")
    for k, e in sorted(p["evaluation"].items()):
        out.append(f"| evaluation: {k} | {e['jobs']} | | {e['seconds']:.0f} | {100 * e['seconds'] * p['cores'] / total_cpu:.0f}% |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="a reproduce output folder (with --time and --json) or a profile JSON")
    ap.add_argument("--time", help="the run's /usr/bin/time -v output")
    ap.add_argument("--json", help="write the profile here")
    ap.add_argument("--load", help="what else ran on the machine meanwhile (kept in the profile, printed in the block)")
    ap.add_argument("--write", help="replace the block in this Markdown file")
    ap.add_argument("--check", help="exit 1 unless this file holds the block as generated")
    a = ap.parse_args()
    if os.path.isdir(a.source):
        if not a.time or not a.json:
            fail("a run folder needs --time TIME_FILE and --json OUT.json")
        p = profile(a.source, a.time, a.load)
        tmp = pathlib.Path(a.json + ".tmp")
        tmp.write_text(json.dumps(p, indent=1) + "\n")
        tmp.replace(a.json)
    else:
        try:
            p = json.loads(pathlib.Path(a.source).read_text())
        except (OSError, ValueError) as e:
            fail(f"cannot read {a.source}: {e}")
    text = block(p)
    if not a.write and not a.check:
        sys.stdout.write(doc_block.render(BLOCK, text))
        return
    doc_block.update(a.write or a.check, BLOCK, text, check=bool(a.check), source=a.source)


if __name__ == "__main__":
    main()
