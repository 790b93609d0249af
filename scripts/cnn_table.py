#!/usr/bin/env python3
"""The measured-results block of docs/cnn.md, written from `spinsc reproduce --suite cnn` result
folders (their config.json, results.json and the models' training metadata), never typed.

usage: scripts/cnn_table.py DIR [DIR ...]                  print the block
       scripts/cnn_table.py DIR [DIR ...] --write FILE     replace the block in FILE
       scripts/cnn_table.py DIR [DIR ...] --check FILE     exit 1 if FILE's block differs
       --load TEXT                                         what else ran on the machine meanwhile
                                                           (printed; without it the block says the
                                                           load was not recorded)
       --cpu TEXT                                          the CPU the folders were measured on
                                                           (default: this machine's, /proc/cpuinfo)
       scripts/cnn_table.py --summarize DIR                write DIR/models.json: what the block
                                                           reads of each model (its training
                                                           metadata and its job's timing), so that
                                                           a copy of DIR without its models
                                                           (config.json, results.json, models.json:
                                                           docs/results/cnn-*) still gives the block

The block lies between the lines `<!-- cnn_table: begin -->` and `<!-- cnn_table: end -->`.
Per folder: the command that reproduces it (from config.json), accuracy (%) per K, L and
training (mean ± sample std over the repeats; a folder without results.json, of a run not
finished, is read from its finished jobs), the digital accuracy of the networks, the gain of
training with SC (with minus without, and the standard error of that difference of means), and
the training time per epoch recorded in each model's job record. Digital accuracies come from the digital
cells when the run had them (baselines), else from each model's `digital_test_accuracy` (the
same computation on the same test set, recorded when the model was trained).
"""
import json
import math
import os
import sys

import readme_results
import reproduce_store

BEGIN, END = "<!-- cnn_table: begin -->", "<!-- cnn_table: end -->"


model_training = reproduce_store.model_training


def cpu_name():
    """The CPU as docs name it: model name, the AMD family-25 core generation, cores."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:
        return "an unknown CPU"
    name = info.get("model name", "unknown CPU")
    if info.get("vendor_id") == "AuthenticAMD" and info.get("cpu family") == "25":
        model = int(info.get("model", "0"))
        zen4 = 0x10 <= model <= 0x1F or 0x60 <= model <= 0x7F or 0xA0 <= model <= 0xAF
        name += " (Zen 4)" if zen4 else " (Zen 3)"
    return f"{name}, {os.cpu_count()} cores"


def command(cfg, out):
    defaults = {"repeats": 5, "analog_repeats": 1, "source": "smtj", "seed": 1, "epochs": 15, "sc_epochs": 2}
    parts = ["spinsc reproduce --suite cnn"]
    if cfg["arch"] != "input:1x28x28,conv:6x5x5:p2,maxpool:2,conv:16x5x5,maxpool:2,dense:120,dense:84,dense:10":
        parts.append(f"--cnn-arch {cfg['arch']}")
    if cfg["dataset"] != "mnist":
        parts.append(f"--dataset {cfg['dataset']}")
    parts.append("--states " + ",".join(map(str, cfg["states"])))
    parts.append("--lengths " + ",".join(map(str, cfg["lengths"])))
    for key, default in defaults.items():
        if cfg[key] != default:
            parts.append(f"--{key.replace('_', '-')} {cfg[key]}")
    if cfg.get("train_limit"):
        parts.append(f"--train-limit {cfg['train_limit']}")
    parts.append(f"--out {out}")
    return " ".join(parts)


def model_summary(path, model_path):
    """What the block reads of one model of folder `path`: its training metadata and its job's timing."""
    m = model_training(model_path)
    m.update(reproduce_store.job_timing(path, model_path))
    return m


