"""Model builders and model-inspection helpers.

Taught in notebook 02, which builds the baseline CNN layer by layer with the
Sequential and the Functional API and checks every shape and parameter count by hand.
Later notebooks call :func:`build_baseline_cnn`.

Every model takes ``uint8`` images of shape ``(28, 28, 1)`` and rescales them itself
(its first layer is a ``Rescaling`` layer), so the data can stay ``uint8`` in memory.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

from fmnist_utils._checks import fraction, positive_int
from fmnist_utils.data import IMAGE_SHAPE, NUM_CLASSES, add_channel_axis, rescaling_layer, validate_images

__all__ = [
    "INPUT_SHAPE",
    "augmentation_layers",
    "build_baseline_cnn",
    "build_improved_cnn",
    "build_tutorial_cnn",
    "build_tutorial_dense",
    "feature_maps",
    "first_conv_layer",
]

INPUT_SHAPE = (*IMAGE_SHAPE, 1)


def build_baseline_cnn(
    *,
    filters: Sequence[int] = (32, 64),
    kernel_size: int = 3,
    dense_units: int = 128,
    dropout_rate: float = 0.3,
    batch_norm: bool = False,
    activation: str = "relu",
    augmentation: keras.Model | None = None,
    num_classes: int = NUM_CLASSES,
    name: str = "baseline_cnn",
) -> keras.Sequential:
    """Build the course's baseline CNN (Sequential API).

    Taught in notebook 02. ``Rescaling``, per filter count ``Conv2D(same) -> [BatchNormalization]
    -> activation -> MaxPooling2D(2)``, ``Flatten -> Dropout -> Dense -> Dropout -> Dense(softmax)``.
    With the defaults a unit sees 3, 4, 8 and 10 pixels square of the image after ``conv1``,
    ``pool1``, ``conv2`` and ``pool2`` (its receptive field), and ``Dense`` sees all of it.

    Args:
        filters: Filters of each convolution block; each block halves the image size.
        kernel_size: Size of the (square, odd) convolution kernels.
        dense_units: Units of the hidden dense layer.
        dropout_rate: Dropout rate before the two dense layers (0: the layers stay, inactive).
        batch_norm: A ``BatchNormalization`` layer after every convolution (without bias). It
            normalizes with the batch's statistics in training and with their running averages
            at inference (``training=False``).
        activation: Activation of the hidden layers, a Keras activation name.
        augmentation: Layers applied after the rescaling, in training only.
        num_classes: Size of the softmax output.
        name: Name of the model.

    Returns:
        An uncompiled ``keras.Sequential`` for ``uint8`` inputs ``(28, 28, 1)`` (a wrong value:
        ``ValueError``, from here or from the Keras layer that refuses it).
    """
    _check_blocks(filters, augmentation)
    kernel_size = positive_int(kernel_size, "kernel_size")
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (3, 5, ...) so that it has a centre, got {kernel_size}.")
    if not isinstance(batch_norm, bool):
        raise ValueError(f"batch_norm must be True or False, got {batch_norm!r}.")
    dense_units = positive_int(dense_units, "dense_units")
    num_classes = positive_int(num_classes, "num_classes")

    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=INPUT_SHAPE, name="image"))
    model.add(rescaling_layer())
    if augmentation is not None:
        model.add(augmentation)
    for block, count in enumerate(filters, start=1):
        model.add(
            layers.Conv2D(count, kernel_size, padding="same", use_bias=not batch_norm, name=f"conv{block}")
        )
        if batch_norm:
            model.add(layers.BatchNormalization(name=f"batch_norm{block}"))
        model.add(layers.Activation(activation, name=f"{activation}{block}"))
        model.add(layers.MaxPooling2D(2, name=f"pool{block}"))
    model.add(layers.Flatten(name="flatten"))
    model.add(layers.Dropout(dropout_rate, name="dropout1"))
    model.add(layers.Dense(dense_units, activation=activation, name="dense"))
    model.add(layers.Dropout(dropout_rate, name="dropout2"))
    model.add(layers.Dense(num_classes, activation="softmax", name="class_probabilities"))
    return model


def _check_blocks(filters: Sequence[int], augmentation: object) -> None:
    """The checks Keras does not make: blocks to build, an image they leave at least 1x1, and
    augmentation that is Keras layers (a functional model would only say "not callable")."""
    if augmentation is not None and not isinstance(augmentation, keras.layers.Layer):
        raise ValueError(
            f"augmentation must be Keras layers (see augmentation_layers()), got {augmentation!r}."
        )
    if isinstance(filters, (int, str)) or not isinstance(filters, Sequence) or len(filters) == 0:
        raise ValueError(f"filters must be a non-empty sequence of positive integers, got {filters!r}.")
    if IMAGE_SHAPE[0] // 2 ** len(filters) < 1:
        raise ValueError(f"{len(filters)} blocks would pool a 28x28 image below 1x1; use at most 4.")


def build_improved_cnn(
    *,
    filters: Sequence[int] = (32, 64, 128),
    convs_per_block: Sequence[int] = (1, 2, 2),
    dropout_rate: float = 0.0,
    augmentation: keras.Model | None = None,
    num_classes: int = NUM_CLASSES,
    name: str = "improved_cnn",
) -> keras.Model:
    """Build a wider, deeper CNN with batch normalization, fast on a CPU (Functional API).

    Taught in notebook 05. ``Rescaling`` to [0, 1], the optional ``augmentation``, then one
    block per entry of ``filters`` (:func:`_improved_block`): a convolution, ``MaxPooling2D(2)``,
    ``BatchNormalization`` and ReLU, then the block's further convolutions, each followed by
    batch normalization and ReLU, at the pooled size. Normalizing the first convolution *after*
    pooling normalizes a quarter of the values of the usual order (the baseline's, with
    ``batch_norm=True``): on the 2-core machine of ``benchmarks/README.md``, Keras 3's unfused
    batch normalization was the slowest layer. It is a different model, not a free reordering:
    the statistics are those of the pooled maxima. Then ``Flatten -> Dropout -> Dense(softmax)``:
    no hidden dense layer, the convolutions do the work.

    Args:
        filters: Width of each block; each block halves the image size.
        convs_per_block: Convolutions in each block (one number per block, at least 1).
        dropout_rate: Dropout rate before the output layer.
        augmentation: Layers applied to the rescaled images, in training only.
        num_classes: Size of the softmax output.
        name: Name of the model.

    Returns:
        An uncompiled ``keras.Model`` for ``uint8`` inputs ``(28, 28, 1)``.

    Raises:
        ValueError: A wrong value (Keras names it), blocks that would shrink the image below
            1x1, or not one count of convolutions per block.
    """
    _check_blocks(filters, augmentation)
    if isinstance(convs_per_block, (int, str)) or len(convs_per_block) != len(filters):
        raise ValueError(
            f"convs_per_block must give one count per block ({len(filters)}), got {convs_per_block!r}."
        )
    for convs in convs_per_block:
        positive_int(convs, "convs_per_block")
    num_classes = positive_int(num_classes, "num_classes")

    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = rescaling_layer()(inputs)
    if augmentation is not None:
        x = augmentation(x)
    for block, (width, convs) in enumerate(zip(filters, convs_per_block, strict=True), start=1):
        x = _improved_block(x, block, width, convs)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout_rate, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="class_probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def _improved_block(x, block: int, width: int, convs: int):
    """``Conv2D -> MaxPooling2D -> BatchNormalization -> ReLU``, then ``convs - 1`` times
    ``Conv2D -> BatchNormalization -> ReLU``. Batch normalization's running averages move fast
    (momentum 0.9, Keras' default is 0.99), so that short runs predict well too."""
    for conv in range(1, convs + 1):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{block}_{conv}")(x)
        if conv == 1:
            x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"batch_norm{block}_{conv}")(x)
        x = layers.Activation("relu", name=f"relu{block}_{conv}")(x)
    return x


