"""Loading and preprocessing Fashion-MNIST, and turning new pictures into its format.

Taught in notebooks 00 (loading), 01 (preprocessing) and 04 (new pictures); every later
notebook imports these functions instead of repeating them. How the files are found,
verified and downloaded: :mod:`fmnist_utils._files`.

Images stay ``uint8`` in memory: the model rescales them (a ``Rescaling`` layer), which
keeps the dataset at 55 MB instead of 220 MB of float32.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fmnist_utils._checks import positive_int
from fmnist_utils._files import (
    DATA_DIR_ENV_VAR,
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

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "CLASS_NAMES",
    "DATA_DIR_ENV_VAR",
    "IMAGE_SHAPE",
    "NUM_CLASSES",
    "DatasetError",
    "add_channel_axis",
    "load_fashion_mnist",
    "load_image_file",
    "load_test_set",
    "make_dataset",
    "one_hot",
    "picture_to_fashion_mnist",
    "rescaling_layer",
    "scale_images",
    "train_validation_split",
    "validate_images",
    "validate_labels",
]

#: The ten classes, in label order (label ``i`` is ``CLASS_NAMES[i]``), as the
#: dataset's authors name them.
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
        data_dir: A folder holding the four original ``.gz`` files (or their
            decompressed versions; relative: from the working folder). When ``None``,
            ``FMNIST_DATA_DIR`` and then the Keras cache are searched (see
            :mod:`fmnist_utils._files`); with no local copy the files are downloaded.
        mirrors: Base URLs to download from, tried in order.
        files: The files to expect (defaults to the official release; tests pass
            small synthetic ones).

    Returns:
        ``(train_images, train_labels), (test_images, test_labels)``: ``uint8``
        arrays of shapes ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)`` and
        ``(10000,)``, in the official order.

    Raises:
        DatasetError: A file is corrupt, truncated, not the official one, or cannot
            be downloaded; the message says which file, what is wrong and how to fix it.

    Example:
        >>> (train_images, train_labels), (test_images, test_labels) = load_fashion_mnist()
        >>> train_images.shape, train_images.dtype
        ((60000, 28, 28), dtype('uint8'))
    """
    folder = download_fashion_mnist(data_dir, mirrors=mirrors, files=files)
    return load_split(folder, files, "train"), load_split(folder, files, "test")


def load_test_set(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] = MIRRORS,
    files: Mapping[str, DataFile] = FILES,
) -> tuple[np.ndarray, np.ndarray]:
    """Load only the test set, with the same checks as :func:`load_fashion_mnist`.

    Taught in notebook 05, which loads the test set once, at the very end: reading just
    the two test files keeps a second copy of the training set out of memory (Binder
    gives 1-2 GB).

    Returns:
        ``(test_images, test_labels)``: ``uint8`` arrays of shapes ``(10000, 28, 28)``
        and ``(10000,)``, the same arrays as the second pair of :func:`load_fashion_mnist`.

    Raises:
        DatasetError: As :func:`load_fashion_mnist`.
    """
    folder = download_fashion_mnist(data_dir, mirrors=mirrors, files=files)
    return load_split(folder, files, "test")


# --------------------------------------------------------------------------- checks


def validate_images(images: np.ndarray, *, name: str = "images", allow_channel: bool = True) -> None:
    """Check that ``images`` is a ``uint8`` batch of 28x28 images.

    Args:
        images: The array to check.
        name: How to call the array in the error message.
        allow_channel: Also accept a trailing channel axis of size 1.

    Raises:
        ValueError: Not a NumPy array, wrong shape or wrong dtype; the message says
            what was found and how to fix it.
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

    Taught in notebook 01. The validation set comes from the training data so that
    the test set stays untouched until the final evaluation.

    Args:
        images: ``uint8`` images, ``(N, 28, 28)`` or ``(N, 28, 28, 1)``.
        labels: Integer labels, ``(N,)``.
        validation_size: A fraction in (0, 1) or a number of examples.
        seed: Seed of the shuffle; the same seed gives the same split.

    Returns:
        ``(train_images, train_labels), (validation_images, validation_labels)``;
        every class has the same share in both parts.

    Raises:
        ValueError: Bad images, labels or ``validation_size``.
    """
    from sklearn.model_selection import train_test_split

    _validate_pair(images, labels)
    if isinstance(validation_size, bool) or not isinstance(validation_size, (int, float)):
        raise ValueError(f"validation_size must be a fraction or a count, got {validation_size!r}.")
    if isinstance(validation_size, float) and not 0.0 < validation_size < 1.0:
        raise ValueError(f"validation_size as a fraction must lie in (0, 1), got {validation_size}.")
    if isinstance(validation_size, int) and not 0 < validation_size < len(labels):
        raise ValueError(
            f"validation_size as a count must lie in 1..{len(labels) - 1}, got {validation_size}."
        )
    train_images, validation_images, train_labels, validation_labels = train_test_split(
        images, labels, test_size=validation_size, random_state=seed, stratify=labels
    )
    return (train_images, train_labels), (validation_images, validation_labels)


