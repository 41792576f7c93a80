"""Benchmark: where the test suite's time goes, per file, so that the next slow change shows up.

Runs the README's test command (``make test``, quick mode: set ``FMNIST_QUICK=1`` and
``FMNIST_DATA_DIR`` as the README says) with a JUnit report, then prints the wall time of the
whole command and, per test file or notebook, its tests and seconds (the sum of its tests'
setup, call and teardown), slowest first, and the ten slowest tests. ``--junit FILE`` only
summarizes a report already written (``pytest --junitxml=FILE``).

    FMNIST_QUICK=1 FMNIST_DATA_DIR=../shared/data/fashion-mnist python benchmarks/suite_time.py
    python benchmarks/suite_time.py --junit report.xml

Figures: ``benchmarks/results/suite_time.json``; the last measurement is in
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "suite_time.json"


def read_junit(path: str | os.PathLike[str]) -> list[dict]:
    """Each test case of a JUnit report: ``{"file", "name", "seconds", "outcome"}``."""
    cases = []
    for case in ElementTree.parse(path).iter("testcase"):
        classname = case.get("classname", "")
        if case.get("file"):
            file = case.get("file")
        elif classname.endswith(".ipynb"):  # nbval: "solutions.03_training.ipynb".
            file = classname.replace(".", "/", classname.count(".") - 1)
        else:
            file = classname.replace(".", "/") + ".py"
        outcome = next((part.tag for part in case if part.tag in ("failure", "error", "skipped")), "passed")
        cases.append(
            {
                "file": file,
                "name": case.get("name"),
                "seconds": float(case.get("time", 0)),
                "outcome": outcome,
            }
        )
    return cases


def per_file(cases: list[dict]) -> list[dict]:
    """Tests and seconds per file, slowest first."""
    files: dict[str, dict] = defaultdict(lambda: {"tests": 0, "seconds": 0.0})
    for case in cases:
        files[case["file"]]["tests"] += 1
        files[case["file"]]["seconds"] += case["seconds"]
    rows = [{"file": file, **figures} for file, figures in files.items()]
    return sorted(rows, key=lambda row: (-row["seconds"], row["file"]))


def report(cases: list[dict], wall_seconds: float | None) -> str:
    """The printed tables."""
    total = sum(case["seconds"] for case in cases)
    lines = [
        f"{len(cases)} tests, {total:.1f} s in tests"
        + (f", {wall_seconds:.1f} s wall" if wall_seconds else "")
    ]
    lines += ["", "| file | tests | s | share |", "|---|---:|---:|---:|"]
    for row in per_file(cases):
        share = row["seconds"] / total if total else 0.0
        lines.append(f"| {row['file']} | {row['tests']} | {row['seconds']:.1f} | {share:.0%} |")
    lines += ["", "Slowest tests:"]
    for case in sorted(cases, key=lambda case: -case["seconds"])[:10]:
        lines.append(f"  {case['seconds']:7.1f} s  {case['file']}::{case['name']}")
    return "\n".join(lines)


def run_suite(junit: Path) -> tuple[float, int]:
    """``make test`` with a JUnit report; its wall time and exit status."""
    environment = os.environ | {
        "PYTEST_ADDOPTS": f"{os.environ.get('PYTEST_ADDOPTS', '')} --junitxml={junit}"
    }
    start = time.perf_counter()
    finished = subprocess.run(["make", "test"], cwd=ROOT, env=environment, check=False)
    return time.perf_counter() - start, finished.returncode


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--junit", help="summarize this JUnit report instead of running the suite")
    parser.add_argument("--output", default=str(RESULTS), help=f"JSON figures (default {RESULTS})")
    args = parser.parse_args(argv)
    wall, status = None, 0
    if args.junit:
        junit = Path(args.junit)
    else:
        junit = Path(tempfile.mkdtemp(prefix="suite-time-")) / "report.xml"
        wall, status = run_suite(junit)
    cases = read_junit(junit)
    print(report(cases, wall))
    figures = {"wall_seconds": wall, "exit_status": status, "files": per_file(cases), "tests": len(cases)}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(figures, indent=1) + "\n")
    sys.exit(status)


if __name__ == "__main__":
    main()
