"""Quick mode: the one place that turns ``FMNIST_QUICK=1`` into smaller runs.

The notebooks run the same code in full mode (what the committed outputs show) and quick
mode (CI, a first look on a slow machine: a small balanced subset, a few epochs)::

    config = fmnist_utils.setup(seed=42)
    train_images, train_labels = config.subset(train_images, train_labels)
    epochs = config.epochs(15)                      # 15 in full mode, 3 in quick mode
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fmnist_utils import _runtime

__all__ = ["shown_path"]

QUICK_ENV_VAR = "FMNIST_QUICK"
WORK_DIR_ENV_VAR = "FMNIST_WORK_DIR"  # The folder the notebooks write to (default_work_dir).

# Sizes used in quick mode (the only numbers that differ between the modes).
QUICK_TRAIN_SIZE = 8_000
QUICK_TEST_SIZE = 1_000
QUICK_MAX_EPOCHS = 3
QUICK_MAX_TRIALS = 2

# Below this much memory (Binder gives 1-2 GB) the notebooks choose smaller settings:
# these evaluation batches, this shuffle buffer and this many malloc arenas (_runtime).
SMALL_MACHINE_BYTES = 3 * 2**30
SMALL_MACHINE_EVAL_BATCH = 128
SMALL_MACHINE_SHUFFLE_BUFFER = 10_000
SMALL_MACHINE_MALLOC_ARENAS = _runtime.SMALL_MACHINE_MALLOC_ARENAS

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def quick_mode() -> bool:
    """Whether quick mode is on (``FMNIST_QUICK`` is ``1``/``true``/``yes``/``on``).

    Anything but those and ``0``/``false``/``no``/``off``/empty raises ``ValueError``: a typo must
    not start a full run.
    """
    value = os.environ.get(QUICK_ENV_VAR, "").strip().lower()
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    raise ValueError(
        f"{QUICK_ENV_VAR}={os.environ[QUICK_ENV_VAR]!r} is not understood: use "
        f"{QUICK_ENV_VAR}=1 for quick mode or {QUICK_ENV_VAR}=0 (or unset it) for full mode."
    )


def default_work_dir() -> Path:
    """The absolute folder where the notebooks keep models, runs, searches and pictures.

    ``FMNIST_WORK_DIR`` if set; else the course's ``notebooks/`` folder in a writable copy of the
    course (so notebook 04 finds notebook 03's model wherever JupyterLab started); else the
    working folder.
    """
    if chosen := os.environ.get(WORK_DIR_ENV_VAR, "").strip():
        return Path(chosen).expanduser().resolve()
    course_notebooks = Path(__file__).resolve().parent.parent / "notebooks"
    if (course_notebooks / "00_getting_started.ipynb").is_file() and os.access(course_notebooks, os.W_OK):
        return course_notebooks
    return Path.cwd()


@dataclass(frozen=True)
class RunConfig:
    """Sizes of a run, and where it writes; :func:`fmnist_utils.setup` builds it (``None``: no cap)."""

    quick: bool
    train_size: int | None = None  # Training examples kept by subset().
    test_size: int | None = None  # Validation or test examples kept by subset().
    max_epochs: int | None = None
    max_trials: int | None = None  # Of a hyperparameter search.
    small_machine: bool = False  # Under 3 GiB of memory (Binder): smaller batches and buffers.
    work_dir: Path = field(default_factory=default_work_dir)  # Where models, runs and searches go.
    memory: int | None = field(default=None, compare=False, repr=False)  # Bytes this process may use.

    def epochs(self, full: int, quick: int | None = None) -> int:
        """Return ``full`` epochs, capped at 3 in quick mode, or ``quick`` there if given."""
        if self.quick and quick is not None:
            return quick
        return _capped(full, self.max_epochs)

    def trials(self, full: int) -> int:
        """Return the number of tuner trials: ``full``, capped in quick mode."""
        return _capped(full, self.max_trials)

    def eval_batch_size(self, full: int = 512) -> int:
        """Batch size for evaluation and prediction: ``full``, or at most 128 on a small machine."""
        return _capped(full, SMALL_MACHINE_EVAL_BATCH if self.small_machine else None)

    def shuffle_buffer(self, size: int) -> int:
        """Shuffle buffer for ``size`` training examples: all, or at most 10,000 on a small machine."""
        return _capped(size, SMALL_MACHINE_SHUFFLE_BUFFER if self.small_machine else None)

    def subset(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        split: str = "train",
        seed: int = 0,
        quick_size: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return all the examples, or in quick mode a stratified, seeded subset in their order.

        ``split`` (``"train"``, ``"validation"`` or ``"test"``) chooses the quick size, unless
        ``quick_size`` names the one a lesson needs.
        """
        if len(images) != len(labels):  # Quick mode would pick rows of both by the labels' count.
            raise ValueError(
                f"images and labels must have the same length, got {len(images)} and {len(labels)}."
            )
        if split not in ("train", "validation", "test"):
            raise ValueError(f"split must be 'train', 'validation' or 'test', got {split!r}.")
        size = self.train_size if split == "train" else self.test_size
        if self.quick and quick_size is not None:
            size = quick_size
        if size is None or size >= len(labels):
            return images, labels
        from sklearn.model_selection import train_test_split

        index = np.arange(len(labels))
        kept, _ = train_test_split(index, train_size=size, random_state=seed, stratify=labels)
        kept.sort()
        return images[kept], labels[kept]

    def model_path(self, name: str, folder: str | os.PathLike[str] = "models") -> Path:
        """Where a notebook saves a model: ``work_dir/models/<name>.keras`` (``<name>_quick`` if quick)."""
        return self.work_dir / folder / f"{self._run_name(name)}.keras"

    def run_dir(self, name: str, folder: str | os.PathLike[str] = "runs") -> Path:
        """The folder of a training run: ``<work_dir>/runs/<name>`` (``<name>_quick`` in quick mode)."""
        return self.work_dir / folder / self._run_name(name)

    def tuner_dir(self, name: str, folder: str | os.PathLike[str] = "tuner") -> Path:
        """Where a search keeps its trials, so it resumes: ``<work_dir>/tuner/<name>``.

        In quick mode a new temporary folder, removed when the kernel ends.
        """
        if self.quick:
            folder = tempfile.mkdtemp(prefix=f"fmnist-tuner-{self._run_name(name)}-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            return Path(folder)
        return self.work_dir / folder / self._run_name(name)

    def shown_path(self, path: str | os.PathLike[str]) -> str:
        """``path`` as a notebook prints it (:func:`shown_path`)."""
        return shown_path(path)

    def _run_name(self, name: str) -> str:
        if not name or any(separator in name for separator in ("/", "\\")):
            raise ValueError(f"name must be a plain file name without folders, got {name!r}.")
        return f"{name}_quick" if self.quick else name

    def describe(self) -> str:
        """Which mode is on and what it changes, and where the notebooks write (two or three lines)."""
        if not self.quick:
            text = f"Quick mode: off (full run; set {QUICK_ENV_VAR}=1 for a quick check)"
        else:
            text = (
                f"Quick mode: ON ({QUICK_ENV_VAR}=1): {self.train_size:,} training and "
                f"{self.test_size:,} validation or test examples, at most {self.max_epochs} epochs. "
                "Results will be far below the full-run figures quoted in the text."
            )
        if self.small_machine:
            text += (
                f"\nSmall machine (under {SMALL_MACHINE_BYTES / 2**30:.0f} GiB of memory): evaluation "
                f"batches of {SMALL_MACHINE_EVAL_BATCH}, a shuffle buffer of "
                f"{SMALL_MACHINE_SHUFFLE_BUFFER:,} images, at most {SMALL_MACHINE_MALLOC_ARENAS} malloc "
                "arenas and free memory handed back after every epoch keep memory down (results "
                "differ a little from the saved ones)."
            )
        where = shown_path(self.work_dir)
        where = "the working folder (.)" if where == "." else where
        return text + f"\nSaving models and training logs in {where} (set {WORK_DIR_ENV_VAR} to change)"


def shown_path(path: str | os.PathLike[str]) -> str:
    """``path`` short and free of the machine's own folders, so saved outputs read the same.

    Relative to the working folder when within one level up of it, else from home (``~/...``).
    """
    path = Path(path).expanduser().resolve()
    try:
        relative = os.path.relpath(path, Path.cwd())
    except ValueError:  # Another drive, on Windows.
        relative = str(path)
    if not relative.startswith(os.pardir + os.sep + os.pardir) and not os.path.isabs(relative):
        return relative
    try:
        return str(Path("~") / path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def _capped(full: int, cap: int | None) -> int:
    return full if cap is None else min(full, cap)


_current: RunConfig | None = None  # The configuration setup() built (or the first get_config()).


def get_config(*, rebuild: bool = False) -> RunConfig:
    """The run configuration :func:`fmnist_utils.setup` built (without it, built on the first call).

    ``rebuild=True`` (what ``setup()`` does) reads the environment and the machine's memory again.
    """
    global _current
    if _current is None or rebuild:
        _current = _from_environment()
    return _current


def _from_environment() -> RunConfig:
    quick = quick_mode()  # First: a bad FMNIST_QUICK fails before anything else.
    memory = _runtime.memory_limit_bytes()
    small_machine = memory is not None and memory < SMALL_MACHINE_BYTES
    if not quick:
        return RunConfig(quick=False, small_machine=small_machine, memory=memory)
    return RunConfig(
        quick=True,
        train_size=QUICK_TRAIN_SIZE,
        test_size=QUICK_TEST_SIZE,
        max_epochs=QUICK_MAX_EPOCHS,
        max_trials=QUICK_MAX_TRIALS,
        small_machine=small_machine,
        memory=memory,
    )
