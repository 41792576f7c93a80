"""Loading, verifying and preprocessing Fashion-MNIST.

Taught in notebooks 00 (loading) and 01 (preprocessing); every later notebook
imports these functions instead of repeating them.

The four original files of the official release are read directly (gzip-compressed
IDX files), each one checked against its published SHA-256 digest and its IDX header,
so a corrupt, truncated or foreign file is reported instead of silently training on
garbage. Decompressed copies (``train-images-idx3-ubyte`` instead of
``train-images-idx3-ubyte.gz``: many browsers, Safari among them, decompress ``.gz``
downloads on their own) are accepted too, checked against the digests of the
decompressed contents; a folder may mix both. Images stay ``uint8`` in memory: the
model rescales them (a ``Rescaling`` layer), which keeps the dataset at 55 MB instead of
220 MB of float32.

Where :func:`load_fashion_mnist` looks for the files, in order:

1. the ``data_dir`` argument;
2. the ``FMNIST_DATA_DIR`` environment variable;
3. the Keras dataset cache, ``$KERAS_HOME/datasets/fashion-mnist`` (else
   ``~/.keras/datasets/fashion-mnist``), so files that ``keras.datasets.fashion_mnist``
   already downloaded are reused.

Relative folders are taken from the current working folder, and every message shows
the absolute path. The first of those folders that holds all four files is used. When none does, the
missing files are downloaded with ``keras.utils.get_file`` into the first folder in
that list, from the mirrors in :data:`MIRRORS`, and verified before they are moved into
place.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import struct
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fmnist_utils._checks import positive_int

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "CLASS_NAMES",
    "DATA_DIR_ENV_VAR",
    "FILES",
    "IMAGE_SHAPE",
    "MIRRORS",
    "NUM_CLASSES",
    "DataFile",
    "DatasetError",
    "add_channel_axis",
    "candidate_data_dirs",
    "check_local_copy",
    "download_fashion_mnist",
    "keras_cache_dir",
    "load_fashion_mnist",
    "load_image_file",
    "load_test_set",
    "make_dataset",
    "one_hot",
    "picture_to_fashion_mnist",
    "read_idx_images",
    "read_idx_labels",
    "rescaling_layer",
    "scale_images",
    "train_validation_split",
    "validate_images",
    "validate_labels",
    "verify_file",
    "verify_folder",
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
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SHAPE = (28, 28)

#: Environment variable naming a folder that holds the four files (``.gz`` or decompressed).
DATA_DIR_ENV_VAR = "FMNIST_DATA_DIR"

_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension


class DatasetError(RuntimeError):
    """A dataset file is missing, corrupt or not the one expected.

    The message names the file, says what is wrong and how to fix it.
    """


@dataclass(frozen=True)
class DataFile:
    """One file of the dataset as published.

    Attributes:
        name: File name, as on the mirrors (``.gz``).
        kind: ``"images"`` or ``"labels"``.
        count: Number of examples the file holds.
        sha256: Hex SHA-256 digest of the ``.gz`` file.
        raw_sha256: Hex SHA-256 digest of the decompressed file (:attr:`raw_name`);
            empty when unknown, and then a decompressed copy cannot be verified.
    """

    name: str
    kind: str
    count: int
    sha256: str
    raw_sha256: str = ""

    @property
    def raw_name(self) -> str:
        """The decompressed file's name: :attr:`name` without ``.gz``."""
        return self.name.removesuffix(".gz")


