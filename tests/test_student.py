"""Student versions: no solution code or hidden test left, no "correct." before an answer, stubs
that run to "no answer yet", valid notebooks, nothing overwritten without --force."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import NOTEBOOKS_DIR, SOLUTIONS_DIR
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools.nbgrader_course import write_config
from tools.student import (
    BEGIN_HIDDEN_TESTS,
    BEGIN_SOLUTION,
    END_HIDDEN_TESTS,
    END_SOLUTION,
    StudentVersionError,
    exercise_version_drift,
    main,
    make_student_version,
    write_exercise_versions,
    write_student_versions,
)

NOTEBOOKS = sorted(SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb"))
ROOT = NOTEBOOKS_DIR.parent


def marked_lines(source: str, begin: str = BEGIN_SOLUTION, end: str = END_SOLUTION) -> list[str]:
    """The non-blank lines between two markers."""
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() == begin:
            inside = True
        elif line.strip() == end:
            inside = False
        elif inside and line.strip():
            lines.append(line)
    return lines


def is_graded(cell) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("grade"))


def output_text(cell) -> str:
    return "".join(
        output.get("text", "") + output.get("data", {}).get("text/plain", "")
        for output in cell.get("outputs", [])
    )


def python_source(source: str) -> str:
    """A cell's source without IPython magics, for ast.parse."""
    return "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _telling(lines: list[str]) -> set[str]:
    """The lines that give something away: not a lone bracket closing a wrapped call."""
    return {line for line in lines if line.strip().strip("()[]{},")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name[:2])
def test_student_version_of_each_notebook(path):
    original = nbformat.read(path, as_version=4)
    student = make_student_version(original, name=path.name)
    nbformat.validate(student)
    assert len(student.cells) == len(original.cells)
    solutions = graded_checks = 0
    for before, after in zip(original.cells, student.cells, strict=True):
        tags = before.metadata.get("tags", [])
        if "solution" in tags:
            solutions += 1
            assert "# YOUR CODE HERE" in after.source
            exercise = before.metadata["nbgrader"]["grade_id"].removeprefix("exercise_").replace("_", ".")
            assert (
                f'raise NotImplementedError("Exercise {exercise}: write your answer here, then run the '
                'check below")' in after.source
            )
            assert BEGIN_SOLUTION not in after.source
            hidden = marked_lines(before.source)
            assert hidden, "a solution cell with nothing between its markers"
            for line in _telling(hidden):
                assert line not in after.source.splitlines(), line
            assert after.outputs == []
            assert after.execution_count is None
            ast.parse(python_source(after.source))
        elif is_graded(before):
            graded_checks += 1
            assert "check" in tags
            hidden = marked_lines(before.source, BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS)
            assert hidden, "a graded check without hidden tests"
            assert BEGIN_HIDDEN_TESTS not in after.source
            assert not _telling(hidden) & set(after.source.splitlines())
            assert "assert verdict, verdict" in after.source
            assert after.outputs == []  # No "correct." before the student has answered.
            assert after.execution_count is None
        else:
            assert after.source == before.source
            assert after.get("outputs") == before.get("outputs")
    assert solutions >= 3, "every notebook has at least three exercises"
    assert graded_checks >= 1
    assert not any("correct." in output_text(cell) for cell in student.cells)
    # The original is left as it was.
    assert original == nbformat.read(path, as_version=4)


def test_code_outside_the_markers_is_kept():
    notebook = new_notebook(
        cells=[
            new_code_cell(
                "def answer():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION\n\nprint(answer)",
                metadata={"tags": ["solution"]},
                outputs=[new_output("stream", text="42\n")],
            ),
            new_markdown_cell(
                "Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION", metadata={"tags": ["solution"]}
            ),
        ]
    )
    student = make_student_version(notebook)
    assert student.cells[0].source == (
        "def answer():\n    # YOUR CODE HERE\n"
        '    raise NotImplementedError("Write your answer here, then run the check below")\n\nprint(answer)'
    )
    assert student.cells[0].outputs == []
    assert student.cells[1].source == "Why?\nYOUR ANSWER HERE"


