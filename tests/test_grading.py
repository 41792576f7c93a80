"""The instructor's round trip, as INSTRUCTORS.md tells it, through the Makefile with the venv
*not* on PATH: `make assignment` (nbgrader generate_assignment), submissions with right, wrong
and unanswered exercises, `make autograde`, `make grades` (nbgrader export); then the exact
scores, from the gradebook and from the CSVs; a read-only cell edited, a late submission graded
alone, feedback without hidden tests, each submission in its own work folder. And the exercise
versions students open (notebooks/), run before answering: every stub names its exercise, every
graded check says "no answer yet", none says "correct." and none raises NameError.

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
from helpers import NOTEBOOKS_DIR, SOLUTIONS_DIR, plain_text
from nbclient import NotebookClient

from tools.student import BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS

ROOT = NOTEBOOKS_DIR.parent
NOTEBOOKS = [
    SOLUTIONS_DIR / "00_getting_started.ipynb",
    SOLUTIONS_DIR / "01_data_exploration_and_preprocessing.ipynb",
]
BIN = Path(sys.executable).parent
ON_TIME, LATE = "2026-11-30 10:00:00 UTC", "2026-12-02 09:00:00 UTC"  # Due 2026-12-01 17:00 UTC.

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


def hand_in(course: Path, student: str, answers: dict[str, dict[str, str]], when: str = ON_TIME) -> None:
    """Copy the released notebooks to course/submitted/STUDENT/fmnist/ with these answers, handed in
    at ``when`` (nbgrader reads it from timestamp.txt)."""
    folder = course / "submitted" / student / "fmnist"
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text(when)
    answers = {name: dict(cells) for name, cells in answers.items()}
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


#: Edits the read-only check cell so that it prints "correct."; its answer is wrong.
MALLORY = {
    "00_getting_started": {
        "exercise_00_1": "sneaker_count = 1000",
        "check_00_1": 'print("Exercise 00.1: correct.")',
    }
}
#: Hands in late, one exercise right.
CAROL = {"00_getting_started": {"exercise_00_1": "sneaker_count = int(np.sum(test_labels[:100] == 7))"}}


def hidden_test_lines(notebook: Path) -> set[str]:
    """The lines of a notebook's hidden tests that could give an answer away."""
    lines = set()
    for cell in nbformat.read(notebook, as_version=4).cells:
        inside = False
        for line in cell.source.splitlines():
            if BEGIN_HIDDEN_TESTS in line:
                inside = True
            elif END_HIDDEN_TESTS in line:
                inside = False
            elif inside and len(line.strip()) > 12 and not line.strip().startswith("#"):
                lines.add(line.strip())
    return lines