def add_channel_axis(images: np.ndarray) -> np.ndarray:
    """Add the trailing channel axis Conv2D layers expect: ``(N, 28, 28)`` -> ``(N, 28, 28, 1)``.

    Taught in notebook 01. Returns a view (no copy) and keeps the dtype; images that
    already have the channel axis are returned unchanged.

    Raises:
        ValueError: Not a batch of 28x28 ``uint8`` images.
    """
    validate_images(images)
    return images if images.ndim == 4 else images[..., np.newaxis]


def scale_images(images: np.ndarray) -> np.ndarray:
    """Scale ``uint8`` pixels to ``float32`` in [0, 1].

    Taught in notebook 01. The course's models do this themselves with a
    :func:`rescaling_layer`, which keeps the arrays ``uint8`` (4x smaller) in memory;
    use this function for models without one.

    Raises:
        ValueError: Not a batch of 28x28 ``uint8`` images (scaling twice is caught).
    """
    validate_images(images)
    return images.astype(np.float32) / np.float32(255.0)


def rescaling_layer():
    """Return a Keras ``Rescaling`` layer mapping pixel values 0..255 to [0, 1].

    Put it first in a model so that the data can stay ``uint8``.
    """
    from keras import layers

    return layers.Rescaling(1.0 / 255, name="rescaling")


