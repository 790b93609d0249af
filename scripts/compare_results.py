#!/usr/bin/python3
"""Compares two `spinsc reproduce` results.json files cell by cell (docs/reliability.md).

    /usr/bin/python3 scripts/compare_results.py A/results.json B/results.json

Cells are matched by their identity (kind, training, depth or network, K, L); every field except
the wall-clock ones (`seconds`) must be equal, numbers bit for bit. Prints one line per
difference and a summary; exit status 0 when identical, 1 when they differ, 2 on bad input.
"""
import json
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


def main():
    if len(sys.argv) != 3:
        fail("usage: compare_results.py A/results.json B/results.json")
    a, b = load(sys.argv[1]), load(sys.argv[2])
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
