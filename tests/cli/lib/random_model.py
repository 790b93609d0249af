"""Writes a quantized spinsc model (format spinsc-net, version 2) with seeded random weights.

usage: random_model.py OUT.safetensors STATES SEED INPUT(C,H,W as CxHxW) LAYER...
LAYER: conv:F:K[:P] | maxpool:W | avgpool:W | dense:N. Weights ~ N(0, 1/fan_in), scale
2/sqrt(fan_in), bias 0.1, gain 1. The command-line tests use it for conv networks, which need
no trained model to exercise the SC engine. Standard library only.
"""
import json
import math
import random
import struct
import sys

out, states, seed, shape = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
c, h, w = (int(v) for v in shape.split("x"))
rng = random.Random(seed)
layers, tensors, scales = [], [], []
for item in sys.argv[5:]:
    kind, *args = item.split(":")
    if kind == "conv":
        f, k, p = int(args[0]), int(args[1]), int(args[2]) if len(args) > 2 else 0
        layers.append({"kind": "conv2d", "units": f, "kernel": k, "stride": 1, "padding": p})
        fan, wshape = c * k * k, [f, c, k, k]
        c, h, w = f, h + 2 * p - k + 1, w + 2 * p - k + 1
    elif kind in ("maxpool", "avgpool"):
        win = int(args[0])
        layers.append({"kind": kind + "2d", "kernel": win})
        h, w = h // win, w // win
        continue
    else:
        n = int(args[0])
        layers.append({"kind": "dense", "units": n})
        fan, wshape = c * h * w, [n, c * h * w]
        c, h, w = n, 1, 1
    units = wshape[0]
    weights = [rng.gauss(0, 1 / math.sqrt(fan)) for _ in range(units * fan)]
    tensors.append((f"layers.{len(scales)}.weight", wshape, weights))
    tensors.append((f"layers.{len(scales)}.bias", [units], [0.1] * units))
    tensors.append((f"layers.{len(scales)}.gain", [units], [1.0] * units))
    scales.append(struct.unpack("<f", struct.pack("<f", 2 / math.sqrt(fan)))[0])
cin, hin, win_ = (int(v) for v in shape.split("x"))
header = {"__metadata__": {"format": "spinsc-net", "format_version": "2", "states": str(states), "mode": "qat",
                           "layers": json.dumps({"input": [cin, hin, win_], "layers": layers}),
                           "scales": json.dumps(scales), "training": "{}"}}
data, offset = b"", 0
for name, tshape, values in tensors:
    blob = struct.pack(f"<{len(values)}f", *values)
    header[name] = {"dtype": "F32", "shape": tshape, "data_offsets": [offset, offset + len(blob)]}
    data += blob
    offset += len(blob)
head = json.dumps(header).encode()
head += b" " * ((8 - len(head) % 8) % 8)
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(head)) + head + data)
