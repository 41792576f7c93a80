"""Runtime workarounds: memory and threads on small machines (docs/memory.md), and a TensorFlow leak.

Nothing here changes a result. The only module that touches TensorFlow's private code.
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


def _read_limit(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # cgroup v2 writes "max" when unlimited.


def memory_limit_bytes() -> int | None:
    """The smallest of ``MEM_LIMIT`` (Binder), the cgroup limit and the physical memory, or ``None``."""
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
    """The CPU cores the container may use (its CFS quota, rounded up); ``None``: no quota."""
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


_M_ARENA_MAX = -8  # glibc's mallopt parameter for the arena cap (malloc.h).
SMALL_MACHINE_MALLOC_ARENAS = 2  # The pools malloc keeps on a small machine, instead of 8 per core.


def limit_malloc_arenas(arenas: int = SMALL_MACHINE_MALLOC_ARENAS) -> bool:
    """Let glibc's ``malloc`` keep at most ``arenas`` pools (each keeps spare memory); return whether it did.

    Not off glibc, nor when ``MALLOC_ARENA_MAX`` is set already; call it before threads start.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    mallopt = _glibc_function("mallopt", [ctypes.c_int, ctypes.c_int])
    return mallopt is not None and mallopt(_M_ARENA_MAX, arenas) == 1


def release_free_memory() -> bool:
    """Hand ``malloc``'s free pages back to the system (``malloc_trim(0)``); return whether it did."""
    malloc_trim = _glibc_function("malloc_trim", [ctypes.c_size_t])
    return malloc_trim is not None and malloc_trim(0) == 1


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
    """Import TensorFlow without its C++ log lines, sized for this machine: ``(tf, threads, devices)``."""
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
    """Keep TensorFlow's warning about retracing (expected and cheap when notebook 05 predicts
    with several models) out of the notebooks."""
    logger = tf.get_logger()
    if not any(isinstance(existing, _NoRetracingWarning) for existing in logger.filters):
        logger.addFilter(_NoRetracingWarning())


def find_tensorboard() -> str | None:
    """Let ``%tensorboard`` find ``tensorboard`` from a kernel whose venv's ``bin/`` is not on ``PATH``."""
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


# TensorFlow's traced-graph leak (tensorflow#97697): the newest release known to leak (a test in
# tests/test_training.py checks the installed one); newer ones are taken to have fixed it.
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


def major_minor(version: str) -> tuple[int, int]:
    """``"2.21.0rc1"`` -> ``(2, 21)``."""
    major, minor = version.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


def leaks_traced_graphs(tensorflow_version: str) -> bool:
    """Whether this TensorFlow release is one that keeps every traced training step alive."""
    return major_minor(tensorflow_version) <= LEAKS_UP_TO


class TracedGraphRelease:
    """Free a finished ``fit``'s traced graphs, which TensorFlow keeps forever.

    Keras' training step registers a ``CustomGradient-N`` entry, holding the whole traced graph,
    in a global table and never removes it. The entries are needed only while the step is
    traced: at the end of training this removes the ones added since it began.
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
        import tensorflow as tf

        return _gradient_registry() if leaks_traced_graphs(tf.__version__) else None


def training_callbacks(small_machine: bool) -> list:
    """The traced-graph release; on a small machine also free memory handed back after each epoch."""
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
