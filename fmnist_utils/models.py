"""Model builders and model-inspection helpers.

Taught in notebook 02, which builds the baseline CNN layer by layer with the Sequential and
the Functional API and checks every shape and parameter count by hand. Notebook 01 shows
:func:`augmentation_layers`, notebook 05 :func:`build_improved_cnn`.

Every model takes ``uint8`` images of shape ``(28, 28, 1)`` and rescales them itself (its
first layer is a ``Rescaling`` layer), so the data can stay ``uint8`` in memory.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

from fmnist_utils._checks import fraction, positive_int
from fmnist_utils.data import IMAGE_SHAPE, NUM_CLASSES, add_channel_axis, rescaling_layer, validate_images

__all__ = [
    "augmentation_layers",
    "build_baseline_cnn",
    "build_improved_cnn",
    "feature_maps",
    "first_conv_layer",
]

INPUT_SHAPE = (*IMAGE_SHAPE, 1)


def augmentation_layers(
    *,
    translation: float = 0.1,
    zoom: float = 0.1,
    horizontal_flip: bool = True,
    seed: int | None = None,
    name: str = "augmentation",
) -> keras.Sequential:
    """Random transformations that suit clothing photos, as Keras preprocessing layers.

    Taught in notebook 01. Shifts, small zooms and left-right flips; no vertical flips or
    large rotations, views that never occur. The layers act in training only (``fit``, or a
    direct call without ``training=False``); ``predict`` and ``evaluate`` pass images through.

    Args:
        translation: Largest shift, as a fraction of the image size (0 turns it off).
        zoom: Largest zoom in or out, as a fraction (0 turns it off).
    """
    fraction(translation, "translation"), fraction(zoom, "zoom")  # Keras takes True as 1.0.
    stack = []
    if translation:
        stack.append(layers.RandomTranslation(translation, translation, fill_mode="constant", seed=seed))
    if zoom:
        stack.append(layers.RandomZoom(zoom, zoom, fill_mode="constant", seed=seed))
    if horizontal_flip:
        stack.append(layers.RandomFlip("horizontal", seed=seed))
    return keras.Sequential(stack, name=name)


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
    """Build the course's baseline CNN, uncompiled, for ``uint8`` inputs ``(28, 28, 1)`` (Sequential API).

    Taught in notebook 02. ``Rescaling``, one block per filter count (:func:`_baseline_block`),
    then ``Flatten -> Dropout -> Dense -> Dropout -> Dense(softmax)``.

    Args:
        filters: Filters of each convolution block; each block halves the image size.
        dropout_rate: Dropout rate before the two dense layers (0: the layers stay, inactive).
        batch_norm: A ``BatchNormalization`` layer after every convolution (without bias).
        augmentation: Layers applied after the rescaling, in training only.
    """
    _check_blocks(filters, augmentation, num_classes)
    positive_int(dense_units, "dense_units"), positive_int(kernel_size, "kernel_size")
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (3, 5, ...) so that it has a centre, got {kernel_size}.")
    if not isinstance(batch_norm, bool):  # "no" would add the layers.
        raise ValueError(f"batch_norm must be True or False, got {batch_norm!r}.")
    stack = [keras.Input(shape=INPUT_SHAPE, name="image"), rescaling_layer()]
    if augmentation is not None:
        stack.append(augmentation)
    for block, count in enumerate(filters, start=1):
        stack += _baseline_block(block, count, kernel_size, batch_norm, activation)
    stack += [
        layers.Flatten(name="flatten"),
        layers.Dropout(dropout_rate, name="dropout1"),
        layers.Dense(dense_units, activation=activation, name="dense"),
        layers.Dropout(dropout_rate, name="dropout2"),
        layers.Dense(num_classes, activation="softmax", name="class_probabilities"),
    ]
    return keras.Sequential(stack, name=name)


def _baseline_block(block: int, count: int, kernel_size: int, batch_norm: bool, activation: str) -> list:
    """``Conv2D(same) -> [BatchNormalization] -> activation -> MaxPooling2D(2)``."""
    conv = layers.Conv2D(count, kernel_size, padding="same", use_bias=not batch_norm, name=f"conv{block}")
    norm = [layers.BatchNormalization(name=f"batch_norm{block}")] if batch_norm else []
    return [
        conv,
        *norm,
        layers.Activation(activation, name=f"{activation}{block}"),
        layers.MaxPooling2D(2, name=f"pool{block}"),
    ]


def _check_blocks(filters: Sequence[int], augmentation: object, num_classes: int) -> None:
    """The checks Keras does not make, or makes unclearly (a functional model would only say
    "not callable", too many blocks a negative dimension; Keras 3.10 builds Dense(0))."""
    positive_int(num_classes, "num_classes")
    if augmentation is not None and not isinstance(augmentation, keras.layers.Layer):
        raise ValueError(
            f"augmentation must be Keras layers (see augmentation_layers()), got {augmentation!r}."
        )
    if isinstance(filters, (int, str)) or not isinstance(filters, Sequence) or len(filters) == 0:
        raise ValueError(f"filters must be a non-empty sequence of positive integers, got {filters!r}.")
    if IMAGE_SHAPE[0] // 2 ** len(filters) < 1:
        raise ValueError(f"{len(filters)} blocks would pool a 28x28 image below 1x1; use at most 4.")


def first_conv_layer(model: keras.Model) -> layers.Conv2D:
    """Return the first ``Conv2D`` layer of a model (``ValueError`` if it has none)."""
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            return layer
    raise ValueError(f"model {model.name!r} has no Conv2D layer.")


def feature_maps(model: keras.Model, image: np.ndarray, layer_name: str) -> np.ndarray:
    """Return what one layer (see ``model.summary()``) outputs for one ``uint8`` image, no batch axis.

    Taught in notebook 02: a model is built from the model's input to the layer's
    output (Functional API) and called on the image.
    """
    image = np.asarray(image)
    validate_images(image[np.newaxis], name="image")
    probe = keras.Model(model.inputs[0], model.get_layer(layer_name).output)
    return np.asarray(probe(add_channel_axis(image[np.newaxis]), training=False))[0]


def build_improved_cnn(
    *,
    filters: Sequence[int] = (32, 64, 128),
    convs_per_block: Sequence[int] = (1, 2, 2),
    dropout_rate: float = 0.0,
    augmentation: keras.Model | None = None,
    num_classes: int = NUM_CLASSES,
    name: str = "improved_cnn",
) -> keras.Model:
    """Build a wider, deeper CNN with batch normalization, uncompiled, fast on a CPU (Functional API).

    Taught in notebook 05. ``Rescaling``, the optional ``augmentation``, one block per entry
    of ``filters`` (:func:`_improved_block`), then ``Flatten -> Dropout -> Dense(softmax)``:
    no hidden dense layer, the convolutions do the work.

    Args:
        filters: Width of each block; each block halves the image size.
        convs_per_block: Convolutions in each block (one number per block, at least 1).
        dropout_rate: Dropout rate before the output layer.
        augmentation: Layers applied to the rescaled images, in training only.
    """
    _check_blocks(filters, augmentation, num_classes)
    if isinstance(convs_per_block, (int, str)) or len(convs_per_block) != len(filters):
        raise ValueError(
            f"convs_per_block must give one count per block ({len(filters)}), got {convs_per_block!r}."
        )
    for convs in convs_per_block:
        positive_int(convs, "convs_per_block")  # 0 would build a block without a convolution.
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
    ``Conv2D -> BatchNormalization -> ReLU`` at the pooled size.

    Normalizing after pooling normalizes a quarter of the values, faster on a CPU; momentum 0.9
    settles within short runs.
    """
    for conv in range(1, convs + 1):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{block}_{conv}")(x)
        if conv == 1:
            x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"batch_norm{block}_{conv}")(x)
        x = layers.Activation("relu", name=f"relu{block}_{conv}")(x)
    return x
