#!/usr/bin/env python3
"""Train a quantized MLP with spinsc from Python, then evaluate it as a stochastic computer fed
by the reference s-MTJ at several stream lengths L (docs/python.md, "Examples").

    /usr/bin/python3 examples/train_and_eval.py                      # 784-128-10, K = 5, full data
    /usr/bin/python3 examples/train_and_eval.py --limit 2000 --test-limit 500 --epochs 1

Prints one line per L (accuracy, mean over repeats, and its sample std) and writes
OUT/accuracy_vs_length.png (matplotlib) and OUT/results.json.
"""
import argparse
import json
import pathlib

import spinsc
from _common import load_mnist, plot_accuracy_vs_length, write_atomic


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="784,128,10")
    ap.add_argument("--states", type=int, default=5, help="K")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images (0: all 60 000)")
    ap.add_argument("--test-limit", type=int, default=0, help="evaluate on the first N test images (0: all 10 000)")
    ap.add_argument("--lengths", default="4,8,16,64", help="stream lengths L")
    ap.add_argument("--source", default="smtj", help="bit source: ideal, lfsr, sobol, smtj[:dev.json], trace:DIR")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="example-train-and-eval")
    a = ap.parse_args()

    (images, labels), (test_images, test_labels) = load_mnist(a.limit, a.test_limit)

    net = spinsc.train(images, labels, arch=a.arch, states=a.states, mode="qat", epochs=a.epochs,
                       on_epoch=lambda r: print(f"epoch {r['epoch']}: loss {r['loss']:.4f}  train {r['train_accuracy']:.4f}"))
    digital = net.accuracy(test_images, test_labels)
    print(f"digital accuracy {digital:.4f} on {len(test_labels)} test images")

    rows = []
    for L in [int(v) for v in a.lengths.split(",")]:
        r = spinsc.sc_accuracy(net, test_images, test_labels, length=L, source=a.source, repeats=a.repeats)
        rows.append({"length": L, "accuracy": r["accuracy_mean"], "std": r["accuracy_std"], "per_repeat": r["accuracy_per_repeat"],
                     "path": r["path"]})
        print(f"L = {L:4d}: SC accuracy {r['accuracy_mean']:.4f} +- {r['accuracy_std']:.4f} ({a.repeats} repeats, {a.source}, {r['path']})")

    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {"arch": a.arch, "states": a.states, "source": a.source, "digital": digital,
              "test_images": len(test_labels), "train_images": len(labels), "sc": rows}
    write_atomic(out / "results.json", lambda p: pathlib.Path(p).write_text(json.dumps(result, indent=1) + "\n"))

    plot_accuracy_vs_length(out / "accuracy_vs_length.png", [(f"SC, {a.source}", rows)], f"{a.arch}, K = {a.states}",
                            digital)
    print(f"wrote {out / 'accuracy_vs_length.png'} and {out / 'results.json'}")


if __name__ == "__main__":
    main()
