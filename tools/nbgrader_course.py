"""The course's nbgrader settings and the four pieces of nbgrader it replaces.

``make assignment`` writes ``course/nbgrader_config.py``, which calls :func:`configure`; every
nbgrader command the Makefile runs, and the Formgrader that ``make formgrader`` starts, read it.
Course tooling: not part of the package students install.

- :class:`ExerciseStubs` (``generate_assignment``): each stub says which exercise to answer,
  the same stub ``tools/student.py`` writes.
- :class:`RestoreLockedCells` (``autograde``): nbgrader stores a check cell *with* its hidden
  tests, hands it out without them, and then reports every check cell of every submission as
  "changed". This one puts the hidden tests back silently when the cell is exactly as handed
  out, and warns, naming the student, only when a student edited a read-only cell.
- :class:`ModelAnswers` (``autograde``): under each open-ended answer, the model answer from
  the source notebook, for whoever grades it in the Formgrader.
- :class:`FeedbackWithoutAnswers` (``generate_feedback``): the feedback students get keeps
  their answers, the hints and the scores, and drops the hidden tests (which are the answers),
  the model answers and the tracebacks that would quote them.
- :class:`ExerciseGradesExport` (``make grades``): one column per exercise beside the total.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import nbformat
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from nbgrader.preprocessors import ClearSolutions, NbGraderPreprocessor, OverwriteCells
from traitlets import List

from tools.student import code_stub, exercise_of, solution_lines, without_hidden_tests

#: Folders the notebooks write while they are graded (FMNIST_WORK_DIR, relative to each
#: submission's folder): kept out of the feedback nbgrader copies back to students.
WORK_FOLDER = "fmnist_work"
MODEL_ANSWER = "fmnist_model_answer"  # Metadata flag of the cells ModelAnswers adds.


class ExerciseStubs(ClearSolutions):
    """nbgrader's ClearSolutions with the stub of ``tools/student.py``: it names the exercise."""

    def _replace_solution_region(self, cell: nbformat.NotebookNode, language: str) -> bool:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        self.code_stub = {**self.code_stub, language: "\n".join(code_stub(grade_id))}
        return super()._replace_solution_region(cell, language)


class RestoreLockedCells(OverwriteCells):
    """nbgrader's OverwriteCells, quiet about hidden tests, loud about edited read-only cells."""

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict) -> tuple[nbformat.NotebookNode, dict]:
        self.student_id = resources["nbgrader"]["student"]
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: nbformat.NotebookNode, resources: dict, index: int) -> tuple:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id and utils.is_locked(cell):
            try:
                source = self.gradebook.find_source_cell(
                    grade_id, self.notebook_id, self.assignment_id
                ).source
            except MissingEntry:
                source = None
            if source is not None and cell.source == without_hidden_tests(source):
                cell.source = source  # As handed out: the hidden tests go back in, nothing to report.
            elif source is not None and cell.source != source:
                self.log.warning(
                    "Student %s edited the read-only cell %s of %s: graded with the original cell.",
                    self.student_id,
                    grade_id,
                    self.notebook_id,
                )
        return super().preprocess_cell(cell, resources, index)


class ModelAnswers(NbGraderPreprocessor):
    """Put the model answer, from the source notebook, under every open-ended answer."""

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict) -> tuple[nbformat.NotebookNode, dict]:
        names = resources["nbgrader"]
        # nbgrader runs its converters in the course folder (CourseDirectory.root).
        source = Path(os.getcwd(), "source", names["assignment"], f"{names['notebook']}.ipynb")
        if not source.is_file():
            self.log.warning("No source notebook %s: no model answers shown.", source)
            return nb, resources
        answers = {
            cell.metadata["nbgrader"]["grade_id"]: solution_lines(cell.source)
            for cell in nbformat.read(source, as_version=4).cells
            if utils.is_solution(cell) and utils.is_grade(cell)
        }
        cells = []
        for cell in nb.cells:
            cells.append(cell)
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if utils.is_solution(cell) and utils.is_grade(cell) and grade_id in answers:
                cells.append(_model_answer_cell(grade_id, answers[grade_id], cell.cell_type))
        nb.cells = cells
        return nb, resources


def _model_answer_cell(grade_id: str, lines: list[str], cell_type: str) -> nbformat.NotebookNode:
    fence = "```python" if cell_type == "code" else "```"
    cell = nbformat.v4.new_markdown_cell(
        f"**Model answer to exercise {exercise_of(grade_id)}** (for the grader; not in the feedback)\n\n"
        + "\n".join([fence, *lines, "```"])
    )
    cell.metadata[MODEL_ANSWER] = True
    return cell