#: The official release, keyed by split and kind. Digests of the ``.gz`` files: the
#: dataset's README; of the decompressed files: computed from those verified ``.gz`` files
#: (``hashlib.sha256(gzip.decompress(data)).hexdigest()``).
FILES: Mapping[str, DataFile] = {
    "train_images": DataFile(
        "train-images-idx3-ubyte.gz",
        "images",
        60_000,
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    "train_labels": DataFile(
        "train-labels-idx1-ubyte.gz",
        "labels",
        60_000,
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    "test_images": DataFile(
        "t10k-images-idx3-ubyte.gz",
        "images",
        10_000,
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    "test_labels": DataFile(
        "t10k-labels-idx1-ubyte.gz",
        "labels",
        10_000,
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
}

#: Where the files are downloaded from, tried in order. All serve the byte-identical
#: original files; every download is verified against :data:`FILES` digests anyway.
MIRRORS: tuple[str, ...] = (
    # The copy keras.datasets.fashion_mnist downloads (Google Cloud Storage).
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    # The dataset authors' repository.
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    # The dataset authors' original download links.
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)

_FIX_REDOWNLOAD = (
    "Delete the file and run again to download a fresh copy, or replace it with a good "
    f"copy of the official file (or point {DATA_DIR_ENV_VAR} at a folder holding one)."
)


# --------------------------------------------------------------------------- where


def keras_cache_dir() -> Path:
    """Return the folder Keras caches Fashion-MNIST in.

    Mirrors Keras' own rule: ``$KERAS_HOME/datasets/fashion-mnist`` when
    ``KERAS_HOME`` is set, else ``~/.keras/datasets/fashion-mnist``.
    """
    keras_home = os.environ.get("KERAS_HOME")
    if keras_home:
        base = Path(keras_home).expanduser()
    else:
        home = Path.home()
        base = (home if os.access(home, os.W_OK) else Path("/tmp")) / ".keras"
    return base / "datasets" / "fashion-mnist"


def candidate_data_dirs(data_dir: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    """List the folders :func:`load_fashion_mnist` looks in, in order.

    Args:
        data_dir: The folder passed by the caller, if any.

    Returns:
        ``(where it came from, absolute folder)`` pairs: the argument, ``FMNIST_DATA_DIR``
        and the Keras cache, skipping the ones that are not set. Relative folders are
        resolved against the current working folder (and the origin says so).
    """
    candidates: list[tuple[str, Path]] = []
    if data_dir is not None and str(data_dir) != "":
        candidates.append(_candidate("data_dir argument", data_dir))
    env_dir = os.environ.get(DATA_DIR_ENV_VAR, "")
    if env_dir:
        candidates.append(_candidate(f"{DATA_DIR_ENV_VAR} environment variable", env_dir))
    candidates.append(_candidate("Keras dataset cache", keras_cache_dir()))
    return candidates


def _candidate(origin: str, folder: str | os.PathLike[str]) -> tuple[str, Path]:
    given = Path(folder).expanduser()
    if not given.is_absolute():
        origin = f"{origin} {str(folder)!r}, relative to the working folder {os.getcwd()}"
    return origin, _absolute(given)


def _absolute(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute against the working folder, ``..`` removed, links kept."""
    return Path(os.path.abspath(Path(path).expanduser()))


def _locate(folder: Path, spec: DataFile) -> Path | None:
    """The file of ``spec`` in ``folder``: the ``.gz`` file, else the decompressed one."""
    for name in (spec.name, spec.raw_name):
        if (folder / name).is_file():
            return folder / name
    return None


# --------------------------------------------------------------------------- reading


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_GZIP_MAGIC = b"\x1f\x8b"


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as file:
        return file.read(2) == _GZIP_MAGIC


def _read_content(path: Path) -> bytes:
    """The IDX bytes of ``path``: decompressed when it is gzip, as they are otherwise."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found.") from None
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error}).") from error
    if len(raw) == 0:
        raise DatasetError(f"{path}: the file is empty. {_FIX_REDOWNLOAD}")
    if raw[:2] != _GZIP_MAGIC:
        looks_like_idx = raw[:4] in (struct.pack(">I", _IMAGES_MAGIC), struct.pack(">I", _LABELS_MAGIC))
        if path.suffix == ".gz" and not looks_like_idx:
            raise DatasetError(
                f"{path}: not a gzip file, nor a decompressed IDX file (it starts with bytes "
                f"{raw[:4].hex()}; a gzip file starts with 1f8b, an IDX file with 00000801 or "
                f"00000803). Was it saved from an error page? {_FIX_REDOWNLOAD}"
            )
        return raw  # Decompressed already (by a browser, or gunzip): the IDX bytes themselves.
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DatasetError(
            f"{path}: the gzip stream ends early: the file is truncated "
            f"({len(raw):,} bytes), probably an interrupted download. {_FIX_REDOWNLOAD}"
        ) from None
    except (OSError, zlib.error) as error:
        raise DatasetError(f"{path}: the gzip data is corrupt ({error}). {_FIX_REDOWNLOAD}") from None


def _parse_idx(path: Path, content: bytes, magic: int, ndim: int) -> tuple[int, ...]:
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise DatasetError(
            f"{path}: too short for an IDX header ({len(content)} bytes, need "
            f"{header_size}): the file is truncated. {_FIX_REDOWNLOAD}"
        )
    (found_magic,) = struct.unpack(">I", content[:4])
    if found_magic != magic:
        expected_kind = "images" if magic == _IMAGES_MAGIC else "labels"
        hint = ""
        if {found_magic, magic} == {_IMAGES_MAGIC, _LABELS_MAGIC}:
            hint = " It looks like an images file and a labels file were swapped."
        raise DatasetError(
            f"{path}: wrong IDX magic number 0x{found_magic:08x}; an IDX {expected_kind} "
            f"file starts with 0x{magic:08x}.{hint} {_FIX_REDOWNLOAD}"
        )
    dims = struct.unpack(f">{ndim}I", content[4:header_size])
    expected_bytes = int(np.prod(dims, dtype=np.int64))
    found_bytes = len(content) - header_size
    if found_bytes != expected_bytes:
        what = "truncated" if found_bytes < expected_bytes else "longer than its header says"
        raise DatasetError(
            f"{path}: the file is {what}: its header announces {'x'.join(map(str, dims))} "
            f"= {expected_bytes:,} bytes of data, it holds {found_bytes:,}. {_FIX_REDOWNLOAD}"
        )
    return dims


def read_idx_images(path: str | os.PathLike[str], expected_count: int | None = None) -> np.ndarray:
    """Read an IDX images file, gzip-compressed or not.

    Args:
        path: The ``.gz`` file, or its decompressed version.
        expected_count: Number of images the file must hold; ``None`` accepts any.

    Returns:
        A writable ``uint8`` array of shape ``(count, 28, 28)``.

    Raises:
        DatasetError: The file is missing, corrupt, truncated, has the wrong magic
            number, image size or count.
    """
    path = _absolute(path)
    content = _read_content(path)
    count, rows, cols = _parse_idx(path, content, _IMAGES_MAGIC, 3)
    if (rows, cols) != IMAGE_SHAPE:
        raise DatasetError(
            f"{path}: images are {rows}x{cols}, Fashion-MNIST images are 28x28. "
            f"This is not a Fashion-MNIST file. {_FIX_REDOWNLOAD}"
        )
    if expected_count is not None and count != expected_count:
        raise DatasetError(
            f"{path}: holds {count:,} images, the official file holds {expected_count:,}. {_FIX_REDOWNLOAD}"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=16).reshape(count, rows, cols).copy()


def read_idx_labels(
    path: str | os.PathLike[str],
    expected_count: int | None = None,
    num_classes: int = NUM_CLASSES,
) -> np.ndarray:
    """Read an IDX labels file, gzip-compressed or not.

    Args:
        path: The ``.gz`` file, or its decompressed version.
        expected_count: Number of labels the file must hold; ``None`` accepts any.
        num_classes: Labels must lie in ``0..num_classes-1``.

    Returns:
        A writable ``uint8`` array of shape ``(count,)``.

    Raises:
        DatasetError: The file is missing, corrupt, truncated, has the wrong magic
            number or count, or a label out of range.
    """
    path = _absolute(path)
    content = _read_content(path)
    (count,) = _parse_idx(path, content, _LABELS_MAGIC, 1)
    if expected_count is not None and count != expected_count:
        raise DatasetError(
            f"{path}: holds {count:,} labels, the official file holds {expected_count:,}. {_FIX_REDOWNLOAD}"
        )
    labels = np.frombuffer(content, dtype=np.uint8, offset=8).copy()
    bad = np.flatnonzero(labels >= num_classes)
    if bad.size:
        raise DatasetError(
            f"{path}: {bad.size:,} labels lie outside 0..{num_classes - 1} (the first, "
            f"at index {bad[0]}, is {labels[bad[0]]}). {_FIX_REDOWNLOAD}"
        )
    return labels


def verify_file(path: str | os.PathLike[str], spec: DataFile) -> None:
    """Check a file's SHA-256 digest, and say precisely what is wrong if it differs.

    A gzip file is checked against ``spec.sha256``, anything else (a decompressed copy)
    against ``spec.raw_sha256``.

    Args:
        path: The file to check.
        spec: What the file should be.

    Raises:
        DatasetError: The file is missing or its digest differs. When the digest
            differs, the file is also parsed so that the message names the concrete
            problem (truncated, not gzip, wrong magic number...) when there is one.
    """
    path = _absolute(path)
    if not path.is_file():
        raise DatasetError(f"{path}: file not found.")
    compressed = _is_gzip(path)
    expected, official = (spec.sha256, spec.name) if compressed else (spec.raw_sha256, spec.raw_name)
    actual = _sha256(path)
    if actual == expected:
        return
    # The digest alone says "something is wrong"; the structure often says what.
    try:
        _read_file(path, spec)
    except DatasetError as error:
        raise DatasetError(f"{error} (SHA-256 mismatch as well: got {actual}.)") from None
    if not expected:
        raise DatasetError(
            f"{path}: a decompressed file, and no SHA-256 digest of the decompressed {official} is "
            f"known, so it cannot be verified. Use the .gz file {spec.name} instead."
        )
    raise DatasetError(
        f"{path}: SHA-256 mismatch: expected {expected}, got {actual}. The file is "
        f"well-formed but is not the official {official} (modified, or from another "
        f"release). {_FIX_REDOWNLOAD}"
    )


def verify_folder(folder: str | os.PathLike[str], files: Mapping[str, DataFile] = FILES) -> dict[str, Path]:
    """Verify every file of the dataset in one folder, downloading nothing.

    Each file may be the ``.gz`` file or its decompressed version.

    Args:
        folder: The folder to check (relative: from the current working folder).
        files: The files to expect (defaults to the official release).

    Returns:
        The verified file of each key of ``files``.

    Raises:
        DatasetError: The folder does not exist, or files are missing or bad; the message
            lists every problem, with absolute paths, and how to fix it.
    """
    folder = _absolute(folder)
    if not folder.is_dir():
        state = "is a file, not a folder" if folder.exists() else "the folder does not exist"
        raise DatasetError(f"{folder}: {state}. {_fix_missing(folder)}")
    found, problems, missing = _verify_each(folder, files)
    problems += missing
    if not problems:
        return found
    fix = _fix_missing(folder) if missing else ""
    if len(problems) == 1:
        raise DatasetError(f"{problems[0]} {fix}".strip())
    listed = "\n".join(f"  - {problem}" for problem in problems)
    raise DatasetError(
        f"{folder}: {len(problems)} of the {len(files)} files are missing or bad:\n{listed}\n{fix}".strip()
    )


def _verify_each(folder: Path, files: Mapping[str, DataFile]) -> tuple[dict[str, Path], list[str], list[str]]:
    """Verify each file found in ``folder``: ``(verified files, problems, missing files)``."""
    found: dict[str, Path] = {}
    problems, missing = [], []
    for key, spec in files.items():
        path = _locate(folder, spec)
        if path is None:
            missing.append(f"{folder / spec.name}: missing (and no decompressed {spec.raw_name} either).")
            continue
        try:
            verify_file(path, spec)
        except DatasetError as error:
            problems.append(str(error))
        else:
            found[key] = path
    return found, problems, missing


def _fix_missing(folder: Path) -> str:
    return (
        f"To fix it: copy the four Fashion-MNIST files (.gz or decompressed) into {folder}, or "
        f"download them there with `python -m fmnist_utils download --data-dir {folder}` "
        "(needs internet)."
    )


def _read_file(path: Path, spec: DataFile) -> np.ndarray:
    if spec.kind == "images":
        return read_idx_images(path, spec.count)
    if spec.kind == "labels":
        return read_idx_labels(path, spec.count)
    raise ValueError(f"DataFile.kind must be 'images' or 'labels', got {spec.kind!r}.")


# --------------------------------------------------------------------------- download


def download_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] = MIRRORS,
    files: Mapping[str, DataFile] = FILES,
) -> Path:
    """Make sure a verified copy of the four files exists, downloading what is missing.

    Files already present in the folder are verified and kept; missing ones are
    downloaded with ``keras.utils.get_file`` (which shows a progress bar) into a
    temporary folder beside their destination, verified, and only then moved into
    place, so a failed or interrupted download never leaves a partial file.

    Args:
        data_dir: Where the files go; by default the first folder of
            :func:`candidate_data_dirs` (the ``FMNIST_DATA_DIR`` folder if set, else
            the Keras cache). If another candidate folder already holds all four
            files, that one is used and nothing is downloaded.
        mirrors: Base URLs to try in order; a file is fetched from ``mirror + name``.
        files: The files to expect (defaults to the official release).

    Returns:
        The folder holding the four verified files.

    Raises:
        DatasetError: A local file is corrupt, or a file could not be downloaded from
            any mirror. The message lists every place looked in and every mirror tried.
    """
    candidates = candidate_data_dirs(data_dir)
    for _, folder in candidates:
        if _is_complete(folder, files):
            verify_folder(folder, files)
            return folder

    target = candidates[0][1]
    missing = [spec for spec in files.values() if _locate(target, spec) is None]
    for spec in files.values():
        if spec not in missing:
            verify_file(_locate(target, spec), spec)
    where = _where_looked(candidates, files)  # Before the target folder is created.
    created = [parent for parent in (target, *target.parents) if not parent.exists()]
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target))
    except OSError as error:
        raise DatasetError(
            f"Fashion-MNIST is not on this machine, and it cannot be downloaded into "
            f"{target} ({error}). Pass a writable data_dir, or set {DATA_DIR_ENV_VAR} to "
            f"a folder that holds the four .gz files.\n{where}"
        ) from error
    try:
        for spec in missing:
            _download_one(spec, staging, target, mirrors, where)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:  # Leave no empty folders behind either.
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return target


