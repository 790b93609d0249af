#!/usr/bin/env python3
"""Train a spinsc network in PyTorch with the s-MTJ's SC noise, export it, and evaluate it
bit-level with spinsc's engine at several stream lengths L (docs/python.md, "spinsc.torch").

    /usr/bin/python3 examples/torch_sc_finetune.py                   # 784-128-10, K = 5, full data
    /usr/bin/python3 examples/torch_sc_finetune.py --limit 3000 --test-limit 500 --epochs 1 --sc-epochs 1
    /usr/bin/python3 examples/torch_sc_finetune.py --model qat.safetensors   # start from a spinsc model

Steps: (1) a quantization-aware base in torch (or a spinsc model file loaded into torch with
spinsc.torch.to_torch), (2) two copies fine-tuned for --sc-epochs, one without and one with
spinsc.torch.ScNoise (the moment-matched SC noise of the source at --sc-length), (3) both
exported to spinsc model files, (4) both evaluated under SC by spinsc.torch.ScInference (the C++
engine; --exact-bits for the bit-level path) at each L. Writes OUT/accuracy_vs_length.png,
OUT/results.json and the two model files.
"""
import argparse
import copy
import json
import pathlib

import numpy as np
import torch

import spinsc
import spinsc.torch as st
from _common import load_mnist, plot_accuracy_vs_length, write_atomic


def shifted(x, shift, g):
    """Each image (a row of 784 inputs) translated by a random (dx, dy) in [-shift, shift]^2, the
    uncovered border 0: the augmentation of the C++ trainer (TrainConfig::shift)."""
    if shift == 0:
        return x
    n, side = len(x), int(round(x.shape[1] ** 0.5))
    img = torch.nn.functional.pad(x.view(n, side, side), (shift, shift, shift, shift))
    d = torch.randint(0, 2 * shift + 1, (2, n), generator=g)
    out = torch.empty_like(x).view(n, side, side)
    for dy in range(2 * shift + 1):
        for dx in range(2 * shift + 1):
            sel = (d[0] == dy) & (d[1] == dx)
            if sel.any():
                out[sel] = img[sel, dy:dy + side, dx:dx + side]
    return out.view(n, -1)


