"""Command line: ``python -m fmnist_utils download [--data-dir DIR]``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from fmnist_utils.data import DATA_DIR_ENV_VAR, FILES, DatasetError, download_fashion_mnist

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
            "into the first of those folders. Prints the folder."
        ),
    )
    download.add_argument("--data-dir", help="folder to use or download into")
    arguments = parser.parse_args(argv)

    if arguments.command == "download":
        try:
            folder = download_fashion_mnist(arguments.data_dir)
        except DatasetError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"Fashion-MNIST: {len(FILES)} files verified (SHA-256) in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