@pytest.mark.parametrize(
    ("source", "tags", "message"),
    [
        ("x = 1", ["solution"], "has no ### BEGIN SOLUTION"),
        ("### BEGIN SOLUTION\nx = 1", ["solution"], "never closed"),
        ("x = 1\n### END SOLUTION", ["solution"], r"^bad\.ipynb, cell 0, line 2: ### END SOLUTION without"),
        (
            "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
            ["solution"],
            r"^bad\.ipynb, cell 0, line 2: ### BEGIN SOLUTION inside another",
        ),
        ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", [], "not tagged 'solution'"),
    ],
)
def test_badly_marked_solutions_are_refused(source, tags, message):
    notebook = new_notebook(cells=[new_code_cell(source, metadata={"tags": tags})])
    with pytest.raises(StudentVersionError, match=message):
        make_student_version(notebook, name="bad.ipynb")


def test_the_default_name_and_the_run_metadata_of_a_solution(tmp_path):
    timing = {"execution": {"iopub.execute_input": "2026-11-30T00:00:00Z"}, "tags": ["solution"]}
    cell = new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", metadata=timing, execution_count=3)
    student = make_student_version(new_notebook(cells=[cell]))
    assert "execution" not in student.cells[0].metadata  # When the solution ran: not handed out.
    assert student.cells[0].execution_count is None
    with pytest.raises(StudentVersionError, match=r"^notebook, cell 0 is tagged 'solution'"):
        make_student_version(new_notebook(cells=[new_code_cell("x", metadata={"tags": ["solution"]})]))


def test_hidden_tests_are_removed_with_their_markers():
    source = "check()\n### BEGIN HIDDEN TESTS\nassert answer == 42\n### END HIDDEN TESTS\nverdict"
    graded = {"nbgrader": {"grade": True, "grade_id": "check_1", "points": 2}, "tags": ["check"]}
    cell = new_code_cell(source, metadata=graded, outputs=[new_output("stream", text="correct.\n")])
    student = make_student_version(new_notebook(cells=[cell]))
    assert student.cells[0].source == "check()\nverdict"
    assert student.cells[0].outputs == []


@pytest.mark.parametrize(
    ("source", "graded", "message"),
    [
        (
            "### BEGIN HIDDEN TESTS\nx = 1",
            True,
            r"^bad\.ipynb, cell 0: ### BEGIN HIDDEN TESTS is never closed",
        ),
        ("x = 1\n### END HIDDEN TESTS", True, "without ### BEGIN HIDDEN TESTS"),
        ("### BEGIN HIDDEN TESTS\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS", True, "inside another"),
        ("### BEGIN HIDDEN TESTS\nx = 1\n### END HIDDEN TESTS", False, "not a graded cell"),
    ],
)
def test_badly_marked_hidden_tests_are_refused(source, graded, message):
    metadata = {"nbgrader": {"grade": True, "grade_id": "check_1", "points": 1}} if graded else {}
    notebook = new_notebook(cells=[new_code_cell(source, metadata=metadata)])
    with pytest.raises(StudentVersionError, match=message):
        make_student_version(notebook, name="bad.ipynb")


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_handouts_get_the_umasks_usual_permissions(tmp_path, umask, mode):
    """A shared course folder: others can read the handout unless the umask says otherwise."""
    previous = os.umask(umask)
    try:
        written = write_student_versions(NOTEBOOKS[0], tmp_path / "handout")
    finally:
        os.umask(previous)
    assert [oct(path.stat().st_mode & 0o777) for path in written] == [oct(mode)]