def summarize(path):
    """Writes path/models.json (atomically): model_summary() of every named model of the folder."""
    models = os.path.join(path, "models")
    if not os.path.isdir(models):
        sys.exit(f"{path}: no models folder to summarize")
    out = {}
    for name in sorted(os.listdir(models)):
        stem = name[:-len(".safetensors")] if name.endswith(".safetensors") else None
        if stem and stem.startswith("cnn-"):  # the report's names (the job-id names are the same files)
            out[stem] = model_summary(path, os.path.join(models, name))
    target = os.path.join(path, "models.json")
    with open(target + ".tmp", "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(target + ".tmp", target)


def pct(c, std=True):
    if c is None:
        return "—"
    if not std or c["repeats"] < 2:
        return f"{100 * c['accuracy_mean']:.2f}"
    return f"{100 * c['accuracy_mean']:.2f} ± {100 * c['accuracy_std']:.2f}"


def folder_block(path):
    cfg = json.load(open(os.path.join(path, "config.json")))
    if cfg.get("suite") != "cnn":
        sys.exit(f"{path}: not a --suite cnn result folder (config.json has no \"suite\": \"cnn\")")
    cells = reproduce_store.cells(path)  # results.json, or the finished jobs of a run under way

    def find(kind, K, L, training):
        for c in cells:
            if c["kind"] == kind and c["states"] == K and c["length"] == L and c["training"] == training:
                return c
        return None

    summary = os.path.join(path, "models.json")
    summarized = json.load(open(summary)) if os.path.exists(summary) else {}

    def model(name):
        """A model's training metadata, with its job's wall time per epoch and threads."""
        p = os.path.join(path, "models", name + ".safetensors")
        if not os.path.exists(p):
            return summarized.get(name)
        return model_summary(path, p)

    lengths = cfg["lengths"]
    out = [f"#### {cfg['dataset']}, `{cfg['arch']}`", ""]
    out.append(f"Command: `{command(cfg, os.path.basename(os.path.normpath(path)))}` "
               f"(source `{cfg['source']}`, {cfg['repeats']} repeats per cell, {cfg['test_images']} test images, "
               f"qat base {cfg['epochs']} epochs, then {cfg['sc_epochs']} epochs without / with SC noise).")
    out.append("")
    out.append("| K | training | " + " | ".join(f"L = {L}" for L in lengths) + " | digital (no SC) |")
    out.append("|---|---|" + "---|" * (len(lengths) + 1))
    missing = []
    for K in cfg["states"]:
        for training in ("without_sc", "with_sc"):
            row = [str(K), "with SC" if training == "with_sc" else "without SC"]
            for L in lengths:
                c = find("grid", K, L, training)
                if c is None:
                    missing.append(f"K = {K}, L = {L}, {training}")
                row.append(pct(c))
            if training == "without_sc":
                d = find("digital", K, 0, "without_sc")
                m = model(f"cnn-k{K}-without_sc")
                row.append(pct(d, False) if d else
                           (f"{100 * m['digital_test_accuracy']:.2f} (model metadata)" if m else "—"))
            else:
                accs = [model(f"cnn-k{K}-with_sc-L{L}") for L in lengths]
                row.append("per L: " + ", ".join(f"{100 * a['digital_test_accuracy']:.2f}" if a else "—" for a in accs))
            out.append("| " + " | ".join(row) + " |")
        gains = []
        for L in lengths:
            a, b = find("grid", K, L, "with_sc"), find("grid", K, L, "without_sc")
            if a is None or b is None:
                gains.append("—")
                continue
            se = math.sqrt(a["accuracy_std"] ** 2 / a["repeats"] + b["accuracy_std"] ** 2 / b["repeats"])
            gains.append(f"{100 * (a['accuracy_mean'] - b['accuracy_mean']):+.2f} (SE {100 * se:.2f})")
        out.append(f"| {K} | gain of SC training | " + " | ".join(gains) + " | |")
    analog = [find("analog", 0, L, "float") for L in lengths]
    flt = find("float", 0, 0, "float")
    if any(analog) or flt:
        out.append("| — | analog SC (float net) | " + " | ".join(pct(a) for a in analog) + f" | {pct(flt, False)} (float) |")
    out.append("")
    bases = [(K, model(f"cnn-k{K}-base")) for K in cfg["states"]]
    bases = [f"K = {K}: {100 * m['digital_test_accuracy']:.2f}%" for K, m in bases if m]
    if bases:
        out.append(f"Digital accuracy of the qat base after {cfg['epochs']} epochs (model metadata): " + ", ".join(bases) + ".")
    times = []
    for K in cfg["states"]:
        for name in [f"cnn-k{K}-base", f"cnn-k{K}-without_sc"] + [f"cnn-k{K}-with_sc-L{L}" for L in lengths]:
            m = model(name)
            if m:
                if "seconds_per_epoch" not in m:
                    continue
                threads = f"{m['threads']} thread" + ("s" if m["threads"] != 1 else "")
                times.append(f"{name} {m['seconds_per_epoch']:.1f} s ({m['mode']}, {threads})")
    if times:
        out.append("Wall time per training epoch, from the jobs' records: " + "; ".join(times) + ".")
    cell_s = [c["seconds"] for c in cells if c["kind"] == "grid"]
    if cell_s:
        out.append(f"Evaluation of a grid cell ({cfg['repeats']} repeats x {cfg['test_images']} images): "
                   f"{min(cell_s):.1f}-{max(cell_s):.1f} s wall.")
    time_txt = os.path.join(path, "time.txt")
    if os.path.exists(time_txt):
        wall, _, cpu = readme_results.wall_and_memory(time_txt)
        out.append(f"The whole run (`/usr/bin/time -v`, the folder's time.txt): {wall / 60:.1f} min wall"
                   + (f", {cpu / 60:.1f} min of CPU." if cpu is not None else "."))
    out.append("Not in this folder: " + ("the float network and the analog SC baseline" if not flt else "nothing of its grid")
               + (f"; grid cells {', '.join(missing)}" if missing else "") + ".")
    out.append("")
    return out


def block(paths, load=None, cpu=None):
    where = f"Measured on {cpu or cpu_name()}; " + (f"load: {load}." if load else "the machine's load was not recorded.")
    lines = [BEGIN, "", f"{where} Generated by `scripts/cnn_table.py` from the result folders.", ""]
    for p in paths:
        lines += folder_block(p)
    lines.append(END)
    return "\n".join(lines) + "\n"


def replace_block(text, new):
    if BEGIN not in text or END not in text:
        sys.exit(f"no '{BEGIN}' ... '{END}' block")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return head + new.rstrip("\n") + tail


def main(argv):
    mode, target, paths, load, cpu = None, None, [], None, None
    it = iter(argv)
    for a in it:
        if a in ("--write", "--check"):
            mode, target = a, next(it, None)
            if target is None:
                sys.exit(f"{a} needs a file")
        elif a == "--summarize":
            folder = next(it, None)
            if folder is None:
                sys.exit("--summarize needs a result folder")
            summarize(folder)
            return 0
        elif a == "--cpu":
            cpu = next(it, None)
            if cpu is None:
                sys.exit("--cpu needs a text")
        elif a == "--load":
            load = next(it, None)
            if load is None:
                sys.exit("--load needs a text")
        elif a.startswith("-"):
            sys.exit(__doc__)
        else:
            paths.append(a)
    if not paths:
        sys.exit(__doc__)
    new = block(paths, load, cpu)
    if mode is None:
        sys.stdout.write(new)
        return 0
    text = open(target).read()
    updated = replace_block(text, new)
    if mode == "--check":
        if updated != text:
            print(f"{target}: the cnn_table block differs from the result folders", file=sys.stderr)
            return 1
        return 0
    with open(target + ".tmp", "w") as f:
        f.write(updated)
    os.replace(target + ".tmp", target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
