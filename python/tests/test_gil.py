"""Long calls release the GIL: another Python thread keeps running while they compute."""
import threading
import time

import numpy as np

import spinsc


def runs_meanwhile(call):
    """True when the main thread ran Python code in the middle third of `call` on a worker."""
    span = {}

    def worker():
        span["start"] = time.perf_counter()
        call()
        span["end"] = time.perf_counter()

    ticks = []
    t = threading.Thread(target=worker)
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    t.join()
    third = (span["end"] - span["start"]) / 3
    return any(span["start"] + third < x < span["end"] - third for x in ticks)


def test_evaluation_releases_the_gil(model, test_set):
    images, labels = test_set
    assert runs_meanwhile(lambda: spinsc.sc_accuracy(model, images[:3000], labels[:3000], length=256, exact_bits=True))


def test_training_releases_the_gil(train_set):
    images, labels = train_set
    trainer = spinsc.Trainer(images[:6000], labels[:6000], arch="784,64,10", epochs=1)
    assert runs_meanwhile(trainer.run_epoch)


def test_batch_outputs_and_noise_variance_release_the_gil(model, test_set):
    images, _ = test_set
    engine = spinsc.ScEngine(model, length=256, exact_bits=True)
    assert runs_meanwhile(lambda: engine.outputs(images[:2000]))
    x = np.random.default_rng(1).random((4000, 784), dtype=np.float32)
    w = (np.random.default_rng(2).integers(-2, 3, (128, 784)) * 0.25).astype(np.float32)
    noise = spinsc.ScNoiseModel("smtj", 16, 5)
    assert runs_meanwhile(lambda: noise.variance(x, w, 0.5))
