import numpy as np
import pytest

import spinsc


@pytest.mark.parametrize("spec", ["ideal", "lfsr", "lfsr:16", "sobol", "smtj"])
def test_sources_generate(spec):
    s = spinsc.make_source(spec)
    assert s.name.startswith(spec.split(":")[0])
    bits = s.generate(0.25, 4096, seed=3)
    assert bits.dtype == np.bool_ and bits.shape == (4096,)
    assert abs(bits.mean() - 0.25) < 0.05
    assert np.array_equal(bits, s.generate(0.25, 4096, seed=3))
    batch = s.generate(np.array([0.0, 0.5, 1.0, 0.25]), 100, seed=3, role="weight")
    assert batch.shape == (4, 100)
    if s.exact_extremes:
        assert not batch[0].any() and batch[2].all()
    # Stream i of a batch is the stream of device i; packed words unpack to the same bits.
    assert np.array_equal(batch[3], s.generate(np.array([0.25]), 100, seed=3, role="weight", devices=np.array([3]))[0])
    words = s.generate(np.array([0.0, 0.5, 1.0, 0.25]), 100, seed=3, role="weight", packed=True)
    assert words.dtype == np.uint64 and words.shape == (4, 2)
    unpacked = np.unpackbits(words.view(np.uint8), axis=1, bitorder="little")[:, :100].astype(bool)
    assert np.array_equal(unpacked, batch)


def test_source_properties():
    ideal = spinsc.make_source("ideal")
    assert ideal.iid_bits and ideal.bit_mean(0.3) == pytest.approx(0.3) and ideal.markov_correlation(0.5) == 0
    assert ideal.count_variance_factor(0.5, 64) == 1
    assert spinsc.make_source("sobol").count_variance_factor(0.5, 64) < 1
    assert np.isnan(spinsc.make_source("lfsr").markov_correlation(0.5))


def test_source_bad_input():
    with pytest.raises(spinsc.Error, match="quantum"):
        spinsc.make_source("quantum")
    with pytest.raises(spinsc.Error, match=r"p\[1\] = 1.5 is not a probability"):
        spinsc.make_source("ideal").generate(np.array([0.5, 1.5]), 10)
    with pytest.raises(spinsc.Error, match="length 0 must be between 1"):
        spinsc.make_source("ideal").generate(0.5, 0)
