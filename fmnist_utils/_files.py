"""The dataset's files: their digests, the IDX format, where they are looked for, the download.

Plumbing behind :func:`fmnist_utils.data.load_fashion_mnist` (notebook 00 explains what it
checks). The four original files of the official release are read directly (gzip-compressed
IDX files), each one checked against its published SHA-256 digest and its IDX header, so a
corrupt, truncated or foreign file is reported instead of silently training on garbage.
Decompressed copies (``train-images-idx3-ubyte``: Safari and other browsers decompress
``.gz`` downloads on their own) are accepted too, checked against the digests of the
decompressed contents; a folder may mix both.

Where the files are looked for, in order (:func:`candidate_data_dirs`): the ``data_dir``
argument, the ``FMNIST_DATA_DIR`` environment variable, the Keras dataset cache
(``$KERAS_HOME/datasets/fashion-mnist``, else ``~/.keras/datasets/fashion-mnist``). Relative
folders are taken from the working folder, and every message shows the absolute path. The
first folder that holds all four files is used; when none does, the missing files are
downloaded with ``keras.utils.get_file`` (which checks their digest) into the first folder
of that list, from the mirrors in :data:`MIRRORS`, and moved into place once verified.
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

import numpy as np

#: What the IDX files of Fashion-MNIST hold: 28x28 images, labels 0..9.
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10

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
    return origin, absolute_path(given)


def absolute_path(path: str | os.PathLike[str]) -> Path:
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
    path = absolute_path(path)
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
    path = absolute_path(path)
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
    path = absolute_path(path)
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
    folder = absolute_path(folder)
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

    Files already in the folder are verified and kept; missing ones are downloaded with
    ``keras.utils.get_file`` (which shows a progress bar and checks the SHA-256) into a
    temporary folder beside their destination, then moved into place: a failed or
    interrupted download never leaves a partial file.

    Args:
        data_dir: Where the files go; by default the first folder of
            :func:`candidate_data_dirs`. A candidate folder that already holds all four
            files is used instead, and nothing is downloaded.
        mirrors: Base URLs to try in order; a file is fetched from ``mirror + name``.
        files: The files to expect (defaults to the official release).

    Returns:
        The folder holding the four verified files.

    Raises:
        DatasetError: A local file is corrupt, or a file could not be downloaded from any
            mirror; the message lists every place looked in and every mirror tried.
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
            )  # get_file checks the SHA-256 and raises on a mismatch (the file is removed below).
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


def load_split(folder: Path, files: Mapping[str, DataFile], split: str) -> tuple[np.ndarray, np.ndarray]:
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