class FeedbackWithoutAnswers(NbGraderPreprocessor):
    """Feedback keeps answers, hints and scores; drops hidden tests, model answers, tracebacks."""

    display_data_priority = List(config=True)  # GenerateFeedback sets it on every step; unused here.

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict) -> tuple[nbformat.NotebookNode, dict]:
        nb.cells = [cell for cell in nb.cells if not cell.metadata.get(MODEL_ANSWER)]
        for cell in nb.cells:
            cell.source = without_hidden_tests(cell.source)
            for output in cell.get("outputs", []):
                if output.output_type == "error":  # The traceback quotes the failing line.
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return nb, resources


class ExerciseGradesExport(ExportPlugin):
    """``nbgrader export``: a row per student and assignment, a column per exercise, and the total.

    A cell that waits for a manual grade reads ``ungraded``.
    """

    def export(self, gradebook: Gradebook) -> None:
        rows, exercises = [], {}
        for assignment in gradebook.assignments:
            for student in gradebook.students:
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:
                    continue
                row = {"assignment": assignment.name, "student_id": student.id}
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        column = exercise_of(grade.name) or grade.name
                        exercises[column] = None
                        row[column] = "ungraded" if grade.needs_manual_grade else f"{grade.score:g}"
                row["late"] = "yes" if submission.total_seconds_late > 0 else "no"
                row["score"] = f"{max(0.0, submission.score - submission.late_submission_penalty):g}"
                row["max_score"] = f"{submission.max_score:g}"
                rows.append(row)
        columns = ["assignment", "student_id", *sorted(exercises), "late", "score", "max_score"]
        with open(self.to or "grades_by_exercise.csv", "w", newline="") as file:
            writer = csv.DictWriter(file, columns, restval="")
            writer.writeheader()
            writer.writerows(rows)


def configure(
    c: Any, course: str | os.PathLike[str], *, timeout: int = 3600, exchange: str | None = None
) -> None:
    """Set the course's nbgrader configuration ``c`` (in ``nbgrader_config.py``) for ``course``.

    ``exchange``: a JupyterHub classroom's shared exchange (tools/classroom.py); by default the
    exchange is the folder ``exchange`` in the course, for one machine.
    """
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.converters import Autograde, GenerateAssignment
    from nbgrader.preprocessors import GetGrades

    course = Path(course)
    c.CourseDirectory.root = str(course)
    c.CourseDirectory.course_id = "fmnist"
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", WORK_FOLDER]
    # The exchange is where JupyterHub students fetch and submit; on one machine it sits in the course.
    if exchange is None:
        exchange = course / "exchange"
        exchange.mkdir(parents=True, exist_ok=True)
    c.Exchange.root = str(exchange)
    c.Execute.timeout = timeout  # nbgrader's default, 30 s a cell, stops a training cell.
    c.GenerateAssignment.preprocessors = [
        ExerciseStubs if step is ClearSolutions else step
        for step in _default(GenerateAssignment, "preprocessors")
    ]
    c.Autograde.sanitize_preprocessors = [
        RestoreLockedCells if step is OverwriteCells else step
        for step in _default(Autograde, "sanitize_preprocessors")
    ]
    steps = _default(Autograde, "autograde_preprocessors")  # Execute, ..., ClearMetadata, ...: after it.
    after = steps.index(ClearMetadataPreprocessor) + 1
    c.Autograde.autograde_preprocessors = [*steps[:after], ModelAnswers, *steps[after:]]
    c.GenerateFeedback.preprocessors = [GetGrades, FeedbackWithoutAnswers, CSSHTMLHeaderPreprocessor]


def _default(converter: type, name: str) -> list:
    return list(converter.class_traits()[name].default())


CONFIG = """\
# nbgrader's settings for this course, written once by `make assignment` from
# tools/nbgrader_course.py (what each setting is for is explained there). Add your own below.
import sys

sys.path.insert(0, {repository!r})
from tools.nbgrader_course import configure  # noqa: E402

c = get_config()  # noqa: F821 (nbgrader defines it)
configure(c, {course!r}, exchange={exchange!r})
"""


def write_config(course: str | os.PathLike[str], exchange: str | None = None) -> Path:
    """Write ``course/nbgrader_config.py`` unless it is there; return its path.

    ``exchange``: the shared exchange of a JupyterHub classroom (None: the course's own folder).
    """
    course = Path(course).resolve()
    path = course / "nbgrader_config.py"
    if not path.exists():
        course.mkdir(parents=True, exist_ok=True)
        repository = str(Path(__file__).resolve().parent.parent)
        path.write_text(
            CONFIG.format(repository=repository, course=str(course), exchange=exchange), encoding="utf-8"
        )
    return path


if __name__ == "__main__":  # python -m tools.nbgrader_course COURSE_DIR [--exchange DIR], in the repository.
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.nbgrader_course")
    parser.add_argument("course")
    parser.add_argument("--exchange", help="a shared exchange (JupyterHub); default: COURSE/exchange")
    arguments = parser.parse_args()
    print(f"nbgrader settings: {write_config(arguments.course, arguments.exchange)}")