def _download_one(
    spec: DataFile,
    staging: Path,
    target: Path,
    mirrors: Sequence[str],
    where: str,
) -> None:
    from keras.utils import get_file  # Deferred: importing Keras takes seconds.

    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + spec.name
        partial = staging / spec.name
        try:
            get_file(
                fname=spec.name,
                origin=url,
                file_hash=spec.sha256,
                hash_algorithm="sha256",
                cache_subdir=str(staging),  # An absolute path: Keras saves it right there.
            )
            verify_file(partial, spec)  # get_file checked the digest; this says why not.
        except KeyboardInterrupt:
            partial.unlink(missing_ok=True)
            raise
        except Exception as error:
            partial.unlink(missing_ok=True)
            failures.append(f"  - {error}" if url in str(error) else f"  - {url}: {error}")
            continue
        os.replace(partial, target / spec.name)  # Atomic: same folder, same filesystem.
        return
    raise DatasetError(
        f"Could not download {spec.name} from any mirror, and no complete local copy of "
        f"Fashion-MNIST was found.\n"
        f"Mirrors tried:\n" + "\n".join(failures) + "\n" + where + "\n"
        f"To fix it: connect to the internet and run again, or copy the four .gz files "
        f"(from a machine with internet: `python -m fmnist_utils download`) into a folder "
        f"and set {DATA_DIR_ENV_VAR}=/path/to/that/folder, or pass data_dir=."
    )


