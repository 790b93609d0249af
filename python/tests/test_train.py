import numpy as np
import pytest

import spinsc


def same_network(a, b):
    assert str(a.architecture) == str(b.architecture) and a.states == b.states and a.mode == b.mode
    for x, y in zip(a.weights + a.biases + a.gains, b.weights + b.biases + b.gains):
        assert np.array_equal(x, y)
    assert a.scales == b.scales


@pytest.mark.parametrize("mode,extra", [("qat", []), ("sc", ["--sc-length", 16, "--source", "ideal"])])
def test_train_equals_cli(train_set, tmp_path, cli, mode, extra):
    images, labels = train_set
    out = tmp_path / "cli.safetensors"
    cli("train", "--arch", "784,24,10", "-K", 5, "--mode", mode, "--epochs", 2, "--train-limit", 600, "--seed", 4, "-o", out,
        "--json", *extra)
    kwargs = dict(length=16, source="ideal") if mode == "sc" else {}
    epochs, steps = [], []
    net = spinsc.train(images[:600], labels[:600], arch="784,24,10", states=5, mode=mode, epochs=2, seed=4, threads=1,
                       on_epoch=epochs.append, on_step=lambda *a: steps.append(a), **kwargs)
    from_cli = spinsc.load_model(out)
    same_network(net, from_cli)
    assert net.training.get("sc") == from_cli.training.get("sc")
    assert [e["epoch"] for e in epochs] == [1, 2] and epochs[0]["val_accuracy"] is None
    assert len(steps) == 2 * 5 and steps[4][:2] == (5, 5)
    if mode == "sc":
        assert net.training["sc"] == {"source": "ideal", "length": 16, "noise": "moment-matched", "variance_gradient": True,
                                      "multiply": "signmag", "accumulate": "apc"}


def test_trainer_epochs_and_early_stop(train_set):
    images, labels = train_set
    t = spinsc.Trainer(images[:400], labels[:400], arch=[784, 12, 10], epochs=3, val=100, seed=2)
    assert t.train_images == 300 and t.steps_per_epoch == 3 and not t.done
    r = t.run_epoch()
    assert r["epoch"] == 1 and 0 <= r["val_accuracy"] <= 1 and t.epochs_done == 1
    net = spinsc.train(images[:400], labels[:400], arch=[784, 12, 10], epochs=3, seed=2, on_epoch=lambda r: False)
    assert len(net.training["history"]) == 1


def test_train_fine_tune_and_float(train_set):
    images, labels = train_set
    base = spinsc.train(images[:300], labels[:300], arch="784,12,10", epochs=1, seed=1)
    tuned = spinsc.train(images[:300], labels[:300], arch="784,12,10", epochs=1, seed=1, init=base, mode="sc",
                         length=8, source="smtj")
    assert tuned.mode == "sc" and not np.array_equal(tuned.weights[0], base.weights[0])
    flt = spinsc.train(images[:300], labels[:300], arch="784,12,10", mode="float", epochs=1)
    assert flt.mode == "float" and not flt.quantized


def test_train_bad_input(train_set):
    images, labels = train_set
    with pytest.raises(spinsc.Error, match="lr -1 must be positive"):
        spinsc.Trainer(images[:10], labels[:10], lr=-1)
    with pytest.raises(spinsc.Error, match="unknown optimizer 'adagrad'"):
        spinsc.Trainer(images[:10], labels[:10], optimizer="adagrad")
    with pytest.raises(spinsc.Error, match="states"):
        spinsc.Trainer(images[:10], labels[:10], states=4)
    with pytest.raises(spinsc.Error, match="SC noise length 0 must be at least 1"):
        spinsc.Trainer(images[:10], labels[:10], mode="sc", length=0)
    with pytest.raises(TypeError):
        spinsc.Trainer(images[:10], labels[:10], epoch=3)  # a misspelt keyword is not ignored

    def boom(*args):
        raise RuntimeError("stop here")
    with pytest.raises(RuntimeError, match="stop here"):
        spinsc.train(images[:300], labels[:300], arch="784,12,10", epochs=1, on_step=boom)
