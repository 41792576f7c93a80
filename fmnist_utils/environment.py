"""The one call every notebook's Setup cell makes: :func:`setup`."""

from __future__ import annotations

import platform
import sys

from fmnist_utils import _runtime, _tensorflow_log
from fmnist_utils.config import RunConfig, get_config

__all__ = [
    "DEFAULT_SEED",
    "MIN_KERAS",
    "MIN_TENSORFLOW",
    "check_versions",
    "in_colab",
    "setup",
]

DEFAULT_SEED = 42
MIN_TENSORFLOW = (2, 20)  # Colab's, the lowest the suite runs on (see pyproject.toml).
MIN_KERAS = (3, 10)  # Colab's; before 3.3, BackupAndRestore does not even resume a run.
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


def setup(seed: int = DEFAULT_SEED, *, verbose: bool = True) -> RunConfig:
    """Prepare a notebook: seed everything, set the plot style, report the environment.

    Starts TensorFlow without the C++ log lines it writes as it starts (errors, and a GPU
    it cannot use, are still shown), sized for the machine (:mod:`fmnist_utils._runtime`). Seeds Python's
    ``random``, NumPy and TensorFlow through
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
    tf, threads, devices = _runtime.start_tensorflow(config.small_machine)
    _runtime.find_tensorboard()  # For notebook 03's %tensorboard, from a kernel started anywhere.
    import keras
    import matplotlib as mpl
    import seaborn as sns

    check_versions(tf.__version__, keras.__version__)
    keras.utils.set_random_seed(seed)
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    mpl.rcParams["figure.dpi"] = 100
    if _tensorflow_log.has_nvidia_driver() and not any(device.device_type == "GPU" for device in devices):
        print(_GPU_UNUSED, file=sys.stderr)

    if verbose:
        names = ", ".join(f"{device.device_type}:{device.name.rsplit(':', 1)[-1]}" for device in devices)
        print(f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}")
        print(f"Devices: {names}")
        memory = _runtime.memory_limit_bytes()
        print(
            f"Machine: {threads} CPU cores for TensorFlow, "
            + ("memory unknown" if memory is None else f"{memory / 1e9:.1f} GB of memory")
        )
        print(f"Random seed: {seed}")
        print(config.describe())
    return config
