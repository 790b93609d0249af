#!/usr/bin/env python3
"""The s-MTJ as a bit source: its transfer curve p(I), the streams it gives at a few target
probabilities, and their statistics (mean, lag-k autocorrelation) against the telegraph model
(docs/device.md, docs/python.md).

    /usr/bin/python3 examples/device_stats.py                          # the reference device
    /usr/bin/python3 examples/device_stats.py --device configs/device/correlated.json --bits 20000

Prints, per target p, the bias current, the stream's mean and lag-1 autocorrelation with the
model's values, and writes OUT/device_stats.png (p(I) curve, a stream excerpt, autocorrelation).
"""
import argparse
import pathlib

import numpy as np

import spinsc
from _common import pyplot, save_figure


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", help="device JSON (default: the reference device)")
    ap.add_argument("--bits", type=int, default=200000, help="bits per stream")
    ap.add_argument("--probabilities", default="0.1,0.3,0.5,0.8")
    ap.add_argument("--lags", type=int, default=10)
    ap.add_argument("--out", default="example-device")
    a = ap.parse_args()

    dev = spinsc.Device(a.device)
    ps = [float(v) for v in a.probabilities.split(",")]
    print(f"device {dev.name}: Ts = {dev.sample_period_s:g} s")
    print(f"{'p':>5} {'bias (uA)':>10} {'mean':>8} {'se':>7} {'rho1':>8} {'model rho1':>11}")
    streams = {}
    for p in ps:
        bits = dev.sample(p, a.bits, seed=1)
        i = dev.bias_for_p(p)
        rho = dev.correlation(i)
        ac = spinsc.autocorrelation(bits, a.lags)
        # Standard error of the mean of a Markov stream: sqrt(p(1-p)/n (1+rho)/(1-rho)).
        se = np.sqrt(p * (1 - p) / a.bits * (1 + rho) / (1 - rho))
        streams[p] = (bits, ac, rho)
        print(f"{p:5.2f} {i * 1e6:10.3f} {bits.mean():8.4f} {se:7.4f} {ac[1]:8.4f} {rho:11.4f}")

    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    current = np.linspace(dev.current_for_p_ap(0.005), dev.current_for_p_ap(0.995), 201)
    axes[0].plot(current * 1e6, dev.p_ap(current))
    axes[0].plot([dev.bias_for_p(p) * 1e6 for p in ps], [streams[p][0].mean() for p in ps], "o", label="stream means")
    axes[0].set_xlabel("bias current I (uA)")
    axes[0].set_ylabel("P(AP)")
    axes[0].set_title("transfer curve p(I)")
    axes[0].legend()
    for k, p in enumerate(ps):
        axes[1].step(np.arange(100), streams[p][0][:100].astype(int) + 1.5 * k, where="post", lw=0.8, label=f"p = {p:g}")
    axes[1].set_yticks([])
    axes[1].set_xlabel("bit t")
    axes[1].set_title("first 100 bits")
    for p in ps:
        bits, ac, rho = streams[p]
        line, = axes[2].plot(np.arange(a.lags + 1), ac, "o", ms=3, label=f"p = {p:g}")
        axes[2].plot(np.arange(a.lags + 1), rho ** np.arange(a.lags + 1), "-", color=line.get_color(), lw=0.8)
    axes[2].set_xlabel("lag k")
    axes[2].set_ylabel("autocorrelation")
    axes[2].set_title("measured (dots), rho^k (lines)")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    out = pathlib.Path(a.out) / "device_stats.png"
    save_figure(fig, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
