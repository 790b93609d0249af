import numpy as np
import pytest

import spinsc


def write_library(out, d):
    """Telegraph traces of device d at five bias points, written as trace files."""
    for i, p in enumerate([0.2, 0.35, 0.5, 0.65, 0.8]):
        current = float(d.bias_for_p(p))
        t = spinsc.Trace(d.sample_at_current(current, 40000, seed=i + 1), d.sample_period_s, bias_current_A=current,
                         temperature_K=300.0)
        spinsc.write_trace(out / f"b{i}.trace", t)
    return out


@pytest.fixture(scope="module")
def device(source_dir):
    return spinsc.Device(source_dir / "configs" / "device" / "correlated.json")


@pytest.fixture(scope="module")
def library(tmp_path_factory, device):
    return write_library(tmp_path_factory.mktemp("traces"), device)


def test_trace_round_trip(library, tmp_path):
    traces = spinsc.load_trace_library(library)
    assert len(traces) == 5 and traces[0].length == 40000
    t = spinsc.read_trace(library / "b2.trace")
    assert t.bits.dtype == np.bool_ and t.bits.shape == (40000,)
    assert abs(t.fraction_ones - 0.5) < 0.03 and t.bias_current_A is not None
    fit = t.fit()
    assert abs(fit["p"][0] - t.fraction_ones) < 1e-12 and fit["samples"] == 40000
    written = spinsc.import_traces(library, tmp_path / "imported")
    assert len(written) == 5
    assert np.array_equal(spinsc.read_trace(written[2]).bits, t.bits)


def test_calibrate(library, device, tmp_path):
    cal = spinsc.calibrate(library)
    d = cal.as_dict()
    assert len(d["points"]) == 5 and "sigmoid" in d
    assert str(cal) == cal.text() and len(cal.text()) > 0
    fitted = cal.fitted_device(device.config)
    # The fitted curve and dwell times reproduce the device's.
    assert abs(device.p_ap(fitted.bias_for_p(0.3)) - 0.3) < 0.05
    assert abs(fitted.tau_ap(0.0) / device.tau_ap(0.0) - 1) < 0.2
    assert spinsc.calibrate(spinsc.load_trace_library(library)).as_dict() == d
    # The reference device is sampled much slower than it switches: no dwell times to fit.
    unresolved = spinsc.calibrate(write_library(tmp_path, spinsc.Device()))
    with pytest.raises(spinsc.Error, match="resolved dwell times"):
        unresolved.fitted_device()


def test_replay(library):
    src = spinsc.make_source(f"trace:{library}")
    bits = src.generate(0.35, 2000, seed=1)
    assert bits.shape == (2000,) and abs(bits.mean() - 0.35) < 0.1
    assert np.array_equal(bits, src.generate(0.35, 2000, seed=1))
    ac = spinsc.autocorrelation(spinsc.read_trace(library / "b2.trace").bits, 3)
    assert len(ac) == 4 and ac[0] == pytest.approx(1.0)


def test_trace_bad_input(tmp_path):
    bad = tmp_path / "bad.trace"
    bad.write_text("# sample_period_s: 1e-6\n# bias_current_A: 0\n0102\n")
    with pytest.raises(spinsc.Error, match="bad.trace:3"):
        spinsc.read_trace(bad)
    with pytest.raises(spinsc.Error, match="element 1 is 2, not a bit"):
        spinsc.Trace(np.array([0, 2, 1]), 1e-6, bias_current_A=0.0)
    with pytest.raises(spinsc.Error):
        spinsc.load_trace_library(tmp_path / "empty")


def test_trace_text(library, tmp_path):
    t = spinsc.read_trace(library / "b0.trace")
    (tmp_path / "copy.trace").write_text(t.to_text())
    again = spinsc.read_trace(tmp_path / "copy.trace")
    assert np.array_equal(again.bits, t.bits) and again.bias_current_A == t.bias_current_A
    assert again.sample_period_s == t.sample_period_s and again.temperature_K == 300.0
