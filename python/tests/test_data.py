import numpy as np
import pytest

import spinsc


def test_load_dataset_arrays(test_set, train_set):
    images, labels = test_set
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))
    assert train_set[0].shape == (60000, 28, 28)
    # Views of the loaded bytes, not copies.
    assert not images.flags.owndata and images.base is not None
    assert 0 < images.mean() < 255


def test_load_dataset_same_bytes_twice(test_set):
    images, labels = spinsc.load_dataset("mnist", "test", data_dir=str(spinsc.default_data_dir()))
    assert np.array_equal(images, test_set[0]) and np.array_equal(labels, test_set[1])


def test_load_dataset_bad_input(tmp_path):
    with pytest.raises(spinsc.Error, match="split 'validation' must be 'train' or 'test'"):
        spinsc.load_dataset("mnist", "validation")
    with pytest.raises(spinsc.Error, match=str(tmp_path)):
        spinsc.load_dataset("mnist", "test", data_dir=tmp_path)
    with pytest.raises(ValueError):  # spinsc.Error is a ValueError
        spinsc.load_dataset("cifar", "test")


def test_error_is_value_error():
    assert issubclass(spinsc.Error, ValueError)


def test_fashion_mnist():
    try:
        images, labels = spinsc.load_dataset("fashion-mnist", "test")
    except spinsc.Error as e:
        assert "fashion" in str(e)  # names the missing file and what provides it
        return
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
