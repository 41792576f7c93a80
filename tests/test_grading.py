"""The instructor's round trip, as INSTRUCTORS.md tells it, through the Makefile with the venv
*not* on PATH: `make assignment` (nbgrader generate_assignment), submissions with right, wrong
and unanswered exercises, `make autograde`, `make grades` (nbgrader export); then the exact
scores, from the gradebook and from the CSV. And the handouts of `make student`, run as a
student runs them before answering: every graded check says "no answer yet", none says
"correct." and none raises NameError.

Both run notebooks 00 and 01 in quick mode on the real data (about a minute together).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import NOTEBOOKS_DIR
from nbclient import NotebookClient

from tools.student import write_student_versions

ROOT = NOTEBOOKS_DIR.parent
NOTEBOOKS = [
    NOTEBOOKS_DIR / "00_getting_started.ipynb",
    NOTEBOOKS_DIR / "01_data_exploration_and_preprocessing.ipynb",
]
BIN = Path(sys.executable).parent

#: What a student hands in: the answer cell's new source, by grade_id (the rest stays a stub).
ALICE = {
    "00_getting_started": {
        "exercise_00_1": "sneaker_count = int(np.sum(test_labels[:100] == 7))",
        # Swapped: the check's hint names it.
        "exercise_00_3": (
            "ink = [train_images[train_labels == label].mean() for label in range(num_classes)]\n"
            "most_ink_class = data.CLASS_NAMES[int(np.argmin(ink))]\n"
            "least_ink_class = data.CLASS_NAMES[int(np.argmax(ink))]"
        ),
    },
    "01_data_exploration_and_preprocessing": {
        "exercise_01_1": (
            "background_share = np.array([np.mean(train_images[train_labels == label] == 0)\n"
            "                             for label in range(num_classes)])"
        ),
        # The wrong answer: a 0.2 split of the lesson's training part, not of all the images.
        "exercise_01_2": (
            "(split_train_images, _), (split_validation_images, split_validation_labels) = (\n"
            "    data.train_validation_split(train_images, train_labels, validation_size=0.2, seed=7))"
        ),
        "exercise_01_4": "# Rotations up to about 10 degrees still look like photos of clothes.",
    },
}
#: Fools the visible check; the hidden test catches it.
BOB = {
    "00_getting_started": {
        "exercise_00_1": (
            "sneaker_count = 1000\n"
            "checks.exercise_00_1 = lambda *args: checks.CheckResult('00.1', True, 'Exercise 00.1: correct.')"
        ),
    },
}
#: The gradebook after autograding: score of every graded cell (None: waits for a manual grade).
EXPECTED = {
    "alice": {
        "00_getting_started": {"check_00_1": 2, "exercise_00_2": 0, "check_00_3": 0},
        "01_data_exploration_and_preprocessing": {
            "check_01_1": 2,
            "check_01_2": 0,
            "check_01_3": 0,
            "exercise_01_4": None,
        },
    },
    "bob": {
        "00_getting_started": {"check_00_1": 0, "exercise_00_2": 0, "check_00_3": 0},
        "01_data_exploration_and_preprocessing": {
            "check_01_1": 0,
            "check_01_2": 0,
            "check_01_3": 0,
            "exercise_01_4": 0,
        },
    },
}


def make(target: str, course: Path, data_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run a Makefile target as an instructor would, without the venv on PATH."""
    environment = {
        "HOME": os.environ.get("HOME", "/root"),
        "PATH": os.pathsep.join(path for path in os.environ["PATH"].split(os.pathsep) if Path(path) != BIN),
        "FMNIST_DATA_DIR": str(data_dir),
        "FMNIST_QUICK": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    notebooks = " ".join(str(path) for path in NOTEBOOKS)
    completed = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(ROOT),
            target,
            f"COURSE_DIR={course}",
            f"NOTEBOOKS={notebooks}",
            *extra,
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed


def hand_in(course: Path, student: str, answers: dict[str, dict[str, str]]) -> None:
    """Copy the released notebooks to course/submitted/STUDENT/fmnist/ with these answers."""
    folder = course / "submitted" / student / "fmnist"
    folder.mkdir(parents=True)
    for name, cells in answers.items():
        notebook = nbformat.read(course / "release" / "fmnist" / f"{name}.ipynb", as_version=4)
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in cells:
                cell.source = cells.pop(grade_id)
        assert not cells, f"no such answer cells: {sorted(cells)}"
        nbformat.write(notebook, folder / f"{name}.ipynb")


def errors(notebook: nbformat.NotebookNode | Path) -> dict[str | None, str]:
    """``{grade_id: "Ename: message"}`` of the cells that failed in an executed notebook (``None``:
    a cell without a grade_id, a lesson's cell)."""
    if isinstance(notebook, Path):
        notebook = nbformat.read(notebook, as_version=4)
    found = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found[grade_id] = f"{output.ename}: {output.evalue}"
    return found


def test_nbgrader_round_trip_gives_the_exact_scores(tmp_path, real_data_dir):
    if not (BIN / "nbgrader").exists():
        pytest.skip("nbgrader is not installed: pip install -r requirements-dev.txt")
    course = tmp_path / "course"
    make("assignment", course, real_data_dir)
    released = course / "release" / "fmnist"
    assert sorted(path.name for path in released.glob("*.ipynb")) == [path.name for path in NOTEBOOKS]
    for path in released.glob("*.ipynb"):
        text = path.read_text()
        assert "HIDDEN TESTS" not in text, path.name
        assert "BEGIN SOLUTION" not in text, path.name
        assert "Exercise 00.1: correct." not in text

    hand_in(course, "alice", ALICE)
    hand_in(course, "bob", BOB)
    make("autograde", course, real_data_dir)
    make("grades", course, real_data_dir)

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student, notebooks in EXPECTED.items():
            submission = gradebook.find_submission("fmnist", student)
            for notebook in submission.notebooks:
                grades = {grade.name: grade for grade in notebook.grades}
                expected = notebooks[notebook.name]
                assert sorted(grades) == sorted(expected), (student, notebook.name)
                for name, score in expected.items():
                    grade = grades[name]
                    assert grade.max_score == 2, (student, name)
                    if score is None:
                        assert grade.needs_manual_grade, (student, name)
                    else:
                        assert not grade.needs_manual_grade, (student, name)
                        assert grade.auto_score == score, (student, name, grade.auto_score)

    with open(course / "grades.csv", newline="") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    assert {student: float(rows[student]["score"]) for student in rows} == {"alice": 4.0, "bob": 0.0}
    assert {float(row["max_score"]) for row in rows.values()} == {14.0}  # 6 in notebook 00 + 8 in 01.

    # A failing graded cell shows the self-check's hint; a fooled check is caught by the hidden test.
    alice = errors(course / "autograded" / "alice" / "fmnist" / "00_getting_started.ipynb")
    assert alice["check_00_3"].startswith("AssertionError: Exercise 00.3: not yet. Hint: the two are swapped")
    assert "check_00_1" not in alice
    alice_01 = errors(
        course / "autograded" / "alice" / "fmnist" / "01_data_exploration_and_preprocessing.ipynb"
    )
    assert "left after the lesson's split" in alice_01["check_01_2"]
    assert alice_01["check_01_3"] == (
        "AssertionError: Exercise 01.3: no answer yet. Store your answer in `validation_one_hot`."
    )
    bob = errors(course / "autograded" / "bob" / "fmnist" / "00_getting_started.ipynb")
    assert bob["check_00_1"] == "AssertionError: "  # The hidden test: no hint to give away.


def test_handouts_run_to_no_answer_yet(tmp_path, real_data_dir, monkeypatch):
    """What a student sees running a handout from `make student` before answering anything."""
    handout = tmp_path / "handout"
    written = write_student_versions(NOTEBOOKS[0], handout, sources=NOTEBOOKS[1:])
    monkeypatch.setenv("FMNIST_DATA_DIR", str(real_data_dir))
    monkeypatch.setenv("FMNIST_QUICK", "1")
    for path in written:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if "check" in cell.metadata.get("tags", []) and cell.metadata.get("nbgrader", {}).get("grade"):
                assert cell.outputs == [], "a graded check shows an output before the student answered"
        NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": handout}},
        ).execute()
        failures = errors(notebook)
        checks = {name: error for name, error in failures.items() if name and name.startswith("check_")}
        stubs = {name: error for name, error in failures.items() if name and name.startswith("exercise_")}
        assert checks, path.name
        for name, error in checks.items():
            assert error.startswith("AssertionError: "), (path.name, name, error)
            assert "no answer yet. Store your answer in `" in error, (path.name, name, error)
        assert all(error.startswith("NotImplementedError") for error in stubs.values()), stubs
        assert None not in failures, failures.get(None)  # The lessons' own cells run clean.
        outputs = "".join(str(output) for cell in notebook.cells for output in cell.get("outputs", []))
        assert "NameError" not in outputs, path.name
        assert not re.search(r"Exercise \d\d\.\d: correct\.", outputs), path.name


