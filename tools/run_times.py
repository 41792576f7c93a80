"""Measure how long each notebook runs, and write those times wherever the course states them.

Every run time that the notebooks, README.md and INSTRUCTORS.md state sits between two
markers, ``<!-- time:03:full -->13.0 min<!-- /time -->``, and comes from
``docs/run_times.json``, which this script writes when it measures. Nothing is typed by hand:

    python tools/run_times.py measure --mode quick solutions/*.ipynb   # times only
    python tools/run_times.py measure --mode full --inplace solutions/*.ipynb  # make execute
    python tools/run_times.py write    # rewrite the marked times from docs/run_times.json

``tests/test_run_times.py`` fails when a marked time differs from the file, when a notebook
has no measurement for a mode, or when a run time is stated outside the markers.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEASUREMENTS = ROOT / "docs" / "run_times.json"
#: The files whose marked times :func:`write` keeps in step with the measurements.
STATED_IN = ("README.md", "INSTRUCTORS.md", "solutions/*.ipynb")
MODES = ("quick", "full")
MARKER = re.compile(r"<!-- time:(?P<notebook>\d\d|all):(?P<mode>quick|full) -->(?P<text>.*?)<!-- /time -->")


def format_seconds(seconds: float) -> str:
    """How a measured time is written: ``"48 s"`` under 100 s, else ``"13.7 min"``."""
    if seconds < 100:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def notebook_key(path: str | os.PathLike[str]) -> str:
    """``"03"`` for ``solutions/03_training.ipynb``."""
    name = Path(path).name
    if not re.match(r"\d\d_", name):
        raise ValueError(f"{name}: a course notebook's name starts with its number, as 03_training.ipynb")
    return name[:2]


def stated_time(measurements: dict, notebook: str, mode: str) -> str:
    """The text a marker ``time:<notebook>:<mode>`` must hold (``all``: the whole course)."""
    runs = measurements["notebooks"]
    if notebook == "all":
        return format_seconds(sum(runs[key][mode]["seconds"] for key in sorted(runs)))
    if notebook not in runs or mode not in runs[notebook]:
        raise KeyError(
            f"no {mode}-mode time for notebook {notebook} in {MEASUREMENTS.name}: run "
            f"python tools/run_times.py measure --mode {mode} solutions/{notebook}_*.ipynb"
        )
    return format_seconds(runs[notebook][mode]["seconds"])


def rewrite(text: str, measurements: dict) -> str:
    """``text`` with every marked time replaced by the measured one."""

    def replace(match: re.Match) -> str:
        try:
            value = stated_time(measurements, match["notebook"], match["mode"])
        except KeyError:  # Not measured yet: left as it is, and disagreements() names it.
            return match[0]
        return f"<!-- time:{match['notebook']}:{match['mode']} -->{value}<!-- /time -->"

    return MARKER.sub(replace, text)


def stating_files(root: Path = ROOT) -> list[Path]:
    """The files that state run times."""
    return sorted(path for pattern in STATED_IN for path in root.glob(pattern))


def write(measurements: dict, root: Path = ROOT) -> list[Path]:
    """Rewrite the marked times in every stating file; return the files that changed.

    Notebooks are edited as text (their markdown sources are JSON strings, and the
    markers hold no quote or backslash), so nothing else in them moves.
    """
    changed = []
    for path in stating_files(root):
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, measurements)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def disagreements(measurements: dict, root: Path = ROOT) -> list[str]:
    """Each marked time that differs from the measurements, as ``file: marker states X, measured Y``."""
    found = []
    for path in stating_files(root):
        for match in MARKER.finditer(path.read_text(encoding="utf-8")):
            try:
                expected = stated_time(measurements, match["notebook"], match["mode"])
            except KeyError as error:
                found.append(f"{path.relative_to(root)}: {error.args[0]}")
                continue
            if match["text"] != expected:
                found.append(
                    f"{path.relative_to(root)}: time:{match['notebook']}:{match['mode']} states "
                    f"{match['text']!r}, measured {expected!r}"
                )
    return found


def run_notebook(path: Path, *, inplace: bool) -> None:
    """Execute one notebook with the mode already in the environment (outputs saved if ``inplace``)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=None, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    if inplace:
        nbformat.write(notebook, path)


def measure(
    paths: Iterable[Path],
    mode: str,
    *,
    inplace: bool = False,
    run: Callable[[Path], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    measurements_path: Path = MEASUREMENTS,
) -> dict:
    """Run each notebook in ``mode``, timing it, and record the times in ``measurements_path``.

    Each time is saved as soon as its notebook has run, so an interrupted measurement keeps
    what it measured. ``run`` and ``clock`` are for the tests.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    os.environ["FMNIST_QUICK"] = "1" if mode == "quick" else "0"  # The kernels inherit it.
    run = run or (lambda path: run_notebook(path, inplace=inplace))
    measurements = load(measurements_path)
    for path in paths:
        start = clock()
        run(Path(path))
        seconds = round(clock() - start, 1)
        measurements["notebooks"].setdefault(notebook_key(path), {})[mode] = {
            "seconds": seconds,
            "date": datetime.date.today().isoformat(),
            "commit": _commit(),
            "machine": machine(),
        }
        save(measurements, measurements_path)
        print(f"{Path(path).name}: {format_seconds(seconds)} in {mode} mode", flush=True)
    return measurements


def machine() -> str:
    """The processor and the cores this process may use, as the measurements record it."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} CPU cores, {model}"


def _commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "unknown"


def load(path: Path = MEASUREMENTS) -> dict:
    """The measurements, or an empty set when none were made."""
    if not path.is_file():
        return {"notebooks": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def save(measurements: dict, path: Path = MEASUREMENTS) -> None:
    """Write the measurements (sorted, so that a diff shows what changed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(measurements, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)  # Never a half-written file.


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    measuring = commands.add_parser("measure", help="run notebooks, record their times, rewrite the texts")
    measuring.add_argument("--mode", choices=MODES, required=True)
    measuring.add_argument("--inplace", action="store_true", help="save the outputs into the notebooks")
    measuring.add_argument("notebooks", nargs="+", type=Path)
    commands.add_parser("write", help="rewrite the marked times from docs/run_times.json")
    commands.add_parser("check", help="exit 1 when a marked time differs from docs/run_times.json")
    arguments = parser.parse_args(argv)
    if arguments.command == "measure":
        measurements = measure(arguments.notebooks, arguments.mode, inplace=arguments.inplace)
    else:
        measurements = load()
    if arguments.command == "check":
        problems = disagreements(measurements)
        print("\n".join(problems) or "every stated time is the measured one")
        return 1 if problems else 0
    for path in write(measurements):
        print(f"rewrote the times in {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
