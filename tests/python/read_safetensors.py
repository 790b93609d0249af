#!/usr/bin/python3
"""Reads a spinsc model file (safetensors layout) with the standard library and numpy only.

It shows that a model written by spinsc is usable outside the project, and serves as an
independent reader in the tests: it checks the container rules itself (header length, JSON,
dtypes, shapes, byte ranges that tile the data section) and can run the network's forward pass.

usage: read_safetensors.py MODEL [--json]
  default: print the metadata and each tensor's shape and range
  --json:  print {"metadata": {...}, "tensors": {name: {"dtype", "shape", "values"}}} with every
           value as a float (float32 -> float64 is exact, so values compare bit for bit)
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


def forward(metadata, tensors, x):
    """The float forward pass of network.hpp without quantization (for a quick look)."""
    layers = len(metadata["arch"].split(",")) - 1
    for l in range(layers):
        z = tensors[f"layers.{l}.weight"] @ x
        if l + 1 < layers:
            x = np.clip(tensors[f"layers.{l}.gain"] * z + tensors[f"layers.{l}.bias"], 0.0, 1.0)
        else:
            x = z + tensors[f"layers.{l}.bias"]
    return x


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    metadata, tensors = read_safetensors(argv[1])
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
    if metadata.get("format") == "spinsc-mlp":
        width = int(metadata["arch"].split(",")[0])
        print("unquantized forward of a mid-grey input:", np.round(forward(metadata, tensors, np.full(width, 0.5, np.float32)), 4))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
