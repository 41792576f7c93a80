"""The one call every notebook's Setup cell makes: :func:`setup`."""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from collections.abc import Callable

from fmnist_utils import _tensorflow_log
from fmnist_utils._tensorflow_log import quiet_tensorflow
from fmnist_utils.config import (
    SMALL_MACHINE_MALLOC_ARENAS,
    RunConfig,
    cpu_limit,
    get_config,
    memory_limit_bytes,
)

__all__ = [
    "DEFAULT_SEED",
    "MIN_KERAS",
    "MIN_TENSORFLOW",
    "check_versions",
    "in_colab",
    "limit_malloc_arenas",
    "release_free_memory",
    "setup",
]

DEFAULT_SEED = 42
MIN_TENSORFLOW = (2, 16)  # The first release that comes with Keras 3.
MIN_KERAS = (3, 3)  # Before 3.3, BackupAndRestore does not resume a run (see pyproject.toml).
_GPU_UNUSED = (
    "This machine has an NVIDIA driver, but TensorFlow found no GPU and will train on the CPU "
    "(TensorFlow's CUDA messages, if it wrote any, are above). On Linux, "
    "`pip install 'tensorflow[and-cuda]'` installs the CUDA libraries TensorFlow needs; on Colab, "
    "choose Runtime > Change runtime type > GPU again."
)


def in_colab() -> bool:
    """Return whether the code runs in Google Colab."""
    return "google.colab" in sys.modules


def _major_minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


def check_versions(tensorflow_version: str, keras_version: str) -> None:
    """Check that TensorFlow and Keras are recent enough for the course.

    Raises:
        RuntimeError: One is too old; the message says how to upgrade.
    """
    problems = []
    if _major_minor(tensorflow_version) < MIN_TENSORFLOW:
        problems.append(
            f"TensorFlow {tensorflow_version} (need {'.'.join(map(str, MIN_TENSORFLOW))} or newer)"
        )
    if _major_minor(keras_version) < MIN_KERAS:
        problems.append(
            f"Keras {keras_version} (need {'.'.join(map(str, MIN_KERAS))} or newer; the course uses Keras 3)"
        )
    if problems:
        raise RuntimeError(
            "This environment is too old for the course: "
            + "; ".join(problems)
            + ". Upgrade with `pip install -U -r requirements.txt` (or run `make lab`, which "
            "uses its own .venv), then restart the kernel."
        )


def _limit_threads_to_cpu_quota(tf) -> int:
    """Give TensorFlow one thread per CPU core the container may use; return that number.

    In a container with a CPU quota (Binder) ``os.cpu_count()`` counts the host's cores,
    and TensorFlow would start a thread, with its buffers, for each of them.
    """
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


def limit_malloc_arenas(arenas: int = SMALL_MACHINE_MALLOC_ARENAS) -> bool:
    """Let the C memory allocator keep at most ``arenas`` pools; return whether it did.

    On Linux, glibc's ``malloc`` gives threads separate pools of memory ("arenas"), up to
    8 per CPU core, and memory freed in one pool is reused only by that pool.
    TensorFlow runs many threads, so over a long notebook each pool keeps its own spare
    memory and the process grows by tens of megabytes per trained model. Capping the
    pools, as ``MALLOC_ARENA_MAX=2`` does when set before Python starts, keeps that
    spare memory shared. :func:`setup` calls this on a small machine (Binder): training
    the seven models of notebook 05's comparison in one process (one epoch each,
    ``benchmarks/training_memory.py``) peaked at 1,040 MiB with the cap and 1,069 MiB
    without (1,035 and 1,093 in an earlier run); the times differed less than from run
    to run. It changes where memory comes from, not what is computed.

    Pools made before the call are kept; no new ones are made past the cap, so call it
    before TensorFlow starts its threads (its first operation). A ``MALLOC_ARENA_MAX``
    set in the environment is left as it is.

    Args:
        arenas: The most pools to keep.

    Returns:
        Whether the cap is now set: ``False`` where the C library is not glibc (macOS,
        Windows, Alpine's musl) or when ``MALLOC_ARENA_MAX`` is set already.
    """
    if isinstance(arenas, bool) or not isinstance(arenas, int) or arenas < 1:
        raise ValueError(f"arenas must be a positive integer, got {arenas!r}.")
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    mallopt = _glibc_function("mallopt", [ctypes.c_int, ctypes.c_int])
    return mallopt is not None and mallopt(_M_ARENA_MAX, arenas) == 1


