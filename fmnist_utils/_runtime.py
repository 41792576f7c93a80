"""Runtime workarounds: memory and threads on small machines, and a TensorFlow leak.

Nothing here changes a result; it keeps a notebook that trains model after model within
Binder's 1-2 GB (docs/memory.md has the measurements). The course's code calls it in
one line each: :func:`start_tensorflow` from ``setup()``, :func:`training_callbacks` from
``fit_model`` and ``run_search``, :func:`after_prediction` from ``predict_probabilities``.
This is the only module that touches TensorFlow's private code (:func:`_gradient_registry`).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import platform
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from fmnist_utils._tensorflow_log import quiet_tensorflow

# -- How much of the machine this process may use ------------------------------------


def _read_limit(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # cgroup v2 writes "max" when unlimited.


def memory_limit_bytes() -> int | None:
    """The memory this process may use: the smallest of ``MEM_LIMIT`` (JupyterHub, Binder),
    the container's cgroup limit (v2 or v1) and the physical memory; ``None`` if unknown."""
    limits = []
    mem_limit = os.environ.get("MEM_LIMIT", "").strip()
    if mem_limit.isdigit() and int(mem_limit) > 0:
        limits.append(int(mem_limit))
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        limit = _read_limit(Path(path))
        if limit is not None and limit < 2**60:  # cgroup v1 writes a huge number when unlimited.
            limits.append(limit)
    with contextlib.suppress(AttributeError, OSError, ValueError):  # Not on every platform (Windows).
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    return min(limits) if limits else None


