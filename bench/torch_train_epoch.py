#!/usr/bin/python3
"""Seconds per 60 000-image training epoch in PyTorch, for comparison with
`spinsc_bench --benchmark_filter=TrainEpoch` (bench/train_bench.cpp).

The networks of the C++ benchmark in float mode: `lenet5` (spinsc's preset: conv 6x5x5 with
padding 2, clip to [0, 1], max pool 2, conv 16x5x5, clip, max pool 2, dense 120, clip, dense 84,
clip, dense 10) or an MLP given by its widths (`784,128,10`: dense layers, clip after each
hidden one); softmax cross-entropy, Adam (AdamW decay 0.1, lr 5e-3), batch 128. Like the C++
benchmark it trains 50 minibatches of synthetic 28x28 images (80% zero pixels, as MNIST) and
scales the wall and CPU time to the 469 minibatches of an MNIST epoch.

usage: bench/torch_train_epoch.py [--arch lenet5|784,128,10] [--threads N] [--repeats R] [--json]
"""
import argparse
import json
import time

import torch
from torch import nn

BATCH, STEPS, EPOCH_STEPS = 128, 50, (60000 + 127) // 128


class Clip(nn.Module):
    def forward(self, x):
        return torch.clamp(x, 0.0, 1.0)


def mlp(widths):
    layers = []
    for k, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(a, b))
        if k + 2 < len(widths):
            layers.append(Clip())
    return nn.Sequential(nn.Flatten(), *layers)


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), Clip(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), Clip(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), Clip(),
        nn.Linear(120, 84), Clip(),
        nn.Linear(84, 10))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="lenet5", help="lenet5, or an MLP's widths such as 784,128,10")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(11)
    gen = torch.Generator().manual_seed(11)
    images = torch.where(torch.rand(BATCH * STEPS, 1, 28, 28, generator=gen) < 0.8, 0.0,
                         torch.randint(1, 256, (BATCH * STEPS, 1, 28, 28), generator=gen) / 255.0)
    labels = torch.randint(0, 10, (BATCH * STEPS,), generator=gen)
    net = lenet5() if args.arch == "lenet5" else mlp([int(w) for w in args.arch.split(",")])
    opt = torch.optim.AdamW(net.parameters(), lr=5e-3, weight_decay=0.1)
    loss_fn = nn.CrossEntropyLoss()

    def one_pass():
        for s in range(STEPS):
            x, y = images[s * BATCH:(s + 1) * BATCH], labels[s * BATCH:(s + 1) * BATCH]
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()

    one_pass()  # warm-up
    wall, cpu = [], []
    for _ in range(args.repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        one_pass()
        wall.append((time.perf_counter() - w0) * EPOCH_STEPS / STEPS)
        cpu.append((time.process_time() - c0) * EPOCH_STEPS / STEPS)
    result = {"torch": torch.__version__, "arch": args.arch, "threads": args.threads, "batch": BATCH,
              "wall_s_per_epoch": min(wall), "cpu_s_per_epoch": min(cpu)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"PyTorch {torch.__version__} {args.arch}, {args.threads} thread(s), batch {BATCH}: "
              f"{min(wall):.2f} s/epoch wall, {min(cpu):.2f} s/epoch CPU (best of {args.repeats})")


if __name__ == "__main__":
    main()