def release_free_memory() -> bool:
    """Hand the C allocator's free memory back to the system; return whether it did.

    Memory that Python, NumPy or TensorFlow free goes back to glibc's ``malloc``, which
    keeps it in its pools for later requests: the process stays as large as it ever
    was, and a long notebook grows as each new model touches memory the pools cannot
    reuse. ``malloc_trim(0)`` returns the free pages of every pool to the system; what
    is in use is not touched, and a later request gets fresh pages where it needs them.
    On a small machine (Binder), :class:`fmnist_utils.training.ReleaseFreeMemory` calls
    it after every epoch and :func:`fmnist_utils.evaluation.predict_probabilities`
    after predicting: training notebook 05's seven comparison models in one process
    (``benchmarks/training_memory.py``, arenas capped) peaked at 1,023 MiB with it and
    1,040 MiB without, and notebook 05 on Binder's settings at 1,327 MiB
    (``docs/memory.md``). A call takes milliseconds (0.4 to 2.4 ms after an epoch of training).

    Returns:
        Whether memory was returned: ``False`` when none was free, or where the C
        library is not glibc (macOS, Windows, Alpine's musl).
    """
    malloc_trim = _glibc_function("malloc_trim", [ctypes.c_size_t])
    return malloc_trim is not None and malloc_trim(0) == 1


def setup(seed: int = DEFAULT_SEED, *, verbose: bool = True) -> RunConfig:
    """Prepare a notebook: seed everything, set the plot style, report the environment.

    Starts TensorFlow without the C++ log lines it writes as it starts (errors, and a GPU
    it cannot use, are still shown: :mod:`fmnist_utils._tensorflow_log`). Seeds Python's
    ``random``, NumPy and TensorFlow through
    ``keras.utils.set_random_seed``, so that a notebook run twice gives the same
    splits, initial weights and shuffles. Prints the Python, TensorFlow and Keras
    versions, the devices TensorFlow sees, and whether quick mode is on. Gives
    TensorFlow one thread per CPU core the container may use and, on a small machine
    (Binder), caps the C allocator's memory pools (:func:`limit_malloc_arenas`).

    Args:
        seed: The seed for every random number generator.
        verbose: Print the report.

    Returns:
        The run configuration (see :mod:`fmnist_utils.config`): how many examples and
        epochs to use in this mode.

    Raises:
        ValueError: ``seed`` is not a non-negative integer, or ``FMNIST_QUICK`` holds
            a value that is not understood.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    config = get_config()  # First: a bad FMNIST_QUICK fails before the slow imports.
    if config.small_machine:
        limit_malloc_arenas()  # Before TensorFlow's first operation starts its threads.

    with quiet_tensorflow():  # Without the C++ log lines TensorFlow writes as it starts.
        import keras
        import tensorflow as tf

        check_versions(tf.__version__, keras.__version__)
        threads = _limit_threads_to_cpu_quota(tf)
        devices = tf.config.list_physical_devices()
    import matplotlib as mpl
    import seaborn as sns

    keras.utils.set_random_seed(seed)
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    mpl.rcParams["figure.dpi"] = 100
    if _tensorflow_log.has_nvidia_driver() and not any(device.device_type == "GPU" for device in devices):
        print(_GPU_UNUSED, file=sys.stderr)

    if verbose:
        names = ", ".join(f"{device.device_type}:{device.name.rsplit(':', 1)[-1]}" for device in devices)
        print(f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}")
        print(f"Devices: {names}")
        memory = memory_limit_bytes()
        print(
            f"Machine: {threads} CPU cores for TensorFlow, "
            + ("memory unknown" if memory is None else f"{memory / 1e9:.1f} GB of memory")
        )
        print(f"Random seed: {seed}")
        print(config.describe())
    return config
