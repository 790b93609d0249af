"""What a `spinsc reproduce` output folder holds, for the scripts that read one (cnn_table.py,
reproduce_profile.py): the run is a sweep store (docs/sweeps.md), DIR/jobs/<id>.json one record
per finished job (its configuration, result and timing) and DIR/models/<id>.safetensors its
model, also under the report's name (DIR/models/NAME.safetensors, a hard link).

cells(DIR)        the report's cells: results.json when the run finished, else rebuilt from the
                  finished evaluation records (grid and analog cells, and the digital cells their
                  evaluations also measure; each with its network's `arch`, and `depth` for an MLP).
trainings(DIR)    per finished training job: its kind and the wall time and threads of each epoch.
model_training(P) the `training` metadata of a model file.
"""
import json
import os
import struct


def model_training(path):
    """The `training` metadata of a safetensors model file (its JSON header)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    return json.loads(header["__metadata__"]["training"])


def records(run):
    """The finished job records of the folder, by job id."""
    out = {}
    jobs = os.path.join(run, "jobs")
    if not os.path.isdir(jobs):
        return out
    for name in sorted(os.listdir(jobs)):
        if name.endswith(".json") and not name.startswith("."):
            try:
                r = json.load(open(os.path.join(jobs, name)))
            except (OSError, ValueError):
                continue  # damaged: the run redoes it
            out[r["job"]] = r
    return out


def training_kind(config):
    """float base, qat base, continuation without SC, continuation with SC noise."""
    if "init" not in config:
        return "float base" if config["mode"] == "float" else "qat base"
    return "continuation with SC noise" if "noise" in config else "continuation without SC"


def trainings(run):
    """[(kind, [(seconds, threads) per epoch])] of the finished training jobs."""
    out = []
    for r in records(run).values():
        if r["kind"] != "train":
            continue
        epochs = r.get("timing", {}).get("epochs", [])
        out.append((training_kind(r["config"]), [(e["seconds"], e.get("threads", 1)) for e in epochs]))
    return out


def job_timing(run, model_path):
    """The timing of the job that trained a model file ({} when unknown)."""
    job = model_training(model_path).get("job")
    r = records(run).get(job) if job else None
    return r.get("timing", {}) if r else {}


def cells(run):
    results = os.path.join(run, "results.json")
    if os.path.exists(results):
        return json.load(open(results))
    recs = records(run)

    def root(job_id):
        while "init" in recs[job_id]["config"]:
            job_id = recs[job_id]["config"]["init"]
        return recs[job_id]["config"]

    out, digital = [], {}
    for r in recs.values():
        if r["kind"] != "evaluate" or r["config"]["model"] not in recs:
            continue
        c, res = r["config"], r["result"]
        model = recs[c["model"]]["config"]
        arch = root(c["model"])["arch"]
        widths = arch.split(",")
        depth = len(widths) - 2 if all(w.isdigit() for w in widths) else None  # an MLP's hidden layers
        if c["analog"]:
            kind, training, states = "analog", "float", 0
        else:
            kind, training = "grid", "with_sc" if "noise" in model else "without_sc"
            states = root(c["model"])["states"]
        cell = {"kind": kind, "arch": arch, "depth": depth, "states": states, "length": c["length"], "training": training,
                "accuracy_mean": res["accuracy_mean"], "accuracy_std": res["accuracy_std"],
                "accuracy_per_repeat": res["accuracy_per_repeat"], "repeats": res["repeats"],
                "images": res["images"], "seconds": r.get("timing", {}).get("seconds", 0.0)}
        out.append(cell)
        if "digital_accuracy" in res and training != "with_sc":
            key = ("float", 0, arch) if kind == "analog" else ("digital", states, arch)
            if key not in digital or c["length"] < digital[key]["length_of"]:
                digital[key] = {"kind": key[0], "arch": arch, "depth": depth, "states": key[1], "length": 0, "length_of": c["length"],
                                "training": "float" if kind == "analog" else "without_sc",
                                "accuracy_mean": res["digital_accuracy"], "accuracy_std": 0.0,
                                "accuracy_per_repeat": [res["digital_accuracy"]], "repeats": 1,
                                "images": res["images"], "seconds": 0.0}
    for d in digital.values():
        d.pop("length_of")
        out.append(d)
    return out
