import numpy as np
import pytest

import spinsc


@pytest.mark.parametrize("args", [
    dict(length=64, source="ideal", repeats=2, seed=5),                          # binomial shortcut
    dict(length=32, source="smtj", repeats=2, seed=3, exact_bits=True),          # bit level
    dict(length=48, source="lfsr", repeats=1, seed=7, sharing="per-level"),
    dict(length=40, source="sobol", repeats=1, seed=2, multiply="bipolar", accumulate="mux"),
])
def test_sc_accuracy_equals_cli(model, model_path, small_test, cli, args):
    images, labels = small_test
    got = spinsc.sc_accuracy(model, images, labels, **args)
    flags = ["--sc-length", args["length"], "--source", args["source"], "--repeats", args["repeats"], "--seed", args["seed"],
             "--limit", 300, "--json"]
    for k in ("sharing", "multiply", "accumulate"):
        if k in args:
            flags += ["--" + k, args[k]]
    if args.get("exact_bits"):
        flags.append("--exact-bits")
    expected = cli("eval", "--model", model_path, *flags)
    assert got["accuracy_per_repeat"] == expected["accuracy_per_repeat"]
    for k in ("schema_version", "accuracy_mean", "accuracy_std", "accuracy_ci95", "images", "repeats", "length", "source", "multiply", "accumulate", "sharing", "path", "seed", "analog", "digital_accuracy"):
        assert got[k] == expected[k], k


def test_sc_deterministic_on_any_thread_count(model, small_test):
    a = spinsc.sc_accuracy(model, *small_test, length=40, repeats=3, threads=1)
    b = spinsc.sc_accuracy(model, *small_test, length=40, repeats=3, threads=2)
    c = spinsc.sc_accuracy(model, *small_test, length=40, repeats=3, seed=2)
    assert a["accuracy_per_repeat"] == b["accuracy_per_repeat"] and len(a["accuracy_per_repeat"]) == 3
    assert a["accuracy_per_repeat"] != c["accuracy_per_repeat"]
    assert a["accuracy_std"] == pytest.approx(np.std(a["accuracy_per_repeat"], ddof=1))


def test_progress_reaches_the_callback(model, small_test):
    calls = []
    got = spinsc.sc_accuracy(model, *small_test, length=40, repeats=2, threads=2,
                             progress=lambda task, done, total: calls.append((task, done, total)))
    n = len(small_test[1])
    assert calls and all(t == "sc eval" and total == 2 * n for t, _, total in calls)
    assert calls[-1][1] == 2 * n and [d for _, d, _ in calls] == sorted(d for _, d, _ in calls)
    # The callback does not change the result.
    assert got["accuracy_per_repeat"] == spinsc.sc_accuracy(model, *small_test, length=40, repeats=2)["accuracy_per_repeat"]


def test_progress_callback_error_is_raised(model, small_test):
    def broken(task, done, total):
        raise ValueError("stop here")
    with pytest.raises(ValueError, match="stop here"):
        spinsc.sc_accuracy(model, *small_test, length=40, progress=broken)


def test_engine_layers_and_counters(model, small_test):
    images, labels = small_test
    engine = spinsc.ScEngine(model, length=256, source="smtj", exact_bits=True, seed=9)
    assert engine.layers == 2 and not engine.binomial_shortcut and engine.config["source"] == "smtj"
    layers = engine.forward(images[0], image=0)
    assert [len(l["counter"]) for l in layers] == [16, 10]
    assert layers[0]["counter"].dtype == np.int64 and layers[0]["estimate"].dtype == np.float32
    # estimate = s C / L; the next layer's input is the first layer's output.
    s = model.scales[0]
    assert np.allclose(layers[0]["estimate"], s * layers[0]["counter"] / 256, rtol=1e-6)
    again = engine.layer(1, layers[0]["output"], image=0)
    assert np.array_equal(again["counter"], layers[1]["counter"])
    assert engine.forward(images[0], image=0)[1]["counter"].tolist() == layers[1]["counter"].tolist()
    assert engine.forward(images[0], image=1)[0]["counter"].tolist() != layers[0]["counter"].tolist()
    # predict is the argmax of the last layer's output; long streams approach the digital result.
    assert engine.predict(images[:1])[0] == int(np.argmax(layers[1]["output"]))
    ref = engine.reference_forward(images[0])
    assert np.array_equal(ref, model.forward(images[0])[0])
    pred = spinsc.ScEngine(model, length=4096).predict(images[:50])
    assert np.mean(pred == model.predict(images[:50])) >= 0.9


def test_sc_bad_input(model, small_test):
    with pytest.raises(spinsc.Error, match="unknown sharing 'shared'"):
        spinsc.ScEngine(model, sharing="shared")
    with pytest.raises(spinsc.Error, match="SC stream length 0 must be between 1 and 1048576"):
        spinsc.ScEngine(model, length=0)
    with pytest.raises(spinsc.Error, match="unknown"):
        spinsc.ScEngine(model, source="quantum")
    with pytest.raises(spinsc.Error, match="repeats 0 must be at least 1"):
        spinsc.sc_accuracy(model, *small_test, repeats=0)
    with pytest.raises(spinsc.Error, match="layer 2 is not in 0..1"):
        spinsc.ScEngine(model).layer(2, np.zeros(10, np.float32))


def test_sc_bad_images(model):
    with pytest.raises(spinsc.Error, match="data set 'numpy' has 100 features per image but the network expects 784"):
        spinsc.sc_accuracy(model, np.zeros((3, 10, 10), np.uint8), np.zeros(3, np.uint8))
    with pytest.raises(spinsc.Error, match="forward: one input of 784 values, got 2 inputs"):
        spinsc.ScEngine(model).forward(np.zeros((2, 784), np.float32))