def test_nbgrader_round_trip_gives_the_exact_scores(tmp_path, real_data_dir):
    if not (BIN / "nbgrader").exists():
        pytest.skip("nbgrader is not installed: pip install -r requirements-dev.txt")
    course = tmp_path / "course"
    make("assignment", course, real_data_dir, "DUEDATE=2026-12-01 17:00:00 UTC")
    released = course / "release" / "fmnist"
    assert sorted(path.name for path in released.glob("*.ipynb")) == [path.name for path in NOTEBOOKS]
    for path in released.glob("*.ipynb"):
        text = path.read_text()
        assert "HIDDEN TESTS" not in text, path.name
        assert "BEGIN SOLUTION" not in text, path.name
        assert "Exercise 00.1: correct." not in text
    assert (
        'raise NotImplementedError(\\"Exercise 00.1: write your answer here, then run the check below\\")'
        in (released / "00_getting_started.ipynb").read_text()
    )

    for student, answers in [("alice", ALICE), ("bob", BOB), ("mallory", MALLORY)]:
        hand_in(course, student, answers, ON_TIME)
    graded = make("autograde", course, real_data_dir)
    log = graded.stdout + graded.stderr
    # Untouched and answered cells pass quietly; the one edited read-only cell is named, with its student.
    assert re.findall(r"Attribute '(\w+)' for cell (\w+) has changed", log) == [("checksum", "check_00_1")]
    assert "Student mallory edited the read-only cell check_00_1 of 00_getting_started" in log
    assert "treat as error" not in log  # No check cell leaves a value for nbgrader to read as a score.
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
    assert {student: float(rows[student]["score"]) for student in rows} == {
        "alice": 4.0,
        "bob": 0.0,
        "mallory": 0.0,
    }
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
    assert bob["check_00_1"].startswith("AssertionError: Exercise 00.1: ")  # The hidden test's own words.
    assert "np.sum" not in bob["check_00_1"]

    # The grader sees the model answer under each open-ended answer; the student will not.
    autograded = nbformat.read(
        course / "autograded" / "alice" / "fmnist" / "01_data_exploration_and_preprocessing.ipynb",
        as_version=4,
    )
    ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in autograded.cells]
    model = autograded.cells[ids.index("exercise_01_4") + 1]
    assert model.source.startswith("**Model answer to exercise 01.4** (for the grader")
    assert "layers.RandomRotation(factor, seed=0)" in model.source

    # Alice's open-ended answer gets a grade by hand; Carol hands in late, and only she is graded.
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade(
            "exercise_01_4", "01_data_exploration_and_preprocessing", "fmnist", "alice"
        )
        grade.manual_score, grade.needs_manual_grade = 1.5, False  # What the Formgrader's save does.
        gradebook.db.commit()
    hand_in(course, "carol", CAROL, LATE)
    late = make("autograde", course, real_data_dir)
    assert "Skipping existing assignment" in late.stdout + late.stderr
    assert (course / "autograded" / "alice" / "fmnist").stat().st_mtime < (
        course / "autograded" / "carol" / "fmnist"
    ).stat().st_mtime
    make("grades", course, real_data_dir)
    with open(course / "grades_by_exercise.csv", newline="") as file:
        by_exercise = {row["student_id"]: row for row in csv.DictReader(file)}
    assert list(next(iter(by_exercise.values()))) == [
        "assignment", "student_id", "00.1", "00.2", "00.3", "01.1", "01.2", "01.3", "01.4", "late", "score",
        "max_score",
    ]  # fmt: skip
    assert {
        student: {k: v for k, v in row.items() if k[0].isdigit()} for student, row in by_exercise.items()
    } == {
        "alice": {
            "00.1": "2",
            "00.2": "0",
            "00.3": "0",
            "01.1": "2",
            "01.2": "0",
            "01.3": "0",
            "01.4": "1.5",
        },
        "bob": {"00.1": "0", "00.2": "0", "00.3": "0", "01.1": "0", "01.2": "0", "01.3": "0", "01.4": "0"},
        "carol": {"00.1": "2", "00.2": "0", "00.3": "0", "01.1": "0", "01.2": "0", "01.3": "0", "01.4": "0"},
        "mallory": {
            "00.1": "0",
            "00.2": "0",
            "00.3": "0",
            "01.1": "0",
            "01.2": "0",
            "01.3": "0",
            "01.4": "0",
        },
    }
    assert {student: row["late"] for student, row in by_exercise.items()} == {
        "alice": "no", "bob": "no", "carol": "yes", "mallory": "no",
    }  # fmt: skip
    assert by_exercise["alice"]["score"] == "5.5"

    # Feedback: scores, hints and the student's answers; no hidden test, model answer or traceback.
    make("feedback", course, real_data_dir)
    hidden = hidden_test_lines(course / "source" / "fmnist" / "00_getting_started.ipynb")
    hidden |= hidden_test_lines(course / "source" / "fmnist" / "01_data_exploration_and_preprocessing.ipynb")
    assert len(hidden) >= 8
    for student in ("alice", "bob", "carol", "mallory"):
        for page in (course / "feedback" / student / "fmnist").glob("*.html"):
            text = plain_text(page.read_text())
            assert not {line for line in hidden if line in text}, (student, page.name)
            assert "HIDDEN TESTS" not in text, (student, page.name)
            assert "Model answer" not in text, (student, page.name)
            assert "Traceback" not in text, (student, page.name)
            assert "Score:" in text or "score" in text.lower()
    alice_feedback = plain_text(
        (course / "feedback" / "alice" / "fmnist" / "00_getting_started.html").read_text()
    )
    assert "Hint: the two are swapped" in alice_feedback
    assert "sneaker_count = int(np.sum(test_labels[:100] == 7))" in alice_feedback  # Her own answer.


#: A notebook that looks for what an earlier submission wrote into the work folder.
PROBE_CELLS = [
    ('from fmnist_utils import config\n\nprobe = config.get_config().model_path("probe")', {}),
    (
        "found = None\n### BEGIN SOLUTION\nfound = probe.exists()\n### END SOLUTION",
        {"grade": False, "grade_id": "exercise_99_1", "locked": False, "solution": True},
    ),
    (
        'assert found is False, f"{probe} is there: another submission wrote it"\n'
        'probe.parent.mkdir(parents=True)\nprobe.write_text("mine")\nprint(probe)',
        {"grade": True, "grade_id": "check_99_1", "locked": True, "points": 2, "solution": False},
    ),
]