def test_notebook_06_round_trip_grades_its_check_and_leaves_the_rest_to_the_instructor(
    tmp_path, real_data_dir
):
    """Notebook 06 released, answered right and wrong, autograded (it needs the deploy extra)."""
    if not (BIN / "nbgrader").exists():
        pytest.skip("nbgrader is not installed: pip install -r requirements-dev.txt")
    pytest.importorskip("gradio", reason="the deploy extra is not installed: pip install -e '.[deploy]'")
    course, notebook = tmp_path / "course", NOTEBOOKS_DIR / "06_from_notebook_to_app.ipynb"
    make("assignment", course, real_data_dir, f"NOTEBOOKS={notebook}")
    right = "size_ratio = table.loc['LiteRT float32', 'size (MB)'] / table.loc['LiteRT int8', 'size (MB)']"
    inverted = "size_ratio = table.loc['LiteRT int8', 'size (MB)'] / table.loc['LiteRT float32', 'size (MB)']"
    hand_in(course, "carol", {notebook.stem: {"exercise_06_1": right, "exercise_06_3": "# My photo: ..."}})
    hand_in(course, "dan", {notebook.stem: {"exercise_06_1": inverted}})
    make("autograde", course, real_data_dir, f"NOTEBOOKS={notebook}")

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student, score in [("carol", 2), ("dan", 0)]:
            (graded,) = gradebook.find_submission("fmnist", student).notebooks
            grades = {grade.name: grade for grade in graded.grades}
            assert sorted(grades) == ["check_06_1", "exercise_06_2", "exercise_06_3"]
            assert grades["check_06_1"].auto_score == score, student
            # nbgrader scores an untouched open-ended answer 0 itself; an answer waits for the instructor.
            assert not grades["exercise_06_2"].needs_manual_grade
            assert grades["exercise_06_2"].auto_score == 0
            assert grades["exercise_06_3"].needs_manual_grade == (student == "carol"), student
    dan = errors(course / "autograded" / "dan" / "fmnist" / f"{notebook.name}")
    assert dan["check_06_1"].startswith("AssertionError: Exercise 06.1: not yet. Hint: that is int8 / float")
    assert set(errors(course / "autograded" / "carol" / "fmnist" / f"{notebook.name}")) <= {"exercise_06_2"}