def _is_complete(folder: Path, files: Mapping[str, DataFile]) -> bool:
    return all(_locate(folder, spec) is not None for spec in files.values())


def _where_looked(candidates: list[tuple[str, Path]], files: Mapping[str, DataFile]) -> str:
    lines = ["Looked for a local copy (.gz or decompressed files) in:"]
    for origin, folder in candidates:
        lines.append(f"  - {folder} ({origin}): {_folder_state(folder, files)}")
    if not any(origin.startswith(DATA_DIR_ENV_VAR) for origin, _ in candidates):
        lines.append(f"  - ({DATA_DIR_ENV_VAR} is not set)")
    return "\n".join(lines)


def _folder_state(folder: Path, files: Mapping[str, DataFile]) -> str:
    if not folder.exists():
        return "does not exist"
    if not folder.is_dir():
        return "is a file, not a folder"
    # Only folders that lack a file are listed: a complete one would have been used.
    return "missing " + ", ".join(spec.name for spec in files.values() if _locate(folder, spec) is None)


def check_local_copy(
    data_dir: str | os.PathLike[str] | None = None, *, files: Mapping[str, DataFile] = FILES
) -> dict[str, Path]:
    """Find and verify a local copy of Fashion-MNIST, never downloading anything.

    What ``python -m fmnist_utils download --check`` runs.

    Args:
        data_dir: Check exactly this folder. ``None``: the first folder of
            :func:`candidate_data_dirs` that holds every file, the one
            :func:`load_fashion_mnist` would use.
        files: The files to expect (defaults to the official release).

    Returns:
        The verified file of each key of ``files``.

    Raises:
        DatasetError: The folder does not exist, or files are missing or bad (see
            :func:`verify_folder`), or, without ``data_dir``, no folder holds every file.
    """
    if data_dir is not None and str(data_dir) != "":
        return verify_folder(data_dir, files)
    candidates = candidate_data_dirs()
    for _, folder in candidates:
        if _is_complete(folder, files):
            return verify_folder(folder, files)
    raise DatasetError(
        "No complete local copy of Fashion-MNIST on this machine (nothing was downloaded).\n"
        f"{_where_looked(candidates, files)}\n"
        f"To fix it: set {DATA_DIR_ENV_VAR} to a folder holding the four files, or download "
        "them with `python -m fmnist_utils download` (needs internet)."
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
            ``FMNIST_DATA_DIR`` and then the Keras cache are searched (see the module
            docstring); with no local copy the files are downloaded.
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
    return _load_split(folder, files, "train"), _load_split(folder, files, "test")


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
    return _load_split(folder, files, "test")


def _load_split(folder: Path, files: Mapping[str, DataFile], split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = (
        _read_file(_locate(folder, files[key]), files[key])  # Verified just before: present.
        for key in (f"{split}_images", f"{split}_labels")
    )
    if len(images) != len(labels):
        raise DatasetError(
            f"{folder}: the {split} images file holds {len(images):,} images but the "
            f"{split} labels file holds {len(labels):,} labels; they must match. "
            f"{_FIX_REDOWNLOAD}"
        )
    return images, labels


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
            Transparent pixels are background: the picture is laid on black when its
            opaque part is light on average, on white when it is dark, so the garment
            always stands out.

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


def _gray(pixels: np.ndarray) -> np.ndarray:
    """Grayscale of 0..255 pixels; transparent ones laid on a background that contrasts."""
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        return pixels.reshape(pixels.shape[:2])
    color = pixels[..., :3].mean(axis=2)
    if pixels.shape[2] == 3:
        return color
    alpha = np.clip(pixels[..., 3] / 255.0, 0.0, 1.0)
    if alpha.sum() == 0:
        raise ValueError(
            "the picture is fully transparent: there is nothing to see. Use a photo of one garment."
        )
    light_garment = (color * alpha).sum() / alpha.sum() > 127
    background = 0.0 if light_garment else 255.0
    return color * alpha + background * (1.0 - alpha)


def _light_on_dark(gray: np.ndarray) -> np.ndarray:
    """Invert a picture with a light background: Fashion-MNIST is light on black."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 255.0 - gray if np.median(border) > 127 else gray


def _trim_to_garment(gray: np.ndarray) -> np.ndarray:
    """The garment's bounding box, minus the background level."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    contrast = gray.max() - background
    if contrast < 16:
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

    path = _absolute(path)
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
