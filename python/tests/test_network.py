import numpy as np
import pytest

import spinsc


def test_architecture_strings():
    a = spinsc.parse_architecture("784,128,10")
    assert str(a) == "784,128,10" and spinsc.to_string(a) == "784,128,10"
    assert a.widths == [784, 128, 10] and a.is_mlp and a.classes == 10 and a.input == (784, 1, 1)
    le = spinsc.parse_architecture("lenet5")
    assert not le.is_mlp and le.weight_layers == 5
    assert spinsc.parse_architecture(str(le)) == le
    assert spinsc.architecture_from_json(le.to_json()) == le
    assert le.layers[0]["kind"] == "conv2d" and le.layers[0]["units"] == 6
    with pytest.raises(spinsc.Error, match="bogus"):
        spinsc.parse_architecture("784,bogus,10")


def test_numpy_round_trip_is_bit_exact(model, small_test):
    rebuilt = spinsc.Network(model.architecture, model.weights, model.biases, model.gains, model.scales,
                             states=model.states, mode=model.mode, training=model.training)
    for a, b in zip(model.weights + model.biases + model.gains, rebuilt.weights + rebuilt.biases + rebuilt.gains):
        assert a.dtype == np.float32 and np.array_equal(a, b)
    assert model.scales == rebuilt.scales and model.training == rebuilt.training
    images, _ = small_test
    assert np.array_equal(model.forward(images), rebuilt.forward(images))
    # Architecture as a string or a list of widths works the same.
    again = spinsc.Network(model.arch, model.weights, model.biases, model.gains, model.scales, states=5, mode=model.mode)
    assert np.array_equal(again.forward(images), model.forward(images))


def test_save_load_identical(model, tmp_path, small_test):
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = spinsc.load_model(path)
    assert str(loaded.architecture) == str(model.architecture) and loaded.states == model.states and loaded.mode == model.mode
    for a, b in zip(model.weights, loaded.weights):
        assert np.array_equal(a, b)
    assert loaded.scales == model.scales
    spinsc.save_model(tmp_path / "n.safetensors", loaded)
    assert (tmp_path / "n.safetensors").read_bytes() == path.read_bytes()
    assert np.array_equal(loaded.predict(small_test[0]), model.predict(small_test[0]))


def test_forward_inputs(model, small_test):
    images, labels = small_test
    y = model.forward(images)
    assert y.shape == (300, 10) and y.dtype == np.float32
    # uint8 images are divided by 255; the same values as float32 inputs give the same outputs.
    x = images.reshape(300, 784).astype(np.float32) * np.float32(1.0 / 255.0)
    assert np.array_equal(model.forward(x), y)
    assert np.array_equal(model.forward(x[0]), y[:1])
    cls = model.predict(images)
    assert np.array_equal(cls, np.argmax(y, axis=1))
    assert model.accuracy(images, labels) == pytest.approx(np.mean(cls == labels), abs=1e-12)


def test_digital_accuracy_equals_cli(model, model_path, test_set, cli):
    expected = cli("eval", "--model", model_path, "--json")
    assert model.accuracy(*test_set) == expected["digital_accuracy"]
    assert expected["images"] == 10000


def test_build_from_numpy_and_bad_input(model):
    w = [np.zeros((16, 784), np.float32), np.zeros((10, 16), np.float32)]
    net = spinsc.Network("784,16,10", w, states=5, mode="qat")
    assert net.scales == [1.0, 1.0] and np.array_equal(net.gains[0], np.ones(16, np.float32))
    with pytest.raises(spinsc.Error, match=r"weights\[1\]: shape \(16, 10\) but the architecture needs \(10, 16\)"):
        spinsc.Network("784,16,10", [w[0], np.zeros((16, 10), np.float32)])
    with pytest.raises(spinsc.Error, match="weights: 1 arrays for a network of 2 weight layers"):
        spinsc.Network("784,16,10", w[:1])
    with pytest.raises(spinsc.Error, match="unknown"):
        spinsc.Network("784,16,10", w, mode="fancy")
    with pytest.raises(spinsc.Error, match="inputs: 100 values are not a whole number of inputs of 784 features"):
        model.forward(np.zeros(100, np.float32))
    with pytest.raises(spinsc.Error, match="images: dtype float64 is not uint8"):
        model.accuracy(np.zeros((3, 28, 28)), np.zeros(3))
    with pytest.raises(spinsc.Error, match=r"labels\[1\] = 12 is not a class 0..9"):
        model.accuracy(np.zeros((3, 28, 28), np.uint8), np.array([0, 12, 3]))
    with pytest.raises(spinsc.Error, match="the network takes 784 inputs but the numpy images have 100 pixels"):
        model.accuracy(np.zeros((3, 10, 10), np.uint8), np.zeros(3, np.uint8))
    with pytest.raises(spinsc.Error, match="labels: 2 labels for 3 images"):
        model.accuracy(np.zeros((3, 28, 28), np.uint8), np.zeros(2, np.uint8))
    with pytest.raises(spinsc.Error, match="nonexistent.safetensors"):
        spinsc.load_model("nonexistent.safetensors")


def test_copy_training_and_pickle(model):
    import pickle
    c = model.copy()
    c.training = {"note": "edited", "epochs": 3}
    assert c.training == {"note": "edited", "epochs": 3} and model.training != c.training
    a = pickle.loads(pickle.dumps(model.architecture))
    assert a == model.architecture and repr(a) == "spinsc.Architecture('784,16,10')"
