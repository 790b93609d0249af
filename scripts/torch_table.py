#!/usr/bin/env python3
"""The table of docs/python.md, "A full-size run of the torch example", from the files of one run
of scripts/torch_vs_cli.sh:

    /usr/bin/python3 scripts/torch_table.py RUN_DIR                        # print the block
    /usr/bin/python3 scripts/torch_table.py RUN_DIR --write docs/python.md  # replace it there
    /usr/bin/python3 scripts/torch_table.py RUN_DIR --check docs/python.md  # exit 1 if it differs

RUN_DIR holds example/results.json (examples/torch_sc_finetune.py), cli/eval.json (`spinsc eval
--json` of the `spinsc train --mode sc` model), cpu.txt, load.txt and time.txt. The block sits
between the markers <!-- torch-table:begin --> and <!-- torch-table:end -->.
"""
import argparse
import math
import pathlib
import sys

import doc_block

BLOCK = "torch-table"


def fail(msg):
    print(f"torch_table.py: {msg}", file=sys.stderr)
    sys.exit(2)


def read_json(path):
    return doc_block.read_json(path, "torch_table.py")


def block(run):
    run = pathlib.Path(run)
    ex = read_json(run / "example" / "results.json")
    cli = read_json(run / "cli" / "eval.json")
    cli = cli if isinstance(cli, list) else [cli]
    cpu = (run / "cpu.txt").read_text().strip()
    load = (run / "load.txt").read_text().strip()
    times = dict(line.split() for line in (run / "time.txt").read_text().splitlines() if line.strip())
    lengths = [r["length"] for r in ex["models"]["with SC"]["sc"]]
    if sorted(r["length"] for r in cli) != sorted(lengths):
        fail(f"the example's lengths {lengths} and the eval's {[r['length'] for r in cli]} differ")
    repeats = cli[0]["repeats"]
    path = "bit by bit" if ex["exact_bits"] else "binomial shortcut"
    rows = {}
    for name, label in (("without SC", "PyTorch, fine-tuned without noise"),
                        ("with SC", f"PyTorch, fine-tuned with `spinsc.torch.ScNoise(length={ex['noise_length']})`")):
        m = ex["models"][name]
        rows[label] = (m["digital"], {r["length"]: (r["accuracy"], r["std"]) for r in m["sc"]})
    by_len = {r["length"]: (r["accuracy_mean"], r["accuracy_std"]) for r in cli}
    rows[f"`spinsc train --mode sc --sc-length {ex['noise_length']}`"] = (cli[0]["digital_accuracy"], by_len)

    out = [f"Measured with `scripts/torch_vs_cli.sh OUT` on {cpu}, {load}: {float(times['wall_s']) / 60:.1f} min "
           f"wall, {float(times['cpu_s']) / 60:.1f} min of CPU. {ex['arch']}, K = {ex['states']}, "
           f"{ex['train_images']} training images, source `{ex['source']}`, evaluated {path} on the "
           f"{ex['test_images']} test images; SC accuracy in %, mean ± sample std of {repeats} repeats:",
           "",
           "| model | digital | " + " | ".join(f"L = {L}" for L in lengths) + " |",
           "|---|---|" + "---|" * len(lengths)]
    for label, (digital, sc) in rows.items():
        out.append(f"| {label} | {100 * digital:.2f} | "
                   + " | ".join(f"{100 * sc[L][0]:.2f} ± {100 * sc[L][1]:.2f}" for L in lengths) + " |")
    torch_sc = rows[list(rows)[1]][1]
    L = 16 if 16 in lengths else lengths[-1]
    diff = 100 * (torch_sc[L][0] - by_len[L][0])
    se = 100 * math.sqrt((torch_sc[L][1] ** 2 + by_len[L][1] ** 2) / repeats)
    out += ["",
            f"At L = {L} the network trained in torch with `ScNoise` is {abs(diff):.2f} points "
            f"{'above' if diff >= 0 else 'below'} the one `spinsc train --mode sc` trained (standard error of the "
            f"difference {se:.2f}): {'within' if abs(diff) <= 0.3 else 'outside'} the 0.3 points the package aims at."]
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
