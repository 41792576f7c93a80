"""Benchmark: time to accuracy of the course's CNNs and of the models most tutorials train.

Trains, on the real data, each model named with each seed (the seed sets the 54,000 /
6,000 training / validation split, the initial weights, the shuffling and the
augmentation), one process per run, side by side in one invocation so that the ratios
between models hold on a noisy machine:

- ``tutorial_dense``: TensorFlow's "Basic classification" network (Flatten, Dense 128,
  Dense 10), trained like the tutorial (Adam, 10 epochs, batches of 32);
- ``tutorial_cnn``: the usual tutorial CNN (three conv layers with max-pooling and
  dropout, Dense 128), 10 epochs, batches of 64;
- ``baseline``: the course's baseline CNN with notebook 03's recipe;
- ``improved_before``: the improved recipe notebook 05 used before issue 20
  (:data:`IMPROVED_BEFORE`, 30 epochs, about 16 minutes);
- ``improved``: notebook 05's recipe, ``training.IMPROVED_RECIPE``;
- ``improved_refit``: the same recipe refit on all 60,000 training images, once every
  choice is made (no validation set, so no time to any accuracy; not in the default list).

For each run it measures the training time, the test accuracy (plain, with flip
averaging, and as chosen on the validation set: flip averaging only where it helped
there), the training time until the validation accuracy first reached 90%, 92%, 93% and
94%, images per second in training and inference, the achieved GFLOP/s and peak memory.
Per model it prints the mean and the range over the seeds, and the training time
relative to ``improved_before``'s.

GFLOP/s: the forward multiply-adds of every convolution and dense layer, counted from
the model's shapes (``training_profile.model_flops``), times 2 FLOP, times 3 for
training (forward, and the two products of the backward pass), times the images seen,
over the training time (validation passes included). The peak it is set against is
measured, not looked up: the best of several float32 matrix products of 1,024 to
4,096 squared on TensorFlow's threads, the fastest dense arithmetic this machine does
from TensorFlow (a processor's nominal peak depends on its clock and vector units,
which differ from machine to machine).

    FMNIST_DATA_DIR=../shared/data/fashion-mnist python benchmarks/model_comparison.py
    python benchmarks/model_comparison.py --models improved --seeds 42 --update

Prints markdown tables and writes the figures to
``benchmarks/results/model_comparison_<device>.json`` (``cpu`` or ``gpu``). ``--update``
retrains only the models named and replaces their runs in that file, keeping the others.
``--quick`` trains on small subsets for one epoch (a check that the script works, not a
measurement). Full mode, the default four models and three seeds, takes about 90 minutes
on 2 CPU cores (the ``improved_before`` runs take half of it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = ("tutorial_dense", "tutorial_cnn", "baseline", "improved_before", "improved", "improved_refit")
DEFAULT_MODELS = ("tutorial_cnn", "baseline", "improved_before", "improved")
DEFAULT_SEEDS = (42, 1, 2)
#: The model every other one's training time is compared with.
REFERENCE = "improved_before"
THRESHOLDS = (0.90, 0.92, 0.93, 0.94)
#: Issue 20's goals, for a machine where the baseline benchmark takes about 180 s.
GOAL_ACCURACY, GOAL_WORST_SEED, GOAL_SECONDS = 0.945, 0.942, 10 * 60
#: How the tutorials train their models (no early stopping, constant learning rate).
TUTORIAL_RECIPES = {
    "tutorial_dense": {"epochs": 10, "batch_size": 32},
    "tutorial_cnn": {"epochs": 10, "batch_size": 64},
}


def improved_before(training):
    """Notebook 05's recipe before issue 20: 30 epochs, cosine, flips (its model: below)."""
    return training.Recipe(
        model="improved",
        filters=(32, 64, 128),
        convs_per_block=(1, 1, 1),
        dropout_rate=0.3,
        horizontal_flip=True,
        epochs=30,
        learning_rate=2e-3,
        schedule="cosine",
        label_smoothing=0.1,
        patience=None,
        monitor="val_accuracy",
    )


