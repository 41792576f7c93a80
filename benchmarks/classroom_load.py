"""Size a classroom: students running notebooks 00-03 at once through a real JupyterHub.

    sudo FMNIST_DATA_DIR=../shared/data/fashion-mnist .venv/bin/python benchmarks/classroom_load.py

Builds the classroom of tools/classroom.py (in PREFIX, default /tmp/fmnist-classroom-bench; its
environment is kept for the next run) with STUDENTS accounts (default 5), each limited to
``--mem-limit`` (3 GiB) by their own memory cgroup, starts the hub and every student's server,
then, through the hub, each student opens the handouts 00, 01, 02 and 03 (~/notebooks) one after
the other, each in a new kernel, and runs every code cell in order (what Run All does, in quick
mode; cells marked NBVAL_SKIP are skipped as in CI, so notebook 03 starts no TensorBoard). The
kernels stay open until the student's last notebook ends, as JupyterLab leaves them unless
the student shuts them down (``--close-kernels``: each is shut down before the next notebook).
First one student alone, then all at once.

Printed per student: wall time, CPU seconds (of all their processes), peak memory: resident
(sampled every 0.5 s from their cgroup's ``memory.stat``: rss + mapped files) and the cgroup's
own peak (``memory.max_usage_in_bytes``: with page cache), and the number of lesson cells that
failed (0 expected; the exercises' stubs and checks raise by design). Then the whole classroom's
peak. The figures are also written to benchmarks/results/classroom_load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.classroom import CGROUP_V1  # noqa: E402
from tools.hub_client import Hub  # noqa: E402

NOTEBOOKS = [
    "00_getting_started",
    "01_data_exploration_and_preprocessing",
    "02_building_a_cnn",
    "03_training",
]
MIB = 2**20


def classroom(prefix: Path, *arguments: str) -> None:
    command = [sys.executable, "-m", "tools.classroom", *arguments, "--prefix", str(prefix)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)


def cgroup(user: str) -> Path:
    return CGROUP_V1 / "fmnist-classroom" / user


def resident(user: str) -> int:
    """rss + mapped files of the user's cgroup, in bytes."""
    stat = dict(line.split() for line in (cgroup(user) / "memory.stat").read_text().splitlines())
    return int(stat["total_rss"]) + int(stat["total_mapped_file"])


def cpu_seconds(user: str) -> float:
    """User and system CPU time of every process the user runs (and their finished children)."""
    uid, ticks, total = pwd.getpwnam(user).pw_uid, os.sysconf("SC_CLK_TCK"), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.parent.stat().st_uid != uid:
                continue
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / ticks


class Sampler(threading.Thread):
    """Every 0.5 s: each user's resident memory; keeps each peak and the peak of their sum."""

    def __init__(self, users: list[str]) -> None:
        super().__init__(daemon=True)
        self.users, self.peaks, self.total_peak, self.running = users, dict.fromkeys(users, 0), 0, True

    def run(self) -> None:
        while self.running:
            now = {user: resident(user) for user in self.users}
            for user, value in now.items():
                self.peaks[user] = max(self.peaks[user], value)
            self.total_peak = max(self.total_peak, sum(now.values()))
            time.sleep(0.5)


def run_notebooks(user, record: dict, notebooks: list[str], close: bool) -> None:
    """Open each handout in a new kernel and run its code cells; count failed lesson cells."""
    start, kernels, failed = time.monotonic(), [], []
    cpu_before = cpu_seconds(user.name)  # Includes earlier phases' kernels (their server's children).
    for name in notebooks:
        notebook = nbformat.read(Path(pwd.getpwnam(user.name).pw_dir, "notebooks", f"{name}.ipynb"), 4)
        kernel = user.kernel("notebooks")
        kernels.append(kernel)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code" or "NBVAL_SKIP" in cell.source:
                continue
            result = kernel.execute(cell.source)
            if result.died:
                raise RuntimeError(f"{user.name}: the kernel died in {name}, cell {index}")
            exercise = "nbgrader" in cell.metadata or {"solution", "check"} & set(
                cell.metadata.get("tags", [])
            )
            if result.error and not exercise:
                failed.append(f"{name} cell {index}: {result.error[:120]}")
        if close:  # Kernel > Shut Down Kernel before opening the next notebook.
            kernels.pop().close()
    record["seconds"] = time.monotonic() - start
    record["cpu_seconds"] = cpu_seconds(user.name) - cpu_before  # Closed kernels: their server's cutime.
    record["failed_lesson_cells"] = failed
    for kernel in kernels:
        kernel.close()


