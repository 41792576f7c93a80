"""Benchmark: thread settings, the input pipeline and per-epoch evaluation, side by side.

Each variant trains notebook 05's model (``training.IMPROVED_RECIPE``) in a fresh process
(thread settings must be made before TensorFlow starts) for ``--epochs`` epochs on
``--images`` training images, and prints the training speed of the epochs after the first
(the first one traces the graph), the seconds of validation per epoch, and the speed relative
to the first variant. Variants run one after the other in one go, so compare them within a
run (ratios), not across machines.

    FMNIST_DATA_DIR=../shared/data/fashion-mnist python benchmarks/threads_pipeline.py
    python benchmarks/threads_pipeline.py --variants default intra2_inter1 --epochs 2

Variants (``--list``):

- ``default``: TensorFlow's thread pools as it sizes them (intra- and inter-op 0: one thread
  per core), the course's ``tf.data`` pipeline from in-memory arrays (augmentation inside the
  model, so inside the graph), validation after every epoch;
- ``intraN_interM``: ``tf.config.threading`` set to N threads within an operation and M
  operations at once;
- ``numpy``: ``fit`` on the NumPy arrays instead of a ``tf.data`` pipeline;
- ``no_validation``: no validation during training (what per-epoch evaluation costs);
- ``steps4``: ``compile(steps_per_execution=4)``, four steps per call into the graph;
- ``xla``: ``compile(jit_compile=True)``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

VARIANTS = {
    "default": {},
    "intra2_inter1": {"intra": 2, "inter": 1},
    "intra2_inter2": {"intra": 2, "inter": 2},
    "intra1_inter1": {"intra": 1, "inter": 1},
    "numpy": {"numpy": True},
    "no_validation": {"validation": False},
    "steps4": {"steps_per_execution": 4},
    "xla": {"jit_compile": True},
}


def worker(name: str, images: int, epochs: int) -> dict:
    """Train one variant in this process and return its figures."""
    settings = VARIANTS[name]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if "intra" in settings:
        tf.config.threading.set_intra_op_parallelism_threads(settings["intra"])
        tf.config.threading.set_inter_op_parallelism_threads(settings["inter"])
    import keras

    from fmnist_utils import data, training

    (all_images, all_labels), _ = data.load_fashion_mnist()
    (train_images, train_labels), validation = data.train_validation_split(
        all_images, all_labels, validation_size=0.1, seed=42
    )
    train_images, train_labels = train_images[:images], train_labels[:images]
    recipe = training.IMPROVED_RECIPE.replace(epochs=epochs)
    keras.utils.set_random_seed(42)
    model = recipe.build_model(seed=42)
    steps = -(-len(train_labels) // recipe.batch_size)
    training.compile_model(model, recipe, steps_per_epoch=steps)
    if settings.get("steps_per_execution") or settings.get("jit_compile"):
        model.compile(
            optimizer=model.optimizer,
            loss=model.loss,
            metrics=["accuracy"],
            steps_per_execution=settings.get("steps_per_execution", 1),
            jit_compile=settings.get("jit_compile", "auto"),
        )
    if settings.get("numpy"):
        train_input = {"x": data.add_channel_axis(train_images), "y": train_labels, "shuffle": True}
        validation_input = (data.add_channel_axis(validation[0]), validation[1])
    else:
        train_input = {
            "x": data.make_dataset(train_images, train_labels, batch_size=recipe.batch_size, shuffle=True)
        }
        validation_input = data.make_dataset(*validation, batch_size=512)
    if settings.get("validation") is False:
        validation_input = None

    marks: list[tuple[str, float]] = []
    clock = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda *_: marks.append(("begin", time.perf_counter())),
        on_test_begin=lambda *_: marks.append(("test", time.perf_counter())),
        on_epoch_end=lambda *_: marks.append(("end", time.perf_counter())),
    )
    model.fit(
        **train_input,
        batch_size=recipe.batch_size if settings.get("numpy") else None,
        validation_data=validation_input,
        epochs=epochs,
        verbose=0,
        callbacks=[clock],
    )
    epochs_seen = _epochs(marks)[1:]  # The first epoch traces the graph.
    train_seconds = sum(epoch["train"] for epoch in epochs_seen) / len(epochs_seen)
    validation_seconds = sum(epoch["validation"] for epoch in epochs_seen) / len(epochs_seen)
    return {
        "variant": name,
        "images": len(train_labels),
        "train_s_per_epoch": train_seconds,
        "images_per_s": len(train_labels) / train_seconds,
        "validation_s_per_epoch": validation_seconds,
    }


def _epochs(marks: list[tuple[str, float]]) -> list[dict]:
    """Per epoch: seconds of training (begin to validation, or to the end) and of validation."""
    epochs, begin, test = [], None, None
    for kind, moment in marks:
        if kind == "begin":
            begin, test = moment, None
        elif kind == "test":
            test = moment
        else:
            epochs.append({"train": (test or moment) - begin, "validation": moment - test if test else 0.0})
    return epochs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--images", type=int, default=27_000, help="training images (default 27,000)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs (the first is not timed)")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(f"{name:15} {settings}" for name, settings in VARIANTS.items()))
        return
    if args.worker:
        print(json.dumps(worker(args.worker, args.images, args.epochs)))
        return
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is not timed.")
    rows = []
    for name in args.variants:
        command = [sys.executable, __file__, "--worker", name, "--images", str(args.images)]
        command += ["--epochs", str(args.epochs)]
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
        if finished.returncode:
            print(f"{name}: failed\n{finished.stderr[-2000:]}", flush=True)
            continue
        rows.append(json.loads(finished.stdout.strip().splitlines()[-1]))
        print(_row(rows[-1], rows[0]), flush=True)


def _row(row: dict, reference: dict) -> str:
    ratio = row["images_per_s"] / reference["images_per_s"]
    return (
        f"{row['variant']:15} {row['train_s_per_epoch']:6.1f} s/epoch  {row['images_per_s']:7,.0f} images/s  "
        f"{ratio:.2f}x  validation {row['validation_s_per_epoch']:.1f} s/epoch"
    )


if __name__ == "__main__":
    main()
