"""Student versions of the notebooks: the solutions taken out, everything else kept.

``python tools/student.py notebooks/ student/`` (or ``make student``) reads every
numbered notebook and writes its student version. In each cell tagged ``solution``, the
code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers) becomes::

    # YOUR CODE HERE
    raise NotImplementedError("Exercise 00.1: write your answer here, then run the check below")

and the cell's outputs are cleared (a Markdown solution becomes ``YOUR ANSWER HERE``).
The lines above the markers stay: they set the answer's variables to ``None``, so that a
check run before answering says "no answer yet". The graded check cells (nbgrader's
autograder tests) lose their outputs, so that no "correct." greets an empty answer, and
their hidden tests (between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``).
Every other cell keeps its source and its outputs: the lessons' figures and results, and
the rubric that the open-ended exercises' checks show. The notebooks make every file they
read, so nothing else needs copying. The result is what ``nbgrader generate_assignment``
releases, with the lessons' outputs kept.

Files already in the output folder are never overwritten unless ``force=True``
(``--force``); nothing is written at all when one of them is in the way.

``python tools/student.py --exercises`` (``make exercises``) writes the course's public
*exercise versions*: ``notebooks/``, what ``make lab``, Binder, Colab and the README open,
made from ``solutions/``, the source. They are the student versions above, with the
badges of their own path and, after each exercise's check, a link to its solution (in
``solutions/`` and on Colab). ``--exercises --check`` lists the notebooks of ``notebooks/``
that differ from what ``solutions/`` makes (the test suite fails on any).
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import nbformat

__all__ = [
    "BEGIN_HIDDEN_TESTS",
    "BEGIN_SOLUTION",
    "END_HIDDEN_TESTS",
    "END_SOLUTION",
    "StudentVersionError",
    "make_student_version",
    "write_student_versions",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN_TESTS = "### BEGIN HIDDEN TESTS"
END_HIDDEN_TESTS = "### END HIDDEN TESTS"
MARKDOWN_STUB = "YOUR ANSWER HERE"
#: The folders of the course: the solution versions (the source) and the exercise versions students open.
SOLUTIONS_FOLDER = "solutions"
EXERCISES_FOLDER = "notebooks"


def exercise_of(grade_id: str | None) -> str | None:
    """The exercise a cell belongs to, from its nbgrader ``grade_id``: ``"exercise_00_1"`` -> ``"00.1"``."""
    match = re.fullmatch(r"(?:exercise|check)_(\d\d)_(\d+)", grade_id or "")
    return f"{match[1]}.{match[2]}" if match else None


def code_stub(grade_id: str | None) -> tuple[str, str]:
    """The two lines that replace a solution: they say which exercise to answer, and where."""
    exercise = exercise_of(grade_id)
    where = f"Exercise {exercise}: write" if exercise else "Write"
    return (
        "# YOUR CODE HERE",
        f'raise NotImplementedError("{where} your answer here, then run the check below")',
    )


class StudentVersionError(ValueError):
    """A notebook cannot be turned into a student version (the message says why)."""


def _replace_regions(
    source: str, begin: str, end: str, stub: Sequence[str], *, where: str
) -> tuple[str, bool]:
    """Replace each region from ``begin`` to ``end`` (marker lines included) by ``stub``, indented
    like its ``begin`` line, as nbgrader does; return the new source and whether a region was found."""
    output: list[str] = []
    inside = found = False
    for number, line in enumerate(source.split("\n"), start=1):
        if begin in line:
            if inside:
                raise StudentVersionError(f"{where}, line {number}: {begin} inside another.")
            inside = found = True
            indent = line[: len(line) - len(line.lstrip())]
            output.extend(indent + stub_line for stub_line in stub)
        elif end in line:
            if not inside:
                raise StudentVersionError(f"{where}, line {number}: {end} without {begin}.")
            inside = False
        elif not inside:
            output.append(line)
    if inside:
        raise StudentVersionError(f"{where}: {begin} is never closed by {end}.")
    return "\n".join(output), found


def without_hidden_tests(source: str, *, where: str = "cell") -> str:
    """A cell's source with its hidden tests (and their markers) taken out, as handed out."""
    return _replace_regions(source, BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS, (), where=where)[0]


def _strip_solution(source: str, *, markdown: bool, where: str, grade_id: str | None = None) -> str:
    stub = [MARKDOWN_STUB] if markdown else code_stub(grade_id)
    stripped, found = _replace_regions(source, BEGIN_SOLUTION, END_SOLUTION, stub, where=where)
    if not found:
        raise StudentVersionError(
            f"{where} is tagged 'solution' but has no {BEGIN_SOLUTION} / {END_SOLUTION} markers: "
            "put the solution between them."
        )
    return stripped