def build_improved_before(seed: int):
    """Notebook 05's improved CNN before issue 20, kept here as it was to compare with.

    Per block ``Conv2D -> BatchNormalization -> ReLU -> MaxPooling2D -> Dropout(0.1)``
    (32, 64, 128 filters), then ``Dense(256) -> BatchNormalization -> ReLU -> Dropout(0.3)``.
    """
    import keras
    from keras import layers

    from fmnist_utils.models import INPUT_SHAPE, augmentation_layers, rescaling_layer

    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = rescaling_layer()(inputs)
    x = augmentation_layers(translation=0.0, zoom=0.0, horizontal_flip=True, seed=seed)(x)
    for block, width in enumerate((32, 64, 128), start=1):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{block}_1")(x)
        x = layers.BatchNormalization(name=f"batch_norm{block}_1")(x)
        x = layers.Activation("relu", name=f"relu{block}_1")(x)
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
        x = layers.Dropout(0.1, name=f"block_dropout{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(256, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="dense_norm")(x)
    x = layers.Activation("relu", name="dense_relu")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    outputs = layers.Dense(10, activation="softmax", name="class_probabilities")(x)
    return keras.Model(inputs, outputs, name="improved_before")


def build_tutorial_dense():
    """The dense network of TensorFlow's "Basic classification" tutorial.

    ``Flatten -> Dense(128, relu) -> Dense(10)``, here with the course's ``Rescaling`` input
    and a softmax output so it trains and evaluates like the others.
    """
    import keras
    from keras import layers

    from fmnist_utils.models import INPUT_SHAPE, rescaling_layer

    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE, name="image"),
            rescaling_layer(),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dense(10, activation="softmax", name="class_probabilities"),
        ],
        name="tutorial_dense",
    )


def build_tutorial_cnn():
    """The CNN most Fashion-MNIST tutorials build.

    Three ``Conv2D(3x3, relu)`` layers (32, 64, 128 filters), each followed by
    ``MaxPooling2D(2)`` and ``Dropout(0.25)``, then ``Flatten -> Dense(128, relu) ->
    Dropout(0.5) -> Dense(softmax)``. Without ``padding="same"`` the maps shrink
    28 -> 26 -> 13 -> 11 -> 5 -> 3 -> 1.
    """
    import keras
    from keras import layers

    from fmnist_utils.models import INPUT_SHAPE, rescaling_layer

    stack = [keras.Input(shape=INPUT_SHAPE, name="image"), rescaling_layer()]
    for block, width in enumerate((32, 64, 128), start=1):
        stack += [
            layers.Conv2D(width, 3, activation="relu", name=f"conv{block}"),
            layers.MaxPooling2D(2, name=f"pool{block}"),
            layers.Dropout(0.25, name=f"dropout{block}"),
        ]
    stack += [
        layers.Flatten(name="flatten"),
        layers.Dense(128, activation="relu", name="dense"),
        layers.Dropout(0.5, name="dropout_dense"),
        layers.Dense(10, activation="softmax", name="class_probabilities"),
    ]
    return keras.Sequential(stack, name="tutorial_cnn")


def build_model(name: str, seed: int):
    """The model of ``name`` (``None``: the recipe's own, built by ``train_model``)."""
    if name == REFERENCE:
        return build_improved_before(seed)
    builders = {"tutorial_dense": build_tutorial_dense, "tutorial_cnn": build_tutorial_cnn}
    return builders[name]() if name in builders else None


def seconds_to_reach(result, value: float, metric: str = "val_accuracy") -> float | None:
    """Seconds of training until ``metric`` first reached ``value`` (``None``: never).

    Counts from the start of ``fit`` to the end of the first epoch of ``result`` (a
    ``TrainingResult``) whose ``metric`` is at least ``value``.
    """
    for reached, seconds in zip(result.history[metric], result.elapsed, strict=False):
        if reached >= value:
            return seconds
    return None