def test_each_submission_is_graded_in_a_work_folder_of_its_own(tmp_path, real_data_dir):
    if not (BIN / "nbgrader").exists():
        pytest.skip("nbgrader is not installed: pip install -r requirements-dev.txt")
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                 "display_name": "Python 3"}})  # fmt: skip
    for source, grading in PROBE_CELLS:
        cell = nbformat.v4.new_code_cell(source)
        if grading:
            cell.metadata["nbgrader"] = {**grading, "schema_version": 3, "task": False}
            cell.metadata["tags"] = ["solution"] if grading["solution"] else ["check"]
        notebook.cells.append(cell)
    path = tmp_path / "99_probe.ipynb"
    nbformat.write(notebook, path)
    course = tmp_path / "course"
    make("assignment", course, real_data_dir, f"NOTEBOOKS={path}")
    answer = {"99_probe": {"exercise_99_1": "found = probe.exists()"}}
    for student in ("dora", "erin"):
        hand_in(course, student, answer, ON_TIME)
    make("autograde", course, real_data_dir, f"NOTEBOOKS={path}")

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in ("dora", "erin"):
            grade = gradebook.find_grade("check_99_1", "99_probe", "fmnist", student)
            assert grade.auto_score == 2, (
                student,
                errors(course / "autograded" / student / "fmnist" / path.name),
            )
    for student in ("dora", "erin"):
        folder = course / "autograded" / student / "fmnist"
        assert list(folder.glob("fmnist_work/models/probe*.keras")), student
    assert not (ROOT / "notebooks" / "models" / "probe.keras").exists()
    make("feedback", course, real_data_dir, f"NOTEBOOKS={path}")
    assert not list((course / "feedback").glob("*/fmnist/fmnist_work"))  # Not handed back to students.


def run_exercise_version(path: Path, tmp_path: Path, *, skip_answers: bool = False) -> nbformat.NotebookNode:
    """Run an exercise version from notebooks/ top to bottom in quick mode, as Run All does, but on
    past errors (``skip_answers``: as if the student had never run the answer cells)."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if "check" in cell.metadata.get("tags", []) and cell.metadata.get("nbgrader", {}).get("grade"):
            assert cell.outputs == [], "a graded check shows an output before the student answered"
    if skip_answers:
        notebook.cells = [cell for cell in notebook.cells if "solution" not in cell.metadata.get("tags", [])]
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": tmp_path}},
    ).execute()
    return notebook


@pytest.mark.parametrize(
    ("name", "skip_answers"),
    [
        ("00_getting_started", False),
        ("00_getting_started", True),
        ("01_data_exploration_and_preprocessing", False),
    ],
)
def test_exercise_versions_run_to_their_stubs_and_no_answer_yet(
    name, skip_answers, tmp_path, real_data_dir, monkeypatch
):
    """What a student sees running notebooks/ (the exercise versions) before answering anything."""
    monkeypatch.setenv("FMNIST_DATA_DIR", str(real_data_dir))
    monkeypatch.setenv("FMNIST_QUICK", "1")
    notebook = run_exercise_version(NOTEBOOKS_DIR / f"{name}.ipynb", tmp_path, skip_answers=skip_answers)
    failures = errors(notebook)
    checks = {
        grade_id: error for grade_id, error in failures.items() if grade_id and grade_id.startswith("check_")
    }
    stubs = {
        grade_id: error
        for grade_id, error in failures.items()
        if grade_id and grade_id.startswith("exercise_")
    }
    assert checks, name
    for grade_id, error in checks.items():
        assert error.startswith("AssertionError: "), (grade_id, error)
        assert "no answer yet. Store your answer in `" in error, (grade_id, error)
    for grade_id, error in stubs.items():
        exercise = grade_id.removeprefix("exercise_").replace("_", ".")
        assert (
            error
            == f"NotImplementedError: Exercise {exercise}: write your answer here, then run the check below"
        )
    assert bool(stubs) != skip_answers
    assert None not in failures, failures.get(None)  # The lessons' own cells run clean.
    outputs = "".join(str(output) for cell in notebook.cells for output in cell.get("outputs", []))
    assert "NameError" not in outputs, name
    assert not re.search(r"Exercise \d\d\.\d: correct\.", outputs), name


def test_notebook_06_round_trip_grades_its_check_and_leaves_the_rest_to_the_instructor(
    tmp_path, real_data_dir
):
    """Notebook 06 released, answered right and wrong, autograded (it needs the deploy extra)."""
    if not (BIN / "nbgrader").exists():
        pytest.skip("nbgrader is not installed: pip install -r requirements-dev.txt")
    pytest.importorskip("gradio", reason="the deploy extra is not installed: pip install -e '.[deploy]'")
    course, notebook = tmp_path / "course", SOLUTIONS_DIR / "06_from_notebook_to_app.ipynb"
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
