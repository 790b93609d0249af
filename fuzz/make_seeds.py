#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: fuzz/corpus/<target>/<name>, tiny valid inputs
(and a few near-misses) of every format. Deterministic; run it again after changing a format:
    /usr/bin/python3 fuzz/make_seeds.py
"""
import gzip
import json
import os
import random
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


# --- IDX: byte 0 = storage modes (bits 0-1 images, 2-3 labels: 0 raw, 1 .gz as given,
# 2 .gz compressed by the target), bytes 1-4 = image file length, then images, then labels.
def idx_images(count, rows, cols, seed=1):
    rnd = random.Random(seed)
    return struct.pack(">IIII", 0x803, count, rows, cols) + bytes(rnd.randrange(256) for _ in range(count * rows * cols))


def idx_labels(labels):
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


def idx_input(modes, images, labels):
    return bytes([modes]) + struct.pack("<I", len(images)) + images + labels


def seeds_idx():
    img, lab = idx_images(3, 2, 3), idx_labels([0, 9, 4])
    write("idx", "raw", idx_input(0x0, img, lab))
    write("idx", "gzip", idx_input(0x5, gz(img), gz(lab)))
    write("idx", "compress-here", idx_input(0xA, img, lab))
    write("idx", "mixed", idx_input(0x4, img, gz(lab)))
    write("idx", "square", idx_input(0x0, idx_images(2, 4, 4, 2), idx_labels([1, 2])))
    write("idx", "count-mismatch", idx_input(0x0, img, idx_labels([1, 2])))
    write("idx", "bad-label", idx_input(0x0, img, idx_labels([1, 2, 10])))
    write("idx", "truncated", idx_input(0x0, img[:-2], lab))


# --- safetensors models
def model(arch, states=5, mode="qat", scales=None, training=None, seed=1):
    rnd = random.Random(seed)
    layers = len(arch) - 1
    scales = scales if scales is not None else [0.5] * layers
    header = {"__metadata__": {"format": "spinsc-mlp", "format_version": "1", "arch": ",".join(map(str, arch)),
                               "states": str(states), "mode": mode, "scales": json.dumps(scales),
                               "training": json.dumps(training or {"epochs": 1, "seed": 1})}}
    data = b""
    for l in range(layers):
        n_in, n_out = arch[l], arch[l + 1]
        for part, shape in (("weight", [n_out, n_in]), ("bias", [n_out]), ("gain", [n_out])):
            numel = n_out * (n_in if part == "weight" else 1)
            vals = [rnd.uniform(-1, 1) if part != "gain" else 1.0 for _ in range(numel)]
            blob = struct.pack("<%df" % numel, *vals)
            header["layers.%d.%s" % (l, part)] = {"dtype": "F32", "shape": shape,
                                                 "data_offsets": [len(data), len(data) + len(blob)]}
            data += blob
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    return struct.pack("<Q", len(head)) + head + data


def seeds_model():
    write("model", "tiny", model([3, 2]))
    write("model", "deep", model([4, 3, 3, 2], states=11, mode="sc"))
    write("model", "float", model([2, 2], states=3, mode="float", scales=[1.5]))
    write("model", "bad-version", model([3, 2]).replace(b'"format_version":"1"', b'"format_version":"9"'))
    m = bytearray(model([3, 2]))
    write("model", "truncated", bytes(m[:-4]))


# --- traces
def bits_text(bits):
    return "\n".join("".join(map(str, bits[i:i + 64])) for i in range(0, len(bits), 64)) + "\n"


def telegraph(n, p, stay, rnd):
    """A two-state Markov chain with stationary P(1) = p and persistence `stay`."""
    bits, s = [], 1 if rnd.random() < p else 0
    for _ in range(n):
        if rnd.random() > stay:
            s = 1 if rnd.random() < p else 0
        bits.append(s)
    return bits


def trace(bias, bits, period="250e-6", extra=""):
    return ("## spinsc trace\n# bias_current_A: %s\n# sample_period_s: %s\n# format: bits\n# high_state: ap\n%s"
            "# samples: %d\n" % (bias, period, extra, len(bits))) + bits_text(bits)


def seeds_trace():
    rnd = random.Random(7)
    write("trace", "bits", trace("1e-6", telegraph(200, 0.6, 0.5, rnd), extra="# temperature_K: 300\n# note: seed\n"))
    write("trace", "target-p", "# target_p: 0.25\n# sample_period_s: 1e-3\n# format: bits\n"
          "0001 0100 0000 1000\n## comment between samples\n0010 0001\n")
    write("trace", "resistance", "# bias_current_A: -2e-6\n# sample_period_s: 1e-4\n# format: resistance\n# units: kohm\n"
          "# threshold: 7.5\n# high_state: ap\n5.1 9.8 10.2, 4.9; 5.0\n9.9 10.0 5.2\n")
    write("trace", "voltage", "# target_p: 0.5\n# sample_period_s: 2e-6\n# format: voltage\n# units: mV\n# threshold: 0.3\n"
          "# high_state: p\n0.1 0.5 0.45 +0.05 -0.2 0.6\n")
    write("trace", "bad-key", "# bias: 1\n# sample_period_s: 1\n# format: bits\n0101\n")


def seeds_trace_library():
    rnd = random.Random(11)
    lib = [trace("%.3g" % b, telegraph(300, p, 0.8, rnd), period="1e-5")
           for b, p in ((-4e-6, 0.2), (-2e-6, 0.35), (0.0, 0.5), (2e-6, 0.65), (4e-6, 0.8))]
    write("trace_library", "five-points", bytes([63]) + b"\0".join(s.encode() for s in lib))
    write("trace_library", "two-points", bytes([15]) + b"\0".join(s.encode() for s in lib[1:4:2]))
    write("trace_library", "one-target-p", bytes([200]) + b"# target_p: 0.5\n# sample_period_s: 1\n# format: bits\n0110100110010110\n")
    hot = trace("1e-6", telegraph(200, 0.6, 0.7, rnd), period="1e-5", extra="# temperature_K: 350\n")
    write("trace_library", "two-temperatures", bytes([31]) + b"\0".join(s.encode() for s in lib[:3] + [hot]))


# --- device descriptions
def seeds_device():
    for name in ("reference", "variation5_calibrated", "correlated"):
        with open(os.path.join(ROOT, "configs", "device", name + ".json"), "rb") as f:
            write("device", name, f.read())
    write("device", "minimal", "{}")
    write("device", "fields", json.dumps({"name": "x", "delta": 20, "temperature_K": 350, "readout": "p", "bias": "calibrated",
                                          "extreme_p": "clamp", "initial_state": "ap", "warmup_periods": 3,
                                          "variation": {"seed": 5, "delta": {"sigma": 0.1, "kind": "relative",
                                                                             "distribution": "lognormal"},
                                                        "offset_current": {"sigma": 1e-7, "kind": "absolute"}},
                                          "macrospin": {"alpha": 0.02, "time_step": 0.01}}))
    write("device", "out-of-range", '{"delta": -1}')


# --- hardware parameters
def seeds_hw():
    for name in ("default", "dedicated-weights"):
        with open(os.path.join(ROOT, "configs", "hw", name + ".json"), "rb") as f:
            write("hw", name, f.read())
    write("hw", "extends-file", json.dumps({"name": "b", "extends": "base.json",
                                            "logic": {"gate_delay": {"value": 15, "unit": "ps", "reasoning": "x"}},
                                            "precision": {"pixel_bits": {"value": 4, "unit": "bits", "source": "y"}},
                                            "memory": {"reload_weights_per_inference": {"value": False, "source": "z"}}}))
    write("hw", "bad-unit", json.dumps({"name": "c", "extends": "default",
                                        "smtj": {"area": {"value": 1, "unit": "J", "source": "s"}}}))


# --- command lines: arguments separated by NUL
def seeds_cli():
    lines = {
        "cost-arch": ["cost", "--arch", "784,128,10", "-K", "5", "--sharing", "per-level", "--json"],
        "cost-model": ["cost", "--model", "m.safetensors", "--hw", "hw.json", "-L", "64", "--multiply", "bipolar"],
        "eval": ["eval", "--model", "m.safetensors", "--sc-length", "100,200", "--source", "smtj:dev.json",
                 "--repeats", "3", "--accumulate", "mux", "--limit", "10", "--threads", "1", "-q"],
        "train": ["train", "--arch", "784,128,10", "--states", "5", "--mode", "sc", "--sc-length", "16",
                  "--source", "lfsr:16", "--out", "m.safetensors", "--epochs", "2", "--lr", "0.01"],
        "reproduce": ["reproduce", "--out", "r", "--depths", "1", "-K", "5", "-L", "4,8", "-r", "2", "--no-baselines"],
        "device-simulate": ["device", "simulate", "--model", "llg", "--out", "t", "--bias", "1e-6,-2e-6", "--samples", "100",
                            "--time-step", "0.01", "--format", "resistance"],
        "device-stats": ["device", "stats", "--out", "s", "--traces", "lib", "--format", "svg", "--samples", "1000"],
        "device-calibrate": ["device", "calibrate", "--traces", "lib", "--tau0", "1e-9", "--json", "--write-device", "d.json"],
        "device-import": ["device", "import", "--in", "raw", "--out", "lib"],
        "data": ["data", "info", "--data-dir", "d", "--dataset", "fashion-mnist"],
        "bench": ["bench", "--json", "--synthetic", "--images", "10", "--threads", "2"],
        "help": ["eval", "--help"],
        "version": ["--version"],
        "bad": ["train", "--arch", "784,,10", "--states", "x"],
    }
    for name, args in lines.items():
        write("cli", name, "\0".join(args))


# --- architecture strings and their JSON form
def seeds_arch():
    write("arch", "mlp", "784,128,10")
    write("arch", "lenet5", "lenet5")
    write("arch", "layers", "input:3x32x32,conv:8x3x3:p1:s1,avgpool:2,conv:16x3,maxpool:2,flatten,dense:10")
    write("arch", "json", json.dumps({"input": [1, 28, 28], "layers": [
        {"kind": "conv2d", "units": 4, "kernel": 5, "padding": 2}, {"kind": "maxpool2d", "kernel": 2},
        {"kind": "dense", "units": 10}]}))
    write("arch", "bad-tile", "conv:6x5x5,maxpool:5,dense:10")


# --- sweep plans
def seeds_plan():
    write("plan", "axes", json.dumps({"name": "t", "base": {"arch": "784,8,10", "repeats": 2, "source": "ideal"},
                                      "axes": {"length": [8, 16], "training": ["without_sc", "with_sc"]}}))
    write("plan", "device", json.dumps({"base": {"device": {"delta": 8}},
                                        "axes": {"device.sample_period_s": [1e-9, 1e-6],
                                                 "device.variation.delta.sigma": [0, 0.05]}}))
    write("plan", "cells", json.dumps({"base": {"source": "lfsr:16"}, "cells": [
        {"length": 4, "sharing": "per-level"}, {"arch": "lenet5", "states": 11, "training": "float"}]}))


if __name__ == "__main__":
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    for f in (seeds_idx, seeds_model, seeds_trace, seeds_trace_library, seeds_device, seeds_hw, seeds_cli, seeds_arch,
              seeds_plan):
        f()
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files)
        print("%-14s %2d seeds %6d bytes" % (t, len(files), size))