def test_write_refuses_to_overwrite_without_force(tmp_path):
    output = tmp_path / "student"
    written = write_student_versions(SOLUTIONS_DIR, output)
    assert [path.name for path in written] == [path.name for path in NOTEBOOKS]
    marker = output / NOTEBOOKS[1].name
    marker.write_text("the student's own work")
    with pytest.raises(FileExistsError, match=r"nothing was written\. Use --force") as info:
        write_student_versions(SOLUTIONS_DIR, output)
    assert f"({output / NOTEBOOKS[0].name}, {output / NOTEBOOKS[1].name}, " in str(info.value)  # Which ones.
    assert marker.read_text() == "the student's own work"
    write_student_versions(SOLUTIONS_DIR, output, force=True)
    nbformat.validate(nbformat.read(marker, as_version=4))
    assert not list(output.glob("*.tmp"))


def test_handouts_go_into_a_new_nested_folder_through_a_temporary_file_beside_them(tmp_path, monkeypatch):
    """The notebook is written under a temporary name in the output folder, then renamed:
    on one filesystem the rename is atomic, so an interrupted run leaves no half notebook."""
    output = tmp_path / "course" / "week 1" / "handouts"
    renames = []
    real_replace = os.replace
    monkeypatch.setattr(
        os, "replace", lambda source, target: renames.append(Path(source)) or real_replace(source, target)
    )
    written = write_student_versions(NOTEBOOKS[0], output)
    assert written == [output / NOTEBOOKS[0].name]
    assert [path.parent for path in renames] == [output]
    assert sorted(output.iterdir()) == written