def build_tutorial_dense(*, num_classes: int = NUM_CLASSES, name: str = "tutorial_dense") -> keras.Model:
    """The dense network of TensorFlow's "Basic classification" tutorial, for comparison.

    Used by ``benchmarks/model_comparison.py`` as the usual starting point:
    ``Flatten -> Dense(128, relu) -> Dense(num_classes)``, here with the course's
    ``Rescaling`` input and a softmax output so it trains and evaluates like the others.

    Returns:
        An uncompiled ``keras.Sequential`` for ``uint8`` inputs ``(28, 28, 1)``.
    """
    num_classes = positive_int(num_classes, "num_classes")
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE, name="image"),
            rescaling_layer(),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dense(num_classes, activation="softmax", name="class_probabilities"),
        ],
        name=name,
    )


def build_tutorial_cnn(*, num_classes: int = NUM_CLASSES, name: str = "tutorial_cnn") -> keras.Model:
    """The CNN most Fashion-MNIST tutorials build, for comparison.

    Used by ``benchmarks/model_comparison.py``: three ``Conv2D(3x3, relu)`` layers
    (32, 64, 128 filters), each followed by ``MaxPooling2D(2)`` and ``Dropout(0.25)``,
    then ``Flatten -> Dense(128, relu) -> Dropout(0.5) -> Dense(softmax)``. Unlike the
    course's baseline it has no ``padding="same"``, so the maps shrink 28 -> 26 -> 13
    -> 11 -> 5 -> 3 -> 1.

    Returns:
        An uncompiled ``keras.Sequential`` for ``uint8`` inputs ``(28, 28, 1)``.
    """
    num_classes = positive_int(num_classes, "num_classes")
    stack: list[layers.Layer] = [keras.Input(shape=INPUT_SHAPE, name="image"), rescaling_layer()]
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
        layers.Dense(num_classes, activation="softmax", name="class_probabilities"),
    ]
    return keras.Sequential(stack, name=name)


