"""Colab and Binder badges and install URLs: written from pyproject.toml's one address."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import NOTEBOOKS_DIR

from tools import badges

ROOT = NOTEBOOKS_DIR.parent
FORK = "https://github.com/a-teacher/fmnist-fork"


def _copy_course(destination: Path, address: str | None = None) -> Path:
    """Copy what make badges reads and writes; optionally point pyproject.toml elsewhere."""
    for folder in ("notebooks", "solutions"):
        (destination / folder).mkdir(parents=True)
        for notebook in (ROOT / folder).glob("[0-9][0-9]_*.ipynb"):
            shutil.copy(notebook, destination / folder / notebook.name)
    shutil.copy(ROOT / "README.md", destination / "README.md")
    pyproject = (ROOT / "pyproject.toml").read_text()
    if address is not None:
        pyproject, count = re.subn(r'(?m)^Repository = ".*"$', f'Repository = "{address}"', pyproject)
        assert count == 1
    (destination / "pyproject.toml").write_text(pyproject)
    return destination


def _first_cell(notebook: Path) -> str:
    return "".join(json.loads(notebook.read_text())["cells"][0]["source"])


def _setup_cell(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return next("".join(c["source"]) for c in cells if "fmnist_utils.setup(" in "".join(c["source"]))


def test_committed_badges_agree_with_pyproject_and_paths():
    assert badges.find_problems(ROOT) == []


@pytest.mark.parametrize("folder", ["notebooks", "solutions"])
def test_every_notebook_has_both_badges_for_its_own_path(folder):
    repository = badges.read_repository(ROOT)
    assert repository.url == "https://github.com/fmnist-course/fashion-mnist-cnn"
    notebooks = sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) == 7
    for notebook in notebooks:
        first = _first_cell(notebook)
        path = f"{folder}/{notebook.name}"
        assert first.startswith("# ")
        assert (
            f"(https://colab.research.google.com/github/fmnist-course/fashion-mnist-cnn/blob/main/{path})"
            in first
        )
        assert (
            f"(https://mybinder.org/v2/gh/fmnist-course/fashion-mnist-cnn/main?urlpath=lab/tree/{path})"
            in first
        )
        setup = _setup_cell(notebook)
        assert 'if "google.colab" in sys.modules:' in setup
        requirement = _requirement(notebook)
        assert (
            f'%pip install --quiet "{requirement} @ git+https://github.com/fmnist-course/fashion-mnist-cnn"'
            in setup
        )


def _requirement(notebook) -> str:
    """What the notebook's Setup cell installs on Colab: notebook 06 adds the deploy extra."""
    return "fmnist_utils[deploy]" if notebook.name.startswith("06_") else "fmnist_utils"


def test_readme_binder_badge_opens_the_landing_notebook():
    readme = (ROOT / "README.md").read_text()
    assert (
        "(https://mybinder.org/v2/gh/fmnist-course/fashion-mnist-cnn/main"
        "?urlpath=lab/tree/notebooks/00_getting_started.ipynb)" in readme
    )
    assert (ROOT / badges.LANDING_NOTEBOOK).is_file()


def test_make_badges_points_everything_at_a_fork(tmp_path):
    course = _copy_course(tmp_path / "course", FORK)
    problems = badges.find_problems(course)
    assert any(problem.startswith("README.md:") for problem in problems)
    for notebook in (course / "notebooks").glob("*.ipynb"):
        assert any(
            problem.startswith(f"notebooks/{notebook.name}: its first cell lacks") for problem in problems
        )

    changed = badges.update_badges(course)
    assert len(changed) == 15  # Seven exercise versions, seven solutions and the README.
    assert badges.find_problems(course) == []
    assert badges.update_badges(course) == []  # A second run changes nothing.
    for path in [course / "README.md", *(course / "notebooks").glob("*.ipynb")]:
        assert "fmnist-course/fashion-mnist-cnn" not in path.read_text(), path.name
    for notebook in (course / "notebooks").glob("*.ipynb"):
        colab = "https://colab.research.google.com/github/a-teacher/fmnist-fork/blob/main/notebooks/"
        assert f"({colab}{notebook.name})" in _first_cell(notebook)
        assert f'"{_requirement(notebook)} @ git+{FORK}"' in _setup_cell(notebook)
        # Only the badge and install lines changed: every cell's outputs are as they were.
        before = json.loads((NOTEBOOKS_DIR / notebook.name).read_text())
        after = json.loads(notebook.read_text())
        assert [c.get("outputs") for c in after["cells"]] == [c.get("outputs") for c in before["cells"]]
    readme = (course / "README.md").read_text()
    assert (
        "https://mybinder.org/v2/gh/a-teacher/fmnist-fork/main?urlpath=lab/tree/notebooks/00_getting_started.ipynb"
        in readme
    )


