import json

import numpy as np
import pytest

import spinsc


def test_reference_device_model():
    d = spinsc.Device()
    ref = spinsc.reference_device()
    assert d.config == ref and d.name == "reference" and d.sample_period_s == ref["sample_period_s"]
    assert d.p_ap(ref["offset_current_A"]) == pytest.approx(0.5)
    currents = np.linspace(-5e-6, 5e-6, 11)
    p = d.p_ap(currents)
    assert p.shape == (11,) and np.all(np.diff(p) > 0)
    # P(AP) = tau_AP / (tau_AP + tau_P); the bias for p gives p back (AP readout, within the clamp).
    assert np.allclose(p, d.tau_ap(currents) / (d.tau_ap(currents) + d.tau_p(currents)))
    targets = np.array([0.1, 0.3, 0.5, 0.8])
    assert np.allclose(d.p_ap(d.bias_for_p(targets)), targets)
    assert np.allclose(d.current_for_p_ap(targets), d.bias_for_p(targets))
    assert 0 <= d.correlation(0.0) < 1
    assert json.loads(d.to_json()) == ref


def test_device_streams():
    d = spinsc.Device()
    s = d.sample(0.3, 20000, seed=4)
    assert s.dtype == np.bool_ and s.shape == (20000,)
    assert abs(s.mean() - 0.3) < 0.02
    assert np.array_equal(s, d.sample(0.3, 20000, seed=4)) and not np.array_equal(s, d.sample(0.3, 20000, seed=5))
    # The device's stream is the smtj source's stream for the same key.
    assert np.array_equal(s, spinsc.make_source("smtj").generate(0.3, 20000, seed=4))
    c = d.sample_at_current(d.bias_for_p(0.7), 50000, seed=2)
    assert abs(c.mean() - 0.7) < 0.02


def test_device_variation(source_dir):
    plain = spinsc.Device().variation(5)
    assert np.all(plain["delta"] == plain["delta"][0])
    d = spinsc.Device(source_dir / "configs" / "device" / "variation10.json")
    v = d.variation(400, layer=1, role="weight")
    assert set(v) == {"delta", "critical_current_A", "offset_current_A"} and v["delta"].shape == (400,)
    nominal = d.config["delta"] * d.config["reference_temperature_K"] / d.config["temperature_K"]
    assert v["delta"].std() > 0 and abs(np.median(v["delta"]) / nominal - 1) < 0.05
    assert np.array_equal(v["delta"], d.variation(400, layer=1, role="weight")["delta"])
    assert not np.array_equal(v["delta"], d.variation(400, layer=0, role="weight")["delta"])


def test_device_from_dict_and_bad_input(tmp_path):
    d = spinsc.Device({"delta": 20.0, "name": "hot"})
    assert d.config["delta"] == 20.0 and d.name == "hot"
    with pytest.raises(spinsc.Error, match="frobnicate"):
        spinsc.Device({"frobnicate": 1})
    bad = tmp_path / "bad.json"
    bad.write_text('{"delta": "ten"}')
    with pytest.raises(spinsc.Error, match="delta"):
        spinsc.Device(bad)
    with pytest.raises(spinsc.Error, match="delta"):
        spinsc.load_device(bad)
    with pytest.raises(spinsc.Error, match="missing.json"):
        spinsc.Device(tmp_path / "missing.json")
    with pytest.raises(spinsc.Error, match="role 'gate' must be 'input', 'weight' or 'bias'"):
        spinsc.Device().sample(0.5, 10, role="gate")


def test_device_source(source_dir):
    path = source_dir / "configs" / "device" / "correlated.json"
    d = spinsc.Device(path)
    src = d.source()
    assert src.name == f"smtj:{path}" and repr(src) == f"spinsc.make_source('smtj:{path}')"
    assert np.array_equal(src.generate(0.4, 500, seed=2), spinsc.make_source(f"smtj:{path}").generate(0.4, 500, seed=2))
    assert src.markov_correlation(0.5) == pytest.approx(float(d.correlation(d.bias_for_p(0.5))), rel=1e-6)
