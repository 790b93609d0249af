"""The Python docs cannot drift from the package: every spinsc.<name> that docs/python.md and the
README's Python paragraph mention exists, every call named in the API tables is a function,
class or method of the package, every Python block compiles, every repository file a shell
command names exists, and the quick commands (python3 -c ..., the blocks marked
<!-- test: run -->) run as written."""
import ast
import builtins
import importlib
import os
import re
import shlex
import subprocess
import sys

import pytest

import spinsc


def _doc(source_dir):
    return (source_dir / "docs" / "python.md").read_text()


def _readme_python(source_dir):
    text = (source_dir / "README.md").read_text()
    start = text.index("**Using spinsc from Python.**")
    end = text.find("\n\n", start)
    return text[start:end]


def _blocks(text, lang):
    """(code, marked_to_run) of every fenced block of a language."""
    out = []
    for m in re.finditer(r"(<!-- test: run -->\s*\n)?```" + lang + r"\n(.*?)```", text, re.S):
        out.append((m.group(2), m.group(1) is not None))
    return out


def _resolve(dotted):
    """The object a dotted name spinsc.a.b names, importing submodules (spinsc.torch) on the way."""
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, p in enumerate(parts[1:], 1):
        if not hasattr(obj, p):
            obj = importlib.import_module(".".join(parts[:i + 1]))
        else:
            obj = getattr(obj, p)
    return obj


def _names(text):
    # spinsc.X.Y not inside a path or a file name (spinsc.pth is the .pth file set-up writes).
    found = set(re.findall(r"(?<![\w/.-])spinsc(?:\.[A-Za-z_]\w*)+", text))
    return sorted(n for n in found if n not in {"spinsc.pth"})


def test_every_dotted_name_exists(source_dir):
    names = _names(_doc(source_dir)) + _names(_readme_python(source_dir))
    assert len(names) > 10
    pytest.importorskip("torch")
    missing = []
    for n in names:
        try:
            _resolve(n)
        except (AttributeError, ImportError):
            missing.append(n)
    assert not missing, f"docs name what the package lacks: {missing}"


def _members():
    """Every public name of the package and of its classes (and of spinsc.torch)."""
    mods = [spinsc]
    try:
        import spinsc.torch as st
        mods.append(st)
    except ImportError:
        pass
    names = set()
    for m in mods:
        for n in dir(m):
            names.add(n)
            obj = getattr(m, n)
            if isinstance(obj, type):
                names.update(dir(obj))
    return names


def test_api_tables_name_real_calls(source_dir):
    pytest.importorskip("torch")
    text = _doc(source_dir)
    members = _members()
    calls = set()
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        for code in re.findall(r"`([^`]+)`", line):
            for m in re.finditer(r"(?<![\w.\"'])([A-Za-z_]\w*)\(", code):
                calls.add(m.group(1))
    assert len(calls) > 30
    missing = sorted(c for c in calls if c not in members and not hasattr(builtins, c))
    assert not missing, f"API tables name calls the package lacks: {missing}"


def test_python_blocks_compile(source_dir):
    blocks = _blocks(_doc(source_dir), "python")
    assert blocks
    for code, _ in blocks:
        ast.parse(code)


def _env(source_dir):
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    return env


def test_marked_python_blocks_run(source_dir, tmp_path):
    pytest.importorskip("torch")
    marked = [code for code, run in _blocks(_doc(source_dir), "python") if run]
    assert marked, "docs/python.md marks at least one block to run"
    for code in marked:
        r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(source_dir), capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, f"docs block failed:\n{code}\n{r.stderr}"


def test_shell_commands(source_dir, tmp_path):
    text = _doc(source_dir) + "\n" + _readme_python(source_dir)
    lines = [l.strip() for code, _ in _blocks(text, "sh") for l in code.splitlines() if l.strip() and not l.startswith("#")]
    lines += re.findall(r"`(/usr/bin/python3 -c [^`]+)`", text)
    assert lines
    ran = 0
    for line in lines:
        words = shlex.split(line.split("#")[0])
        # Every repository file a command names exists.
        for w in words:
            if re.match(r"^(python|examples|scripts|tests|configs|docs)/[\w./-]+$", w):
                assert (source_dir / w).exists(), f"{line}: {w} does not exist"
        if words[:2] == ["/usr/bin/python3", "-c"]:
            r = subprocess.run(words, cwd=tmp_path, env=_env(source_dir), capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, f"{line}: {r.stderr}"
            ran += 1
    assert ran >= 1
