"""Builds the extension module spinsc._spinsc with the project's CMake (target spinsc_python)
and installs it with the package's Python files (pyproject.toml holds the metadata).

The CMake build goes to build/pip, or to $SPINSC_BUILD_DIR (for instance build/release, to reuse
a build that is already there)."""
import os
import pathlib
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = pathlib.Path(os.environ.get("SPINSC_BUILD_DIR", ROOT / "build" / "pip")).resolve()
        if not (build_dir / "CMakeCache.txt").exists():
            subprocess.check_call(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja",
                                   "-DCMAKE_BUILD_TYPE=Release", "-DSPINSC_BUILD_TESTS=OFF", "-DSPINSC_BUILD_BENCH=OFF",
                                   "-DSPINSC_BUILD_PYTHON=ON", f"-DPython_EXECUTABLE={sys.executable}"])
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "spinsc_python"])
        built = build_dir / "python" / "spinsc" / pathlib.Path(self.get_ext_filename(ext.name)).name
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)


setup(ext_modules=[Extension("spinsc._spinsc", sources=[])], cmdclass={"build_ext": CMakeBuild})
