"""Loading and preprocessing Fashion-MNIST, and turning new pictures into its format.

Taught in notebooks 00 (loading), 01 (preprocessing) and 04 (new pictures); later notebooks
import these functions instead of repeating them. Images stay ``uint8`` in memory (55 MB
instead of 220 MB of float32): the model rescales them with a ``Rescaling`` layer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from fmnist_utils import _pictures
from fmnist_utils._checks import positive_int
from fmnist_utils._files import (
    FILES,
    IMAGE_SHAPE,
    MIRRORS,
    NUM_CLASSES,
    DataFile,
    DatasetError,
    absolute_path,
    download_fashion_mnist,
    load_split,
)

__all__ = [
    "CLASS_NAMES",
    "DatasetError",
    "add_channel_axis",
    "load_fashion_mnist",
    "load_image_file",
    "load_test_set",
    "make_dataset",
    "one_hot",
    "rescaling_layer",
    "scale_images",
    "train_validation_split",
]

#: The ten classes, in label order (label ``i`` is ``CLASS_NAMES[i]``), as the dataset's authors name them.
CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# --------------------------------------------------------------------------- load


def load_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] = MIRRORS,
    files: Mapping[str, DataFile] = FILES,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST from a verified local copy, downloading it if needed.

    Taught in notebook 00.

    Args:
        data_dir: A folder holding the four original ``.gz`` files or their decompressed
            versions (relative: from the working folder). When ``None``, ``FMNIST_DATA_DIR``
            and then the Keras cache are searched; with no local copy the files are downloaded.
        mirrors: Base URLs to download from, tried in order.
        files: The files to expect (the official release; tests pass small synthetic ones).

    Returns:
        ``(train_images, train_labels), (test_images, test_labels)``: ``uint8`` arrays of
        shapes ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)`` and ``(10000,)``.

    Raises:
        DatasetError: A file is corrupt, truncated, not the official one, or cannot be
            downloaded; the message says which file, what is wrong and how to fix it.
    """
    folder = download_fashion_mnist(data_dir, mirrors=mirrors, files=files)
    return load_split(folder, files, "train"), load_split(folder, files, "test")


def load_test_set(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] = MIRRORS,
    files: Mapping[str, DataFile] = FILES,
) -> tuple[np.ndarray, np.ndarray]:
    """Load only ``(test_images, test_labels)``, with the same checks as :func:`load_fashion_mnist`.

    Taught in notebook 05, which loads the test set once, at the very end, and so keeps a
    second copy of the training set out of memory.
    """
    folder = download_fashion_mnist(data_dir, mirrors=mirrors, files=files)
    return load_split(folder, files, "test")


# --------------------------------------------------------------------------- checks


