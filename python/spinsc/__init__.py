"""spinsc: quantized stochastic-computing neural networks driven by stochastic MTJs.

The Python face of the spinsc C++ library (docs/python.md). numpy arrays go in and come out:
images are uint8 pixel bytes (the model input is byte / 255), bitstreams are bool arrays, weights
are float32 arrays shaped (out, in). Bad input raises spinsc.Error (a ValueError) with the
library's message. Long calls (training epochs, evaluations) release the GIL. The same seed gives
the same result as the command-line program `spinsc`, on any thread count.

Overview
  data        load_dataset(name, split, data_dir) -> (images, labels)
  networks    Network, load_model, save_model, parse_architecture, to_string, Architecture
  training    train(images, labels, **config) -> Network; Trainer for epoch-by-epoch control
  SC          sc_accuracy(network, images, labels, length=..., ...) -> dict; ScEngine;
              ScNoiseModel (the moment-matched SC noise variance of training mode "sc")
  devices     Device (telegraph s-MTJ: p(I), bias for p, dwell times, streams, variation),
              reference_device, load_device
  sources     make_source("ideal" | "lfsr[:n]" | "sobol" | "smtj[:dev.json]" | "trace:DIR")
  traces      Trace, read_trace, write_trace, load_trace_library, import_traces, calibrate,
              autocorrelation
  cost        cost_report(model=... | arch=..., length=..., ...) -> dict
  PyTorch     the submodule spinsc.torch (import spinsc.torch; needs python3-torch): networks
              as torch modules, SC inference as a module, training with SC noise in torch

Example
  >>> import spinsc
  >>> images, labels = spinsc.load_dataset("mnist", "train")
  >>> net = spinsc.train(images[:5000], labels[:5000], arch="784,128,10", states=5, epochs=2)
  >>> test_images, test_labels = spinsc.load_dataset("mnist", "test")
  >>> net.accuracy(test_images, test_labels)
  >>> spinsc.sc_accuracy(net, test_images, test_labels, length=100, source="smtj", repeats=3)
"""

from . import _spinsc
from ._spinsc import (
    Architecture,
    BitSource,
    Calibration,
    Device,
    Error,
    Network,
    ScEngine,
    ScNoiseModel,
    Trace,
    Trainer,
    architecture_from_json,
    autocorrelation,
    calibrate,
    cost_report,
    default_data_dir,
    import_traces,
    load_dataset,
    load_device,
    load_model,
    load_trace_library,
    make_source,
    parse_architecture,
    read_trace,
    reference_device,
    save_model,
    to_string,
    write_trace,
)

__version__ = "0.1.0"

__all__ = [
    "Architecture",
    "BitSource",
    "Calibration",
    "Device",
    "Error",
    "Network",
    "ScEngine",
    "ScNoiseModel",
    "Trace",
    "Trainer",
    "architecture_from_json",
    "autocorrelation",
    "calibrate",
    "cost_report",
    "default_data_dir",
    "import_traces",
    "load_dataset",
    "load_device",
    "load_model",
    "load_trace_library",
    "make_source",
    "parse_architecture",
    "read_trace",
    "reference_device",
    "save_model",
    "sc_accuracy",
    "to_string",
    "train",
    "write_trace",
]


def train(images, labels, *, on_epoch=None, on_step=None, **config):
    """Train a network on uint8 images (N, 28, 28) and labels (N,); returns the Network.

    config: the keywords of Trainer (arch, states, mode, epochs, batch, lr, optimizer, momentum,
    schedule, weight_decay, val, shift, seed, threads, dataset, length, source, exact_bits,
    variance_gradient, init, multiply, accumulate), with the defaults of `spinsc train`.

    on_epoch(report) is called after every epoch with the epoch's report (a dict: epoch, loss,
    train_accuracy, val_accuracy, seconds, threads, lr); if it returns False, training stops
    there. on_step(step, steps, loss, accuracy) is called after every minibatch.

    The same settings and seed give the same network as `spinsc train`, on any thread count.
    """
    trainer = Trainer(images, labels, **config)
    while not trainer.done:
        report = trainer.run_epoch(on_step)
        if on_epoch is not None and on_epoch(report) is False:
            break
    return trainer.network()


def sc_accuracy(network, images, labels, *, length=100, source="smtj", multiply="signmag",
                accumulate="apc", sharing="independent", analog=False, exact_bits=False,
                repeats=1, seed=1, threads=0, progress=None):
    """Accuracy of `network` run as a stochastic computer on uint8 images and labels.

    length is the stream length L; source a spec string or a BitSource; multiply "signmag" or
    "bipolar"; accumulate "apc" or "mux"; sharing "independent", "per-level" or
    "independent-all"; analog runs the unquantized baseline; exact_bits=False uses the binomial
    shortcut where it is exact in distribution. Returns the evaluation record of docs/results.md as a dict:
    accuracy_mean, accuracy_std, accuracy_ci95, accuracy_per_repeat, images, repeats, seconds,
    weight_streams, synapses, digital_accuracy and the configuration (length, source, ...), the same numbers as `spinsc eval --model M --sc-length L --json` for the same settings and
    seed. progress, when given, is called as progress(task, done, total) while it runs (for
    example a tqdm bar's update); see ScEngine.accuracy. See ScEngine for per-layer counters of
    one image.
    """
    engine = ScEngine(network, length=length, source=source, multiply=multiply,
                      accumulate=accumulate, sharing=sharing, analog=analog,
                      exact_bits=exact_bits, seed=seed)
    return engine.accuracy(images, labels, repeats=repeats, threads=threads, progress=progress)


# The compiled objects report the package as their home, so that help() and repr() name
# spinsc.X rather than the private extension module.
for _name in __all__:
    _obj = globals()[_name]
    try:
        _obj.__module__ = __name__
    except (AttributeError, TypeError):
        pass
del _name, _obj
