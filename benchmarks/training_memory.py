"""Benchmark: how memory grows while one kernel trains model after model, and what stops it.

Notebook 05 trains four models one after another in one kernel (its step-by-step
comparison), then a search and the final run; on Binder (1 to 2 GB) that kernel must
stay under 1.5 GB. This script trains the same four models, in the same order, with
the same recipes and the same code (``training.train_model``, which adds the
traced-graph release of ``fmnist_utils._runtime``; ``del`` and
``keras.backend.clear_session()`` after each, as the notebook does), in a fresh process
per setting, and prints the process's peak resident memory (``VmHWM``) after each
model. Every setting sees Binder's ``MEM_LIMIT`` (2 GiB), so ``fmnist_utils.setup``
chooses the small-machine settings; they differ only in how glibc's ``malloc`` keeps
freed memory:

- ``capped + released``: what the course does on a small machine: ``setup`` caps the
  arenas at 2 (``_runtime.limit_malloc_arenas``) and training hands free memory back to the
  system after every epoch (``_runtime.release_free_memory``);
- ``capped``: the arena cap alone (the worker turns the release off);
- ``glibc default``: neither: ``MALLOC_ARENA_MAX`` set to glibc's own default, 8 per CPU
  core, which ``setup`` leaves alone, and no release.

    FMNIST_DATA_DIR=../shared/data/fashion-mnist python benchmarks/training_memory.py

Each model trains for ``--epochs`` epochs (default 1) on the notebook's 54,000 training
images: about 4 minutes a setting on 2 CPU cores. ``--quick`` trains two models on 3,000
images (a check that the script works, not a measurement). Writes
``benchmarks/results/training_memory.json``. Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from notebook_memory import peak_rss_bytes  # The same reading of /proc/<pid>/status.

HERE = Path(__file__).resolve().parent
BINDER_MEM_LIMIT = 2 * 2**30
SETTINGS = ("capped + released", "capped", "glibc default")
STEP_NAMES = (
    "baseline",
    "+ batch norm",
    "+ flip",
    "+ cosine schedule",
    "+ label smoothing",
    "+ third block, dense 256",
    "lighter dropout",
)


def _memory_mib() -> dict[str, int]:
    return {"VmHWM": round(peak_rss_bytes(os.getpid()) / 2**20)}


def worker(epochs: int, quick: bool, release: bool) -> None:
    """Train notebook 05's comparison models in this process; print one JSON line per model."""
    import keras

    import fmnist_utils
    from fmnist_utils import _runtime, data, models, training

    if not release:  # The release stays in the callbacks but hands nothing back.
        _runtime.release_free_memory = lambda: False
    fmnist_utils.setup(seed=42, verbose=False)
    (all_train_images, all_train_labels), _ = data.load_fashion_mnist()
    train, validation = data.train_validation_split(
        all_train_images, all_train_labels, validation_size=0.1, seed=42
    )
    if quick:
        train, validation = (train[0][:3000], train[1][:3000]), (validation[0][:1000], validation[1][:1000])
    print(json.dumps({"stage": "data loaded", **_memory_mib()}), flush=True)

    recipe = training.IMPROVED_RECIPE
    constant = recipe.replace(
        schedule="constant", label_smoothing=0.0, learning_rate=1e-3, batch_size=128, epochs=epochs
    )
    cosine = recipe.replace(label_smoothing=0.0, epochs=epochs)
    builds = [  # Notebook 05's steps, in its order.
        (lambda: models.build_baseline_cnn(), constant),
        (lambda: models.build_baseline_cnn(), cosine),
        (lambda: recipe.replace(horizontal_flip=False, translation=0.0).build_model(), cosine),
        (lambda: recipe.replace(translation=0.0).build_model(), recipe.replace(epochs=epochs)),
    ]
    if quick:
        builds = builds[:1] + builds[-1:]
    with tempfile.TemporaryDirectory(prefix="training-memory-") as runs:
        for number, (build, recipe) in enumerate(builds):
            keras.utils.set_random_seed(42)
            model, result = training.train_model(
                recipe, train, validation, model=build(), run_dir=Path(runs) / str(number), verbose=0
            )
            del model
            keras.backend.clear_session()
            print(
                json.dumps({"stage": number, "seconds": round(result.seconds, 1), **_memory_mib()}),
                flush=True,
            )


def run_setting(setting: str, epochs: int, quick: bool) -> list[dict]:
    """Run the worker in a fresh process with one setting; return its lines."""
    environment = {**os.environ, "MEM_LIMIT": str(BINDER_MEM_LIMIT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    environment.pop("MALLOC_ARENA_MAX", None)
    environment.pop("FMNIST_QUICK", None)
    if setting == "glibc default":
        environment["MALLOC_ARENA_MAX"] = str(8 * (os.cpu_count() or 1))
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--epochs",
        str(epochs),
        *(["--quick"] if quick else []),
        *(["--release"] if setting == "capped + released" else []),
    ]
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"the {setting!r} run failed:\n{completed.stderr[-3000:]}")
    return [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=1, help="epochs per model (default 1)")
    parser.add_argument("--quick", action="store_true", help="two models on 3,000 images: a smoke test")
    parser.add_argument("--output", type=Path, help="JSON file (default: benchmarks/results/...)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--release", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.epochs < 1:
        parser.error("--epochs must be at least 1")
    if arguments.worker:
        worker(arguments.epochs, arguments.quick, arguments.release)
        return
    if not Path("/proc/self/status").is_file():
        parser.error("this benchmark reads /proc (Linux)")

    runs = {}
    for setting in SETTINGS:
        print(f"Training the comparison models, malloc arenas {setting} ...", flush=True)
        start = time.perf_counter()
        runs[setting] = run_setting(setting, arguments.epochs, arguments.quick)
        print(f"  done in {time.perf_counter() - start:.0f} s", flush=True)

    names = STEP_NAMES if not arguments.quick else (STEP_NAMES[0], STEP_NAMES[-1])
    mode = "quick (a check of the script, not a measurement)" if arguments.quick else "full"
    print(
        f"\nPeak memory (VmHWM, MiB) after each model, {mode} mode, {arguments.epochs} epoch(s) each, "
        f"MEM_LIMIT 2 GiB, {os.cpu_count()} CPU cores\n"
    )
    print("| after | " + " | ".join(f"{s} MiB | {s} s" for s in SETTINGS) + " |")
    print("|---|" + "---:|---:|" * len(SETTINGS))
    rows = [("data loaded", *[runs[s][0] for s in SETTINGS])]
    rows += [(name, *[runs[s][i + 1] for s in SETTINGS]) for i, name in enumerate(names)]
    for name, *lines in rows:
        cells = " | ".join(f"{line['VmHWM']:,} | {line.get('seconds', '')}" for line in lines)
        print(f"| {name} | {cells} |")
    peaks = {setting: runs[setting][-1]["VmHWM"] for setting in SETTINGS}
    default = peaks["glibc default"]
    print(
        f"\nPeak: {peaks['capped + released']:,} MiB capped + released, {peaks['capped']:,} MiB capped, "
        f"{default:,} MiB with glibc's default ({default - peaks['capped + released']:+,} MiB saved in all)"
    )
    summary = {
        "mode": mode,
        "epochs_per_model": arguments.epochs,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "models": list(names),
        "runs": runs,
        "peak_mib": peaks,
    }
    output = arguments.output or HERE / "results" / "training_memory.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"Written: {output}")


if __name__ == "__main__":
    main()
