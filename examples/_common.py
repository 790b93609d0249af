"""Helpers shared by the example scripts: atomic output files and headless matplotlib."""
import os
import pathlib
import tempfile


def write_atomic(path, write):
    """Call write(tmp_path) on a temporary file beside `path`, then rename it over `path`, so a
    reader never sees a partial file."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_mnist(limit=0, test_limit=0):
    """((images, labels), (test_images, test_labels)) of MNIST, the first `limit` training and
    `test_limit` test images (0: all)."""
    import spinsc
    train = spinsc.load_dataset("mnist", "train")
    test = spinsc.load_dataset("mnist", "test")
    if limit:
        train = (train[0][:limit], train[1][:limit])
    if test_limit:
        test = (test[0][:test_limit], test[1][:test_limit])
    return train, test


def pyplot():
    """matplotlib.pyplot with the file-only Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path):
    write_atomic(path, lambda p: fig.savefig(p, format="png", dpi=120))


def plot_accuracy_vs_length(path, curves, title, digital=None):
    """Accuracy (%) against L on a log axis: curves is a list of (label, rows) with rows dicts of
    length, accuracy and std (error bars); digital, if given, a dashed reference line."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, rows in curves:
        ax.errorbar([r["length"] for r in rows], [100 * r["accuracy"] for r in rows],
                    yerr=[100 * r["std"] for r in rows], marker="o", capsize=3, label=label)
    if digital is not None:
        ax.axhline(100 * digital, color="gray", ls="--", label="digital")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("stream length L")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
