"""The one call every notebook's Setup cell makes: :func:`setup`."""

from __future__ import annotations

import os
import platform
import sys

from fmnist_utils.config import RunConfig, cpu_limit, get_config, memory_limit_bytes

__all__ = ["DEFAULT_SEED", "MIN_KERAS", "MIN_TENSORFLOW", "check_versions", "in_colab", "setup"]

DEFAULT_SEED = 42
MIN_TENSORFLOW = (2, 16)  # The first release that comes with Keras 3.
MIN_KERAS = (3, 0)


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
        problems.append(f"Keras {keras_version} (need 3.0 or newer; the course uses Keras 3)")
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


def setup(seed: int = DEFAULT_SEED, *, verbose: bool = True) -> RunConfig:
    """Prepare a notebook: seed everything, set the plot style, report the environment.

    Seeds Python's ``random``, NumPy and TensorFlow through
    ``keras.utils.set_random_seed``, so that a notebook run twice gives the same
    splits, initial weights and shuffles. Prints the Python, TensorFlow and Keras
    versions, the devices TensorFlow sees, and whether quick mode is on.

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

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Hide TensorFlow's C++ info logs.
    import keras
    import matplotlib as mpl
    import seaborn as sns
    import tensorflow as tf

    check_versions(tf.__version__, keras.__version__)
    threads = _limit_threads_to_cpu_quota(tf)
    keras.utils.set_random_seed(seed)
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    mpl.rcParams["figure.dpi"] = 100

    if verbose:
        devices = ", ".join(
            f"{device.device_type}:{device.name.rsplit(':', 1)[-1]}"
            for device in tf.config.list_physical_devices()
        )
        print(f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}")
        print(f"Devices: {devices}")
        memory = memory_limit_bytes()
        print(
            f"Machine: {threads} CPU cores for TensorFlow, "
            + ("memory unknown" if memory is None else f"{memory / 1e9:.1f} GB of memory")
        )
        print(f"Random seed: {seed}")
        print(config.describe())
    return config
