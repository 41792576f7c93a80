"""Benchmark: each notebook's peak memory, run top to bottom as a student runs it.

Binder gives a notebook 1 to 2 GB of memory; the course keeps every notebook under
1.5 GB in full mode. This script runs each numbered notebook in a fresh kernel (with
nbclient, as ``make execute`` does, from ``solutions/``) and, after every cell, reads the
kernel process's peak resident set size (``VmHWM`` in ``/proc/<pid>/status``: the most
memory the kernel held at any moment so far). It prints each notebook's peak and the
cells that raised it most. Nothing is added to the notebooks: they run exactly as they are.

    FMNIST_DATA_DIR=../shared/data/fashion-mnist python benchmarks/notebook_memory.py
    python benchmarks/notebook_memory.py --memory-limit 2GiB solutions/00_getting_started.ipynb

``--memory-limit`` sets ``MEM_LIMIT`` in the kernel's environment, as JupyterHub and Binder
do, so the notebooks see a small machine and choose their small-machine settings
(:func:`fmnist_utils._runtime.memory_limit_bytes`); it limits nothing itself. ``--save``
writes the executed notebooks back (what ``make execute`` does), so one full run gives
both the committed outputs and the figures. ``--quick`` runs the notebooks in quick mode
(a check that the script works; full mode is the measurement). Writes
``benchmarks/results/notebook_memory_<mode>.json``. Linux only (``/proc``). Full mode takes
as long as the notebooks: about 80 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTEBOOKS_DIR = HERE.parent / "solutions"
#: The issue's ceiling for a notebook in full mode (Binder gives 1 to 2 GB).
TARGET_BYTES = 1.5e9
_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9}
_UNITS.update({"ki": 2**10, "kib": 2**10, "mi": 2**20, "mib": 2**20, "gi": 2**30, "gib": 2**30})


def parse_size(text: str) -> int:
    """Parse a memory size such as ``2GiB``, ``1.5GB`` or ``2147483648`` into bytes."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a memory size: {text!r} (examples: 2GiB, 1.5GB, 2147483648)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def peak_rss_bytes(pid: int) -> int:
    """The peak resident set size of process ``pid`` so far (Linux: VmHWM)."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmHWM:\s+(\d+) kB$", status, re.MULTILINE)
    if not found:
        raise RuntimeError(f"/proc/{pid}/status has no VmHWM line")
    return int(found.group(1)) * 1024


def measure(notebook: Path, *, quick: bool, memory_limit: int | None, save: bool) -> dict:
    """Run one notebook in a fresh kernel; return its peak memory, where it rose and the run time."""
    import nbformat
    from nbclient import NotebookClient

    os.environ["FMNIST_QUICK"] = "1" if quick else "0"  # The kernel inherits this environment.
    if memory_limit is None:
        os.environ.pop("MEM_LIMIT", None)
    else:
        os.environ["MEM_LIMIT"] = str(memory_limit)
    content = nbformat.read(notebook, as_version=4)
    peaks: list[tuple[int, int]] = []  # (cell index, peak so far after it)

    def after_cell(cell, cell_index, execute_reply) -> None:
        pid = client.km.provisioner.process.pid
        peaks.append((cell_index, peak_rss_bytes(pid)))

    client = NotebookClient(
        content,
        timeout=None,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
        on_cell_executed=after_cell,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    if save:
        nbformat.write(content, notebook)

    raised, previous = [], 0
    for index, peak in peaks:
        raised.append((peak - previous, index))
        previous = peak
    peak = peaks[-1][1]
    return {
        "notebook": notebook.name,
        "peak_rss_bytes": peak,
        "peak_rss_mib": round(peak / 2**20),
        "seconds": round(seconds, 1),
        "cells_that_raised_the_peak_most": [
            {"cell": index, "raised_mib": round(amount / 2**20)}
            for amount, index in sorted(raised, reverse=True)[:3]
        ],
        "under_target": peak < TARGET_BYTES,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every numbered notebook")
    parser.add_argument("--quick", action="store_true", help="quick mode: checks the script, measures little")
    parser.add_argument(
        "--memory-limit", type=parse_size, help="MEM_LIMIT the kernel sees, e.g. 2GiB (Binder's)"
    )
    parser.add_argument(
        "--save", action="store_true", help="write the executed notebooks back, as make execute"
    )
    parser.add_argument("--output", type=Path, help="JSON file (default: benchmarks/results/...)")
    arguments = parser.parse_args()
    if not Path("/proc/self/status").is_file():
        parser.error("this benchmark reads /proc (Linux)")
    notebooks = arguments.notebooks or sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    for notebook in notebooks:
        if not notebook.is_file():
            parser.error(f"no such notebook: {notebook}")

    rows = []
    for notebook in notebooks:
        print(f"Running {notebook.name} ...", flush=True)
        row = measure(
            notebook.resolve(),
            quick=arguments.quick,
            memory_limit=arguments.memory_limit,
            save=arguments.save,
        )
        rows.append(row)
        raised = ", ".join(
            f"cell {c['cell']} +{c['raised_mib']} MiB" for c in row["cells_that_raised_the_peak_most"]
        )
        print(
            f"  peak {row['peak_rss_mib']:,} MiB in {row['seconds']:.0f} s (raised most by {raised})",
            flush=True,
        )

    mode = "quick (a check of the script, not a measurement)" if arguments.quick else "full"
    limit = "not set" if arguments.memory_limit is None else f"{arguments.memory_limit / 2**30:.2f} GiB"
    print(f"\nPeak memory per notebook, {mode} mode, MEM_LIMIT {limit}, {os.cpu_count()} CPU cores\n")
    print("| notebook | peak memory MiB | peak GB | run s | cells that raised the peak most | under 1.5 GB |")
    print("|---|---:|---:|---:|---|---|")
    for row in rows:
        raised = ", ".join(
            f"{c['cell']} (+{c['raised_mib']})" for c in row["cells_that_raised_the_peak_most"]
        )
        print(
            f"| {row['notebook']} | {row['peak_rss_mib']:,} | {row['peak_rss_bytes'] / 1e9:.2f} | "
            f"{row['seconds']:.0f} | {raised} | {'yes' if row['under_target'] else 'NO'} |"
        )
    worst = max(rows, key=lambda row: row["peak_rss_bytes"])
    print(f"\nHighest: {worst['notebook']}, {worst['peak_rss_bytes'] / 1e9:.2f} GB (target: under 1.5 GB)")
    summary = {
        "mode": mode,
        "memory_limit_bytes": arguments.memory_limit,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "target_bytes": TARGET_BYTES,
        "notebooks": rows,
    }
    suffix = "quick" if arguments.quick else "full"
    output = arguments.output or HERE / "results" / f"notebook_memory_{suffix}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"Written: {output}")
    if not all(row["under_target"] for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
