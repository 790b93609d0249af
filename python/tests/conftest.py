"""Shared fixtures: the command-line program (to compare with), the repository's test model and
small slices of the MNIST test set. CTest sets SPINSC_CLI, SPINSC_DATA and SPINSC_SOURCE_DIR."""
import json
import os
import pathlib
import subprocess

import pytest

import spinsc

SOURCE_DIR = pathlib.Path(os.environ.get("SPINSC_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


@pytest.fixture(scope="session")
def source_dir():
    return SOURCE_DIR


@pytest.fixture(scope="session")
def cli():
    """Runs `spinsc ARGS --json` and returns the parsed output."""
    exe = os.environ.get("SPINSC_CLI", str(SOURCE_DIR / "build" / "release" / "spinsc"))
    if not os.path.exists(exe):
        pytest.fail(f"the spinsc program is needed for comparisons: {exe} (set SPINSC_CLI)")

    def run(*args):
        out = subprocess.run([exe, *map(str, args)], check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    run.exe = exe
    return run


@pytest.fixture(scope="session")
def model_path():
    return SOURCE_DIR / "tests" / "data" / "mlp-v1-784-16-10-k5.safetensors"


@pytest.fixture(scope="session")
def model(model_path):
    return spinsc.load_model(model_path)


@pytest.fixture(scope="session")
def test_set():
    return spinsc.load_dataset("mnist", "test")


@pytest.fixture(scope="session")
def train_set():
    return spinsc.load_dataset("mnist", "train")


@pytest.fixture(scope="session")
def small_test(test_set):
    images, labels = test_set
    return images[:300], labels[:300]
