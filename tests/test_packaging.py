"""The sdist and the wheel hold every module of the package, with its license and type marker.

`python -m build` makes the sdist and then the wheel from that sdist, as pip does for a user, so
a file missing from the sdist also goes missing from the wheel. (CI additionally installs the
wheel into a fresh venv and trains with it: `.ci/wheel_check`.)
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import tarfile
import zipfile

import pytest
from packaging.requirements import Requirement

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def source_modules() -> set[str]:
    """Every .py file that must be installed, as its path inside the installed package."""
    modules = set()
    for folder, installed_as in (("tritongrad", "tritongrad"), ("kernels", "tritongrad/kernels")):
        for directory, subdirectories, files in os.walk(os.path.join(ROOT, folder)):
            subdirectories[:] = [name for name in subdirectories if name != "__pycache__"]
            relative = os.path.relpath(directory, os.path.join(ROOT, folder))
            for name in files:
                if name.endswith(".py") or name == "py.typed":
                    path = os.path.normpath(os.path.join(installed_as, relative, name))
                    modules.add(path)
    return modules


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    completed = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), ROOT],
        capture_output=True, text=True,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    (wheel,) = out.glob("tritongrad-*.whl")
    (sdist,) = out.glob("tritongrad-*.tar.gz")
    return wheel, sdist


def test_wheel_holds_every_module(built):
    wheel, _ = built
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = source_modules() - names
    assert not missing, f"the wheel lacks {sorted(missing)}"
    assert not any(name.startswith("kernels/") for name in names), "kernels/ must install as tritongrad.kernels"


def test_wheel_metadata_names_license_and_dependencies(built):
    wheel, _ = built
    with zipfile.ZipFile(wheel) as archive:
        (metadata_name,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(metadata_name))
        assert any(name.endswith(".dist-info/licenses/LICENSE") for name in archive.namelist())
    assert metadata["License-Expression"] == "MIT"
    requirements = [Requirement(line) for line in metadata.get_all("Requires-Dist")]
    runtime = {r.name: r.specifier for r in requirements if r.marker is None}
    for package in ("torch", "triton", "numpy"):
        floors = [spec for spec in runtime.get(package, ()) if spec.operator == ">="]
        assert floors, f"{package} has no floor among the runtime requirements {runtime}"


def test_sdist_holds_every_source_file(built):
    _, sdist = built
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    expected = {path.replace("tritongrad/kernels/", "kernels/", 1) for path in source_modules()}
    expected |= {"LICENSE", "README.md", "pyproject.toml", "setup.py"}
    missing = expected - names
    assert not missing, f"the sdist lacks {sorted(missing)}"
