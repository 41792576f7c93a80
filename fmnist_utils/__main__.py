"""Command line.

- ``python -m fmnist_utils download [--data-dir DIR] [--check]``: fetch or verify the
  dataset; with ``--check``, verify only, never download.
- ``python -m fmnist_utils student SOURCE OUTPUT [--force]``: write student versions of
  the notebooks (see :mod:`fmnist_utils.student`).
- ``python -m fmnist_utils badges [--check] [--branch BRANCH]``: rewrite every Colab and
  Binder badge and install URL from ``pyproject.toml``'s address (see
  :mod:`fmnist_utils.badges`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from fmnist_utils.data import DATA_DIR_ENV_VAR, FILES, DatasetError, check_local_copy, download_fashion_mnist

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ logs out of the output.


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m fmnist_utils", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    download = commands.add_parser(
        "download",
        help="make sure a verified copy of Fashion-MNIST is on disk (download it if needed)",
        description=(
            "Find a verified local copy of the four Fashion-MNIST files (the --data-dir "
            f"folder, then ${DATA_DIR_ENV_VAR}, then the Keras cache), or download them "
            "into the first of those folders. Prints the folder. With --check, only verify: "
            "nothing is downloaded, and the exit status is 1 if a file is missing or bad."
        ),
    )
    download.add_argument(
        "--data-dir", help="folder to use or download into (with --check: the folder to check)"
    )
    download.add_argument(
        "--check",
        action="store_true",
        help="verify the files (the --data-dir folder, else the first folder holding all four) "
        "without downloading anything; exit 1 if any is missing or bad",
    )
    student = commands.add_parser(
        "student",
        help="write student versions of the notebooks (solutions replaced by stubs)",
        description=(
            "Write the student version of every numbered notebook of SOURCE (a folder, or one "
            "notebook) into OUTPUT: the code between ### BEGIN SOLUTION and ### END SOLUTION "
            "becomes '# YOUR CODE HERE' and 'raise NotImplementedError()', hidden tests are "
            "removed, the outputs of solution and graded check cells are cleared, every other "
            "cell is kept as it is."
        ),
    )
    student.add_argument("source", help="folder of notebooks (or one notebook), e.g. notebooks/")
    student.add_argument("output", help="folder to write the student versions into, e.g. student/")
    student.add_argument("--force", action="store_true", help="overwrite files already in OUTPUT")
    badges = commands.add_parser(
        "badges",
        help="rewrite the Colab and Binder badges and install URLs from pyproject.toml",
        description=(
            "Read the repository's address from [project.urls] Repository in pyproject.toml and "
            "rewrite from it every notebook's Colab and Binder badges, the README's badges and "
            "links, and the Setup cells' install URL. Run it in the repository root."
        ),
    )
    badges.add_argument("--branch", default="main", help="branch the badges open (default: main)")
    badges.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything disagrees")
    arguments = parser.parse_args(argv)

    if arguments.command == "badges":
        from fmnist_utils.badges import find_problems, read_repository, update_badges

        try:
            repository = read_repository(".", arguments.branch)
            if arguments.check:
                problems = find_problems(".", arguments.branch)
                for problem in problems:
                    print(problem)
                print(f"{len(problems)} badge problems ({repository.url}, branch {repository.branch})")
                return 1 if problems else 0
            changed = update_badges(".", arguments.branch)
        except (OSError, ValueError, RuntimeError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        for path in changed:
            print(f"rewrote {path}")
        print(
            f"{len(changed)} files changed; badges and install URLs point at {repository.url} "
            f"(branch {repository.branch})"
        )
        return 0

    if arguments.command == "student":
        from fmnist_utils.student import StudentVersionError, write_student_versions

        try:
            written = write_student_versions(arguments.source, arguments.output, force=arguments.force)
        except (FileExistsError, FileNotFoundError, StudentVersionError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        for path in written:
            print(f"wrote {path}")
        print(f"{len(written)} student notebooks in {arguments.output}")
        return 0

    if arguments.command == "download":
        return _check(arguments.data_dir) if arguments.check else _download(arguments.data_dir)
    return 0


def _download(data_dir: str | None) -> int:
    try:
        folder = download_fashion_mnist(data_dir)
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Fashion-MNIST: {len(FILES)} files verified (SHA-256) in {folder}")
    return 0


def _check(data_dir: str | None) -> int:
    try:
        verified = check_local_copy(data_dir)
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for key, path in verified.items():
        spec = FILES[key]
        print(f"OK {path} ({spec.count:,} {spec.kind}, SHA-256 verified)")
    folder = next(iter(verified.values())).parent
    print(f"Fashion-MNIST: {len(verified)} files verified (SHA-256) in {folder}; nothing was downloaded.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
