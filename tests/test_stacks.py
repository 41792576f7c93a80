"""The stacks nox tests (noxfile.py) are the ones the requirements declare.

``nox -s lowest`` installs .ci/lowest.txt, which must pin every floor of requirements.txt
and pyproject.toml exactly: a floor raised or lowered in one place and not the other would
leave the lowest stack untested. ``nox -s colab`` installs .ci/colab.txt, which the
requirements must allow.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
from helpers import NOTEBOOKS_DIR
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = NOTEBOOKS_DIR.parent
#: Declared floors the lowest stack leaves free: nbgrader (a dev tool) needs jupyterlab>=4.2.
NOT_PINNED = {"jupyterlab"}


def _lines(path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def _declared() -> dict[str, list[Requirement]]:
    sources = {
        name: [Requirement(line) for line in _lines(ROOT / name)]
        for name in ("requirements.txt", "requirements-deploy.txt")
    }
    if sys.version_info >= (3, 11):
        import tomllib

        with (ROOT / "pyproject.toml").open("rb") as file:
            project = tomllib.load(file)["project"]
        sources["pyproject.toml"] = [Requirement(text) for text in project["dependencies"]]
        extra = project["optional-dependencies"]["deploy"]
        sources["pyproject.toml [deploy]"] = [Requirement(text) for text in extra]
    return sources


def _floor(requirement: Requirement) -> Version | None:
    floors = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
    return max(floors) if floors else None


def _pins(name: str) -> dict[str, str]:
    """Constraints file -> {package: its pinned version or version pattern}."""
    pins = {}
    for line in _lines(ROOT / ".ci" / name):
        requirement = Requirement(line)
        (spec,) = requirement.specifier
        assert spec.operator == "==", line
        pins[canonicalize_name(requirement.name)] = spec.version
    return pins


def test_lowest_stack_pins_every_declared_floor_exactly():
    pins = _pins("lowest.txt")
    for source, requirements in _declared().items():
        for requirement in requirements:
            name = canonicalize_name(requirement.name)
            floor = _floor(requirement)
            if floor is None or name in NOT_PINNED:
                continue
            assert name in pins, f"{source}: {requirement} has a floor that .ci/lowest.txt does not pin"
            assert Version(pins[name]) == floor, (
                f"{source}: {requirement}, but .ci/lowest.txt has {pins[name]}"
            )
    declared = {canonicalize_name(r.name) for requirements in _declared().values() for r in requirements}
    assert set(pins) <= declared, "the lowest stack pins something nothing declares"


def test_requirements_and_pyproject_give_the_same_floors():
    sources = _declared()
    if "pyproject.toml" not in sources:
        pytest.skip("tomllib: Python 3.11")
    for listed, declared in [
        ("requirements.txt", "pyproject.toml"),
        ("requirements-deploy.txt", "pyproject.toml [deploy]"),
    ]:
        floors = {canonicalize_name(r.name): _floor(r) for r in sources[listed]}
        for requirement in sources[declared]:
            assert floors[canonicalize_name(requirement.name)] == _floor(requirement), requirement


def test_the_deploy_extra_and_its_requirements_file_list_the_same_packages():
    sources = _declared()
    if "pyproject.toml [deploy]" not in sources:
        pytest.skip("tomllib: Python 3.11")
    listed = {canonicalize_name(r.name) for r in sources["requirements-deploy.txt"]}
    assert listed == {canonicalize_name(r.name) for r in sources["pyproject.toml [deploy]"]}


def test_colab_stack_is_allowed_by_the_requirements():
    pins = _pins("colab.txt")
    assert {"tensorflow", "keras", "numpy"} <= set(pins)
    for requirement in _declared()["requirements.txt"]:
        name = canonicalize_name(requirement.name)
        if name in pins:
            lowest_match = pins[name].removesuffix(".*")
            assert requirement.specifier.contains(lowest_match), (
                f"{requirement} excludes Colab's {pins[name]}"
            )


def test_nox_has_a_session_for_each_stack():
    spec = importlib.util.spec_from_file_location("noxfile", ROOT / "noxfile.py")
    noxfile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(noxfile)
    assert noxfile.STACKS == {"tests": None, "lowest": ".ci/lowest.txt", "colab": ".ci/colab.txt"}
    for session, constraints in noxfile.STACKS.items():
        assert callable(getattr(noxfile, session))
        assert constraints is None or (ROOT / constraints).is_file()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    assert "\nmake stacks" in ci  # CI runs the extra stacks too ...
    makefile = (ROOT / "Makefile").read_text()
    assert "nox -s lowest" in makefile.split("\nstacks:", 1)[1].split("\n\n", 1)[0]  # ... with nox.