def phase(users: dict, names: list[str], notebooks: list[str], close: bool) -> dict:
    for name in names:
        (cgroup(name) / "memory.max_usage_in_bytes").write_text("0")
    sampler, records = Sampler(names), {name: {} for name in names}
    sampler.start()
    start = time.monotonic()
    threads = [
        threading.Thread(target=run_notebooks, args=(users[name], records[name], notebooks, close))
        for name in names
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sampler.running = False
    sampler.join()
    for name in names:
        records[name]["peak_resident_mib"] = sampler.peaks[name] / MIB
        records[name]["peak_cgroup_mib"] = int((cgroup(name) / "memory.max_usage_in_bytes").read_text()) / MIB
    return {"wall_seconds": time.monotonic() - start, "peak_total_resident_mib": sampler.total_peak / MIB,
            "students": records}  # fmt: skip


def report(title: str, result: dict) -> None:
    together = result["peak_total_resident_mib"]
    print(f"\n{title}: {len(result['students'])} student(s), wall time {result['wall_seconds']:.0f} s, "
          f"peak of all students' resident memory together {together:,.0f} MiB")  # fmt: skip
    columns = f"{'wall s':>7} {'CPU s':>7} {'peak resident MiB':>18} {'cgroup peak MiB':>16}"
    print(f"  {'student':<12} {columns}  failed")
    for name, record in result["students"].items():
        print(f"  {name:<12} {record['seconds']:>7.0f} {record['cpu_seconds']:>7.0f} "
              f"{record['peak_resident_mib']:>18,.0f} {record['peak_cgroup_mib']:>16,.0f}  "
              f"{len(record['failed_lesson_cells'])}")  # fmt: skip
        for failure in record["failed_lesson_cells"]:
            print(f"      {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefix", type=Path, default=Path("/tmp/fmnist-classroom-bench"))
    parser.add_argument("--students", type=int, default=5)
    parser.add_argument("--mem-limit", default="3G")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--notebooks", nargs="+", default=NOTEBOOKS, help="a smaller set for a trial run")
    parser.add_argument(
        "--close-kernels", action="store_true", help="shut each notebook's kernel down before the next"
    )
    arguments = parser.parse_args()
    names = [f"fmnist-s{number}" for number in range(1, arguments.students + 1)]
    data = os.environ["FMNIST_DATA_DIR"]
    if (arguments.prefix / "hub" / "classroom.json").is_file():
        classroom(arguments.prefix, "remove", "--keep-environment")
    homes = str(arguments.prefix / "home")
    classroom(arguments.prefix, "setup", "--homes", homes, "--instructor", "fmnist-bench",
              "--students", *names, "--data-dir", data, "--mem-limit", arguments.mem_limit)  # fmt: skip
    hub_process = subprocess.Popen(
        [sys.executable, "-m", "tools.classroom", "start", "--prefix", str(arguments.prefix),
         "--port", str(arguments.port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        hub = Hub(
            f"http://127.0.0.1:{arguments.port}", (arguments.prefix / "hub/admin_token").read_text().strip()
        )
        hub.wait_until_up()
        users = {name: hub.start(name) for name in names}
        idle = {name: resident(name) / MIB for name in names}
        print(f"Idle servers: {min(idle.values()):.0f}-{max(idle.values()):.0f} MiB resident each.")
        alone = phase(users, names[:1], arguments.notebooks, arguments.close_kernels)
        report("One student alone", alone)
        together = phase(users, names, arguments.notebooks, arguments.close_kernels)
        report("All at once", together)
        results = {"idle_server_mib": idle, "alone": alone, "together": together}
        results |= {
            "mem_limit": arguments.mem_limit,
            "cpus": os.cpu_count(),
            "close": arguments.close_kernels,
        }
        suffix = "_closed" if arguments.close_kernels else ""
        out = ROOT / "benchmarks" / "results" / f"classroom_load{suffix}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, indent=2))
        print(f"\nWritten to {out}")
    finally:
        hub_process.send_signal(signal.SIGINT)
        hub_process.wait(timeout=180)
        classroom(arguments.prefix, "remove", "--keep-environment")


if __name__ == "__main__":
    main()
