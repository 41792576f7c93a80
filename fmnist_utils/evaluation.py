"""Evaluating a trained classifier: predictions, errors, calibration, Grad-CAM.

Taught in notebook 04; notebook 05 reuses it. scikit-learn gives the report and confusion matrix.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from fmnist_utils import _runtime
from fmnist_utils._checks import positive_int
from fmnist_utils.config import get_config
from fmnist_utils.data import CLASS_NAMES, add_channel_axis, load_image_file, validate_images, validate_labels

__all__ = [
    "calibration_bins",
    "classify_image",
    "grad_cam",
    "most_confused_pairs",
    "per_class_accuracy",
    "predict_probabilities",
]


def predict_probabilities(
    model: keras.Model, images: np.ndarray, *, batch_size: int | None = None, flip_average: bool = False
) -> np.ndarray:
    """Return the model's class probabilities for ``uint8`` images, ``(N, num_classes)``.

    Taught in notebook 04; notebook 05 adds ``flip_average``, a test-time augmentation:
    average the probabilities of each image and of its left-right mirror image.
    ``batch_size`` ``None`` predicts 512 images at a time, 128 on a small machine.
    """
    validate_images(images)
    return _probabilities(model, images, batch_size, flip_average)


def _probabilities(model: keras.Model, images: np.ndarray, batch_size, flip_average: bool) -> np.ndarray:
    """:func:`predict_probabilities` for checked images."""
    machine = get_config()  # The machine's size: the default batch, and memory handed back after.
    if batch_size is None:
        batch_size = machine.eval_batch_size()
    images = add_channel_axis(images)
    probabilities = np.asarray(model.predict(images, batch_size=batch_size, verbose=0))
    if flip_average:
        mirrored = np.asarray(model.predict(images[:, :, ::-1], batch_size=batch_size, verbose=0))
        probabilities = (probabilities + mirrored) / 2.0
    _runtime.after_prediction(machine.small_machine)
    return probabilities


def per_class_accuracy(
    labels: np.ndarray, predictions: np.ndarray, num_classes: int = len(CLASS_NAMES)
) -> np.ndarray:
    """Accuracy within each true class (the recall of each class), ``(num_classes,)``; NaN if none."""
    validate_labels(labels, num_classes=num_classes)
    validate_labels(predictions, num_classes=num_classes, name="predictions")
    if len(labels) != len(predictions):
        raise ValueError(f"got {len(labels)} labels but {len(predictions)} predictions.")
    correct = np.bincount(labels[labels == predictions], minlength=num_classes)
    totals = np.bincount(labels, minlength=num_classes)
    return np.where(totals > 0, correct / np.maximum(totals, 1), np.nan)


def most_confused_pairs(
    confusion: np.ndarray, *, class_names: Sequence[str] = CLASS_NAMES, top: int = 5
) -> list[tuple[str, str, int]]:
    """The ``top`` most frequent mistakes in ``confusion[true, predicted]``, most frequent first.

    Returns ``(true class, predicted class, count)`` tuples, mistakes only.
    """
    confusion = np.asarray(confusion)
    size = len(class_names)
    if confusion.shape != (size, size):  # Else the pairs would carry the wrong names.
        raise ValueError(f"confusion must have shape ({size}, {size}), got {confusion.shape}.")
    off_diagonal = confusion.copy()
    np.fill_diagonal(off_diagonal, 0)
    order = np.argsort(off_diagonal, axis=None, kind="stable")[::-1][:top]
    pairs = []
    for flat in order:
        true, predicted = divmod(int(flat), size)
        if off_diagonal[true, predicted] > 0:
            pairs.append((class_names[true], class_names[predicted], int(off_diagonal[true, predicted])))
    return pairs


@dataclass(frozen=True)
class CalibrationBins:
    """Predictions grouped by confidence, for a reliability diagram (NaN in an empty bin)."""

    edges: np.ndarray  # (bins + 1,), from 0 to 1.
    confidence: np.ndarray  # Mean confidence of the predictions in each bin.
    accuracy: np.ndarray  # Share of correct predictions in each bin.
    counts: np.ndarray  # Predictions in each bin.
    expected_calibration_error: float  # sum(counts / N * |accuracy - confidence|)


def calibration_bins(probabilities: np.ndarray, labels: np.ndarray, *, bins: int = 10) -> CalibrationBins:
    """Group predictions into ``bins`` equal bins of confidence; compare confidence with accuracy.

    Taught in notebook 04. The confidence of a prediction is its largest probability;
    a calibrated model is right 90% of the time when it says 90%.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or len(probabilities) != len(labels) or len(labels) == 0:
        raise ValueError(
            f"probabilities must be (N, num_classes) with N = len(labels) > 0, got {probabilities.shape} "
            f"for {len(labels)} labels."
        )
    validate_labels(labels, num_classes=probabilities.shape[1])
    bins = positive_int(bins, "bins")
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.digitize(confidence, edges[1:-1], right=True)  # 0 .. bins - 1: the inner edges.
    counts = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore"):  # An empty bin: 0 / 0, NaN.
        mean_confidence = np.bincount(index, weights=confidence, minlength=bins) / counts
        accuracy = np.bincount(index, weights=correct, minlength=bins) / counts
    ece = float(np.nansum(counts / len(labels) * np.abs(accuracy - mean_confidence)))
    return CalibrationBins(edges, mean_confidence, accuracy, counts, ece)