def _recipe(name: str, training):
    """The recipe each model of the comparison trains with."""
    if name == "baseline":
        return training.BASELINE_RECIPE
    if name == REFERENCE:
        return improved_before(training)
    if name in ("improved", "improved_refit"):
        return training.IMPROVED_RECIPE
    return training.BASELINE_RECIPE.replace(  # Only the training fields count: the model is given.
        **TUTORIAL_RECIPES[name], schedule="constant", patience=None, monitor="val_accuracy"
    )


def _accuracy(probabilities, labels) -> float:
    import numpy as np

    return round(float(np.mean(probabilities.argmax(axis=1) == labels)), 4)


def train_one(name: str, *, quick: bool, seed: int) -> dict:
    """Train and measure one model (runs in a child process)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf
    from training_profile import model_flops

    from fmnist_utils import data, training
    from fmnist_utils.config import RunConfig
    from fmnist_utils.evaluation import predict_probabilities

    config = (
        RunConfig(quick=True, train_size=2_000, test_size=500, max_epochs=1)
        if quick
        else RunConfig(quick=False)
    )
    recipe = _recipe(name, training)
    (all_train_images, all_train_labels), (test_images, test_labels) = data.load_fashion_mnist()
    (train_images, train_labels), (validation_images, validation_labels) = data.train_validation_split(
        all_train_images, all_train_labels, validation_size=recipe.validation_size, seed=seed
    )
    train = config.subset(train_images, train_labels, "train")
    validation = config.subset(validation_images, validation_labels, "validation")
    if name == "improved_refit":  # Every training image, no validation set.
        train, validation = config.subset(all_train_images, all_train_labels, "train"), None
    test_images, test_labels = config.subset(test_images, test_labels, "test")

    keras.utils.set_random_seed(seed)
    with tempfile.TemporaryDirectory() as run_dir:
        recipe = recipe.replace(epochs=config.epochs(recipe.epochs))
        model = build_model(name, seed)
        model, result = training.train_model(
            recipe, train, validation, model=model, run_dir=run_dir, seed=seed, verbose=0
        )

    predict_probabilities(model, test_images[:512])  # Warm-up: the first call traces the graph.
    start = time.perf_counter()
    probabilities = predict_probabilities(model, test_images)
    inference_seconds = time.perf_counter() - start
    flipped = predict_probabilities(model, test_images, flip_average=True)
    flip_helps = None
    if validation is not None:
        flip_helps = _accuracy(
            predict_probabilities(model, validation[0], flip_average=True), validation[1]
        ) > (_accuracy(predict_probabilities(model, validation[0]), validation[1]))

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
        f"seconds_to_{round(value * 100)}_val": None
        if validation is None
        else seconds_to_reach(result, value)
        for value in THRESHOLDS
    }
    training_flops = 3 * model_flops(model) * result.epochs_run * len(train[1])
    return {
        "model": name,
        "seed": seed,
        "device": device,
        "device_kind": "gpu" if gpus else "cpu",
        "parameters": model.count_params(),
        "epochs_run": result.epochs_run,
        "train_seconds": round(result.seconds, 1),
        "seconds_per_epoch": round(result.seconds / result.epochs_run, 2),
        "train_images_per_second": round(result.images_per_second),
        "inference_images_per_second": round(len(test_labels) / inference_seconds),
        "training_gflops_per_second": round(training_flops / result.seconds / 1e9, 1),
        "best_val_accuracy": None if validation is None else round(max(result.history["val_accuracy"]), 4),
        "test_accuracy": _accuracy(probabilities, test_labels),
        "test_accuracy_flip_average": _accuracy(flipped, test_labels),
        "flip_average_chosen": flip_helps,
        "test_accuracy_chosen": _accuracy(flipped if flip_helps else probabilities, test_labels),
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


def matmul_peak_gflops(quick: bool = False) -> float:
    """The best GFLOP/s of float32 matrix products on TensorFlow's threads (run in a child)."""
    sizes = "512" if quick else "1024 2048 4096"
    code = (
        "import os, time; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\n"
        "from fmnist_utils.environment import setup; setup(seed=0, verbose=False)\n"
        "import tensorflow as tf\nbest = 0.0\n"
        f"for n in ({sizes.replace(' ', ', ')},):\n"
        "    a = tf.random.uniform((n, n)); b = tf.random.uniform((n, n)); tf.linalg.matmul(a, b).numpy()\n"
        "    for _ in range(5):\n"
        "        start = time.perf_counter(); tf.linalg.matmul(a, b).numpy()\n"
        "        best = max(best, 2 * n**3 / (time.perf_counter() - start) / 1e9)\n"
        "print(best)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(completed.stdout.strip().splitlines()[-1])


def _peak_memory_mib() -> int | None:
    """Peak resident memory of this process in MiB (``None`` where the OS does not say)."""
    try:
        import resource
    except ImportError:  # Windows.
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10))


