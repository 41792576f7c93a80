"""Command line: ``python -m fmnist_utils download [--data-dir DIR] [--check]``.

Fetch or verify the dataset; with ``--check``, verify only, never download. (The course's
own tools, student versions and badges, are scripts in the repository's ``tools/``.)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from fmnist_utils._files import (
    DATA_DIR_ENV_VAR,
    FILES,
    DatasetError,
    check_local_copy,
    download_fashion_mnist,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ logs out of the output.


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = _parser().parse_args(argv)
    try:
        if arguments.check:
            verified = check_local_copy(arguments.data_dir)
        else:
            folder = download_fashion_mnist(arguments.data_dir)
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not arguments.check:
        print(f"Fashion-MNIST: {len(FILES)} files verified (SHA-256) in {folder}")
        return 0
    for key, path in verified.items():
        print(f"OK {path} ({FILES[key].count:,} {FILES[key].kind}, SHA-256 verified)")
    folder = next(iter(verified.values())).parent
    print(f"Fashion-MNIST: {len(verified)} files verified (SHA-256) in {folder}; nothing was downloaded.")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fmnist_utils", description=__doc__)
    download = parser.add_subparsers(dest="command", required=True).add_parser(
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
    return parser


if __name__ == "__main__":
    sys.exit(main())
