"""Helpers for the tests: write tiny IDX files shaped like Fashion-MNIST."""

from __future__ import annotations

import gzip
import hashlib
import html
import os
import re
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from fmnist_utils._files import FILES, DataFile

TINY_COUNTS = {"train": 30, "test": 10}
#: The course's notebooks as students open them: the exercise versions (generated from solutions/).
NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
#: The solution versions, the source of truth: nbval runs these, nbgrader's source is made from them.
SOLUTIONS_DIR = NOTEBOOKS_DIR.parent / "solutions"


def student_environment() -> dict[str, str]:
    """``os.environ`` as a student's Jupyter sees it: without ``PYTEST_CURRENT_TEST``.

    Under pytest, ipykernel hides what a kernel writes to its standard error (TensorFlow's
    C++ log); a kernel started with this environment shows it, as JupyterLab does.
    """
    return {name: value for name, value in os.environ.items() if name != "PYTEST_CURRENT_TEST"}


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Encode a uint8 array in the IDX format (optionally with a wrong magic number)."""
    if magic is None:
        magic = 0x0800 | array.ndim
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path: Path, content: bytes) -> Path:
    path.write_bytes(gzip.compress(content, mtime=0))
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tiny_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """Small, valid Fashion-MNIST-shaped arrays: every class present in both splits."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, count in TINY_COUNTS.items():
        arrays[f"{split}_images"] = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(count) % 10).astype(np.uint8)
    return arrays


def write_tiny_dataset(folder: Path, arrays: dict[str, np.ndarray] | None = None) -> dict[str, DataFile]:
    """Write tiny IDX files named like the official ones; return the matching file table."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = tiny_arrays() if arrays is None else arrays
    files = {}
    for key, official in FILES.items():
        content = idx_bytes(arrays[key])
        path = write_gz(folder / official.name, content)
        raw_sha256 = hashlib.sha256(content).hexdigest()
        files[key] = DataFile(official.name, official.kind, len(arrays[key]), sha256_of(path), raw_sha256)
    return files


def custom_gradients() -> set[str]:
    """TensorFlow's registered ``CustomGradient-N`` entries (see ``_runtime.TracedGraphRelease``)."""
    from fmnist_utils._runtime import _gradient_registry

    registry = _gradient_registry()
    assert registry is not None, (
        "TensorFlow's gradient table is out of reach: see _runtime._gradient_registry"
    )
    return {key for key in registry if key.startswith("CustomGradient-")}


def block_picture(factor: int = 1) -> np.ndarray:
    """A black 28 x 14 block on a white 56 x 56 picture, every pixel repeated factor x factor times.

    What picture_to_fashion_mnist makes of it is known exactly: :data:`BLOCK_RESULT`.
    """
    picture = np.full((56, 56), 255, dtype=np.uint8)
    picture[14:42, 21:35] = 0
    return np.repeat(np.repeat(picture, factor, axis=0), factor, axis=1)


#: The block picture, inverted (light background), trimmed to the block, which is already
#: 28 rows tall (no resizing), centred on black and stretched to 255.
BLOCK_RESULT = np.zeros((28, 28), dtype=np.uint8)
BLOCK_RESULT[:, 7:21] = 255


BROWSER_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_binary() -> str:
    """The Chromium binary to drive, or skip (fail in CI) saying how to get one."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        if not Path(configured).is_file():
            pytest.fail(f"CHROMIUM_PATH={configured} is not a file: point it at a Chromium binary.")
        return configured
    for name in BROWSER_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    message = (
        "no Chromium binary found (looked for chromium, chromium-browser, google-chrome on PATH): "
        "install Debian's with `sudo apt-get install chromium`, or set CHROMIUM_PATH to a Chromium binary."
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test ({message})")
    pytest.skip(message)


def plain_text(page: str) -> str:
    """What a browser shows of an HTML page: no tags, entities decoded."""
    page = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", page))