def one_hot(labels: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """One-hot encode integer labels: ``(N,)`` -> ``(N, num_classes)`` ``float32``.

    Taught in notebook 01: one-hot labels go with ``categorical_crossentropy``,
    integer labels with ``sparse_categorical_crossentropy``.

    Raises:
        ValueError: Labels are not 1-D integers in ``0..num_classes-1``.
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
    """Build a ``tf.data`` pipeline: (cache), (shuffle), batch, prefetch.

    Taught in notebook 01. Images keep their ``uint8`` dtype and get the channel axis;
    the model rescales them.

    Args:
        images: ``uint8`` images, ``(N, 28, 28)`` or ``(N, 28, 28, 1)``.
        labels: Integer labels, ``(N,)``.
        batch_size: Examples per batch.
        shuffle: Reshuffle every epoch (for training data; not for evaluation).
        seed: Seed of the shuffle.
        one_hot_labels: Yield one-hot labels instead of integers.
        cache: Cache the examples in memory after the first pass. Worth it only when the
            pipeline computes something before this point; from in-memory arrays it just
            keeps a second copy, so it is off by default.
        shuffle_buffer: Examples in the shuffle buffer (``None``: all of them, a perfect
            shuffle). A smaller buffer saves memory and shuffles less thoroughly.

    Returns:
        A ``tf.data.Dataset`` of ``(images, labels)`` batches.

    Raises:
        ValueError: Bad images, labels or batch size.
    """
    import tensorflow as tf

    _validate_pair(images, labels)
    batch_size = positive_int(batch_size, "batch_size")
    targets = one_hot(labels) if one_hot_labels else labels.astype(np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((add_channel_axis(images), targets))
    if cache:
        dataset = dataset.cache()
    if shuffle:
        buffer = len(labels) if shuffle_buffer is None else positive_int(shuffle_buffer, "shuffle_buffer")
        dataset = dataset.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------- new pictures


#: Pictures are reduced to at most this many pixels on their longer side before any
#: float arithmetic (JPEGs while they are decoded): plenty for a 28x28 result, and a
#: 48-megapixel photo then needs a few tens of MB instead of gigabytes.
PICTURE_WORKING_SIDE = 1024


def picture_to_fashion_mnist(picture: np.ndarray) -> np.ndarray:
    """Turn a photo of one garment into a Fashion-MNIST-style 28x28 image.

    Taught in notebook 04. Follows the dataset's own recipe: the garment becomes light
    on a black background (a light background is detected from the picture's border
    and inverted), the picture is trimmed to the garment, its longest side scaled to
    28 pixels, centred, and stretched to the full 0..255 range.

    Args:
        picture: ``(height, width)`` grayscale, ``(height, width, 3)`` RGB or
            ``(height, width, 4)`` RGBA, any size. Integer values within 0..255 and float
            values within 0..1 are taken as they are; any other range (16-bit, float
            beyond 0..1) is stretched from the picture's darkest to its lightest value.
            Transparent pixels are background, read as a shop's white background: a
            product cut-out gives what the same garment photographed on white gives
            (laid on white, blended by alpha, then inverted). Only a garment that would
            vanish on white (a white shirt cut out) is laid on black instead.

    Returns:
        A ``uint8`` array of shape ``(28, 28)``.

    Raises:
        ValueError: A shape that is not a picture, a picture smaller than 2x2, or a
            blank or fully transparent picture (nothing stands out from the background).
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
    gray = _light_on_dark(_gray(_as_0_255(picture)))
    trimmed = _trim_to_garment(gray)
    return _fit_28x28(trimmed)


def _as_0_255(picture: np.ndarray) -> np.ndarray:
    """``picture`` as float64 on the 0..255 scale (see :func:`picture_to_fashion_mnist`)."""
    pixels = picture.astype(np.float64)
    finite = np.isfinite(pixels)
    if not finite.all():  # NaN or infinite pixels (float TIFFs): the darkest value.
        pixels[~finite] = pixels[finite].min() if finite.any() else 0.0
    low, high = pixels.min(), pixels.max()
    floating = np.issubdtype(picture.dtype, np.floating)
    if low >= 0 and high <= (1.0 if floating else 255):
        return pixels * 255.0 if floating else pixels
    if high == low:
        return np.zeros_like(pixels)
    return (pixels - low) * (255.0 / (high - low))


#: Less difference than this (of 255) between the garment and its background: blank.
BLANK_CONTRAST = 16


def _gray(pixels: np.ndarray) -> np.ndarray:
    """Grayscale of 0..255 pixels; transparent ones laid on white (see :func:`_on_background`)."""
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        return pixels.reshape(pixels.shape[:2])
    color = pixels[..., :3].mean(axis=2)
    if pixels.shape[2] == 3:
        return color
    return _on_background(color, np.clip(pixels[..., 3] / 255.0, 0.0, 1.0))


def _on_background(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """A cut-out (gray ``color``, ``alpha`` in 0..1) laid on white, as a shop photographs it.

    The transparent background stands for the shop's white one, whatever colour the file
    stores under it, so the usual rule (a light frame is inverted) then makes the garment
    light on black, its darker details lighter, like Fashion-MNIST. A garment that would
    not stand out from white (all its pixels within :data:`BLANK_CONTRAST` of it) is laid
    on black instead, so that a white shirt cut out still shows.

    Raises:
        ValueError: Every pixel is fully transparent.
    """
    if not alpha.any():
        raise ValueError(
            "the picture is fully transparent: there is nothing to see. Use a photo of one garment."
        )
    on_white = color * alpha + 255.0 * (1.0 - alpha)
    if 255.0 - on_white.min() >= BLANK_CONTRAST:
        return on_white
    return color * alpha  # A white garment cut out: on black it stands out.


def _border(gray: np.ndarray) -> np.ndarray:
    """The pixels of the picture's outermost rows and columns: its frame."""
    return np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])


def _light_on_dark(gray: np.ndarray) -> np.ndarray:
    """Invert a picture with a light background: Fashion-MNIST is light on black."""
    return 255.0 - gray if np.median(_border(gray)) > 127 else gray


def _trim_to_garment(gray: np.ndarray) -> np.ndarray:
    """The garment's bounding box, minus the background level."""
    background = float(np.median(_border(gray)))
    contrast = gray.max() - background
    if contrast < BLANK_CONTRAST:
        raise ValueError(
            "the picture is blank: nothing stands out from its background "
            f"(the brightest pixel differs by {contrast:.0f} of 255). Use a photo of one garment "
            "on a plain background that contrasts with it."
        )
    mask = gray > background + 0.15 * contrast
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return np.clip(gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] - background, 0, None)


