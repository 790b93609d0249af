#!/usr/bin/python3
"""Images/s of the SC binomial shortcut written in plain PyTorch, the peer of `spinsc bench`'s
shortcut figure (include/spinsc/sc_bench.hpp).

The same workload: 784-256-128-64-10, K = 11, L = 500, signmag + APC, broadcast inputs and
independent weight streams of an i.i.d. source, weights uniform in [-s, s] with s = 3 / sqrt(fan-in)
(drawn here by torch's generator: the same law of levels, not the same values), zero biases, unit
gains; the first N MNIST test images (raw idx file in --data-dir) or synthetic images (each pixel 0
with probability 0.8, else uniform in 1..255). Per stage and batch of images, as a PyTorch user
would write it:
  1. the input streams' counts of ones: torch.binomial(L, x);
  2. one matrix product routes them to every neuron's drawn weight levels and signs (a 0/1
     routing matrix, plus a +-1 column for the weights at p = 1, whose products are the input
     counts themselves);
  3. one torch.binomial draw per neuron, level and sign; counter = up - down (+ exact column);
     hidden activation Q_K(clip(s C / L, 0, 1)), output argmax.
`folded` is the same with the negative weights' draws folded into the probability 1 - q
(-Binomial(c, q) has the law of Binomial(c, 1 - q) - c): half the routing columns and draws, what
spinsc does. Both are timed; the faster one is the fair peer.

usage: bench/torch_shortcut.py [--threads N] [--images N] [--batch B] [--data-dir DIR] [--json]
"""
import argparse
import json
import math
import os
import time

import torch

ARCH, K, L = [784, 256, 128, 64, 10], 11, 500


def load_images(data_dir, count, gen):
    path = os.path.join(data_dir, "t10k-images-idx3-ubyte") if data_dir else ""
    if path and os.path.exists(path):
        with open(path, "rb") as f:
            raw = f.read(16 + 784 * count)
        x = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).reshape(-1, 784)[:count]
        return x.to(torch.float32) / 255.0, "mnist"
    zero = torch.rand(count, 784, generator=gen) < 0.8
    px = torch.randint(1, 256, (count, 784), generator=gen).to(torch.float32)
    return torch.where(zero, torch.zeros(()), px) / 255.0, "synthetic"


def build(gen, folded):
    """Per stage: the routing matrix (n x m*S), the slot probabilities (S - 1), the scale s."""
    h = (K - 1) // 2
    stages = []
    for n, m in zip(ARCH[:-1], ARCH[1:]):
        s = 3.0 / math.sqrt(n)
        w = (2 * torch.rand(m, n, generator=gen) - 1) * s
        q = torch.clamp(torch.round(w / s * h), -h, h).to(torch.int64)  # m x n levels
        mag, neg = q.abs(), q < 0
        drawn = (mag > 0) & (mag < h)
        if folded:  # slot v - 1 thins with p = v / h, v = 1 .. h-1
            S = h
            slot = torch.where(neg, h - mag, mag) - 1
            p = torch.arange(1, h, dtype=torch.float32) / h
        else:  # slot 2 (v - 1) + sign
            S = 2 * (h - 1) + 1
            slot = 2 * (mag - 1) + neg.to(torch.int64)
            p = (torch.arange(1, h, dtype=torch.float32) / h).repeat_interleave(2)
        route = torch.zeros(n, m, S)
        j, i = torch.nonzero(drawn, as_tuple=True)
        route[i, j, slot[j, i]] = 1.0
        exact = torch.where(mag == h, torch.where(neg, -1.0, 1.0), torch.zeros(()))
        if folded:
            exact = exact - (drawn & neg).to(torch.float32)
        route[:, :, S - 1] = exact.t()
        stages.append((route.reshape(n, m * S), p, s, m, S))
    return stages


def forward(stages, x, folded):
    a = x
    for idx, (route, p, s, m, S) in enumerate(stages):
        counts = torch.binomial(torch.full_like(a, float(L)), a)
        z = (counts @ route).view(-1, m, S)
        draws = torch.binomial(z[:, :, :S - 1].contiguous(), p.expand(z.shape[0], m, S - 1).contiguous())
        C = (draws.sum(-1) if folded else (draws[:, :, 0::2] - draws[:, :, 1::2]).sum(-1)) + z[:, :, S - 1]
        est = s * C / L
        a = torch.round(torch.clamp(est, 0.0, 1.0) * (K - 1)) / (K - 1) if idx + 1 < len(stages) else est
    return a.argmax(dim=1)


def images_per_s(stages, x, batch, folded):
    forward(stages, x[:batch], folded)  # warm-up
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for b0 in range(0, x.shape[0], batch):
            forward(stages, x[b0:b0 + batch], folded)
        best = max(best, x.shape[0] / (time.perf_counter() - t0))
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--data-dir", default=os.environ.get("SPINSC_DATA", ""))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(2024)
    gen = torch.Generator().manual_seed(2024)
    x, data = load_images(args.data_dir, args.images, gen)
    with torch.no_grad():
        plain = images_per_s(build(gen, False), x, args.batch, False)
        folded = images_per_s(build(gen, True), x, args.batch, True)
    result = {"images_per_s": plain, "folded_images_per_s": folded, "best_images_per_s": max(plain, folded),
              "threads": args.threads, "images": int(x.shape[0]), "batch": args.batch, "data": data,
              "torch": torch.__version__}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"PyTorch {torch.__version__} binomial shortcut, {x.shape[0]} {data} images, batch {args.batch}, "
              f"{args.threads} threads: {plain:.1f} images/s (per level and sign), {folded:.1f} images/s (folded)")


if __name__ == "__main__":
    main()
