#!/usr/bin/env python3
"""The table of docs/training.md, "Speed", from the files of one run of scripts/train_vs_torch.sh:

    /usr/bin/python3 scripts/train_speed_table.py RUN_DIR                          # print the block
    /usr/bin/python3 scripts/train_speed_table.py RUN_DIR --write docs/training.md  # replace it there
    /usr/bin/python3 scripts/train_speed_table.py RUN_DIR --check docs/training.md  # exit 1 if it differs

Per network: spinsc's seconds per 60 000-image epoch (float and qat; the best of 3 repetitions of
the `TrainEpoch` benchmark, CPU and wall) and PyTorch's (float, best of 3), and the ratio of their
CPU times. The block sits between <!-- train-speed:begin --> and <!-- train-speed:end -->.
"""
import argparse
import pathlib
import sys

import doc_block

BLOCK = "train-speed"
NETS = [("mlp128", "784-128-10"), ("mlp256_128_64", "784-256-128-64-10"), ("lenet5", "LeNet-5 (`lenet5`)")]
EPOCH_STEPS, STEPS = 469, 50


def fail(msg):
    print(f"train_speed_table.py: {msg}", file=sys.stderr)
    sys.exit(2)


def read_json(path):
    return doc_block.read_json(path, "train_speed_table.py")


def spinsc_epoch(run, name, mode):
    """Best (wall, CPU) seconds per epoch of TrainEpoch/NAME_MODE/1 over its repetitions."""
    runs = [b for b in read_json(run / f"spinsc-{name}.json").get("benchmarks", [])
            if b.get("run_type") == "iteration" and b.get("name", "").startswith(f"BM_TrainEpoch/{name}_{mode}/1/")]
    if not runs:
        fail(f"{run}/spinsc-{name}.json has no run of TrainEpoch/{name}_{mode}/1")
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    to_epoch = [(b["real_time"] * scale[b["time_unit"]] * EPOCH_STEPS / STEPS,
                 b["cpu_time"] * scale[b["time_unit"]] * EPOCH_STEPS / STEPS) for b in runs]
    return min(w for w, _ in to_epoch), min(c for _, c in to_epoch)


def block(run):
    run = pathlib.Path(run)
    cpu = (run / "cpu.txt").read_text().strip() if (run / "cpu.txt").exists() else "unknown CPU"
    load = [line.split() for line in (run / "load.txt").read_text().splitlines()] if (run / "load.txt").exists() else []
    load_text = f"load average {load[0][0]} before, {load[-1][0]} after" if len(load) >= 2 else "load not recorded"
    torch_version = None
    lines = ["| network | spinsc float: CPU / wall s per epoch | spinsc qat | PyTorch float | PyTorch CPU / spinsc float CPU | PyTorch / spinsc qat |",
             "|---|---|---|---|---|---|"]
    for name, label in NETS:
        fw, fc = spinsc_epoch(run, name, "float")
        qw, qc = spinsc_epoch(run, name, "qat")
        t = read_json(run / f"torch-{name}.json")
        torch_version = t.get("torch", torch_version)
        tw, tc = t["wall_s_per_epoch"], t["cpu_s_per_epoch"]
        lines.append(f"| {label} | {fc:.2f} / {fw:.2f} | {qc:.2f} / {qw:.2f} | {tc:.2f} / {tw:.2f} | {tc / fc:.1f}x | {tc / qc:.1f}x |")
    head = (f"Measured by `scripts/train_vs_torch.sh` on {cpu}, one thread, {load_text}; made by "
            f"`scripts/train_speed_table.py`. Seconds per 60 000-image epoch (50 minibatches of 128 synthetic "
            f"images with 80% zero pixels, scaled to 469), each the best of 3; PyTorch {torch_version} CPU "
            f"(`bench/torch_train_epoch.py`: the same network, batch and optimizer, float).")
    return head + "\n\n" + "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--write", metavar="MD")
    g.add_argument("--check", metavar="MD")
    a = ap.parse_args()
    body = block(a.run)
    if a.write or a.check:
        doc_block.update(a.write or a.check, BLOCK, body, check=bool(a.check), source=a.run)
    else:
        print(doc_block.render(BLOCK, body), end="")


if __name__ == "__main__":
    main()