def augmentation_layers(
    *,
    translation: float = 0.1,
    zoom: float = 0.1,
    horizontal_flip: bool = True,
    seed: int | None = None,
    name: str = "augmentation",
) -> keras.Sequential:
    """Random transformations that suit clothing photos, as Keras preprocessing layers.

    Taught in notebook 01. Shifts and small zooms give views a garment could plausibly
    appear in. Left-right flips keep every label (no class depends on direction) and suit
    the roughly symmetric tops, bags and trousers, but every shoe in Fashion-MNIST faces the
    same way: a flipped shoe is a view the data never contains, so the flips' gain has to be
    measured (no flips for footwear is an alternative worth testing). Vertical flips and
    large rotations give views that never occur (no one photographs a shoe upside down), so
    they are not offered. Shifts and zooms interpolate bilinearly: moves by a fraction of a
    pixel blur and lighten the images a little, which the test images never are.

    The layers are active in training mode only: in ``fit``, and in a direct call such as
    ``layers(x)`` unless ``training=False`` is passed; ``predict`` and ``evaluate`` pass the
    images through unchanged.

    Args:
        translation: Largest shift, as a fraction of the image size (0 turns it off).
        zoom: Largest zoom in or out, as a fraction (0 turns it off).
        horizontal_flip: Flip left-right at random.
        seed: Seed of the random transformations.
        name: Name of the returned model.

    Returns:
        A ``keras.Sequential`` of the chosen layers, float output in the input's range.

    Raises:
        ValueError: A fraction outside [0, 1).
    """
    translation = fraction(translation, "translation")
    zoom = fraction(zoom, "zoom")
    stack = []
    if translation:
        stack.append(layers.RandomTranslation(translation, translation, fill_mode="constant", seed=seed))
    if zoom:
        stack.append(layers.RandomZoom(zoom, zoom, fill_mode="constant", seed=seed))
    if horizontal_flip:
        stack.append(layers.RandomFlip("horizontal", seed=seed))
    return keras.Sequential(stack, name=name)


def first_conv_layer(model: keras.Model) -> layers.Conv2D:
    """Return the first ``Conv2D`` layer of a model.

    Raises:
        ValueError: The model has no ``Conv2D`` layer.
    """
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            return layer
    raise ValueError(f"model {model.name!r} has no Conv2D layer.")


def feature_maps(model: keras.Model, image: np.ndarray, layer_name: str) -> np.ndarray:
    """Return what one layer of a model outputs for one image.

    Taught in notebook 02: a model is built from the model's input to the layer's
    output (Functional API) and called on the image.

    Args:
        model: A built model whose input is a 28x28x1 image.
        image: One ``uint8`` image, ``(28, 28)`` or ``(28, 28, 1)``.
        layer_name: Name of the layer to look at (see ``model.summary()``).

    Returns:
        The layer's output for the image, without the batch axis: for a convolution
        ``(height, width, channels)``.

    Raises:
        ValueError: A wrong image, or no layer of that name (the message lists them).
    """
    image = np.asarray(image)
    validate_images(image[np.newaxis], name="image")
    names = [layer.name for layer in model.layers]
    if layer_name not in names:
        raise ValueError(f"model {model.name!r} has no layer {layer_name!r}; its layers: {', '.join(names)}.")
    probe = keras.Model(model.inputs[0], model.get_layer(layer_name).output)
    return np.asarray(probe(add_channel_axis(image[np.newaxis]), training=False))[0]
