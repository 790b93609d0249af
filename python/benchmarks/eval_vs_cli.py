"""Python vs command line: the same SC evaluation (full test set) through `spinsc eval` and
through spinsc.sc_accuracy in a fresh interpreter, alternated `--runs` times; prints the best
wall time of each (process start, data and model loading included), the engine's own seconds,
and the wall time of the sc_accuracy() call (argument conversion included).

    /usr/bin/python3 python/benchmarks/eval_vs_cli.py --model M.safetensors --cli build/release/spinsc

The two must give the same accuracy (same seed and settings); the script checks it."""
import argparse
import json
import subprocess
import sys
import time

PY = """
import json, sys, time, spinsc
images, labels = spinsc.load_dataset("mnist", "test")
net = spinsc.load_model(sys.argv[1])
t0 = time.perf_counter()
r = spinsc.sc_accuracy(net, images, labels, length=int(sys.argv[2]), source=sys.argv[3], threads=int(sys.argv[4]))
r["call_seconds"] = time.perf_counter() - t0
print(json.dumps(r))
"""


def timed(cmd):
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t0, json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--cli", default="build/release/spinsc")
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("--source", default="ideal")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    cli_cmd = [a.cli, "eval", "--model", a.model, "--sc-length", str(a.length), "--source", a.source,
               "--threads", str(a.threads), "--json"]
    py_cmd = [sys.executable, "-c", PY, a.model, str(a.length), a.source, str(a.threads)]
    cli_runs, py_runs = [], []
    for _ in range(a.runs):
        cli_runs.append(timed(cli_cmd))
        py_runs.append(timed(py_cmd))
    assert all(r[1]["accuracy"] == cli_runs[0][1]["accuracy"] for r in cli_runs + py_runs), "results differ"
    cw, pw = min(r[0] for r in cli_runs), min(r[0] for r in py_runs)
    ce, pe = min(r[1]["seconds"] for r in cli_runs), min(r[1]["seconds"] for r in py_runs)
    pc = min(r[1]["call_seconds"] for r in py_runs)
    print(json.dumps({"images": cli_runs[0][1]["images"], "accuracy": cli_runs[0][1]["accuracy"], "length": a.length,
                      "source": a.source, "runs": a.runs, "cli_wall_s": round(cw, 3), "python_wall_s": round(pw, 3),
                      "wall_overhead": round(pw / cw - 1, 4), "cli_engine_s": round(ce, 3),
                      "python_engine_s": round(pe, 3), "engine_overhead": round(pe / ce - 1, 4),
                      "python_call_s": round(pc, 3), "call_overhead": round(pc / ce - 1, 4)}))


if __name__ == "__main__":
    main()
