"""Binder and Colab: the configuration each reads, checked without either service."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import NOTEBOOKS_DIR
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = NOTEBOOKS_DIR.parent
BINDER = ROOT / "binder"
#: What Colab ships in 2026 (the course must install on top of it without replacing it).
COLAB_PYTHON, COLAB_TENSORFLOW, COLAB_KERAS = "3.13", "2.20.0", "3.13.0"


def _requirements(path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def _pyproject() -> dict:
    import tomllib

    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def test_binder_pins_python_311_and_installs_the_requirements_and_the_package():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    lines = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()]
    assert "-r ../requirements.txt" in lines  # The one list of requirements.
    assert "-e ." in lines  # The package (repo2docker runs pip in the repository root).


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib")
def test_binder_requirements_resolve_from_the_repository_root():
    """pip, run where repo2docker runs it, finds the course's requirements and the package."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-index",  # Offline: everything must already be installed here, except the package.
            "--no-build-isolation",
            "-r",
            "binder/requirements.txt",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^Would install fmnist[-_]utils-", result.stdout, re.MULTILINE), result.stdout
    for requirement in _requirements(ROOT / "requirements.txt"):
        assert re.search(
            rf"Requirement already satisfied: {re.escape(requirement.name)}\b", result.stdout, re.IGNORECASE
        ), requirement.name


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib")
def test_nothing_pins_a_tensorflow_colab_does_not_have():
    project = _pyproject()["project"]
    assert SpecifierSet(project["requires-python"]).contains(COLAB_PYTHON)
    sources = {
        "pyproject.toml": [Requirement(text) for text in project["dependencies"]],
        "requirements.txt": _requirements(ROOT / "requirements.txt"),
        "requirements-dev.txt": _requirements(ROOT / "requirements-dev.txt"),
        "binder/requirements.txt": _requirements(BINDER / "requirements.txt"),
    }
    colab = {"tensorflow": COLAB_TENSORFLOW, "keras": COLAB_KERAS}
    for source, requirements in sources.items():
        for requirement in requirements:
            assert not any(spec.operator in ("==", "===") for spec in requirement.specifier), (
                f"{source} pins {requirement}: use a range"
            )
            if requirement.name in colab:
                assert requirement.specifier.contains(colab[requirement.name]), f"{source}: {requirement}"
    names = {requirement.name for requirement in sources["pyproject.toml"]}
    assert {"tensorflow", "keras", "keras-tuner"} <= names  # A Colab install gets all it needs.
    assert "tensorboard" in {requirement.name for requirement in sources["requirements.txt"]}


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.name)
def test_setup_cell_installs_the_package_on_colab_only(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    setup_cells = [
        c for c in cells if c["cell_type"] == "code" and "fmnist_utils.setup(" in "".join(c["source"])
    ]
    assert len(setup_cells) == 1, "exactly one Setup cell"
    lines = "".join(setup_cells[0]["source"]).splitlines()
    pip_lines = [index for index, line in enumerate(lines) if "%pip install" in line]
    assert len(pip_lines) == 1
    # The install is the body of the Colab test, indented under it; nothing else installs.
    assert (
        lines[pip_lines[0] - 1]
        == 'if "google.colab" in sys.modules:  # On Colab only: install the course\'s helper package.'
    )
    assert lines[pip_lines[0]].startswith("    %pip install --quiet ")
    everything_else = [c for c in cells if c is not setup_cells[0]]
    assert not any(re.search(r"^\s*[!%]pip", "".join(c["source"]), re.MULTILINE) for c in everything_else)
    assert not any("/content/drive" in "".join(c["source"]) for c in cells)


def test_readme_covers_launching_offline_data_and_troubleshooting():
    readme = (ROOT / "README.md").read_text()
    for expected in [
        "[![Binder](https://mybinder.org/badge_logo.svg)]",
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]",
        "make lab",
        "make test",
        "make badges",
        "make data",
        "python -m fmnist_utils download",
        "FMNIST_DATA_DIR",
        "## Troubleshooting",
    ]:
        assert expected in readme, expected
    troubleshooting = readme.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    for problem in ["No internet", "too old", "Out of memory on Binder", "Slow"]:
        assert problem in troubleshooting, problem


def test_binder_postbuild_swaps_in_the_cpu_build_of_the_same_tensorflow(tmp_path):
    """Run binder/postBuild with a stand-in ``python`` that records what it is asked to do."""
    postbuild = BINDER / "postBuild"
    assert postbuild.stat().st_mode & 0o111, "postBuild must be executable"
    log = tmp_path / "calls.log"
    fake = tmp_path / "bin" / "python"
    fake.parent.mkdir()
    fake.write_text(
        f'#!/bin/bash\necho "$*" >> "{log}"\nif [[ "$*" == *importlib.metadata* ]]; then echo 2.21.0; fi\n'
    )
    fake.chmod(0o755)
    result = subprocess.run(
        ["bash", str(postbuild)],
        cwd=ROOT,
        env={"PATH": f"{fake.parent}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls[1] == "-m pip uninstall --yes tensorflow"
    assert calls[2] == "-m pip install --no-cache-dir --no-deps tensorflow-cpu==2.21.0"
    assert len(calls) == 4  # The last one prints the version Binder got.


def test_make_kernel_registers_the_kernel_the_readme_names(tmp_path):
    """README tells a student whose kernel lacks the course's packages which kernel to pick."""
    env = {**os.environ, "JUPYTER_DATA_DIR": str(tmp_path)}
    result = subprocess.run(["make", "-s", "kernel"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    spec = json.loads((tmp_path / "kernels/fmnist-course/kernel.json").read_text())
    assert spec["display_name"] in (ROOT / "README.md").read_text()
    assert Path(spec["argv"][0]).parent == Path(sys.executable).parent  # make test's VENV: .venv, or nox's.


def test_the_wheel_colab_installs_holds_every_module_of_the_package(tmp_path):
    """Colab's Setup cell and the classroom install a built wheel, not the folder: nothing may be left
    out of it (fmnist_utils.checks once was, and every exercise's check failed with an ImportError)."""
    source = tmp_path / "source"
    skipped = shutil.ignore_patterns(".*", "*.egg-info", "build", "__pycache__", "notebooks", "solutions")
    shutil.copytree(ROOT, source, ignore=skipped)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet"]
    completed = subprocess.run(
        [*command, "-w", tmp_path, source], capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    (wheel,) = tmp_path.glob("fmnist_utils-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = {name for name in archive.namelist() if name.endswith(".py")}
    modules = {path.relative_to(ROOT).as_posix() for path in (ROOT / "fmnist_utils").rglob("*.py")}
    assert modules - packed == set()
    assert "fmnist_utils/checks/notebook_00.py" in packed
