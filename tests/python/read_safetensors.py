#!/usr/bin/python3
"""Reads a spinsc model file (safetensors layout) with the standard library and numpy only.

It shows that a model written by spinsc is usable outside the project, and serves as an
independent reader in the tests: it checks the container rules itself (header length, JSON,
dtypes, shapes, byte ranges that tile the data section) and can run the network's forward pass.

usage: read_safetensors.py MODEL [--json] [--forward INPUTS.npy]
  default: print the metadata and each tensor's shape and range
  --json:  print {"metadata": {...}, "tensors": {name: {"dtype", "shape", "values"}}} with every
           value as a float (float32 -> float64 is exact, so values compare bit for bit)
  --forward INPUTS.npy: print, as JSON lists, the forward pass (quantized when the model is) of
           each row of the float array in INPUTS.npy
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "I16": "<i2", "I32": "<i4", "I64": "<i8",
          "U8": "u1", "BOOL": "?"}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = memoryview(blob)[8 + n:]
    tensors, ranges = {}, []
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = np.dtype(DTYPES[info["dtype"]])
        count = int(np.prod(info["shape"], dtype=np.int64))
        if end - begin != count * dtype.itemsize:
            raise ValueError(f"{path}: tensor {name} byte range does not match its shape")
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"])
        ranges.append((begin, end))
    covered = 0
    for begin, end in sorted(ranges):
        if begin != covered:
            raise ValueError(f"{path}: tensor byte ranges leave a gap or overlap at {begin}")
        covered = end
    if covered != len(data):
        raise ValueError(f"{path}: {len(data) - covered} bytes after the last tensor")
    return metadata, tensors


def architecture(metadata):
    """The layer list: version 2's "layers", or a version 1 MLP's widths as dense layers."""
    if "layers" in metadata:
        arch = json.loads(metadata["layers"])
        return arch["input"], arch["layers"]
    widths = [int(w) for w in metadata["arch"].split(",")]
    return [widths[0], 1, 1], [{"kind": "dense", "units": w} for w in widths[1:]]


def forward(metadata, tensors, x, quantized=False):
    """The forward rule of network.hpp (float; with the K-level quantizers when `quantized`):
    per weight layer u = W x (dense, or conv2d over each receptive field with zero padding),
    avgpool2d on u, z = gain * u + b, hidden a = clip(z, 0, 1) (rounded to K levels), maxpool2d on a;
    the last weight layer gives y = u + b. Written independently of the C++ code, as a reference."""
    shape, layers = architecture(metadata)
    K = int(metadata.get("states", "5"))
    scales = json.loads(metadata.get("scales", "[]"))
    x = np.asarray(x, np.float64).reshape(shape)
    weight_layers = [i for i, l in enumerate(layers) if l["kind"] in ("dense", "conv2d")]
    w_index = 0
    i = 0
    while i < len(layers):
        layer = layers[i]
        if layer["kind"] == "flatten":
            x = x.reshape(-1, 1, 1)
            i += 1
            continue
        w = tensors[f"layers.{w_index}.weight"].astype(np.float64)
        if quantized:
            s, h = scales[w_index], (K - 1) / 2
            w = s * np.round(np.clip(w / s, -1, 1) * h) / h
        if layer["kind"] == "dense":
            u = (w @ x.reshape(-1)).reshape(-1, 1, 1)
        else:
            k, st, p = layer["kernel"], layer.get("stride", 1), layer.get("padding", 0)
            c, hh, ww = x.shape
            xp = np.zeros((c, hh + 2 * p, ww + 2 * p))
            xp[:, p:p + hh, p:p + ww] = x
            oh, ow = (hh + 2 * p - k) // st + 1, (ww + 2 * p - k) // st + 1
            u = np.zeros((w.shape[0], oh, ow))
            for oy in range(oh):
                for ox in range(ow):
                    patch = xp[:, oy * st:oy * st + k, ox * st:ox * st + k]
                    u[:, oy, ox] = np.tensordot(w, patch, axes=([1, 2, 3], [0, 1, 2]))
        pool = layers[i + 1] if i + 1 < len(layers) and layers[i + 1]["kind"] in ("avgpool2d", "maxpool2d") else None

        def pooled(v, op):
            n = pool["kernel"]
            ch, hh, ww = v.shape
            return op(v.reshape(ch, hh // n, n, ww // n, n), axis=(2, 4))

        if pool and pool["kind"] == "avgpool2d":
            u = pooled(u, np.mean)
        g = tensors[f"layers.{w_index}.gain"].astype(np.float64)[:, None, None]
        b = tensors[f"layers.{w_index}.bias"].astype(np.float64)[:, None, None]
        if w_index + 1 < len(weight_layers):
            x = np.clip(g * u + b, 0.0, 1.0)
            if quantized:
                x = np.round(x * (K - 1)) / (K - 1)
            if pool and pool["kind"] == "maxpool2d":
                x = pooled(x, np.max)
        else:
            x = u + b
        w_index += 1
        i += 2 if pool else 1
    return x.reshape(-1)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    metadata, tensors = read_safetensors(argv[1])
    if "--forward" in argv[2:]:
        inputs = np.load(argv[argv.index("--forward") + 1])
        quantized = metadata.get("mode", "float") != "float"
        json.dump([forward(metadata, tensors, row, quantized).tolist() for row in inputs], sys.stdout)
        print()
        return 0
    if "--json" in argv[2:]:
        out = {"metadata": metadata,
               "tensors": {name: {"dtype": str(t.dtype), "shape": list(t.shape),
                                  "values": t.astype(np.float64).ravel().tolist()} for name, t in tensors.items()}}
        json.dump(out, sys.stdout)
        print()
        return 0
    for key, value in metadata.items():
        print(f"{key}: {value}")
    for name in sorted(tensors, key=lambda s: [int(p) if p.isdigit() else p for p in s.split(".")]):
        t = tensors[name]
        print(f"{name:20} {str(t.dtype):8} {str(list(t.shape)):12} min {t.min():+.6g} max {t.max():+.6g}")
    if metadata.get("format") in ("spinsc-mlp", "spinsc-net"):
        width = int(metadata["arch"].split(",")[0])
        print("unquantized forward of a mid-grey input:", np.round(forward(metadata, tensors, np.full(width, 0.5, np.float32)), 4))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