def validate_images(images: np.ndarray, *, name: str = "images", allow_channel: bool = True) -> None:
    """Check that ``images`` is a ``uint8`` batch of 28x28 images (with a channel axis if allowed).

    Raises:
        ValueError: Not a NumPy array, wrong shape or dtype; the message says how to fix it.
    """
    if not isinstance(images, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array, got {type(images).__name__}.")
    shapes = "(N, 28, 28)" + (" or (N, 28, 28, 1)" if allow_channel else "")
    ok_shape = images.ndim == 3 and images.shape[1:] == IMAGE_SHAPE
    if allow_channel:
        ok_shape |= images.ndim == 4 and images.shape[1:] == (*IMAGE_SHAPE, 1)
    if not ok_shape:
        hint = ""
        if images.shape[-2:] == IMAGE_SHAPE or images.shape[1:3] == IMAGE_SHAPE:
            hint = " For a single image, add the batch axis: image[None]."
        if images.ndim == 2 and images.shape[1] == 784:
            hint = " Flattened images? Reshape them: images.reshape(-1, 28, 28)."
        raise ValueError(f"{name} must have shape {shapes}, got {images.shape}.{hint}")
    if images.dtype != np.uint8:
        hint = ""
        if np.issubdtype(images.dtype, np.floating):
            hint = (
                " These look already scaled: keep the uint8 arrays from "
                "load_fashion_mnist() and let the model rescale them."
            )
        raise ValueError(f"{name} must have dtype uint8 (pixel values 0..255), got {images.dtype}.{hint}")


def validate_labels(labels: np.ndarray, *, num_classes: int = NUM_CLASSES, name: str = "labels") -> None:
    """Check that ``labels`` is a 1-D integer array with values in ``0..num_classes-1``.

    Raises:
        ValueError: Wrong type, shape, dtype or a value out of range.
    """
    if not isinstance(labels, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array, got {type(labels).__name__}.")
    if labels.ndim != 1:
        hint = ""
        if labels.ndim == 2 and labels.shape[1] == num_classes:
            hint = " These look one-hot encoded: pass integer labels (labels.argmax(axis=1))."
        raise ValueError(f"{name} must be 1-D integer class indices, got shape {labels.shape}.{hint}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} must have an integer dtype, got {labels.dtype}.")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"{name} must lie in 0..{num_classes - 1}, found values from {labels.min()} to {labels.max()}."
        )


def _validate_pair(images: np.ndarray, labels: np.ndarray) -> None:
    validate_images(images)
    validate_labels(labels)
    if len(images) != len(labels):
        raise ValueError(
            f"images and labels must have the same length, got {len(images)} images and {len(labels)} labels."
        )


# --------------------------------------------------------------------------- preprocessing


def train_validation_split(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    validation_size: float | int = 0.1,
    seed: int = 42,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split training data into training and validation sets, stratified by class.

    Taught in notebook 01: the validation set comes from the training data, so that the test
    set stays untouched until the final evaluation.

    Args:
        validation_size: A fraction in (0, 1) or a number of examples.

    Returns:
        ``(train_images, train_labels), (validation_images, validation_labels)``; every
        class has the same share in both parts.
    """
    from sklearn.model_selection import train_test_split

    _validate_pair(images, labels)
    _check_validation_size(validation_size, len(labels))  # scikit-learn's message says test_size.
    train_images, validation_images, train_labels, validation_labels = train_test_split(
        images, labels, test_size=validation_size, random_state=seed, stratify=labels
    )
    return (train_images, train_labels), (validation_images, validation_labels)


def _check_validation_size(size: object, count: int) -> None:
    whole = isinstance(size, (int, np.integer)) and not isinstance(size, bool) and 0 < size < count
    if not (whole or (isinstance(size, (float, np.floating)) and 0 < size < 1)):
        raise ValueError(
            f"validation_size must be a fraction in (0, 1) or a number of examples from 1 to {count - 1}, "
            f"got {size!r}."
        )


def add_channel_axis(images: np.ndarray) -> np.ndarray:
    """Add the trailing channel axis Conv2D layers expect: ``(N, 28, 28)`` -> ``(N, 28, 28, 1)``.

    Taught in notebook 01. Returns a view with the same dtype; images that already have the
    channel axis are returned unchanged.
    """
    validate_images(images)
    return images if images.ndim == 4 else images[..., np.newaxis]


def scale_images(images: np.ndarray) -> np.ndarray:
    """Scale ``uint8`` pixels to ``float32`` in [0, 1] (scaling twice is caught).

    Taught in notebook 01. The course's models rescale themselves (:func:`rescaling_layer`),
    which keeps the arrays ``uint8``, 4x smaller; this is for models without one.
    """
    validate_images(images)
    return images.astype(np.float32) / np.float32(255.0)


def rescaling_layer():
    """A Keras ``Rescaling`` layer mapping pixel values 0..255 to [0, 1]: put it first in a model."""
    from keras import layers

    return layers.Rescaling(1.0 / 255, name="rescaling")


def one_hot(labels: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """One-hot encode integer labels: ``(N,)`` -> ``(N, num_classes)`` ``float32``.

    Taught in notebook 01: one-hot labels go with ``categorical_crossentropy``, integer
    labels with ``sparse_categorical_crossentropy``.
    """
    from keras.utils import to_categorical

    validate_labels(labels, num_classes=num_classes)
    return to_categorical(labels, num_classes=num_classes).astype(np.float32)


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int = 128,
    shuffle: bool = False,
    seed: int = 42,
    one_hot_labels: bool = False,
    cache: bool = False,
    shuffle_buffer: int | None = None,
):
    """Build a ``tf.data`` pipeline of ``(images, labels)`` batches: (cache), (shuffle), batch, prefetch.

    Taught in notebook 01. Images keep their ``uint8`` dtype and get the channel axis; the
    model rescales them.

    Args:
        shuffle: Reshuffle every epoch (for training data; not for evaluation).
        cache: Cache the examples in memory after the first pass; from in-memory arrays it
            only keeps a second copy, so it is off by default.
        shuffle_buffer: Examples in the shuffle buffer (``None``: all of them, a perfect
            shuffle); a smaller one saves memory and shuffles less thoroughly.
    """
    import tensorflow as tf

    _validate_pair(images, labels)  # Checked once, here: what follows needs no more checks.
    # tf.data takes batch_size=True as 1, and words its own errors in C++ terms.
    batch_size = positive_int(batch_size, "batch_size")
    targets = np.eye(NUM_CLASSES, dtype=np.float32)[labels] if one_hot_labels else labels.astype(np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((images.reshape(-1, *IMAGE_SHAPE, 1), targets))
    if cache:
        dataset = dataset.cache()
    if shuffle:
        buffer = len(labels) if shuffle_buffer is None else positive_int(shuffle_buffer, "shuffle_buffer")
        dataset = dataset.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------- new pictures


def picture_to_fashion_mnist(picture: np.ndarray) -> np.ndarray:
    """Turn a photo of one garment into a Fashion-MNIST-style 28x28 ``uint8`` image.

    Taught in notebook 04. Follows the dataset's own recipe: the garment becomes light on a
    black background (a light background, read from the picture's border, is inverted), the
    picture is trimmed to the garment, its longest side scaled to 28 pixels, centred, and
    stretched to the full 0..255 range.

    Args:
        picture: ``(height, width)`` grayscale, ``(height, width, 3)`` RGB or ``(height, width,
            4)`` RGBA, any size. Integers within 0..255 and floats within 0..1 are taken as they
            are; any other range (16-bit, floats beyond 1) is stretched from the darkest to the
            lightest value. Transparent pixels are background, read as a shop's white one (a
            garment that would vanish on white, a white shirt cut out, is laid on black).

    Raises:
        ValueError: Not a picture's shape, smaller than 2x2, blank or fully transparent.
    """
    picture = np.asarray(picture)
    if picture.ndim not in (2, 3) or (picture.ndim == 3 and picture.shape[2] not in (1, 3, 4)):
        raise ValueError(
            "picture must be (height, width) grayscale or (height, width, 3 or 4) colour, "
            f"got {picture.shape}."
        )
    if min(picture.shape[:2]) < 2:
        raise ValueError(
            f"the picture is too small to classify: {picture.shape[1]}x{picture.shape[0]} pixels. "
            "Use a photo of one garment, at least 28x28 pixels (Fashion-MNIST's size)."
        )
    gray = _pictures.light_on_dark(_pictures.gray(_pictures.as_0_255(picture)))
    return _pictures.fit_28x28(_pictures.trim_to_garment(gray))


def load_image_file(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file and turn it into a Fashion-MNIST-style 28x28 ``uint8`` image.

    Taught in notebook 04. Any format Pillow reads, any size, colour or grayscale, 8 or 16
    bits or floating point, palette, with or without transparency, turned upright by its
    EXIF orientation; see :func:`picture_to_fashion_mnist`. Large pictures are reduced to
    1,024 pixels first (JPEGs while they are decoded), so a 48-megapixel photo fits in a
    small notebook's memory.

    Raises:
        FileNotFoundError, IsADirectoryError, PermissionError: As their names say.
        ValueError: Empty, not an image, corrupt, too small or blank. Every message names
            the file (absolute path) and the fix.
    """
    path = absolute_path(path)
    pixels = _pictures.read_picture(path)
    try:
        return picture_to_fashion_mnist(pixels)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
