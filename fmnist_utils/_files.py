"""The dataset's files: where they are looked for, how they are verified, read and downloaded.

Plumbing behind :func:`fmnist_utils.data.load_fashion_mnist` (notebook 00 explains it). Each
of the four files, gzip-compressed IDX as published or decompressed (as browsers often leave
them), is checked against its SHA-256 digest and its IDX header, and any bad file is named.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import math
import os
import shutil
import struct
import tempfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
DATA_DIR_ENV_VAR = "FMNIST_DATA_DIR"
_MAGIC = {"images": 0x00000803, "labels": 0x00000801}  # IDX: unsigned bytes, in 3 or 1 dimensions.


class DatasetError(RuntimeError):
    """A dataset file is missing, corrupt or not the one expected; the message says how to fix it."""


@dataclass(frozen=True)
class DataFile:
    """One file of the dataset: its name on the mirrors, what it holds, its two SHA-256 digests."""

    name: str  # With .gz, as on the mirrors.
    kind: str  # "images" or "labels".
    count: int
    sha256: str  # Of the .gz file.
    raw_sha256: str  # Of the decompressed file.

    @property
    def raw_name(self) -> str:
        """The decompressed file's name: :attr:`name` without ``.gz``."""
        return self.name.removesuffix(".gz")


# Digests of the .gz files: the dataset's README; of the decompressed files: computed from them.
# fmt: off
FILES: Mapping[str, DataFile] = {
    "train_images": DataFile("train-images-idx3-ubyte.gz", "images", 60_000,
                             "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                             "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train_labels": DataFile("train-labels-idx1-ubyte.gz", "labels", 60_000,
                             "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                             "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "test_images": DataFile("t10k-images-idx3-ubyte.gz", "images", 10_000,
                            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "test_labels": DataFile("t10k-labels-idx1-ubyte.gz", "labels", 10_000,
                            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}
# fmt: on

#: Tried in order: the copy keras.datasets uses, the authors' repository, their original links.
MIRRORS: tuple[str, ...] = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)

_FIX_REDOWNLOAD = (
    "Delete the file and run again to download a fresh copy, or replace it with a good "
    f"copy of the official file (or point {DATA_DIR_ENV_VAR} at a folder holding one)."
)

# --------------------------------------------------------------------------- where


def keras_cache_dir() -> Path:
    """The folder Keras caches Fashion-MNIST in, by Keras' own rule (``KERAS_HOME``, else home)."""
    keras_home = os.environ.get("KERAS_HOME")
    if keras_home:
        return Path(keras_home).expanduser() / "datasets" / "fashion-mnist"
    home = Path.home() if os.access(Path.home(), os.W_OK) else Path("/tmp")
    return home / ".keras" / "datasets" / "fashion-mnist"


def candidate_data_dirs(data_dir: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    """``(where it came from, absolute folder)`` of the ``data_dir`` argument, ``FMNIST_DATA_DIR``
    and the Keras cache, in that order; unset ones skipped, relative ones from the working folder."""
    named = [
        ("data_dir argument", data_dir),
        (f"{DATA_DIR_ENV_VAR} environment variable", os.environ.get(DATA_DIR_ENV_VAR)),
        ("Keras dataset cache", keras_cache_dir()),
    ]
    return [_candidate(origin, folder) for origin, folder in named if folder not in (None, "")]


def _candidate(origin: str, folder: str | os.PathLike[str]) -> tuple[str, Path]:
    if not Path(folder).expanduser().is_absolute():
        origin += f" {str(folder)!r}, relative to the working folder {os.getcwd()}"
    return origin, absolute_path(folder)


def absolute_path(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute against the working folder, ``..`` removed, links kept."""
    return Path(os.path.abspath(Path(path).expanduser()))


def _locate(folder: Path, spec: DataFile) -> Path | None:
    """The file of ``spec`` in ``folder``: the ``.gz`` file, else the decompressed one."""
    return next((folder / name for name in (spec.name, spec.raw_name) if (folder / name).is_file()), None)


# --------------------------------------------------------------------------- reading


def _bad(path: Path, problem: str) -> DatasetError:
    return DatasetError(f"{path}: {problem}. {_FIX_REDOWNLOAD}")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror or error}).") from None


def read_idx(path: str | os.PathLike[str], kind: str, count: int | None = None) -> np.ndarray:
    """Read an IDX file of ``"images"`` (28x28) or ``"labels"`` (0..9), gzip-compressed or not.

    Returns a writable ``uint8`` array; ``count`` (if given) is the number of items it must hold.
    """
    path = absolute_path(path)
    content = _read(path)
    try:
        content = gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content
    except (OSError, EOFError, zlib.error) as error:
        raise _bad(path, f"the gzip data is corrupt or truncated ({error})") from None
    ndim = 3 if kind == "images" else 1
    if content[:4] != struct.pack(">I", _MAGIC[kind]):
        raise _not_idx(path, content, kind)
    if len(content) < 4 + 4 * ndim:
        raise _bad(
            path, f"the file is truncated: {len(content)} bytes, less than its {4 + 4 * ndim}-byte IDX header"
        )
    dims = struct.unpack(f">{ndim}I", content[4 : 4 + 4 * ndim])
    data = np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * ndim)
    if dims[1:] != IMAGE_SHAPE[: ndim - 1]:
        raise _bad(
            path, f"its images are {dims[1]}x{dims[2]}, Fashion-MNIST's are 28x28 (another dataset's file?)"
        )
    if data.size != math.prod(dims):
        state = "truncated" if data.size < math.prod(dims) else "longer than its header says"
        announced = "x".join(map(str, dims))
        raise _bad(
            path,
            f"the file is {state}: its header announces {announced} {kind} in "
            f"{math.prod(dims):,} bytes, it holds {data.size:,}",
        )
    if count is not None and dims[0] != count:
        raise _bad(path, f"it holds {dims[0]:,} {kind}, the official file holds {count:,}")
    bad = np.flatnonzero(data >= NUM_CLASSES) if kind == "labels" else []
    if len(bad):
        raise _bad(
            path, f"{len(bad):,} labels lie outside 0..9 (the first, at index {bad[0]}, is {data[bad[0]]})"
        )
    return data.reshape(dims).copy()


def _not_idx(path: Path, content: bytes, kind: str) -> DatasetError:
    """The file does not start like an IDX file of ``kind``: say what it starts with instead."""
    other = "labels" if kind == "images" else "images"
    found = f"its data starts with {content[:4].hex()}" if content else "the file is empty"
    if content[:4] == struct.pack(">I", _MAGIC[other]):
        found += f", as an IDX {other} file does: were the images and labels files swapped?"
    return _bad(
        path,
        f"not an IDX {kind} file, compressed or not: {found} (a gzip file starts with 1f8b, an IDX "
        f"{kind} file with {_MAGIC[kind]:08x})"
        + ("; perhaps an error page saved under its name" if content else ""),
    )


def verify_file(path: str | os.PathLike[str], spec: DataFile) -> None:
    """Check a file's SHA-256 digest (``.gz`` or decompressed); the error names what is wrong."""
    path = absolute_path(path)
    content = _read(path)
    compressed = content[:2] == b"\x1f\x8b"
    expected, official = (spec.sha256, spec.name) if compressed else (spec.raw_sha256, spec.raw_name)
    actual = hashlib.sha256(content).hexdigest()
    if actual == expected:
        return
    try:
        read_idx(path, spec.kind, spec.count)  # The digest says "wrong"; the structure often says what.
    except DatasetError as error:
        raise DatasetError(f"{error} (SHA-256 mismatch as well: got {actual}.)") from None
    raise _bad(
        path,
        f"SHA-256 mismatch: expected {expected}, got {actual}. The file is well-formed but is not "
        f"the official {official} (modified, or from another release)",
    )


def verify_folder(folder: str | os.PathLike[str], files: Mapping[str, DataFile] = FILES) -> dict[str, Path]:
    """Verify every file of the dataset in ``folder``; return the verified file of each key.

    The ``DatasetError`` lists every missing or bad file.
    """
    folder = absolute_path(folder)
    if not folder.is_dir():
        state = "is a file, not a folder" if folder.exists() else "the folder does not exist"
        raise DatasetError(f"{folder}: {state}. {_fix_missing(folder)}")
    found, problems = {}, []
    for key, spec in files.items():
        found[key] = path = _locate(folder, spec)
        if path is None:
            problems.append(f"{folder / spec.name}: missing (and no decompressed {spec.raw_name} either).")
            continue
        try:
            verify_file(path, spec)
        except DatasetError as error:
            problems.append(str(error))
    if not problems:
        return found
    fix = _fix_missing(folder) if None in found.values() else ""
    if len(problems) == 1:
        raise DatasetError(f"{problems[0]} {fix}".strip())
    listed = "".join(f"\n  - {problem}" for problem in problems)
    raise DatasetError(
        f"{folder}: {len(problems)} of the {len(files)} files are missing or bad:{listed}\n{fix}".strip()
    )


def _fix_missing(folder: Path) -> str:
    return (
        f"To fix it: copy the four Fashion-MNIST files (.gz or decompressed) into {folder}, or "
        f"download them there with `python -m fmnist_utils download --data-dir {folder}` (needs internet)."
    )


def load_split(folder: Path, files: Mapping[str, DataFile], split: str) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels of ``split`` (``"train"`` or ``"test"``) from a verified folder."""
    specs = (files[f"{split}_images"], files[f"{split}_labels"])
    images, labels = (read_idx(_locate(folder, spec), spec.kind, spec.count) for spec in specs)
    return images, labels


# --------------------------------------------------------------------------- download


def download_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] = MIRRORS,
    files: Mapping[str, DataFile] = FILES,
) -> Path:
    """Make sure a verified copy of the four files exists, downloading what is missing; return its folder.

    The first folder of :func:`candidate_data_dirs` that holds every file is verified and used;
    else the files missing from the first folder are downloaded there (the others verified first).
    """
    candidates = candidate_data_dirs(data_dir)
    complete = _first_complete(candidates, files)
    if complete is not None:
        verify_folder(complete, files)
        return complete
    target = candidates[0][1]
    missing = [spec for spec in files.values() if _locate(target, spec) is None]
    for spec in files.values():
        if spec not in missing:
            verify_file(_locate(target, spec), spec)
    where = _where_looked(candidates, files)  # Before the target folder is created.
    with _staging_folder(target, where) as staging:
        for spec in missing:
            _download_one(spec, staging, target, mirrors, where)
    return target


@contextlib.contextmanager
def _staging_folder(target: Path, where: str) -> Iterator[Path]:
    """A hidden folder in ``target`` to download into: nothing half-written is ever left behind."""
    created = [parent for parent in (target, *target.parents) if not parent.exists()]
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target))
    except OSError as error:
        raise DatasetError(
            f"Fashion-MNIST is not on this machine, and it cannot be downloaded into {target} ({error}). "
            f"Pass a writable data_dir, or set {DATA_DIR_ENV_VAR} to a folder holding the four files."
            f"\n{where}"
        ) from error
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:  # Only the folders a failure left empty can be removed.
            with contextlib.suppress(OSError):
                folder.rmdir()


def _download_one(spec: DataFile, staging: Path, target: Path, mirrors: Sequence[str], where: str) -> None:
    from keras.utils import get_file  # Deferred: importing Keras takes seconds.

    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + spec.name
        try:  # An absolute cache_subdir: Keras saves the file right there, and checks its digest.
            get_file(
                spec.name, url, file_hash=spec.sha256, hash_algorithm="sha256", cache_subdir=str(staging)
            )
        except Exception as error:
            (staging / spec.name).unlink(missing_ok=True)  # Left by a digest mismatch.
            failures.append(f"  - {error}" if url in str(error) else f"  - {url}: {error}")
        else:
            os.replace(staging / spec.name, target / spec.name)  # Atomic: the same filesystem.
            return
    raise DatasetError(
        f"Could not download {spec.name} from any mirror, and no complete local copy of Fashion-MNIST "
        "was found.\nMirrors tried:\n" + "\n".join(failures) + f"\n{where}\nTo fix it: connect to the "
        "internet and run again, or copy the four .gz files (from a machine with internet: `python -m "
        f"fmnist_utils download`) into a folder and set {DATA_DIR_ENV_VAR}=/path/to/that/folder, or pass "
        "data_dir=."
    )


def _first_complete(candidates: list[tuple[str, Path]], files: Mapping[str, DataFile]) -> Path | None:
    complete = (folder for _, folder in candidates if all(_locate(folder, spec) for spec in files.values()))
    return next(complete, None)


def _where_looked(candidates: list[tuple[str, Path]], files: Mapping[str, DataFile]) -> str:
    lines = ["Looked for a local copy (.gz or decompressed files) in:"]
    lines += [f"  - {folder} ({origin}): {_folder_state(folder, files)}" for origin, folder in candidates]
    if not any(origin.startswith(DATA_DIR_ENV_VAR) for origin, _ in candidates):
        lines.append(f"  - ({DATA_DIR_ENV_VAR} is not set)")
    return "\n".join(lines)


def _folder_state(folder: Path, files: Mapping[str, DataFile]) -> str:
    if not folder.exists():
        return "does not exist"
    if not folder.is_dir():
        return "is a file, not a folder"
    return "missing " + ", ".join(spec.name for spec in files.values() if _locate(folder, spec) is None)


def check_local_copy(
    data_dir: str | os.PathLike[str] | None = None, *, files: Mapping[str, DataFile] = FILES
) -> dict[str, Path]:
    """``download --check``: verify ``data_dir``, else the folder load_fashion_mnist uses; never download."""
    if data_dir is not None and str(data_dir) != "":
        return verify_folder(data_dir, files)
    candidates = candidate_data_dirs()
    complete = _first_complete(candidates, files)
    if complete is not None:
        return verify_folder(complete, files)
    raise DatasetError(
        "No complete local copy of Fashion-MNIST on this machine (nothing was downloaded).\n"
        f"{_where_looked(candidates, files)}\nTo fix it: set {DATA_DIR_ENV_VAR} to a folder holding the "
        "four files, or download them with `python -m fmnist_utils download` (needs internet)."
    )
