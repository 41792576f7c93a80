"""Plumbing of :func:`fmnist_utils.data.load_image_file`: decoding, shrinking, levels, compositing.

Each step of the dataset's own recipe that :func:`fmnist_utils.data.picture_to_fashion_mnist`
follows (notebook 04) is one small function here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

#: Pictures are reduced to at most this many pixels on their longer side before any float
#: arithmetic (JPEGs while they are decoded): a 48-megapixel photo then needs tens of MB.
WORKING_SIDE = 1024

#: Less difference than this (of 255) between the garment and its background: blank.
BLANK_CONTRAST = 16


def read_picture(path: Path) -> np.ndarray:
    """Decode the image file at ``path`` (absolute) with Pillow, upright and reduced.

    Raises:
        FileNotFoundError, IsADirectoryError, PermissionError, ValueError: named after the
            problem; every message starts with the path and says how to fix it.
    """
    from PIL import Image, UnidentifiedImageError

    _check_path(path)
    try:
        with Image.open(path) as opened:
            return decode_small(opened)
    except UnidentifiedImageError:
        problem = (
            "not an image file that can be read (PNG, JPEG, GIF, BMP, WebP...). Check that it is a "
            "picture and not, say, a text or HTML file saved with an image name"
        )
    except Image.DecompressionBombError as error:
        problem = (
            f"the picture is too large to open safely ({error}). Save a smaller copy: a few megapixels "
            "are plenty for a 28x28 image"
        )
    except PermissionError:
        raise PermissionError(
            f"{path}: permission denied: the file cannot be read. Copy it somewhere you can read."
        ) from None
    except (OSError, SyntaxError, ValueError) as error:  # Pillow's decoders raise all three.
        problem = f"the image data is corrupt or truncated ({error}). Save or download it again"
    raise ValueError(f"{path}: {problem}.")


def _check_path(path: Path) -> None:
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


def decode_small(opened: Image.Image) -> np.ndarray:
    """An opened picture, upright and reduced to :data:`WORKING_SIDE`, as an array.

    8-bit pictures become RGB or RGBA ``uint8``; 16-bit, 32-bit and float ones keep their
    values (one channel), so that nothing is clipped.
    """
    from PIL import ImageOps

    longest = max(opened.size)
    if longest > WORKING_SIDE:  # JPEG: decode at 1/2, 1/4 or 1/8 size directly.
        ratio = WORKING_SIDE / longest
        opened.draft(opened.mode, (max(1, int(opened.width * ratio)), max(1, int(opened.height * ratio))))
    opened.load()
    ImageOps.exif_transpose(opened, in_place=True)
    picture = _shrink(opened, WORKING_SIDE)
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


def as_0_255(picture: np.ndarray) -> np.ndarray:
    """``picture`` as float64 on the 0..255 scale (the levels rule of picture_to_fashion_mnist)."""
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


def gray(pixels: np.ndarray) -> np.ndarray:
    """Grayscale of 0..255 pixels; transparent ones laid on white (see :func:`on_background`)."""
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        return pixels.reshape(pixels.shape[:2])
    color = pixels[..., :3].mean(axis=2)
    if pixels.shape[2] == 3:
        return color
    return on_background(color, np.clip(pixels[..., 3] / 255.0, 0.0, 1.0))


def on_background(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """A cut-out (gray ``color``, ``alpha`` in 0..1) laid on white, as a shop photographs it.

    The usual rule (a light frame is inverted) then makes the garment light on black, like
    Fashion-MNIST. A garment that would not stand out from white (all its pixels within
    :data:`BLANK_CONTRAST` of it) is laid on black instead, so that a white shirt still shows.

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


def border(gray: np.ndarray) -> np.ndarray:
    """The pixels of the picture's outermost rows and columns: its frame."""
    return np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])


def light_on_dark(gray: np.ndarray) -> np.ndarray:
    """Invert a picture with a light background: Fashion-MNIST is light on black."""
    return 255.0 - gray if np.median(border(gray)) > 127 else gray


def trim_to_garment(gray: np.ndarray) -> np.ndarray:
    """The garment's bounding box, minus the background level."""
    background = float(np.median(border(gray)))
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


def fit_28x28(trimmed: np.ndarray) -> np.ndarray:
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
