"""Generated blocks of Markdown files: the text between <!-- NAME:begin --> and <!-- NAME:end -->,
which a script writes from committed results files (and a test checks) so that no figure in the
docs is typed. Shared by readme_results.py, torch_table.py, mpi_table.py, reproduce_profile.py,
sweep_table.py and train_speed_table.py.
"""
import json
import os
import sys
import tempfile


def read_json(path, program):
    """The JSON file `path`, or exit 2 with a message naming `program` and the file."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"{program}: cannot read {path}: {e}", file=sys.stderr)
        sys.exit(2)


def markers(name):
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def render(name, body):
    """The block as it stands in the file: the markers around `body`."""
    begin, end = markers(name)
    return f"{begin}\n{body.rstrip(chr(10))}\n{end}\n"


def update(path, name, body, check=False, source=None):
    """Replace the block NAME of the Markdown file `path` with `body` (atomically), or with
    check=True only compare: exit 1 when the file's block differs. A file without exactly one
    begin marker followed by one end marker is an error (exit 2); the file is then untouched."""
    begin, end = markers(name)
    try:
        text = open(path).read()
    except OSError as e:
        print(f"cannot read '{path}': {e}", file=sys.stderr)
        sys.exit(2)
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        print(f"'{path}': expected one '{begin}' followed by one '{end}'", file=sys.stderr)
        sys.exit(2)
    new = text[:text.index(begin)] + render(name, body).rstrip("\n") + text[text.index(end) + len(end):]
    if check:
        if new != text:
            print(f"the block {name} of '{path}' is not what {source or 'its files'} give", file=sys.stderr)
            sys.exit(1)
        return
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(new)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