def test_another_branch(tmp_path):
    course = _copy_course(tmp_path / "course")
    badges.update_badges(course, branch="spring-2027")
    assert badges.find_problems(course, branch="spring-2027") == []
    assert "/blob/spring-2027/notebooks/03_training.ipynb" in _first_cell(
        course / "notebooks" / "03_training.ipynb"
    )
    assert badges.find_problems(course)  # Against main they now disagree.


def test_a_badge_for_the_wrong_notebook_is_caught_and_mended(tmp_path):
    course = _copy_course(tmp_path / "course")
    notebook = course / "notebooks" / "02_building_a_cnn.ipynb"
    content = json.loads(notebook.read_text())
    first = "".join(content["cells"][0]["source"]).replace(
        "02_building_a_cnn", "01_data_exploration_and_preprocessing"
    )
    content["cells"][0]["source"] = first.splitlines(keepends=True)
    notebook.write_text(json.dumps(content, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    problems = badges.find_problems(course)
    assert any(p.startswith("notebooks/02_building_a_cnn.ipynb: its first cell lacks") for p in problems)
    assert badges.update_badges(course) == [notebook]
    assert badges.find_problems(course) == []


def test_readme_row_with_the_wrong_notebook_path_is_caught(tmp_path):
    course = _copy_course(tmp_path / "course")
    readme = course / "README.md"
    text = readme.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| [03 Training]"))
    readme.write_text(
        text.replace(row, row.replace("blob/main/notebooks/03_training", "blob/main/notebooks/04_training"))
    )
    problems = badges.find_problems(course)
    assert (
        "README.md: a Colab link opens notebooks/04_training.ipynb, which is not in the repository"
        in problems
    )
    badges.update_badges(course)
    assert badges.find_problems(course) == []
    assert row in readme.read_text()


def test_a_notebook_without_badges_gets_them_under_its_title(tmp_path):
    course = _copy_course(tmp_path / "course")
    notebook = course / "notebooks" / "00_getting_started.ipynb"
    content = json.loads(notebook.read_text())
    lines = "".join(content["cells"][0]["source"]).split("\n")
    content["cells"][0]["source"] = "\n".join(line for line in lines if "Open In Colab" not in line)
    notebook.write_text(json.dumps(content))
    badges.update_badges(course)
    first = _first_cell(notebook)
    assert first.startswith("# 00 · Getting started\n\n[![Open In Colab](")
    assert first.count("Open In Colab") == 1
    assert badges.find_problems(course) == []


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("https://gitlab.com/someone/course", "is not a GitHub address"),
        ("https://github.com/only-owner", "is not a GitHub address"),
        ("", "has no \\[project.urls\\] Repository entry"),
    ],
)
def test_bad_address_is_refused_and_nothing_changes(tmp_path, address, message):
    course = _copy_course(tmp_path / "course", address)
    before = {path: path.read_bytes() for path in course.rglob("*") if path.is_file()}
    with pytest.raises(ValueError, match=message):
        badges.update_badges(course)
    assert {path: path.read_bytes() for path in course.rglob("*") if path.is_file()} == before


def test_address_with_dot_git_and_bad_branch():
    assert (
        badges.Repository("o", "n").colab_url("a.ipynb")
        == "https://colab.research.google.com/github/o/n/blob/main/a.ipynb"
    )
    with pytest.raises(ValueError, match="not a plain branch name"):
        badges.read_repository(ROOT, branch="main?x=1")


def test_command_line_check_and_rewrite(tmp_path):
    course = _copy_course(tmp_path / "course", FORK + ".git")
    command = [sys.executable, str(ROOT / "tools" / "badges.py")]
    check = subprocess.run([*command, "--check"], cwd=course, capture_output=True, text=True, check=False)
    assert check.returncode == 1
    assert f"badge problems ({FORK}, branch main)" in check.stdout
    rewrite = subprocess.run(command, cwd=course, capture_output=True, text=True, check=False)
    assert rewrite.returncode == 0, rewrite.stderr
    assert f"15 files changed; badges and install URLs point at {FORK} (branch main)" in rewrite.stdout
    check = subprocess.run([*command, "--check"], cwd=course, capture_output=True, text=True, check=False)
    assert check.returncode == 0
    assert check.stdout.strip() == f"0 badge problems ({FORK}, branch main)"


def test_makefile_has_a_badges_target():
    dry_run = subprocess.run(
        ["make", "-n", "badges", "BRANCH=fall"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert "tools/badges.py --branch fall" in dry_run.stdout