def solution_lines(source: str) -> list[str]:
    """The lines of a cell's solution, between its markers (the markers left out)."""
    lines, inside = [], False
    for line in source.split("\n"):
        if BEGIN_SOLUTION in line:
            inside = True
        elif END_SOLUTION in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def _is_graded(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("grade"))


def make_student_version(notebook: nbformat.NotebookNode, *, name: str = "notebook") -> nbformat.NotebookNode:
    """Return the student version of a notebook (the notebook given is not changed).

    Args:
        notebook: A notebook read with ``nbformat.read(..., as_version=4)``.
        name: The notebook's name, for error messages.

    Returns:
        A copy with every ``solution`` cell's solution replaced by a stub, every graded
        cell's hidden tests removed, and the outputs of both cleared.

    Raises:
        StudentVersionError: A solution cell without markers, or with broken ones;
            markers in a cell not tagged ``solution`` (its solution would be handed out);
            hidden tests outside a graded cell.
    """
    student = copy.deepcopy(notebook)
    for index, cell in enumerate(student.cells):
        tags = cell.metadata.get("tags", [])
        where = f"{name}, cell {index}"
        if "solution" in tags:
            cell.source = _strip_solution(
                cell.source,
                markdown=cell.cell_type == "markdown",
                where=where,
                grade_id=cell.metadata.get("nbgrader", {}).get("grade_id"),
            )
        elif BEGIN_SOLUTION in cell.source:
            raise StudentVersionError(f"{where} has {BEGIN_SOLUTION} but is not tagged 'solution': tag it.")
        if BEGIN_HIDDEN_TESTS in cell.source and not _is_graded(cell):
            raise StudentVersionError(
                f"{where} has hidden tests but is not a graded cell: give it nbgrader's grade metadata."
            )
        cell.source = without_hidden_tests(cell.source, where=where)
        if cell.cell_type == "code" and ("solution" in tags or _is_graded(cell)):
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    return student


def _notebooks(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: no such notebook or folder.")
    notebooks = sorted(source.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"{source}: no numbered notebooks (NN_name.ipynb) in this folder.")
    return notebooks


def write_student_versions(
    source: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    force: bool = False,
    sources: Sequence[str | os.PathLike[str]] = (),
) -> list[Path]:
    """Write the student version of every numbered notebook of ``source`` into ``output_dir``.

    Args:
        source: A folder of notebooks (every ``NN_*.ipynb`` in it) or one notebook.
        output_dir: Where to write; created if needed.
        force: Overwrite files that are already there.
        sources: More notebooks or folders to convert.

    Returns:
        The notebooks written.

    Raises:
        FileExistsError: A file to write is already there and ``force`` is false
            (nothing is written then).
        StudentVersionError: A notebook's solution cells are not marked properly
            (nothing is written then).
        FileNotFoundError: No such notebook or folder.
    """
    output_dir = Path(output_dir)
    paths = [path for item in (source, *sources) for path in _notebooks(Path(item))]
    # Convert everything first, so that a bad notebook leaves the output folder untouched.
    students = {
        path: make_student_version(nbformat.read(path, as_version=4), name=path.name) for path in paths
    }
    for notebook in students.values():
        nbformat.validate(notebook)
    targets = {path: output_dir / path.name for path in paths}
    if len(set(targets.values())) < len(targets):
        raise StudentVersionError(
            "two notebooks given have the same name; convert them into different folders."
        )
    if not force:
        existing = [str(target) for target in targets.values() if target.exists()]
        if existing:
            raise FileExistsError(
                f"{len(existing)} of the files to write already exist ({', '.join(existing[:3])}"
                f"{', ...' if len(existing) > 3 else ''}); nothing was written. Use --force "
                "(force=True) to overwrite them, or choose another output folder."
            )
    output_dir.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0)
    os.umask(umask)
    for path, notebook in students.items():
        # Write to a temporary file, then rename: an interrupted run leaves no half-written notebook.
        handle, temporary = tempfile.mkstemp(dir=output_dir, suffix=".ipynb.tmp")
        os.close(handle)
        try:
            nbformat.write(notebook, temporary)  # In UTF-8, whatever the platform's encoding.
            os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private (0600); a handout is not.
            os.replace(temporary, targets[path])
        finally:
            Path(temporary).unlink(missing_ok=True)
    return list(targets.values())


def _solution_link(exercise: str, name: str, colab_url: str) -> nbformat.NotebookNode:
    """The Markdown cell, after an exercise's check, that leads to its solution."""
    cell = nbformat.v4.new_markdown_cell(
        f"Stuck on exercise {exercise}? Its solution, with the outputs of a full run: "
        f"[{SOLUTIONS_FOLDER}/{name}](../{SOLUTIONS_FOLDER}/{name}#Exercises) "
        f"(or [on Colab]({colab_url}))."
    )
    cell.id = f"solution-{exercise.replace('.', '-')}"  # The same id at every run: no diff.
    cell.metadata["tags"] = ["solution-link"]
    return cell