def train(model, x, y, epochs, lr, batch, seed, weight_decay=0.1, shift=1):
    """A torch training loop with the C++ trainer's recipe (docs/training.md): Adam with decoupled
    weight decay on the weights only (AdamW), a cosine schedule, cross-entropy, and a random
    translation of each image by up to `shift` pixels."""
    g = torch.Generator().manual_seed(seed)
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    others = [p for name, p in model.named_parameters() if not name.endswith("weight")]
    opt = torch.optim.AdamW([{"params": weights, "weight_decay": weight_decay},
                             {"params": others, "weight_decay": 0.0}], lr=lr)
    steps = epochs * ((len(x) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for epoch in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        total = 0.0
        for b in range(0, len(x), batch):
            idx = perm[b:b + batch]
            loss = torch.nn.functional.cross_entropy(model(shifted(x[idx], shift, g)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        print(f"  epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f}")


def sc_accuracy(model_file, images, labels, length, source, exact_bits, repeats, batch=1000):
    """Accuracy under SC through the torch wrapper of the engine, batch by batch."""
    sc = st.ScInference(model_file, length=length, source=source, exact_bits=exact_bits)
    accs = []
    for r in range(repeats):
        correct = 0
        for b in range(0, len(images), batch):
            pred = sc.predict(torch.from_numpy(images[b:b + batch]), first_image=b, repeat=r)
            correct += int((pred.numpy() == labels[b:b + batch]).sum())
        accs.append(correct / len(images))
    return float(np.mean(accs)), float(np.std(accs, ddof=1)) if repeats > 1 else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="784,128,10")
    ap.add_argument("--states", type=int, default=5, help="K")
    ap.add_argument("--model", help="start from this spinsc model file instead of training a base")
    ap.add_argument("--epochs", type=int, default=10, help="epochs of the qat base")
    ap.add_argument("--sc-epochs", type=int, default=3, help="epochs of the fine-tuning (with and without noise)")
    ap.add_argument("--sc-length", type=int, default=8, help="L of the training noise")
    ap.add_argument("--source", default="smtj")
    ap.add_argument("--lengths", default="4,8,16,32")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--exact-bits", action="store_true", help="evaluate bit by bit (slower)")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images (0: all)")
    ap.add_argument("--test-limit", type=int, default=0, help="evaluate on the first N test images (0: all)")
    ap.add_argument("--lr", type=float, default=5e-3, help="peak learning rate of the base and the fine-tuning")
    ap.add_argument("--weight-decay", type=float, default=0.1, help="decoupled, on weights (as spinsc train)")
    ap.add_argument("--shift", type=int, default=1, help="augmentation: random translation by up to N pixels")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="example-torch-sc")
    a = ap.parse_args()
    torch.manual_seed(a.seed)

    (images, labels), (test_images, test_labels) = load_mnist(a.limit, a.test_limit)
    x = st.inputs_from_pixels(images.reshape(len(images), -1))  # byte * float32(1/255), as the library
    y = torch.from_numpy(labels.astype(np.int64))

    if a.model:
        base = st.to_torch(a.model)
        print(f"loaded {a.model}: {base.architecture}, K = {base.states}")
    else:
        base = st.SpinscNet(a.arch, states=a.states)
        print(f"qat base in torch: {a.arch}, K = {a.states}, {a.epochs} epochs on {len(x)} images")
        train(base, x, y, a.epochs, a.lr, 128, a.seed, a.weight_decay, a.shift)

    tuned = {}
    for name, noise in (("without SC", None),
                        ("with SC", st.ScNoise(length=a.sc_length, source=a.source, states=base.states,
                                               generator=torch.Generator().manual_seed(a.seed)))):
        model = copy.deepcopy(base).set_noise(noise)
        print(f"fine-tuning {name}: {a.sc_epochs} epochs" + (f" ({noise})" if noise else ""))
        train(model, x, y, a.sc_epochs, a.lr, 128, a.seed + 1, a.weight_decay, a.shift)
        tuned[name] = model.set_noise(None)

    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, model in tuned.items():
        files[name] = out / ("sc.safetensors" if name == "with SC" else "qat.safetensors")
        info = {"example": "torch_sc_finetune", "base_epochs": 0 if a.model else a.epochs, "epochs": a.sc_epochs,
                "train_images": len(x), "seed": a.seed}
        if name == "with SC":
            info["sc"] = {"source": a.source, "length": a.sc_length, "noise": "moment-matched (spinsc.torch.ScNoise)"}
        model.to_network(info).save(files[name])

    lengths = [int(v) for v in a.lengths.split(",")]
    results = {"arch": str(base.architecture), "states": base.states, "source": a.source, "noise_length": a.sc_length,
               "test_images": len(test_labels), "train_images": len(x), "exact_bits": a.exact_bits, "models": {}}
    for name, f in files.items():
        net = spinsc.load_model(f)
        digital = net.accuracy(test_images, test_labels)
        rows = []
        for L in lengths:
            m, s = sc_accuracy(f, test_images, test_labels, L, a.source, a.exact_bits, a.repeats)
            rows.append({"length": L, "accuracy": m, "std": s})
            print(f"{name:10s} L = {L:3d}: SC accuracy {m:.4f} +- {s:.4f}   (digital {digital:.4f})")
        results["models"][name] = {"file": str(f), "digital": digital, "sc": rows}
    write_atomic(out / "results.json", lambda p: pathlib.Path(p).write_text(json.dumps(results, indent=1) + "\n"))

    plot_accuracy_vs_length(out / "accuracy_vs_length.png",
                            [(f"fine-tuned {name}", r["sc"]) for name, r in results["models"].items()],
                            f"{base.architecture}, K = {base.states}, {a.source}")
    print(f"wrote {out}/accuracy_vs_length.png, results.json, qat.safetensors, sc.safetensors")


if __name__ == "__main__":
    main()