def grad_cam(
    model: keras.Model, image: np.ndarray, *, class_index: int | None = None, layer_name: str | None = None
) -> np.ndarray:
    """Grad-CAM heatmap: which parts of the image made the model choose a class.

    Taught in notebook 04, whose ``grad_cam_by_hand`` takes the same steps (Selvaraju et al.,
    2017): the gradient of the class's logit (before the softmax, which a confident
    prediction saturates) with respect to a layer's feature maps, averaged over each map,
    weights the maps; their sum, negative values cut to 0, is scaled up to the image.

    Args:
        image: One ``uint8`` image, ``(28, 28)`` or ``(28, 28, 1)``.
        class_index: The class to explain; the predicted class when ``None``.
        layer_name: The feature maps; by default the last non-pooling ones (4-D output).

    Returns:
        A ``(28, 28)`` float array in [0, 1] (all zeros if nothing supports the class).
    """
    image = np.asarray(image)
    validate_images(image[np.newaxis], name="image")
    num_classes = int(model.outputs[0].shape[-1])
    if class_index is not None and not 0 <= class_index < num_classes:  # -1 would pass silently.
        raise ValueError(f"class_index must lie in 0..{num_classes - 1}, got {class_index}.")
    probe = _maps_and_hidden(model, layer_name or _grad_cam_layer(model))
    batch = tf.convert_to_tensor(add_channel_axis(image[np.newaxis]))
    with tf.GradientTape() as tape:
        feature_maps, hidden = probe(batch, training=False)
        logits = _logits(model.layers[-1], hidden)
        chosen = int(tf.argmax(logits[0])) if class_index is None else class_index
        score = logits[:, chosen]
    return _weighted_maps(feature_maps, tape.gradient(score, feature_maps), image.shape[:2])


def _grad_cam_layer(model: keras.Model) -> str:
    """The last layer with a 4-D output that is not pooling: the last feature maps."""
    for layer in reversed(model.layers):
        shape = getattr(layer.output, "shape", None)
        if shape is not None and len(shape) == 4 and not isinstance(layer, layers.MaxPooling2D):
            return layer.name
    raise ValueError(f"model {model.name!r} has no convolutional feature maps for Grad-CAM.")


def _maps_and_hidden(model: keras.Model, layer_name: str) -> keras.Model:
    """A model returning ``(the layer's output, the input of the output layer)``, same weights."""
    maps_layer = model.get_layer(layer_name)  # Keras lists the model's layers if there is none so named.
    if not isinstance(model, keras.Sequential):
        return keras.Model(model.inputs[0], [maps_layer.output, model.layers[-1].input])
    # Rebuilt from the same layers: Keras 3 has no gradient between a Sequential's recorded outputs.
    inputs = keras.Input(shape=model.inputs[0].shape[1:], dtype=model.inputs[0].dtype)
    hidden, maps = inputs, None
    for layer in model.layers[:-1]:
        hidden = layer(hidden)
        if layer is maps_layer:
            maps = hidden
    return keras.Model(inputs, [maps, hidden])


def _logits(output_layer: layers.Layer, hidden: tf.Tensor) -> tf.Tensor:
    """The class scores: a softmax Dense layer's without the softmax, any other layer's output."""
    if isinstance(output_layer, layers.Dense) and output_layer.activation is keras.activations.softmax:
        return tf.matmul(hidden, output_layer.kernel) + output_layer.bias
    return output_layer(hidden, training=False)


def _weighted_maps(feature_maps: tf.Tensor, gradients: tf.Tensor, size: tuple[int, int]) -> np.ndarray:
    """Grad-CAM's last steps: weight, sum, cut negatives to 0, resize to ``size``, peak at 1."""
    weights = tf.reduce_mean(gradients, axis=(1, 2))  # One weight per map: its mean gradient.
    heatmap = tf.nn.relu(tf.reduce_sum(feature_maps * weights[:, tf.newaxis, tf.newaxis, :], axis=-1))
    heatmap = tf.image.resize(heatmap[..., tf.newaxis], size, method="bilinear")[0, ..., 0].numpy()
    peak = heatmap.max()
    return heatmap / peak if peak > 0 else np.zeros_like(heatmap)


def classify_image(
    model: keras.Model,
    path: str | os.PathLike[str],
    *,
    top: int = 3,
    class_names: Sequence[str] = CLASS_NAMES,
) -> list[tuple[str, float]]:
    """The ``top`` most likely ``(class name, probability)`` of a picture file, most likely first.

    Taught in notebook 04. :func:`fmnist_utils.data.load_image_file` turns the picture (any
    size, colour or grayscale, light or dark background) into a Fashion-MNIST-like image,
    and raises ``FileNotFoundError`` or ``ValueError`` for a missing, empty or blank one.
    """
    image = load_image_file(path)
    probabilities = _probabilities(model, image[np.newaxis], None, False)[0]
    order = np.argsort(probabilities)[::-1][: max(1, top)]
    return [(class_names[index], float(probabilities[index])) for index in order]
