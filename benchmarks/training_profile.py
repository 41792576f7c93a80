"""Benchmark: where the time of one training step goes, layer by layer, on this machine.

For each model named (``baseline``: notebook 03's recipe; ``improved_before``: notebook
05's recipe before issue 20; ``improved``: notebook 05's recipe now), it times on batches
of the recipe's size:

- each layer alone, forward and backward (the gradient with respect to its input and its
  weights), in a compiled ``tf.function``: the median of ``--repeats`` calls;
- the optimizer's update of every weight (Adam, one ``apply_gradients``);
- the input pipeline alone (``make_dataset``, shuffled, one epoch's batches);
- a real training step (``model.fit`` on the same in-memory data, after a warm-up epoch).

The difference between the real step and the sum of its parts is Python and Keras
overhead per step (callbacks, metrics, the step loop). Each layer's share, its forward
MFLOP per image (convolutions and dense layers; 2 FLOP per multiply-add) and its
achieved GFLOP/s are printed as a markdown table.

    FMNIST_DATA_DIR=../shared/data/fashion-mnist python benchmarks/training_profile.py
    python benchmarks/training_profile.py --models improved --batch-size 512

Takes about 2 minutes on 2 CPU cores. Timings of layers in isolation miss what a fused
graph shares between them, so the parts do not add up exactly: read the shares, not the
third digit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def layer_flops(layer, input_shape, output_shape) -> float:
    """Forward FLOP per image of a Conv2D or Dense layer (2 per multiply-add), else 0."""
    from keras import layers

    if isinstance(layer, layers.Conv2D):
        kernel_h, kernel_w = layer.kernel_size
        in_channels = input_shape[-1]
        return 2.0 * output_shape[1] * output_shape[2] * layer.filters * kernel_h * kernel_w * in_channels
    if isinstance(layer, layers.Dense):
        return 2.0 * input_shape[-1] * layer.units
    return 0.0


def model_flops(model) -> float:
    """Forward FLOP per image of a whole model (convolutions and dense layers)."""
    total = 0.0
    for layer in model.layers:
        if layer.__class__.__name__ == "InputLayer":
            continue
        total += layer_flops(layer, _shape(layer.input), _shape(layer.output))
    return total


def _shape(tensor) -> tuple:
    return tuple(tensor.shape)


def _median_seconds(function, repeats: int) -> float:
    function()  # Trace and warm up.
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_layer(layer, input_shape: tuple, batch_size: int, repeats: int) -> float:
    """Median seconds of one forward and backward pass of ``layer`` alone."""
    import tensorflow as tf

    dtype = "uint8" if layer.__class__.__name__ == "Rescaling" else "float32"
    inputs = tf.cast(tf.random.uniform((batch_size, *input_shape[1:]), maxval=255), dtype)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            if dtype == "float32":
                tape.watch(inputs)
            outputs = layer(inputs, training=True)
            loss = tf.reduce_sum(tf.cast(outputs, "float32"))
        sources = ([inputs] if dtype == "float32" else []) + list(layer.trainable_variables)
        return tape.gradient(loss, sources) if sources else loss

    return _median_seconds(lambda: tf.nest.map_structure(lambda t: t.numpy(), step()), repeats)


def time_optimizer(model, recipe, repeats: int) -> float:
    """Median seconds of one optimizer update of every trainable weight."""
    import keras
    import tensorflow as tf

    optimizer = keras.optimizers.Adam(recipe.learning_rate)
    gradients = [tf.ones_like(variable) * 1e-6 for variable in model.trainable_variables]
    optimizer.build(model.trainable_variables)

    @tf.function
    def update():
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))

    return _median_seconds(lambda: update(), repeats)


def time_pipeline(images, labels, batch_size: int) -> tuple[float, int]:
    """Seconds to read one shuffled epoch from ``make_dataset``, and its number of batches."""
    from fmnist_utils.data import make_dataset

    dataset = make_dataset(images, labels, batch_size=batch_size, shuffle=True)
    for _ in dataset:  # Warm-up epoch.
        pass
    start = time.perf_counter()
    steps = sum(1 for _ in dataset)
    return time.perf_counter() - start, steps


def _model(name: str, recipe, seed: int):
    """The model ``model_comparison.py`` trains for ``name``."""
    from model_comparison import build_model

    return build_model(name, seed) or recipe.build_model(seed)


def time_fit(name: str, recipe, images, labels, seed: int) -> float:
    """Seconds per step of ``model.fit`` (no validation, no callbacks), after a warm-up epoch."""
    import keras

    from fmnist_utils.training import compile_model

    keras.utils.set_random_seed(seed)
    model = _model(name, recipe, seed)
    compile_model(model, recipe, steps_per_epoch=-(-len(labels) // recipe.batch_size))
    model.fit(images, labels, batch_size=recipe.batch_size, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(images, labels, batch_size=recipe.batch_size, epochs=1, verbose=0)
    return (time.perf_counter() - start) / -(-len(labels) // recipe.batch_size)


def profile(name: str, recipe, images, labels, *, repeats: int, seed: int) -> list[tuple]:
    """Rows ``(part, ms per step, share, MFLOP per image, GFLOP/s)`` for one recipe."""
    import keras

    keras.utils.set_random_seed(seed)
    model = _model(name, recipe, seed)
    batch = recipe.batch_size
    rows = []
    for layer in model.layers:
        if layer.__class__.__name__ == "InputLayer":
            continue
        input_shape, output_shape = _shape(layer.input), _shape(layer.output)
        seconds = time_layer(layer, input_shape, batch, repeats)
        flops = 3 * layer_flops(layer, input_shape, output_shape)  # Forward + two backward products.
        rows.append((f"{layer.name} ({layer.__class__.__name__})", seconds, flops))
    rows.append(("optimizer update (Adam)", time_optimizer(model, recipe, repeats), 0.0))
    pipeline_seconds, steps = time_pipeline(images, labels, batch)
    rows.append(("input pipeline (make_dataset)", pipeline_seconds / steps, 0.0))
    step_seconds = time_fit(name, recipe, images, labels, seed)
    parts = sum(row[1] for row in rows)
    rows.append(("overhead (real step - sum of parts)", step_seconds - parts, 0.0))
    print(
        f"\n## {name}: batch {batch}, {model.count_params():,} parameters, "
        f"{model_flops(model) / 1e6:.1f} MFLOP per image forward"
    )
    print(
        f"real step: {step_seconds * 1e3:.1f} ms = {batch / step_seconds:,.0f} images/s in training; "
        f"sum of parts {parts * 1e3:.1f} ms\n"
    )
    print("| part | ms per step | share of real step | training MFLOP per image | GFLOP/s |")
    print("|---|---:|---:|---:|---:|")
    for part, seconds, flops in rows:
        rate = f"{flops * batch / seconds / 1e9:.1f}" if flops and seconds > 0 else ""
        mflop = f"{flops / 1e6:.2f}" if flops else ""
        print(f"| {part} | {seconds * 1e3:.2f} | {seconds / step_seconds:.1%} | {mflop} | {rate} |")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["baseline", "improved_before", "improved"])
    parser.add_argument("--batch-size", type=int, help="Override each recipe's batch size.")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument(
        "--images", type=int, default=10_000, help="Training images for the pipeline and fit."
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf
    from model_comparison import improved_before, matmul_peak_gflops

    from fmnist_utils import training
    from fmnist_utils.data import load_fashion_mnist
    from fmnist_utils.environment import setup

    setup(seed=args.seed)
    recipes = {
        "baseline": training.BASELINE_RECIPE,
        "improved_before": improved_before(training),
        "improved": training.IMPROVED_RECIPE,
    }
    (images, labels), _ = load_fashion_mnist()
    images, labels = images[: args.images], labels[: args.images]
    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"{tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()} threads"
    )
    peak = matmul_peak_gflops(quick=args.images < 1_000)
    print(f"best float32 matrix product (the practical peak, model_comparison.py): {peak:.1f} GFLOP/s")
    for name in args.models:
        if name not in recipes:
            parser.error(f"unknown model {name!r}: choose from {sorted(recipes)}")
        recipe = recipes[name]
        if args.batch_size:
            recipe = recipe.replace(batch_size=args.batch_size)
        profile(name, recipe, images, labels, repeats=args.repeats, seed=args.seed)


if __name__ == "__main__":
    main()
