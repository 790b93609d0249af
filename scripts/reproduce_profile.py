#!/usr/bin/env python3
"""Where the time of a `spinsc reproduce` run goes, from its output folder: the training of each
kind of model (from the jobs' records: every epoch's seconds and thread count) and the
evaluation of each kind of cell (from the evaluation jobs' seconds).

    /usr/bin/python3 scripts/reproduce_profile.py RUN_DIR --time TIME_FILE --json OUT.json [--load TEXT]
    /usr/bin/python3 scripts/reproduce_profile.py PROFILE.json [--previous OLD.json] --write docs/performance.md
    /usr/bin/python3 scripts/reproduce_profile.py PROFILE.json [--previous OLD.json] --check docs/performance.md

The first form reads RUN_DIR/jobs/*.json (reproduce_store.py; and the
`/usr/bin/time -v` output of the run for its wall and CPU time) and writes the profile as JSON;
the others turn a profile into the block between <!-- reproduce-profile:begin --> and
<!-- reproduce-profile:end --> of a Markdown file.
"""
import argparse
import json
import os
import pathlib
import re
import sys

import doc_block
import reproduce_store

BLOCK = "reproduce-profile"


def fail(msg):
    print(f"reproduce_profile.py: {msg}", file=sys.stderr)
    sys.exit(2)






def cell_kind(cell, exact_bits):
    if cell["length"] == 0:
        return "digital (float and quantized)"
    if cell["kind"] == "analog":
        return "analog baseline (bit level)"
    # The reference s-MTJ gives i.i.d. bits: the shortcut, unless the run asked for every bit.
    return "grid, quantized (bit level)" if exact_bits else "grid, quantized (binomial shortcut)"


def profile(run, time_file, load=None):
    run = pathlib.Path(run)
    config = json.loads((run / "config.json").read_text())
    jobs = reproduce_store.trainings(run)
    cells = reproduce_store.cells(run)
    if not jobs or not cells:
        fail(f"{run} holds no finished training and evaluation jobs (jobs/*.json): not a reproduce output folder")
    training = {}
    for k, epochs in jobs:
        e = training.setdefault(k, {"jobs": 0, "epochs": 0, "seconds": 0.0, "thread_seconds": 0.0})
        e["jobs"] += 1
        for seconds, threads in epochs:
            e["epochs"] += 1
            e["seconds"] += seconds
            e["thread_seconds"] += seconds * threads
    evaluation = {}
    for cell in cells:
        if cell["length"] == 0:
            continue  # a digital cell: measured inside its model's first evaluation
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


def block(p, previous=None):
    """The block for profile p; with `previous` (the profile of the previous version's run, same
    command), a column of its summed job times and its wall and CPU time beside this run's."""
    head = (f"Measured from the output folder of a default `spinsc reproduce --out results` on {p['cpu']}, "
            f"{p['cores']} cores: {p['wall_s']:.0f} s wall, {p['cpu_s']:.0f} s of CPU (`/usr/bin/time -v`), made by "
            "`scripts/reproduce_profile.py`. Trainings run side by side, one thread each (their summed times overlap); "
            "evaluations one after another on every core." + (f" Load: {p['load']}." if p.get("load") else ""))
    if previous:
        if previous["cpu"] != p["cpu"] or previous["cores"] != p["cores"]:
            fail("the previous profile was measured on another machine: its times are not comparable")
        head += (f" The previous version's run of the same command on the same machine (`previous-profile.json`): "
                 f"{previous['wall_s']:.0f} s wall, {previous['cpu_s']:.0f} s of CPU.")
    out = [head, "",
           "| part | jobs | epochs | summed job time (s) | share of the summed job time x threads |" +
           (" previous version (s) |" if previous else ""),
           "|---|---|---|---|---|" + ("---|" if previous else "")]
    total_cpu = sum(e["thread_seconds"] for e in p["training"].values()) + \
        sum(e["seconds"] * p["cores"] for e in p["evaluation"].values())

    def before(part, k):
        if not previous:
            return ""
        e = previous[part].get(k)
        return f" {e['seconds']:.0f} |" if e else " |"
    for k, e in sorted(p["training"].items()):
        out.append(f"| training: {k} | {e['jobs']} | {e['epochs']} | {e['seconds']:.0f} | "
                   f"{100 * e['thread_seconds'] / total_cpu:.0f}% |" + before("training", k))
    for k, e in sorted(p["evaluation"].items()):
        out.append(f"| evaluation: {k} | {e['jobs']} | | {e['seconds']:.0f} | {100 * e['seconds'] * p['cores'] / total_cpu:.0f}% |" +
                   before("evaluation", k))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="a reproduce output folder (with --time and --json) or a profile JSON")
    ap.add_argument("--time", help="the run's /usr/bin/time -v output")
    ap.add_argument("--json", help="write the profile here")
    ap.add_argument("--load", help="what else ran on the machine meanwhile (kept in the profile, printed in the block)")
    ap.add_argument("--previous", help="the previous version's profile JSON (same command, same machine): a column beside")
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
    previous = None
    if a.previous:
        try:
            previous = json.loads(pathlib.Path(a.previous).read_text())
        except (OSError, ValueError) as e:
            fail(f"cannot read {a.previous}: {e}")
    text = block(p, previous)
    if not a.write and not a.check:
        sys.stdout.write(doc_block.render(BLOCK, text))
        return
    doc_block.update(a.write or a.check, BLOCK, text, check=bool(a.check), source=a.source)


if __name__ == "__main__":
    main()
