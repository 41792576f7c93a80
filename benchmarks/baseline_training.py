"""Benchmark: train the baseline CNN with notebook 03's recipe, twice with the same seed.

Targets (issue 4), full mode on the course's reference machine (2 CPU cores, no GPU):
at least 92.0% test accuracy, at most 5 minutes of training, and two runs with the
same seed within 0.2 points of each other.

    FMNIST_DATA_DIR=../shared/data/fashion-mnist python benchmarks/baseline_training.py

Prints a markdown table and writes the same figures to
``benchmarks/results/baseline_training.json``. ``--quick`` trains on a small subset for
one epoch (a check that the script works, not a measurement).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import tempfile
from pathlib import Path

TARGET_ACCURACY = 0.920
TARGET_SECONDS = 300.0
TARGET_SPREAD = 0.002


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=2, help="training runs with the same seed")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="small subset, one epoch: a smoke test")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "baseline_training.json"))
    arguments = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    from fmnist_utils import data, training
    from fmnist_utils.config import RunConfig
    from fmnist_utils.evaluation import predict_probabilities

    config = (
        RunConfig(quick=True, train_size=2_000, test_size=500, max_epochs=1)
        if arguments.quick
        else RunConfig(quick=False)
    )
    (train_images, train_labels), (test_images, test_labels) = data.load_fashion_mnist()
    (train_images, train_labels), (validation_images, validation_labels) = data.train_validation_split(
        train_images,
        train_labels,
        validation_size=training.BASELINE_RECIPE.validation_size,
        seed=arguments.seed,
    )
    train_images, train_labels = config.subset(train_images, train_labels, "train")
    validation_images, validation_labels = config.subset(validation_images, validation_labels, "validation")
    test_images, test_labels = config.subset(test_images, test_labels, "test")
    recipe = training.BASELINE_RECIPE.replace(epochs=config.epochs(training.BASELINE_RECIPE.epochs))

    runs = []
    for run in range(1, arguments.runs + 1):
        keras.utils.set_random_seed(arguments.seed)
        with tempfile.TemporaryDirectory() as run_dir:
            model, result = training.train_model(
                recipe,
                (train_images, train_labels),
                (validation_images, validation_labels),
                run_dir=run_dir,
                verbose=0,
            )
        probabilities = predict_probabilities(model, test_images)
        test_accuracy = float(np.mean(probabilities.argmax(axis=1) == test_labels))
        runs.append(
            {
                "run": run,
                "epochs_run": result.epochs_run,
                "best_epoch": result.best_epoch,
                "train_seconds": round(result.seconds, 1),
                "seconds_per_epoch": round(result.seconds / result.epochs_run, 1),
                "images_per_second": round(result.images_per_second),
                "best_val_accuracy": round(max(result.history["val_accuracy"]), 4),
                "test_accuracy": round(test_accuracy, 4),
            }
        )
        print(f"run {run}: test accuracy {test_accuracy:.4f} after {result.seconds:.0f} s", flush=True)

    accuracies = [run["test_accuracy"] for run in runs]
    spread = max(accuracies) - min(accuracies)
    summary = {
        "mode": "quick (smoke test, not a measurement)" if arguments.quick else "full",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "devices": [device.name for device in tf.config.list_physical_devices()],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "training_examples": len(train_labels),
        "test_examples": len(test_labels),
        "recipe": dataclasses.asdict(recipe),
        "seed": arguments.seed,
        "runs": runs,
        "test_accuracy_spread": round(spread, 4),
    }

    print(f"\nBaseline CNN, {summary['mode']} mode, {summary['machine']}, TensorFlow {tf.__version__}")
    sizes = (
        f"{len(train_labels):,} training, {len(validation_labels):,} validation, {len(test_labels):,} test"
    )
    print(f"{sizes} images\n")
    print("| run | epochs | best epoch | train s | s/epoch | images/s | best val acc | test acc |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        print(
            f"| {run['run']} | {run['epochs_run']} | {run['best_epoch']} | {run['train_seconds']} | "
            f"{run['seconds_per_epoch']} | {run['images_per_second']:,} | {run['best_val_accuracy']:.4f} | "
            f"{run['test_accuracy']:.4f} |"
        )
    if not arguments.quick:
        slowest = max(run["train_seconds"] for run in runs)
        print()
        verdicts = [
            (
                f"test accuracy >= {TARGET_ACCURACY:.1%}",
                min(accuracies) >= TARGET_ACCURACY,
                f"worst run {min(accuracies):.2%}",
            ),
            (
                f"training time <= {TARGET_SECONDS:.0f} s",
                slowest <= TARGET_SECONDS,
                f"slowest run {slowest:.0f} s",
            ),
            (
                f"same-seed spread <= {TARGET_SPREAD * 100:.1f} points",
                spread <= TARGET_SPREAD,
                f"{spread * 100:.2f} points",
            ),
        ]
        for target, met, figure in verdicts:
            print(f"Target {target}: {'met' if met else 'NOT met'} ({figure})")

    output = Path(arguments.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nWritten: {output}")


if __name__ == "__main__":
    main()