def test_a_bad_notebook_writes_nothing(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), source / "01_good.ipynb")
    nbformat.write(
        new_notebook(cells=[new_code_cell("x = 1", metadata={"tags": ["solution"]})]), source / "02_bad.ipynb"
    )
    with pytest.raises(StudentVersionError, match=r"02_bad\.ipynb, cell 0"):
        write_student_versions(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no numbered notebooks"):
        write_student_versions(empty, tmp_path / "out")


def test_command_line(tmp_path, capsys):
    output = tmp_path / "student"
    assert main([str(SOLUTIONS_DIR), str(output)]) == 0
    assert f"{len(NOTEBOOKS)} student notebooks in {output}" in capsys.readouterr().out
    assert main([str(SOLUTIONS_DIR), str(output)]) == 1
    assert "Use --force" in capsys.readouterr().err
    assert main([str(SOLUTIONS_DIR), str(output), "--force"]) == 0
    assert main([str(tmp_path / "missing"), str(output)]) == 1
    assert "no such notebook or folder" in capsys.readouterr().err


def test_make_student_refuses_to_overwrite_without_force(tmp_path):
    output = tmp_path / "handout"
    environment = {**os.environ, "MAKEFLAGS": ""}

    def make_student(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["make", "--no-print-directory", "student", f"STUDENT_DIR={output}", *extra],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    first = make_student()
    assert first.returncode == 0, first.stderr
    assert sorted(path.name for path in output.glob("*.ipynb")) == [path.name for path in NOTEBOOKS]
    work = output / NOTEBOOKS[-1].name
    work.write_text("the student's own work")
    second = make_student()
    assert second.returncode != 0
    assert "Use --force" in second.stderr
    assert work.read_text() == "the student's own work"
    third = make_student("FORCE=1")
    assert third.returncode == 0, third.stderr
    nbformat.validate(nbformat.read(work, as_version=4))


def test_nbgrader_generates_the_same_student_versions(tmp_path):
    """Instructors who use nbgrader get the same stubs from `nbgrader generate_assignment`, with the
    course's settings (course/nbgrader_config.py)."""
    nbgrader = Path(sys.executable).parent / "nbgrader"
    if not nbgrader.exists():
        pytest.skip("nbgrader is not installed: pip install -r requirements-dev.txt")
    assignment = tmp_path / "course" / "source" / "fmnist"
    assignment.mkdir(parents=True)
    for path in NOTEBOOKS:
        shutil.copy(path, assignment)
    write_config(tmp_path / "course")  # What make assignment writes: the course's stubs.
    environment = {**os.environ, "PATH": f"{nbgrader.parent}{os.pathsep}{os.environ['PATH']}"}
    completed = subprocess.run(
        [str(nbgrader), "generate_assignment", "fmnist", f"--CourseDirectory.root={tmp_path / 'course'}"],
        cwd=tmp_path / "course",
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    for path in NOTEBOOKS:
        released = nbformat.read(tmp_path / "course" / "release" / "fmnist" / path.name, as_version=4)
        ours = make_student_version(nbformat.read(path, as_version=4))
        assert [cell.source for cell in released.cells] == [cell.source for cell in ours.cells], path.name


def test_the_exercise_versions_students_open_are_the_solutions_made_blank():
    """notebooks/ is what make exercises writes from solutions/: nothing drifted, nothing extra."""
    assert exercise_version_drift(ROOT) == []


def _course_copy(destination: Path) -> Path:
    for folder in ("solutions", "notebooks"):
        shutil.copytree(ROOT / folder, destination / folder)
    shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


def test_a_changed_solution_or_exercise_version_is_named_until_make_exercises_runs(tmp_path):
    course = _course_copy(tmp_path / "course")
    source = course / "solutions" / "02_building_a_cnn.ipynb"
    notebook = nbformat.read(source, as_version=4)
    notebook.cells[1].source += "\nA new sentence."
    nbformat.write(notebook, source)
    (course / "notebooks" / "04_evaluation_and_error_analysis.ipynb").unlink()
    shutil.copy(course / "notebooks" / "00_getting_started.ipynb", course / "notebooks" / "07_extra.ipynb")
    assert exercise_version_drift(course) == [
        "notebooks/02_building_a_cnn.ipynb: differs from the exercise version of "
        "solutions/02_building_a_cnn.ipynb (run make exercises)",
        "notebooks/04_evaluation_and_error_analysis.ipynb: differs from the exercise version of "
        "solutions/04_evaluation_and_error_analysis.ipynb (run make exercises)",
        "notebooks/07_extra.ipynb: has no solution version in solutions/",
    ]
    assert [path.name for path in write_exercise_versions(course)] == [
        "02_building_a_cnn.ipynb",
        "04_evaluation_and_error_analysis.ipynb",
    ]
    assert "A new sentence." in (course / "notebooks" / "02_building_a_cnn.ipynb").read_text()
    assert exercise_version_drift(course) == [
        "notebooks/07_extra.ipynb: has no solution version in solutions/"
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name[:2])
def test_each_exercise_leads_to_its_solution_in_one_click(path):
    exercise = nbformat.read(NOTEBOOKS_DIR / path.name, as_version=4)
    solution = nbformat.read(path, as_version=4)
    answers = [cell for cell in solution.cells if "solution" in cell.metadata.get("tags", [])]
    links = [cell for cell in exercise.cells if "solution-link" in cell.metadata.get("tags", [])]
    assert len(links) == len(answers) >= 3
    for answer, link in zip(answers, links, strict=True):
        number = answer.metadata["nbgrader"]["grade_id"].removeprefix("exercise_").replace("_", ".")
        assert link.source.startswith(f"Stuck on exercise {number}? ")
        assert f"](../solutions/{path.name}#Exercises)" in link.source  # JupyterLab, Binder, GitHub.
        assert (
            "(https://colab.research.google.com/github/fmnist-course/fashion-mnist-cnn/blob/main/"
            f"solutions/{path.name})" in link.source
        )
        previous = exercise.cells[exercise.cells.index(link) - 1]
        assert "check" in previous.metadata.get("tags", [])  # Right under the exercise's check.
    assert (ROOT / "solutions" / path.name).is_file()
    # No solution, no hidden test in what students open; the lessons' outputs are kept.
    text = (NOTEBOOKS_DIR / path.name).read_text()
    assert BEGIN_SOLUTION not in text
    assert BEGIN_HIDDEN_TESTS not in text
    lessons = [cell for cell in solution.cells if not cell.metadata.get("tags")]
    assert [cell.get("outputs") for cell in lessons] == [
        cell.get("outputs") for cell in exercise.cells if not cell.metadata.get("tags")
    ]