def summarize(runs: list[dict]) -> list[dict]:
    """One row per model: means and ranges over its seeds, time relative to the reference."""
    models = list(dict.fromkeys(run["model"] for run in runs))
    reference = [run["train_seconds"] for run in runs if run["model"] == REFERENCE]
    rows = []
    for name in models:
        own = [run for run in runs if run["model"] == name]
        row = {"model": name, "seeds": [run["seed"] for run in own], "parameters": own[0]["parameters"]}
        for key in (
            "train_seconds",
            "train_images_per_second",
            "inference_images_per_second",
            "training_gflops_per_second",
            "peak_memory_mib",
        ):
            values = [run[key] for run in own if run[key] is not None]
            row[key] = round(statistics.mean(values), 1) if values else None
        for key in ("test_accuracy", "test_accuracy_flip_average", "test_accuracy_chosen"):
            values = [run[key] for run in own]
            row[key] = {"mean": round(statistics.mean(values), 4), "min": min(values), "max": max(values)}
        for value in THRESHOLDS:
            key = f"seconds_to_{round(value * 100)}_val"
            reached = [run[key] for run in own if run[key] is not None]
            row[key] = {
                "mean": round(statistics.mean(reached), 1) if reached else None,
                "reached": len(reached),
                "runs": len(own),
            }
        row["time_relative_to_reference"] = (
            round(row["train_seconds"] / statistics.mean(reference), 3) if reference else None
        )
        rows.append(row)
    return rows


def _range(figure: dict) -> str:
    return f"{figure['mean']:.2%} ({figure['min']:.2%}-{figure['max']:.2%})"


def _to_reach(figure: dict, runs: list[dict]) -> str:
    if not runs[0]["validation_examples"]:
        return "n/a"
    if figure["reached"] == 0:
        return "never"
    seconds = f"{figure['mean']:,.0f}"
    return (
        seconds
        if figure["reached"] == figure["runs"]
        else f"{seconds} ({figure['reached']} of {figure['runs']})"
    )