def _fit_28x28(trimmed: np.ndarray) -> np.ndarray:
    """Scale the longest side to 28 pixels, centre on black, stretch to 0..255."""
    from PIL import Image

    height, width = trimmed.shape
    scale = 28 / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = np.asarray(
        Image.fromarray(trimmed.astype(np.float32)).resize(new_size, Image.Resampling.LANCZOS)
    )
    canvas = np.zeros((28, 28), dtype=np.float64)
    top, left = (28 - new_size[1]) // 2, (28 - new_size[0]) // 2
    canvas[top : top + new_size[1], left : left + new_size[0]] = np.clip(resized, 0, None)
    canvas *= 255.0 / max(canvas.max(), 1e-9)
    return canvas.round().astype(np.uint8)


def load_image_file(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file and turn it into a Fashion-MNIST-style 28x28 ``uint8`` image.

    Taught in notebook 04. Any format Pillow reads (PNG, JPEG, GIF, BMP, TIFF, WebP...),
    any size, colour or grayscale, 8 or 16 bits or floating point, palette, with or
    without transparency, turned upright by its EXIF orientation; see
    :func:`picture_to_fashion_mnist`. Large pictures are reduced to
    :data:`PICTURE_WORKING_SIDE` pixels first (JPEGs while they are decoded), so a
    48-megapixel photo fits in a small notebook's memory.

    Raises:
        FileNotFoundError: No such file.
        IsADirectoryError: The path is a folder.
        PermissionError: The file cannot be read.
        ValueError: The file is empty, is not an image, is corrupt, or the picture is
            too small or blank. Every message names the file (absolute path) and the fix.
    """
    from PIL import Image, UnidentifiedImageError

    path = absolute_path(path)
    _check_picture_path(path)
    try:
        with Image.open(path) as opened:
            pixels = _decode_small(opened)
    except UnidentifiedImageError:
        raise ValueError(
            f"{path}: not an image file that can be read (PNG, JPEG, GIF, BMP, WebP...). "
            "Check that it is a picture and not, say, a text or HTML file saved with an image name."
        ) from None
    except Image.DecompressionBombError as error:
        raise ValueError(
            f"{path}: the picture is too large to open safely ({error}). Save a smaller copy: "
            "a few megapixels are plenty for a 28x28 image."
        ) from None
    except PermissionError:
        raise PermissionError(
            f"{path}: permission denied: the file cannot be read. Copy it somewhere you can read."
        ) from None
    except (OSError, SyntaxError, ValueError) as error:  # Pillow's decoders raise all three.
        raise ValueError(
            f"{path}: the image data is corrupt or truncated ({error}). Save or download it again."
        ) from None
    try:
        return picture_to_fashion_mnist(pixels)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def _check_picture_path(path: Path) -> None:
    if path.is_dir():
        raise IsADirectoryError(
            f"{path}: a folder, not an image file. Pass the path of one picture inside it, "
            f"for example {path / 'my_shirt.jpg'}."
        )
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no such file. Check the name and the folder (a relative path starts from the "
            f"working folder, {os.getcwd()}: in a notebook, the notebook's folder)."
        )
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the file is empty; expected an image file (PNG, JPEG, ...).")


def _decode_small(opened: Image.Image) -> np.ndarray:
    """Decode an opened Pillow image, upright and reduced, into an array for picture_to_fashion_mnist.

    8-bit pictures become RGB or RGBA ``uint8``; 16-bit, 32-bit and float ones keep
    their values (one channel), so that nothing is clipped.
    """
    from PIL import ImageOps

    longest = max(opened.size)
    if longest > PICTURE_WORKING_SIDE:  # JPEG: decode at 1/2, 1/4 or 1/8 size directly.
        ratio = PICTURE_WORKING_SIDE / longest
        opened.draft(opened.mode, (max(1, int(opened.width * ratio)), max(1, int(opened.height * ratio))))
    opened.load()
    ImageOps.exif_transpose(opened, in_place=True)
    picture = _shrink(opened, PICTURE_WORKING_SIDE)
    if picture.mode in ("I", "F") or picture.mode.startswith("I;16"):
        return np.asarray(picture)
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
    return np.asarray(picture.convert("RGBA" if has_alpha else "RGB"))


def _shrink(picture: Image.Image, side: int) -> Image.Image:
    """``picture`` with its longer side reduced to ``side`` pixels (area average), if longer."""
    from PIL import Image

    longest = max(picture.size)
    if longest <= side:
        return picture
    size = tuple(max(1, round(extent * side / longest)) for extent in picture.size)
    # Palettes and 1-bit pictures cannot be averaged: pick pixels instead.
    resample = Image.Resampling.NEAREST if picture.mode in ("1", "P", "PA") else Image.Resampling.BOX
    return picture.resize(size, resample)