def make_exercise_version(notebook: nbformat.NotebookNode, *, name: str, root: Path) -> nbformat.NotebookNode:
    """The exercise version of a solution notebook, as ``notebooks/`` holds it.

    Args:
        notebook: The solution version.
        name: Its file name (``00_getting_started.ipynb``).
        root: The repository, whose ``pyproject.toml`` gives the address the badges and links use.
    """
    from tools import badges

    repository = badges.read_repository(root)
    exercise = make_student_version(notebook, name=name)
    title = exercise.cells[0]
    title.source = badges.badge_line_in(title.source, repository, f"{EXERCISES_FOLDER}/{name}")
    colab = repository.colab_url(f"{SOLUTIONS_FOLDER}/{name}")
    cells, answered = [], None
    for cell in exercise.cells:
        cells.append(cell)
        tags = cell.metadata.get("tags", [])
        if "solution" in tags:
            answered = exercise_of(cell.metadata.get("nbgrader", {}).get("grade_id"))
        elif "check" in tags and answered:
            cells.append(_solution_link(answered, name, colab))
            answered = None
    exercise.cells = cells
    return exercise


def _exercise_texts(root: Path) -> dict[Path, str]:
    """Every exercise version's text, by the path it belongs at."""
    return {
        root / EXERCISES_FOLDER / path.name: nbformat.writes(
            make_exercise_version(nbformat.read(path, as_version=4), name=path.name, root=root)
        )
        + "\n"
        for path in _notebooks(root / SOLUTIONS_FOLDER)
    }


def exercise_version_drift(root: str | os.PathLike[str] = ".") -> list[str]:
    """The notebooks of ``notebooks/`` that differ from what ``solutions/`` makes (or are missing
    or extra), one line each; empty when the two agree."""
    root = Path(root)
    expected = _exercise_texts(root)
    problems = [
        f"{path.relative_to(root)}: differs from the exercise version of {SOLUTIONS_FOLDER}/{path.name} "
        "(run make exercises)"
        for path, text in expected.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    extra = set((root / EXERCISES_FOLDER).glob("[0-9][0-9]_*.ipynb")) - set(expected)
    problems += [
        f"{path.relative_to(root)}: has no solution version in {SOLUTIONS_FOLDER}/" for path in sorted(extra)
    ]
    return problems


def write_exercise_versions(root: str | os.PathLike[str] = ".") -> list[Path]:
    """Write ``notebooks/`` from ``solutions/``; return the notebooks that changed."""
    root = Path(root)
    changed = []
    for path, text in _exercise_texts(root).items():
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
        changed.append(path)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python tools/student.py SOURCE OUTPUT [--force]``; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python tools/student.py",
        description=(
            "Write the student version of every numbered notebook of SOURCE (a folder, or one "
            "notebook) into OUTPUT: the code between ### BEGIN SOLUTION and ### END SOLUTION "
            "becomes '# YOUR CODE HERE' and 'raise NotImplementedError()', hidden tests are "
            "removed, the outputs of solution and graded check cells are cleared, every other "
            "cell is kept as it is."
        ),
    )
    parser.add_argument("source", nargs="?", help="folder of notebooks (or one notebook), e.g. solutions/")
    parser.add_argument("output", nargs="?", help="folder to write the student versions into, e.g. student/")
    parser.add_argument("--force", action="store_true", help="overwrite files already in OUTPUT")
    parser.add_argument(
        "--exercises",
        action="store_true",
        help="write the course's exercise versions, notebooks/, from solutions/ (run in the repository root)",
    )
    parser.add_argument("--check", action="store_true", help="with --exercises: change nothing, list drift")
    arguments = parser.parse_args(argv)
    if arguments.exercises:
        return _exercises_main(arguments.check)
    if not (arguments.source and arguments.output):
        parser.error("give SOURCE and OUTPUT, or --exercises")
    try:
        written = write_student_versions(arguments.source, arguments.output, force=arguments.force)
    except (FileExistsError, FileNotFoundError, StudentVersionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} student notebooks in {arguments.output}")
    return 0


def _exercises_main(check: bool) -> int:
    if check:
        problems = exercise_version_drift(".")
        print(*problems, sep="\n", end="\n" if problems else "")
        print(f"{len(problems)} exercise versions out of date")
        return 1 if problems else 0
    for path in write_exercise_versions("."):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `from tools import badges`.
    sys.exit(main())