def print_tables(rows: list[dict], runs: list[dict], peak: float) -> None:
    thresholds = " | ".join(f"s to {round(value * 100)}% val" for value in THRESHOLDS)
    print(f"| model | seeds | training s | vs {REFERENCE} | test acc, chosen | plain | {thresholds} |")
    print("|---|---:|---:|---:|---:|---:|" + "---:|" * len(THRESHOLDS))
    for row in rows:
        own = [run for run in runs if run["model"] == row["model"]]
        relative = (
            "n/a"
            if row["time_relative_to_reference"] is None
            else f"{row['time_relative_to_reference']:.2f}x"
        )
        reach = " | ".join(_to_reach(row[f"seconds_to_{round(v * 100)}_val"], own) for v in THRESHOLDS)
        print(
            f"| {row['model']} | {len(own)} | {row['train_seconds']:,.0f} | {relative} | "
            f"{_range(row['test_accuracy_chosen'])} | {_range(row['test_accuracy'])} | {reach} |"
        )
    print(
        f"\n| model | parameters | train images/s | inference images/s | training GFLOP/s | "
        f"of the {peak:.0f} GFLOP/s matmul peak | peak memory MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        memory = "n/a" if row["peak_memory_mib"] is None else f"{row['peak_memory_mib']:,.0f}"
        print(
            f"| {row['model']} | {row['parameters']:,} | {row['train_images_per_second']:,.0f} | "
            f"{row['inference_images_per_second']:,.0f} | {row['training_gflops_per_second']:.1f} | "
            f"{row['training_gflops_per_second'] / peak:.1%} | {memory} |"
        )


def goal_verdicts(rows: list[dict]) -> list[str]:
    """Issue 20's accuracy goal, checked for each improved model's row."""
    lines = []
    for row in rows:
        if not row["model"].startswith("improved"):
            continue
        chosen = row["test_accuracy_chosen"]
        met = (
            chosen["mean"] >= GOAL_ACCURACY
            and chosen["min"] >= GOAL_WORST_SEED
            and row["train_seconds"] <= GOAL_SECONDS
        )
        lines.append(
            f"Goal ({row['model']}) mean >= {GOAL_ACCURACY:.1%}, no seed under {GOAL_WORST_SEED:.1%}, "
            f"in <= {GOAL_SECONDS / 60:.0f} min of training: {'met' if met else 'NOT met'} "
            f"({_range(chosen)}, {row['train_seconds'] / 60:.1f} min)"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(DEFAULT_MODELS))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="small subsets, one epoch: a smoke test")
    parser.add_argument(
        "--output", help="JSON file (default: benchmarks/results/model_comparison_<device>.json)"
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="replace only these models' runs in the existing JSON file, keep the others",
    )
    parser.add_argument("--worker", choices=MODELS, help=argparse.SUPPRESS)
    arguments = parser.parse_args()

    if arguments.worker:
        print(json.dumps(train_one(arguments.worker, quick=arguments.quick, seed=arguments.seed)))
        return

    mode = "quick (smoke test, not a measurement)" if arguments.quick else "full"
    peak = matmul_peak_gflops(arguments.quick)
    runs = []
    for seed in arguments.seeds:  # Seed by seed, so that the models share the machine's mood.
        for name in arguments.models:
            print(f"Training {name}, seed {seed} ...", flush=True)
            runs.append(run_worker(name, seed=seed, quick=arguments.quick))
            print(
                f"  {runs[-1]['train_seconds']} s, test accuracy {runs[-1]['test_accuracy']:.4f}", flush=True
            )

    first = runs[0]
    output = Path(
        arguments.output
        or Path(__file__).parent / "results" / f"model_comparison_{first['device_kind']}.json"
    )
    if arguments.update:
        runs = _merge_runs(output, runs, mode=mode)
    rows = summarize(runs)
    print(f"\nTime to accuracy, {mode} mode, on {first['device']}, TensorFlow {first['tensorflow']}")
    print(
        f"{first['training_examples']:,} training, {first['validation_examples']:,} validation, "
        f"{first['test_examples']:,} test images; seeds {sorted({run['seed'] for run in runs})}; "
        "means over the seeds, ranges in brackets\n"
    )
    print_tables(rows, runs, peak)
    if not arguments.quick:
        print()
        for line in goal_verdicts(rows):
            print(line)

    summary = {
        "mode": mode,
        "device": first["device"],
        "device_kind": first["device_kind"],
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "matmul_peak_gflops_per_second": round(peak, 1),
        "tutorial_recipes": TUTORIAL_RECIPES,
        "models": rows,
        "runs": runs,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nWritten: {output}")


def _merge_runs(output: Path, runs: list[dict], *, mode: str) -> list[dict]:
    """The runs of ``output`` with those just trained replaced (``--update``), by model and seed."""
    if not output.is_file():
        sys.exit(f"--update: {output} does not exist yet; run without --update first.")
    earlier = json.loads(output.read_text())
    if earlier.get("mode") != mode:
        sys.exit(f"--update: {output} holds a {earlier.get('mode')} run, not a {mode} one.")
    merged = {(run["model"], run["seed"]): run for run in earlier["runs"]}
    merged.update({(run["model"], run["seed"]): run for run in runs})
    return sorted(merged.values(), key=lambda run: (MODELS.index(run["model"]), run["seed"]))


if __name__ == "__main__":
    main()
