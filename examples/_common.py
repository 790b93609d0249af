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


def pyplot():
    """matplotlib.pyplot with the file-only Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path):
    write_atomic(path, lambda p: fig.savefig(p, format="png", dpi=120))
