"""Quick mode: the one place that turns ``FMNIST_QUICK=1`` into smaller runs.

Every notebook runs in two modes. The full mode is what students run and what the
committed outputs show. The quick mode, switched on with the environment variable
``FMNIST_QUICK=1``, is for CI and for a first look on a slow machine: it trains on a
small, class-balanced subset for a couple of epochs. Both modes run exactly the same
code; only the sizes below change.

Notebooks use it like this::

    config = fmnist_utils.setup(seed=42)            # returns get_config()
    train_images, train_labels = config.subset(train_images, train_labels)
    epochs = config.epochs(15)                      # 15 in full mode, 3 in quick mode

A lesson whose point needs other sizes says so where it trains: notebook 03 keeps all its
epochs on fewer images (``subset(..., quick_size=4_000)``), notebook 05 gives its final
model three times its comparison's epochs (``epochs(12, quick=6)``).
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
from fmnist_utils._checks import positive_int

__all__ = [
    "QUICK_ENV_VAR",
    "SMALL_MACHINE_BYTES",
    "SMALL_MACHINE_EVAL_BATCH",
    "SMALL_MACHINE_MALLOC_ARENAS",
    "SMALL_MACHINE_SHUFFLE_BUFFER",
    "WORK_DIR_ENV_VAR",
    "RunConfig",
    "default_work_dir",
    "get_config",
    "quick_mode",
    "shown_path",
]

QUICK_ENV_VAR = "FMNIST_QUICK"
#: Names the folder where the notebooks keep what they write (see :func:`default_work_dir`).
WORK_DIR_ENV_VAR = "FMNIST_WORK_DIR"

#: Sizes used in quick mode (the only numbers that differ between the modes).
QUICK_TRAIN_SIZE = 8_000
QUICK_TEST_SIZE = 1_000
QUICK_MAX_EPOCHS = 3
QUICK_MAX_TRIALS = 2

#: Below this much memory (Binder gives 1-2 GB) the notebooks choose smaller settings:
SMALL_MACHINE_BYTES = 3 * 2**30
#: ... evaluation and prediction batches of this size instead of 512 (same results,
#: about 60 MB less at the peak) ...
SMALL_MACHINE_EVAL_BATCH = 128
#: ... and a training shuffle buffer of this many images instead of the whole training
#: set (about 34 MB less with 54,000 images; the shuffle order, so the results, change a little).
SMALL_MACHINE_SHUFFLE_BUFFER = 10_000
#: ... and the C memory allocator keeps at most this many pools ("arenas", glibc's
#: ``MALLOC_ARENA_MAX``) instead of up to 8 per core (:mod:`fmnist_utils._runtime`).
SMALL_MACHINE_MALLOC_ARENAS = _runtime.SMALL_MACHINE_MALLOC_ARENAS

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def quick_mode() -> bool:
    """Return whether quick mode is on (``FMNIST_QUICK`` is ``1``/``true``/``yes``/``on``).

    Raises:
        ValueError: ``FMNIST_QUICK`` holds something else, so a typo does not
            silently start an hour-long full run.
    """
    value = os.environ.get(QUICK_ENV_VAR, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{QUICK_ENV_VAR}={os.environ[QUICK_ENV_VAR]!r} is not understood: use "
        f"{QUICK_ENV_VAR}=1 for quick mode or {QUICK_ENV_VAR}=0 (or unset it) for full mode."
    )


def default_work_dir() -> Path:
    """Return the absolute folder where the notebooks keep what they write, whatever the working folder.

    Models (``models/``), training runs (``runs/``), searches (``tuner/``) and notebook
    04's pictures (``pictures/``) go to, in order:

    1. the folder named by ``FMNIST_WORK_DIR``, if set;
    2. the course's ``notebooks/`` folder, when ``fmnist_utils`` runs from a copy of the
       course (``make lab``, Binder), so that notebook 04 finds the model notebook 03 saved
       even when JupyterLab was started in another folder;
    3. otherwise (the package installed with pip, as on Colab, or a course folder the
       student cannot write to) the current working folder.
    """
    chosen = os.environ.get(WORK_DIR_ENV_VAR, "").strip()
    if chosen:
        return Path(chosen).expanduser().resolve()
    course_notebooks = Path(__file__).resolve().parent.parent / "notebooks"
    if (course_notebooks / "00_getting_started.ipynb").is_file() and os.access(course_notebooks, os.W_OK):
        return course_notebooks
    return Path.cwd()  # Installed with pip, or a course folder shared read-only (JupyterHub).


@dataclass(frozen=True)
class RunConfig:
    """Sizes of a run; :func:`get_config` builds it from the environment.

    Attributes:
        quick: Whether quick mode is on.
        train_size: Training examples kept by :meth:`subset` (``None``: all).
        test_size: Examples kept by :meth:`subset` for ``split="validation"`` or ``"test"``.
        max_epochs: Cap applied by :meth:`epochs` (``None``: no cap).
        max_trials: Cap applied by :meth:`trials` for hyperparameter searches.
        small_machine: Whether the machine has less than :data:`SMALL_MACHINE_BYTES` of
            memory (Binder): the notebooks then choose smaller settings on their own.
        work_dir: The absolute folder that :meth:`model_path`, :meth:`run_dir` and
            :meth:`tuner_dir` start from (:func:`default_work_dir`).
    """

    quick: bool
    train_size: int | None = None
    test_size: int | None = None
    max_epochs: int | None = None
    max_trials: int | None = None
    small_machine: bool = False
    work_dir: Path = field(default_factory=default_work_dir)

    def epochs(self, full: int, quick: int | None = None) -> int:
        """Return the number of epochs to train.

        Args:
            full: The epochs of a full run.
            quick: The epochs in quick mode, for a lesson whose point needs more (or other)
                epochs than the cap; by default ``full`` capped at :data:`QUICK_MAX_EPOCHS`.
        """
        if self.quick and quick is not None:
            return positive_int(quick, "quick epochs")
        return _capped(full, self.max_epochs, "epochs")

    def trials(self, full: int) -> int:
        """Return the number of tuner trials: ``full``, capped in quick mode."""
        return _capped(full, self.max_trials, "trials")

    def eval_batch_size(self, full: int = 512) -> int:
        """Batch size for evaluation and prediction: ``full``, or at most 128 on a small machine."""
        full = positive_int(full, "batch size")
        return min(full, SMALL_MACHINE_EVAL_BATCH) if self.small_machine else full

    def shuffle_buffer(self, size: int) -> int:
        """Shuffle buffer for ``size`` training examples: all, or at most 10,000 on a small machine."""
        size = positive_int(size, "size")
        return min(size, SMALL_MACHINE_SHUFFLE_BUFFER) if self.small_machine else size

    def subset(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        split: str = "train",
        seed: int = 0,
        quick_size: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the examples to use: all of them, or in quick mode a balanced subset.

        The subset is stratified (every class keeps its share), seeded, and keeps the
        original order of the examples it picks.

        Args:
            images: Images, first axis the examples.
            labels: Integer labels of the same length.
            split: ``"train"``, ``"validation"`` or ``"test"``: which quick-mode size
                applies (validation and test sets get the smaller one).
            seed: Seed of the pick.
            quick_size: The size in quick mode, for a lesson whose point needs another
                size than the split's default.

        Returns:
            ``(images, labels)``, unchanged in full mode.
        """
        if split not in ("train", "validation", "test"):
            raise ValueError(f"split must be 'train', 'validation' or 'test', got {split!r}.")
        if len(images) != len(labels):
            raise ValueError(
                f"images and labels must have the same length, got {len(images)} and {len(labels)}."
            )
        size = self.train_size if split == "train" else self.test_size
        if self.quick and quick_size is not None:
            size = positive_int(quick_size, "quick_size")
        if size is None or size >= len(labels):
            return images, labels
        from sklearn.model_selection import train_test_split

        index = np.arange(len(labels))
        kept, _ = train_test_split(index, train_size=size, random_state=seed, stratify=labels)
        kept.sort()
        return images[kept], labels[kept]

    def model_path(self, name: str, folder: str | os.PathLike[str] = "models") -> Path:
        """Where a notebook saves a trained model: ``<work_dir>/models/<name>.keras``.

        Quick-mode models get ``_quick`` in their name, so that a quick run (the test
        suite) never overwrites the model of a full run that a later notebook loads.
        """
        return self.work_dir / folder / f"{self._run_name(name)}.keras"

    def run_dir(self, name: str, folder: str | os.PathLike[str] = "runs") -> Path:
        """The folder of a training run (logs, checkpoint, backup): ``<work_dir>/runs/<name>``.

        Quick-mode runs get ``_quick`` in their name, like :meth:`model_path`.
        """
        return self.work_dir / folder / self._run_name(name)

    def tuner_dir(self, name: str, folder: str | os.PathLike[str] = "tuner") -> Path:
        """Where a hyperparameter search keeps its trials.

        Full mode: ``<work_dir>/tuner/<name>`` (git-ignored), so an interrupted search resumes.
        Quick mode: a new temporary folder each call, so the tests never touch, or
        resume from, a full search; it is removed when the Python process (the kernel) ends.
        """
        if self.quick:
            folder = tempfile.mkdtemp(prefix=f"fmnist-tuner-{self._run_name(name)}-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            return Path(folder)
        return self.work_dir / folder / self._run_name(name)

    def shown_path(self, path: str | os.PathLike[str]) -> str:
        """``path`` as a notebook prints it, without the machine's own folders (:func:`shown_path`)."""
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
    """Return ``path`` as the notebooks print it: short, and free of the machine's own folders.

    Relative to the working folder when it is there or one level up (``models/a.keras``,
    ``../notebooks``), else from the home folder (``~/course/...``), else absolute. Saved
    outputs then read the same on every machine.
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


def _capped(full: int, cap: int | None, what: str) -> int:
    full = positive_int(full, what)
    return full if cap is None else min(full, cap)


def get_config() -> RunConfig:
    """Build the run configuration from ``FMNIST_QUICK`` and the machine's memory."""
    limit = _runtime.memory_limit_bytes()
    small_machine = limit is not None and limit < SMALL_MACHINE_BYTES
    if quick_mode():
        return RunConfig(
            quick=True,
            train_size=QUICK_TRAIN_SIZE,
            test_size=QUICK_TEST_SIZE,
            max_epochs=QUICK_MAX_EPOCHS,
            max_trials=QUICK_MAX_TRIALS,
            small_machine=small_machine,
        )
    return RunConfig(quick=False, small_machine=small_machine)
