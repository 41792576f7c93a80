"""Benchmark: the course's CNNs side by side with the models most tutorials train.

Trains, on the real data and with the same 54,000 / 6,000 training / validation split:

- ``tutorial_dense``: TensorFlow's "Basic classification" network (Flatten, Dense 128,
  Dense 10), trained like the tutorial (Adam, 10 epochs, batches of 32);
- ``tutorial_cnn``: the usual tutorial CNN (three conv layers with max-pooling and
  dropout, Dense 128), 10 epochs, batches of 64;
- ``baseline``: the course's baseline CNN with notebook 03's recipe;
- ``improved``: the course's improved CNN with notebook 05's recipe;
- ``improved_refit``: the same recipe refit on all 60,000 training images, as notebook
  05 trains its final model once every choice is made (no validation set, so no
  "time to 90%" for it).

For each it reports parameters, seconds per epoch, images per second in training and
in inference, test accuracy (plain and with flip averaging), the training time until
the validation accuracy first reached 90% and 92%, and peak memory. Each model trains
in its own process, so its peak memory and timings are its own.

    FMNIST_DATA_DIR=../shared/data/fashion-mnist python benchmarks/model_comparison.py

Prints a markdown table and writes the same figures to
``benchmarks/results/model_comparison_<device>.json`` (``cpu`` or ``gpu``: GPU figures
are kept apart from CPU ones). ``--models improved --update`` retrains only the models
named and replaces their rows in that file, keeping the others. ``--quick`` trains on
small subsets for one epoch (a check that the script works, not a measurement). Full
mode takes about 40 minutes on 2 CPU cores.
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

MODELS = ("tutorial_dense", "tutorial_cnn", "baseline", "improved", "improved_refit")
#: Issue 5's targets for the improved model, full mode on 2 CPU cores.
TARGET_ACCURACY = 0.940
TARGET_SECONDS = 20 * 60
AIM_ACCURACY = 0.950
AIM_SECONDS = 30 * 60
THRESHOLDS = (0.90, 0.92)
#: How the tutorials train their models (no early stopping, constant learning rate).
TUTORIAL_RECIPES = {
    "tutorial_dense": {"epochs": 10, "batch_size": 32},
    "tutorial_cnn": {"epochs": 10, "batch_size": 64},
}


def _recipe(name: str, training):
    """The recipe each model of the comparison trains with."""
    if name == "baseline":
        return training.BASELINE_RECIPE
    if name in ("improved", "improved_refit"):
        return training.IMPROVED_RECIPE
    return training.IMPROVED_RECIPE.replace(  # Only the training fields count: the model is given.
        **TUTORIAL_RECIPES[name], schedule="constant", label_smoothing=0.0, learning_rate=1e-3
    )


def train_one(name: str, *, quick: bool, seed: int) -> dict:
    """Train and measure one model (runs in a child process)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    from fmnist_utils import data, models, training
    from fmnist_utils.config import RunConfig
    from fmnist_utils.evaluation import predict_probabilities

    config = (
        RunConfig(quick=True, train_size=2_000, test_size=500, max_epochs=1)
        if quick
        else RunConfig(quick=False)
    )
    (all_train_images, all_train_labels), (test_images, test_labels) = data.load_fashion_mnist()
    (train_images, train_labels), (validation_images, validation_labels) = data.train_validation_split(
        all_train_images,
        all_train_labels,
        validation_size=training.IMPROVED_RECIPE.validation_size,
        seed=seed,
    )
    train = config.subset(train_images, train_labels, "train")
    validation = config.subset(validation_images, validation_labels, "validation")
    if name == "improved_refit":  # Every training image, no validation set.
        train, validation = config.subset(all_train_images, all_train_labels, "train"), None
    test_images, test_labels = config.subset(test_images, test_labels, "test")

    keras.utils.set_random_seed(seed)
    with tempfile.TemporaryDirectory() as run_dir:
        recipe = _recipe(name, training)
        recipe = recipe.replace(epochs=config.epochs(recipe.epochs))
        builder = {"tutorial_dense": models.build_tutorial_dense, "tutorial_cnn": models.build_tutorial_cnn}
        model = builder[name]() if name in builder else None
        model, result = training.train_model(
            recipe, train, validation, model=model, run_dir=run_dir, verbose=0
        )

    predict_probabilities(model, test_images[:512])  # Warm-up: the first call traces the graph.
    start = time.perf_counter()
    probabilities = predict_probabilities(model, test_images)
    inference_seconds = time.perf_counter() - start
    flipped = predict_probabilities(model, test_images, flip_average=True)

    gpus = tf.config.list_physical_devices("GPU")
    peak_gpu_mib = None
    if gpus:
        device = ", ".join(
            tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in gpus
        )
        peak_gpu_mib = round(tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20)
    else:
        device = f"CPU ({os.cpu_count()} cores, {platform.processor() or platform.machine()})"
    to_reach = {
        f"seconds_to_{round(value * 100)}_val": None if validation is None else result.seconds_to_reach(value)
        for value in THRESHOLDS
    }
    return {
        "model": name,
        "device": device,
        "device_kind": "gpu" if gpus else "cpu",
        "parameters": model.count_params(),
        "epochs_run": result.epochs_run,
        "train_seconds": round(result.seconds, 1),
        "seconds_per_epoch": round(result.seconds / result.epochs_run, 2),
        "train_images_per_second": round(result.images_per_second),
        "inference_images_per_second": round(len(test_labels) / inference_seconds),
        "best_val_accuracy": None if validation is None else round(max(result.history["val_accuracy"]), 4),
        "test_accuracy": round(float(np.mean(probabilities.argmax(axis=1) == test_labels)), 4),
        "test_accuracy_flip_average": round(float(np.mean(flipped.argmax(axis=1) == test_labels)), 4),
        **{key: None if value is None else round(value, 1) for key, value in to_reach.items()},
        "peak_memory_mib": _peak_memory_mib(),
        "peak_gpu_memory_mib": peak_gpu_mib,
        "training_examples": len(train[1]),
        "validation_examples": 0 if validation is None else len(validation[1]),
        "test_examples": len(test_labels),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def run_worker(name: str, *, seed: int, quick: bool) -> dict:
    """Train and measure one model in a child process of its own; exit if it fails."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--seed", str(seed)]
    if quick:
        command.append("--quick")
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        sys.exit(f"training {name} (seed {seed}) failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _peak_memory_mib() -> int | None:
    """Peak resident memory of this process in MiB (``None`` where the OS does not say)."""
    try:
        import resource
    except ImportError:  # Windows.
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10))


def _seconds(value: float | None, row: dict) -> str:
    if not row["validation_examples"]:
        return "n/a (no validation set)"
    return "not reached" if value is None else f"{value:,.0f}"


def print_table(rows: list[dict]) -> None:
    print(
        "| model | parameters | epochs | s/epoch | train images/s | inference images/s | test acc | "
        "test acc, flip avg | s to 90% val | s to 92% val | peak memory MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        memory = "n/a" if row["peak_memory_mib"] is None else f"{row['peak_memory_mib']:,}"
        if row["peak_gpu_memory_mib"] is not None:
            memory += f" (GPU {row['peak_gpu_memory_mib']:,})"
        print(
            f"| {row['model']} | {row['parameters']:,} | {row['epochs_run']} | "
            f"{row['seconds_per_epoch']:.1f} | "
            f"{row['train_images_per_second']:,} | {row['inference_images_per_second']:,} | "
            f"{row['test_accuracy']:.4f} | {row['test_accuracy_flip_average']:.4f} | "
            f"{_seconds(row['seconds_to_90_val'], row)} | {_seconds(row['seconds_to_92_val'], row)} | "
            f"{memory} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="small subsets, one epoch: a smoke test")
    parser.add_argument(
        "--output", help="JSON file (default: benchmarks/results/model_comparison_<device>.json)"
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="replace only these models' rows in the existing JSON file, keep the others",
    )
    parser.add_argument("--worker", choices=MODELS, help=argparse.SUPPRESS)
    arguments = parser.parse_args()

    if arguments.worker:
        print(json.dumps(train_one(arguments.worker, quick=arguments.quick, seed=arguments.seed)))
        return

    rows = []
    for name in arguments.models:
        print(f"Training {name} ...", flush=True)
        rows.append(run_worker(name, seed=arguments.seed, quick=arguments.quick))
        print(f"  {rows[-1]['train_seconds']} s, test accuracy {rows[-1]['test_accuracy']:.4f}", flush=True)

    mode = "quick (smoke test, not a measurement)" if arguments.quick else "full"
    first = rows[0]
    output = Path(
        arguments.output
        or Path(__file__).parent / "results" / f"model_comparison_{first['device_kind']}.json"
    )
    if arguments.update:
        rows = _merge_rows(output, rows, mode=mode)
    print(f"\nModel comparison, {mode} mode, on {first['device']}, TensorFlow {first['tensorflow']}")
    split = next((row for row in rows if row["validation_examples"]), first)
    refit = (
        " (improved_refit: every training image, no validation)"
        if any(not row["validation_examples"] for row in rows)
        else ""
    )
    print(
        f"{split['training_examples']:,} training, {split['validation_examples']:,} validation, "
        f"{split['test_examples']:,} test images{refit}; seed {arguments.seed}\n"
    )
    print_table(rows)
    if not arguments.quick:
        print()
        for line in target_verdicts(rows):
            print(line)

    summary = {
        "mode": mode,
        "device": first["device"],
        "device_kind": first["device_kind"],
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "seed": arguments.seed,
        "tutorial_recipes": TUTORIAL_RECIPES,
        "models": rows,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nWritten: {output}")


def _merge_rows(output: Path, rows: list[dict], *, mode: str) -> list[dict]:
    """The rows of ``output`` with those of the models just trained replaced (``--update``)."""
    if not output.is_file():
        sys.exit(f"--update: {output} does not exist yet; run without --update first.")
    earlier = json.loads(output.read_text())
    if earlier.get("mode") != mode:
        sys.exit(f"--update: {output} holds a {earlier.get('mode')} run, not a {mode} one.")
    merged = {row["model"]: row for row in earlier["models"]}
    merged.update({row["model"]: row for row in rows})
    return [merged[name] for name in MODELS if name in merged]


def target_verdicts(rows: list[dict]) -> list[str]:
    """Issue 5's target and aim, checked for each improved model's row."""
    lines = []
    for row in rows:
        if not row["model"].startswith("improved"):
            continue
        for accuracy, seconds, word in (
            (TARGET_ACCURACY, TARGET_SECONDS, "Target"),
            (AIM_ACCURACY, AIM_SECONDS, "Aim"),
        ):
            in_time = row["train_seconds"] <= seconds
            plain = row["test_accuracy"] >= accuracy and in_time
            flipped = row["test_accuracy_flip_average"] >= accuracy and in_time
            verdict = "met" if plain else "met with flip averaging" if flipped else "NOT met"
            lines.append(
                f"{word} ({row['model']}) >= {accuracy:.1%} test accuracy in <= {seconds / 60:.0f} min "
                f"of training: {verdict} ({row['test_accuracy']:.2%}, "
                f"{row['test_accuracy_flip_average']:.2%} with flip averaging, "
                f"in {row['train_seconds'] / 60:.1f} min)"
            )
    return lines


if __name__ == "__main__":
    main()
