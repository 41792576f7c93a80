"""Evaluating a trained classifier: predictions, errors, calibration, Grad-CAM.

Taught in notebook 04; notebook 05 reuses it to compare models. Metrics that
scikit-learn provides (classification report, confusion matrix) are called from
scikit-learn directly; this module holds what it does not.
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
    "CalibrationBins",
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
    average the probabilities of each image and of its mirror image (left-right), the
    same flip the improved model saw in training. For a shoe, which in Fashion-MNIST always
    faces the same way, the mirror image is a view the test set never contains: whether the
    average helps is measured on the validation set, not assumed.

    Args:
        model: A trained classifier with a softmax output.
        images: ``uint8`` images ``(N, 28, 28)`` or ``(N, 28, 28, 1)``.
        batch_size: Images per prediction batch (``None``: 512, or 128 on a small machine,
            see :meth:`fmnist_utils.config.RunConfig.eval_batch_size`).
        flip_average: Average with the prediction for the mirrored images.

    Raises:
        ValueError: Not a batch of 28x28 ``uint8`` images.
    """
    validate_images(images)
    machine = get_config()
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
    """Accuracy within each true class (the recall of each class), ``(num_classes,)``.

    Raises:
        ValueError: Bad labels or lengths that differ.
    """
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
    """The most frequent mistakes in a confusion matrix (counts, rows = true class).

    Args:
        confusion: Square matrix of counts, ``confusion[true, predicted]``.
        class_names: Names in label order.
        top: How many pairs to return.

    Returns:
        ``(true class, predicted class, count)``, most frequent first, mistakes only.

    Raises:
        ValueError: The matrix is not square with one row per class.
    """
    confusion = np.asarray(confusion)
    size = len(class_names)
    if confusion.shape != (size, size):
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
    """Predictions grouped by confidence, for a reliability diagram.

    Attributes:
        edges: Bin edges, ``(bins + 1,)``, from 0 to 1.
        confidence: Mean confidence of the predictions in each bin (NaN if empty).
        accuracy: Share of correct predictions in each bin (NaN if empty).
        counts: Predictions in each bin.
        expected_calibration_error: The weighted mean gap between confidence and
            accuracy: ``sum(counts / N * |accuracy - confidence|)``.
    """

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    counts: np.ndarray
    expected_calibration_error: float