def cpu_limit() -> int | None:
    """The CPU cores the container may use (its CFS quota, rounded up); ``None``: no quota.

    Binder's pods see every core of the host (``os.cpu_count()``) but may use a few.
    """
    quota = period = None
    try:  # cgroup v2: "max 100000" or "200000 100000".
        quota_text, period_text = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota_text != "max":
            quota, period = int(quota_text), int(period_text)
    except (OSError, ValueError):
        quota_v1 = _read_limit(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"))  # -1 (no digits) when unlimited.
        period_v1 = _read_limit(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))
        if quota_v1 and period_v1:
            quota, period = quota_v1, period_v1
    if not quota or not period:
        return None
    return max(1, -(-quota // period))


# -- glibc's malloc: fewer pools, free memory handed back ------------------------------


def _glibc_function(name: str, argtypes: list) -> Callable[..., int] | None:
    """Return the C library's function ``name`` (returning an ``int``), or ``None`` off glibc."""
    if platform.system() != "Linux":
        return None
    try:
        function = getattr(ctypes.CDLL(None), name)  # Only glibc has mallopt and malloc_trim.
    except (AttributeError, OSError):
        return None
    function.argtypes, function.restype = argtypes, ctypes.c_int
    return function


#: glibc's ``mallopt`` parameter number for the arena cap (``M_ARENA_MAX`` in ``malloc.h``).
_M_ARENA_MAX = -8
#: The pools ``malloc`` keeps on a small machine, instead of up to 8 per core.
SMALL_MACHINE_MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = SMALL_MACHINE_MALLOC_ARENAS) -> bool:
    """Let glibc's ``malloc`` keep at most ``arenas`` pools, as ``MALLOC_ARENA_MAX`` does.

    glibc gives threads up to 8 pools per core, and memory freed in one pool serves only
    that pool: TensorFlow's many threads each keep spare memory. Call it before
    TensorFlow starts its threads. Returns whether the cap is set: not off glibc, and
    not when ``MALLOC_ARENA_MAX`` is set already (that choice is kept).
    """
    if isinstance(arenas, bool) or not isinstance(arenas, int) or arenas < 1:
        raise ValueError(f"arenas must be a positive integer, got {arenas!r}.")
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    mallopt = _glibc_function("mallopt", [ctypes.c_int, ctypes.c_int])
    return mallopt is not None and mallopt(_M_ARENA_MAX, arenas) == 1


def release_free_memory() -> bool:
    """Hand ``malloc``'s free pages back to the system (``malloc_trim(0)``); return whether it did.

    Memory freed to ``malloc`` otherwise stays in the process, which stays as large as it
    ever was. Takes milliseconds; ``False`` when nothing was free or off glibc.
    """
    malloc_trim = _glibc_function("malloc_trim", [ctypes.c_size_t])
    return malloc_trim is not None and malloc_trim(0) == 1


# -- Starting TensorFlow ----------------------------------------------------------------


def _limit_threads_to_cpu_quota(tf: ModuleType) -> int:
    """Give TensorFlow one thread per CPU core the container may use; return that number."""
    visible = os.cpu_count() or 1
    allowed = cpu_limit()
    if allowed is None or allowed >= visible:
        return visible
    try:
        tf.config.threading.set_intra_op_parallelism_threads(allowed)
        tf.config.threading.set_inter_op_parallelism_threads(allowed)
    except RuntimeError:  # TensorFlow already started (setup() called twice): keep its threads.
        return tf.config.threading.get_intra_op_parallelism_threads() or visible
    return allowed


def start_tensorflow(small_machine: bool) -> tuple[ModuleType, int, list]:
    """Import TensorFlow quietly, sized for this machine: ``(tf, threads, devices)``.

    On a small machine ``malloc`` keeps 2 pools (before TensorFlow's threads start);
    TensorFlow gets one thread per core the container's CPU quota allows; its C++ start-up
    log lines are held back (:mod:`fmnist_utils._tensorflow_log`).
    """
    if small_machine:
        limit_malloc_arenas()
    with quiet_tensorflow():
        import keras  # noqa: F401  (Keras' TensorFlow backend starts quietly too.)
        import tensorflow as tf

        threads = _limit_threads_to_cpu_quota(tf)
        devices = tf.config.list_physical_devices()
    silence_retracing_warnings(tf)
    return tf, threads, devices


class _NoRetracingWarning(logging.Filter):
    """Drops TensorFlow's "N out of the last M calls ... triggered tf.function retracing"."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def silence_retracing_warnings(tf: ModuleType) -> None:
    """Keep TensorFlow's retracing warning out of the notebooks.

    Each Keras model traces its own prediction function, once per batch shape: notebooks
    that predict with several models (05's comparison and ensemble) and a last, smaller
    batch trigger TensorFlow's eight-line warning about "expensive" retracing. Here it is
    expected and costs a fraction of a second; the warning would only alarm a student.
    """
    logger = tf.get_logger()
    if not any(isinstance(existing, _NoRetracingWarning) for existing in logger.filters):
        logger.addFilter(_NoRetracingWarning())


# -- TensorBoard from a kernel whose PATH lacks its environment ------------------------


def find_tensorboard() -> str | None:
    """Let ``%tensorboard`` find the ``tensorboard`` program of the kernel's own environment.

    Notebook 03's ``%tensorboard`` magic starts the program ``tensorboard`` from ``PATH``
    (or from ``TENSORBOARD_BINARY``). A kernel started from a virtual environment that was
    never activated (``make lab``, VS Code, a registered kernel) has the environment's
    ``bin/`` off its ``PATH``, and the magic fails with "Could not find `tensorboard`".
    When ``PATH`` has no ``tensorboard``, point ``TENSORBOARD_BINARY`` at the one next to
    this Python. Colab and Binder have it on ``PATH`` already; nothing changes there.

    Returns:
        The program ``%tensorboard`` will start, or ``None`` when there is none to find.
    """
    chosen = os.environ.get("TENSORBOARD_BINARY") or shutil.which("tensorboard")
    if chosen:
        return chosen
    folder = Path(sys.executable).parent
    for name in ("tensorboard", "tensorboard.exe"):
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            os.environ["TENSORBOARD_BINARY"] = str(candidate)
            return str(candidate)
    return None


# -- TensorFlow's traced-graph leak (tensorflow#97697) ----------------------------------

#: The newest TensorFlow release known to leak (tests/test_training.py checks the installed
#: one): newer releases are taken to have fixed it, and :class:`TracedGraphRelease` leaves
#: them alone. Raise it when the test says a newer release still leaks.
LEAKS_UP_TO = (2, 21)


def _gradient_registry() -> dict | None:
    """TensorFlow's private global table of registered gradients (``None`` if not reachable)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return None
    try:
        from tensorflow.python.framework import ops as tf_ops

        registry = tf_ops._gradient_registry._registry
    except (ImportError, AttributeError):  # A TensorFlow that changed it: nothing to release.
        return None
    return registry if isinstance(registry, dict) else None


def leaks_traced_graphs(tensorflow_version: str) -> bool:
    """Whether this TensorFlow release is one that keeps every traced training step alive."""
    major, minor = (
        int("".join(c for c in part if c.isdigit()) or 0) for part in tensorflow_version.split(".")[:2]
    )
    return (major, minor) <= LEAKS_UP_TO


class TracedGraphRelease:
    """Free a finished ``fit``'s traced graphs, which TensorFlow keeps forever.

    Keras' training step wraps its gradients in a ``tf.custom_gradient``, which registers
    a ``CustomGradient-N`` entry in a global table and never removes it; the entry holds
    the whole traced graph, so every model trained in a process stays in memory (15-75 MiB
    each) after ``del``, ``gc.collect()`` and ``keras.backend.clear_session()``. The
    entries are needed only while the step is traced: at the end of training this removes
    the ones added since it began. The model still trains, predicts and saves (tested).
    """

    _PREFIX = "CustomGradient-"

    def __init__(self) -> None:
        self._before: set[str] | None = None
        self.released = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        registry = self._registry()
        self._before = None if registry is None else set(registry)

    def on_train_end(self, logs: dict | None = None) -> None:
        registry = self._registry()
        if registry is None or self._before is None:
            return
        added = [key for key in list(registry) if key.startswith(self._PREFIX) and key not in self._before]
        for key in added:
            registry.pop(key, None)
        self.released = len(added)
        self._before = None

    def callback(self):
        """This release as a Keras callback."""
        import keras

        return keras.callbacks.LambdaCallback(
            on_train_begin=self.on_train_begin, on_train_end=self.on_train_end
        )

    @staticmethod
    def _registry() -> dict | None:
        import keras

        if keras.backend.backend() != "tensorflow":
            return None
        import tensorflow as tf

        return _gradient_registry() if leaks_traced_graphs(tf.__version__) else None


def training_callbacks(small_machine: bool) -> list:
    """The callbacks that keep a kernel's memory down as it trains model after model.

    The traced-graph release always; on a small machine, the release of free memory after
    every epoch and at the end of training.
    """
    import keras

    callbacks = [TracedGraphRelease().callback()]
    if small_machine:
        callbacks.append(
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs=None: release_free_memory(),
                on_train_end=lambda logs=None: release_free_memory(),
            )
        )
    return callbacks


def after_prediction(small_machine: bool) -> None:
    """On a small machine, hand prediction's buffers back to the system."""
    if small_machine:
        release_free_memory()
