#!/usr/bin/python3
"""Compares two `spinsc reproduce` results.json files cell by cell (docs/reliability.md).

    /usr/bin/python3 scripts/compare_results.py A/results.json B/results.json
    /usr/bin/python3 scripts/compare_results.py --distribution A/results.json B/results.json

Cells are matched by their identity (kind, training, depth or network, K, L); every field except
the wall-clock ones (`seconds`) must be equal, numbers bit for bit. Prints one line per
difference and a summary; exit status 0 when identical, 1 when they differ, 2 on bad input.

With --distribution, for runs that are meant to agree only in distribution (another version
whose arithmetic or draws differ): per cell, the difference of the mean accuracies in units of
its binomial standard error, sqrt(p (1 - p) (1 / (images repeats_A) + 1 / (images repeats_B))),
the cells beyond 2.5 of them, and the mean and root mean square over the cells (about 0 and 1
for two samples of one distribution of evaluations; a retrained network adds its own spread);
exit status 0 unless the input is bad.
"""
import json
import math
import sys

CLOCK_FIELDS = {"seconds"}
IDENTITY = ("kind", "training", "depth", "network", "arch", "states", "length")


def fail(msg):
    print(f"compare_results.py: {msg}", file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        with open(path) as f:
            cells = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read '{path}': {e}")
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        fail(f"'{path}': expected a list of cells (objects)")
    out = {}
    for c in cells:
        key = tuple((k, json.dumps(c.get(k))) for k in IDENTITY)
        if key in out:
            fail(f"'{path}': two cells with the identity {dict(key)}")
        out[key] = {k: v for k, v in c.items() if k not in CLOCK_FIELDS}
    return out


def distribution(a, b):
    z = []
    for key in sorted(set(a) & set(b)):
        ca, cb = a[key], b[key]
        try:
            pa, pb = float(ca["accuracy_mean"]), float(cb["accuracy_mean"])
            na, nb = ca["images"] * len(ca["accuracy_per_repeat"]), cb["images"] * len(cb["accuracy_per_repeat"])
        except (KeyError, TypeError, ValueError):
            fail(f"cell {dict(key)}: no accuracy_mean, images and accuracy_per_repeat")
        p = (pa * na + pb * nb) / (na + nb)
        se = math.sqrt(max(p * (1 - p), 1e-12) * (1 / na + 1 / nb))
        z.append((pb - pa) / se)
        if abs(z[-1]) > 2.5:
            name = ", ".join(f"{k} {json.loads(v)}" for k, v in key if v != "null")
            print(f"{name}: {100 * pa:.2f}% vs {100 * pb:.2f}% ({z[-1]:+.1f} standard errors)")
    if not z:
        fail("no cell in both files")
    mean = sum(z) / len(z)
    rms = math.sqrt(sum(v * v for v in z) / len(z))
    print(f"{len(z)} cells in both; difference in standard errors: mean {mean:+.2f}, root mean square {rms:.2f}; "
          f"{sum(abs(v) > 2.5 for v in z)} beyond 2.5")
    sys.exit(0)


def main():
    args = sys.argv[1:]
    by_distribution = "--distribution" in args
    args = [x for x in args if x != "--distribution"]
    if len(args) != 2:
        fail("usage: compare_results.py [--distribution] A/results.json B/results.json")
    a, b = load(args[0]), load(args[1])
    if by_distribution:
        distribution(a, b)
    differences = 0
    for key in sorted(set(a) | set(b)):
        name = ", ".join(f"{k} {json.loads(v)}" for k, v in key if v != "null")
        if key not in a or key not in b:
            print(f"only in {'B' if key not in a else 'A'}: {name}")
            differences += 1
            continue
        for field in sorted(set(a[key]) | set(b[key])):
            if a[key].get(field) != b[key].get(field):
                print(f"{name}: {field} {a[key].get(field)!r} vs {b[key].get(field)!r}")
                differences += 1
    print(f"{len(a)} and {len(b)} cells; {differences} differences" + (" (identical but for wall-clock times)" if not differences else ""))
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
