"""Benchmark: each notebook's peak memory, run top to bottom as a student runs it.

Binder gives a notebook 1 to 2 GB of memory; the course keeps every notebook under
1.5 GB in full mode. This script runs each numbered notebook in a fresh kernel (with
nbclient, as ``make execute`` does, from ``notebooks/``), then asks the kernel for its
peak resident set size (``ru_maxrss``: the most memory the process held at any moment)
and prints a table. The notebooks are read, never written: their saved outputs stay as
they are (the models and logs they save are written as in any run).

    FMNIST_DATA_DIR=../shared/data/fashion-mnist python benchmarks/notebook_memory.py
    python benchmarks/notebook_memory.py --memory-limit 2GiB notebooks/00_getting_started.ipynb

``--memory-limit`` sets ``MEM_LIMIT`` in the kernel's environment, as JupyterHub and Binder
do, so the notebooks see a small machine and choose their small-machine settings
(:func:`fmnist_utils.config.memory_limit_bytes`); it limits nothing itself. ``--quick``
runs the notebooks in quick mode (a check that the script works; full mode is the
measurement). Writes ``benchmarks/results/notebook_memory_<mode>.json``. Full mode takes
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
NOTEBOOKS_DIR = HERE.parent / "notebooks"
#: The issue's ceiling for a notebook in full mode (Binder gives 1 to 2 GB).
TARGET_BYTES = 1.5e9
_MARKER = "FMNIST_PEAK_MEMORY"
_PEAK_CELL = f"""\
import json as _json
import resource as _resource
import sys as _sys

_peak = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss * (1 if _sys.platform == "darwin" else 1024)
print("{_MARKER}", _json.dumps({{"peak_rss_bytes": _peak, "small_machine": config.small_machine}}))
"""
# After every code cell: the peak so far, so the report can say which cells raised it.
_CELL_PEAK = """\
import resource as _resource
print("{marker}", _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss)
"""
_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9}
_UNITS.update({"ki": 2**10, "kib": 2**10, "mi": 2**20, "mib": 2**20, "gi": 2**30, "gib": 2**30})


def parse_size(text: str) -> int:
    """Parse a memory size such as ``2GiB``, ``1.5GB`` or ``2147483648`` into bytes."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a memory size: {text!r} (examples: 2GiB, 1.5GB, 2147483648)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def measure(notebook: Path, *, quick: bool, memory_limit: int | None) -> dict:
    """Run one notebook in a fresh kernel; return its peak memory and run time."""
    import nbformat
    from nbclient import NotebookClient

    os.environ["FMNIST_QUICK"] = "1" if quick else "0"  # The kernel inherits this environment.
    if memory_limit is None:
        os.environ.pop("MEM_LIMIT", None)
    else:
        os.environ["MEM_LIMIT"] = str(memory_limit)
    content = nbformat.read(notebook, as_version=4)
    cells = []
    for index, cell in enumerate(content.cells):
        cells.append(cell)
        if cell.cell_type == "code":
            cells.append(nbformat.v4.new_code_cell(_CELL_PEAK.format(marker=f"{_MARKER}_CELL {index}")))
    content.cells = [*cells, nbformat.v4.new_code_cell(_PEAK_CELL)]
    client = NotebookClient(
        content,
        timeout=None,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    text = "".join(output.get("text", "") for output in content.cells[-1].outputs)
    found = re.search(rf"{_MARKER} (\{{.*\}})", text)
    if not found:
        raise RuntimeError(f"{notebook.name}: the peak-memory cell printed nothing readable: {text!r}")
    figures = json.loads(found.group(1))
    # Which cells raised the peak most (ru_maxrss is in KiB on Linux).
    steps, previous = [], 0
    for cell in content.cells:
        for output in cell.get("outputs", []):
            step = re.search(rf"{_MARKER}_CELL (\d+) (\d+)", output.get("text", ""))
            if step:
                index, peak_kib = int(step.group(1)), int(step.group(2))
                steps.append((peak_kib - previous, index))
                previous = peak_kib
    top_cells = [
        {"cell": index, "raised_mib": round(raised / 1024)}
        for raised, index in sorted(steps, reverse=True)[:3]
    ]
    return {
        "notebook": notebook.name,
        "peak_rss_bytes": figures["peak_rss_bytes"],
        "peak_rss_mib": round(figures["peak_rss_bytes"] / 2**20),
        "small_machine_settings": figures["small_machine"],
        "seconds": round(seconds, 1),
        "cells_that_raised_the_peak_most": top_cells,
        "under_target": figures["peak_rss_bytes"] < TARGET_BYTES,
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
    parser.add_argument("--output", type=Path, help="JSON file (default: benchmarks/results/...)")
    arguments = parser.parse_args()
    notebooks = arguments.notebooks or sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    for notebook in notebooks:
        if not notebook.is_file():
            parser.error(f"no such notebook: {notebook}")

    rows = []
    for notebook in notebooks:
        print(f"Running {notebook.name} ...", flush=True)
        row = measure(notebook.resolve(), quick=arguments.quick, memory_limit=arguments.memory_limit)
        rows.append(row)
        raised = ", ".join(
            f"cell {c['cell']} +{c['raised_mib']} MiB" for c in row["cells_that_raised_the_peak_most"]
        )
        print(
            f"  peak {row['peak_rss_mib']:,} MiB in {row['seconds']:.0f} s (most raised by: {raised})",
            flush=True,
        )

    mode = "quick (a check of the script, not a measurement)" if arguments.quick else "full"
    limit = "none" if arguments.memory_limit is None else f"{arguments.memory_limit / 2**30:.2f} GiB"
    print(f"\nPeak memory per notebook, {mode} mode, MEM_LIMIT {limit}, {os.cpu_count()} CPU cores\n")
    print("| notebook | peak memory MiB | peak GB | small-machine settings | run s | under 1.5 GB |")
    print("|---|---:|---:|---|---:|---|")
    for row in rows:
        print(
            f"| {row['notebook']} | {row['peak_rss_mib']:,} | {row['peak_rss_bytes'] / 1e9:.2f} | "
            f"{'on' if row['small_machine_settings'] else 'off'} | {row['seconds']:.0f} | "
            f"{'yes' if row['under_target'] else 'NO'} |"
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