def calibration_bins(probabilities: np.ndarray, labels: np.ndarray, *, bins: int = 10) -> CalibrationBins:
    """Group predictions by confidence and compare confidence with accuracy.

    Taught in notebook 04. The confidence of a prediction is its largest probability;
    a calibrated model is right 90% of the time when it says 90%.

    Args:
        probabilities: ``(N, num_classes)`` predicted probabilities.
        labels: ``(N,)`` true labels.
        bins: Number of equal-width confidence bins.

    Returns:
        The bins and the expected calibration error (ECE).

    Raises:
        ValueError: Shapes that do not match, or bad labels.
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


def _grad_cam_layer(model: keras.Model) -> str:
    """The last layer with a 4-D output that is not pooling: the last feature maps."""
    for layer in reversed(model.layers):
        shape = getattr(layer.output, "shape", None)
        if shape is not None and len(shape) == 4 and not isinstance(layer, layers.MaxPooling2D):
            return layer.name
    raise ValueError(f"model {model.name!r} has no convolutional feature maps for Grad-CAM.")


def _maps_and_hidden(model: keras.Model, layer_name: str) -> keras.Model:
    """A model returning ``(the layer's output, the input of the output layer)``, same weights."""
    output_layer = model.layers[-1]
    if isinstance(model, keras.Sequential):
        # Rebuild the graph from the same layers: in Keras 3 no gradient flows between a
        # Sequential model's recorded layer outputs.
        inputs = keras.Input(shape=model.inputs[0].shape[1:], dtype=model.inputs[0].dtype)
        hidden, maps = inputs, None
        for layer in model.layers[:-1]:
            hidden = layer(hidden)
            if layer.name == layer_name:
                maps = hidden
        return keras.Model(inputs, [maps, hidden])
    return keras.Model(model.inputs[0], [model.get_layer(layer_name).output, output_layer.input])


def grad_cam(
    model: keras.Model, image: np.ndarray, *, class_index: int | None = None, layer_name: str | None = None
) -> np.ndarray:
    """Grad-CAM heatmap: which parts of the image made the model choose a class.

    Taught in notebook 04. Computed with ``tf.GradientTape``: the gradient of the
    class score with respect to a convolutional layer's feature maps, averaged over
    each map, weights the maps; their weighted sum, with negative values cut to 0, is
    scaled up to the image's size (Selvaraju et al., 2017). The class score is the
    logit, before the softmax: a confident softmax output has almost no gradient.

    Args:
        model: A trained CNN taking 28x28x1 ``uint8`` images.
        image: One ``uint8`` image, ``(28, 28)`` or ``(28, 28, 1)``.
        class_index: The class to explain; the predicted class when ``None``.
        layer_name: The feature maps to use; by default the last non-pooling layer
            with a 4-D output (the last convolution block's activation).

    Returns:
        A ``(28, 28)`` float array in [0, 1] (all zeros if nothing supports the class).

    Raises:
        ValueError: A wrong image, class index or layer name.
    """
    image = np.asarray(image)
    validate_images(image[np.newaxis], name="image")
    layer_name = layer_name or _grad_cam_layer(model)
    names = [layer.name for layer in model.layers]
    if layer_name not in names:
        raise ValueError(f"model {model.name!r} has no layer {layer_name!r}; its layers: {', '.join(names)}.")
    num_classes = int(model.outputs[0].shape[-1])
    if class_index is not None and not 0 <= class_index < num_classes:
        raise ValueError(f"class_index must lie in 0..{num_classes - 1}, got {class_index}.")
    output_layer = model.layers[-1]
    softmax_dense = (
        isinstance(output_layer, layers.Dense) and output_layer.activation is keras.activations.softmax
    )
    probe = _maps_and_hidden(model, layer_name)
    batch = tf.convert_to_tensor(add_channel_axis(image[np.newaxis]))
    with tf.GradientTape() as tape:
        feature_maps, hidden = probe(batch, training=False)
        if softmax_dense:  # The logits: the output layer without its softmax.
            scores = tf.matmul(hidden, output_layer.kernel) + output_layer.bias
        else:
            scores = output_layer(hidden, training=False)
        chosen = int(tf.argmax(scores[0])) if class_index is None else class_index
        score = scores[:, chosen]
    gradients = tape.gradient(score, feature_maps)
    weights = tf.reduce_mean(gradients, axis=(1, 2))  # One weight per feature map.
    heatmap = tf.nn.relu(tf.reduce_sum(feature_maps * weights[:, tf.newaxis, tf.newaxis, :], axis=-1))
    heatmap = tf.image.resize(heatmap[..., tf.newaxis], image.shape[:2], method="bilinear")[0, ..., 0]
    heatmap = heatmap.numpy()
    peak = heatmap.max()
    return heatmap / peak if peak > 0 else np.zeros_like(heatmap)


def classify_image(
    model: keras.Model,
    path: str | os.PathLike[str],
    *,
    top: int = 3,
    class_names: Sequence[str] = CLASS_NAMES,
) -> list[tuple[str, float]]:
    """Classify a picture file with a trained model.

    Taught in notebook 04. The picture is turned into a Fashion-MNIST-like 28x28
    image by :func:`fmnist_utils.data.load_image_file` (any size, colour or grayscale,
    light or dark background).

    Args:
        model: A trained classifier.
        path: An image file (PNG, JPEG, ...).
        top: How many classes to return.
        class_names: Names in label order.

    Returns:
        The ``top`` most likely ``(class name, probability)`` pairs, most likely first.

    Raises:
        FileNotFoundError: No such file.
        ValueError: The file is empty, not an image, or the picture is blank.
    """
    image = load_image_file(path)
    probabilities = predict_probabilities(model, image[np.newaxis])[0]
    order = np.argsort(probabilities)[::-1][: max(1, top)]
    return [(class_names[index], float(probabilities[index])) for index in order]
