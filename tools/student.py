"""Student versions of the notebooks: the solutions taken out, everything else kept.

``python tools/student.py notebooks/ student/`` (or ``make student``) reads every
numbered notebook and writes its student version. In each cell tagged ``solution``, the
code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers) becomes::

    # YOUR CODE HERE
    raise NotImplementedError()

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
"""

from __future__ import annotations

import argparse
import copy
import os
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
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = "YOUR ANSWER HERE"


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


def _strip_solution(source: str, *, markdown: bool, where: str) -> str:
    stub = [MARKDOWN_STUB] if markdown else CODE_STUB
    stripped, found = _replace_regions(source, BEGIN_SOLUTION, END_SOLUTION, stub, where=where)
    if not found:
        raise StudentVersionError(
            f"{where} is tagged 'solution' but has no {BEGIN_SOLUTION} / {END_SOLUTION} markers: "
            "put the solution between them."
        )
    return stripped


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
            cell.source = _strip_solution(cell.source, markdown=cell.cell_type == "markdown", where=where)
        elif BEGIN_SOLUTION in cell.source:
            raise StudentVersionError(f"{where} has {BEGIN_SOLUTION} but is not tagged 'solution': tag it.")
        if BEGIN_HIDDEN_TESTS in cell.source and not _is_graded(cell):
            raise StudentVersionError(
                f"{where} has hidden tests but is not a graded cell: give it nbgrader's grade metadata."
            )
        cell.source, _ = _replace_regions(cell.source, BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS, (), where=where)
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
    parser.add_argument("source", help="folder of notebooks (or one notebook), e.g. notebooks/")
    parser.add_argument("output", help="folder to write the student versions into, e.g. student/")
    parser.add_argument("--force", action="store_true", help="overwrite files already in OUTPUT")
    arguments = parser.parse_args(argv)
    try:
        written = write_student_versions(arguments.source, arguments.output, force=arguments.force)
    except (FileExistsError, FileNotFoundError, StudentVersionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} student notebooks in {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
