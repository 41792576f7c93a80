"""Benchmark: load all four Fashion-MNIST files from a local copy, verified.

Target (issue 2): under 1 second on the course's reference machine (2 CPU cores).

    FMNIST_DATA_DIR=../shared/data/fashion-mnist python benchmarks/data_loading.py

Prints a markdown table: the full load (SHA-256 check, gzip decompression, IDX parsing),
and its two parts measured on their own, over several repeats after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

from fmnist_utils._files import FILES, download_fashion_mnist, read_idx, verify_file
from fmnist_utils.data import load_fashion_mnist

TARGET_SECONDS = 1.0


def timed(function: Callable[[], object], repeats: int) -> list[float]:
    function()  # Warm-up: file system cache, imports.
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", help="folder with the four .gz files (default: the usual search)")
    parser.add_argument("--repeats", type=int, default=7)
    arguments = parser.parse_args()

    folder = download_fashion_mnist(arguments.data_dir)
    specs = list(FILES.values())

    def verify_all() -> None:
        for spec in specs:
            verify_file(folder / spec.name, spec)

    def parse_all() -> None:
        for spec in specs:
            if spec.kind == "images":
                read_idx(folder / spec.name, spec.kind, spec.count)

    rows = [
        (
            "load_fashion_mnist() (verify + decompress + parse)",
            timed(lambda: load_fashion_mnist(folder), arguments.repeats),
        ),
        ("  SHA-256 of the four files", timed(verify_all, arguments.repeats)),
        ("  decompress + parse the two image files", timed(parse_all, arguments.repeats)),
    ]
    print(f"Data folder: {folder}")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"Repeats: {arguments.repeats} after one warm-up\n")
    print("| step | median s | min s | max s |")
    print("|---|---:|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {statistics.median(seconds):.3f} | {min(seconds):.3f} | {max(seconds):.3f} |")
    median = statistics.median(rows[0][1])
    verdict = "met" if median < TARGET_SECONDS else "NOT met"
    print(f"\nTarget: full load under {TARGET_SECONDS:.1f} s: {verdict} (median {median:.3f} s).")


if __name__ == "__main__":
    main()
