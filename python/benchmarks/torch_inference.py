"""spinsc.torch.ScInference against spinsc.sc_accuracy: the same SC evaluation of the full test
set (same seed, so the same classes), through the torch module in batches and through the
library's accuracy loop, alternated `--runs` times in one process; prints the best wall time of
each and their ratio.

    /usr/bin/python3 python/benchmarks/torch_inference.py --model M.safetensors --length 16 --source smtj

The two must give the same accuracy; the script checks it."""
import argparse
import time

import torch

import spinsc
import spinsc.torch as st


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--length", type=int, default=16)
    ap.add_argument("--source", default="smtj")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--exact-bits", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    images, labels = spinsc.load_dataset("mnist", "test")
    net = spinsc.load_model(a.model)
    module = st.ScInference(net, length=a.length, source=a.source, exact_bits=a.exact_bits, threads=a.threads)
    x = st.inputs_from_pixels(images.reshape(len(images), -1))  # float32: read in place
    best_lib = best_torch = float("inf")
    for _ in range(a.runs):
        t0 = time.perf_counter()
        ref = spinsc.sc_accuracy(net, images, labels, length=a.length, source=a.source, exact_bits=a.exact_bits,
                                 threads=a.threads)
        best_lib = min(best_lib, time.perf_counter() - t0)
        t0 = time.perf_counter()
        correct = 0
        for b in range(0, len(x), a.batch):
            correct += int((module.predict(x[b:b + a.batch], first_image=b).numpy() == labels[b:b + a.batch]).sum())
        best_torch = min(best_torch, time.perf_counter() - t0)
        acc = correct / len(x)
        if acc != ref["accuracy"]:
            raise SystemExit(f"accuracies differ: ScInference {acc} vs sc_accuracy {ref['accuracy']}")
    print(f"accuracy {acc:.4f} ({ref['path']}, L = {a.length}, {a.source}, {len(x)} images)")
    print(f"sc_accuracy       {best_lib:.3f} s (best of {a.runs})")
    print(f"ScInference       {best_torch:.3f} s (batches of {a.batch})")
    print(f"ratio             {best_torch / best_lib:.3f}")


if __name__ == "__main__":
    main()
