"""The one call every notebook's Setup cell makes: :func:`setup`."""

from __future__ import annotations

import platform
import sys

from fmnist_utils import _runtime, _tensorflow_log
from fmnist_utils.config import RunConfig, get_config

__all__ = ["setup"]

DEFAULT_SEED = 42
MIN_TENSORFLOW = (2, 20)  # Colab's, the lowest the suite runs on (see pyproject.toml).
MIN_KERAS = (3, 10)  # Colab's; before 3.3, BackupAndRestore does not even resume a run.
_GPU_UNUSED = (
    "This machine has an NVIDIA driver, but TensorFlow found no GPU and will train on the CPU "
    "(TensorFlow's CUDA messages, if it wrote any, are above). On Linux, "
    "`pip install 'tensorflow[and-cuda]'` installs the CUDA libraries TensorFlow needs; on Colab, "
    "choose Runtime > Change runtime type > GPU again."
)


def check_versions(tensorflow_version: str, keras_version: str) -> None:
    """Check that TensorFlow and Keras are recent enough for the course.

    Raises:
        RuntimeError: One is too old; the message says how to upgrade.
    """
    problems = []
    if _runtime.major_minor(tensorflow_version) < MIN_TENSORFLOW:
        problems.append(
            f"TensorFlow {tensorflow_version} (need {'.'.join(map(str, MIN_TENSORFLOW))} or newer)"
        )
    if _runtime.major_minor(keras_version) < MIN_KERAS:
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
    """Prepare a notebook: start TensorFlow quietly, seed everything, set the plot style, report.

    Seeds Python's ``random``, NumPy and TensorFlow (``keras.utils.set_random_seed``), so a
    notebook run twice gives the same splits, weights and shuffles.

    Args:
        seed: The seed for every random number generator.
        verbose: Print the versions, devices, machine and mode.

    Returns:
        The run configuration, built anew from the environment; ``get_config()`` returns it.

    Raises:
        ValueError: ``seed`` is not a non-negative integer, or ``FMNIST_QUICK`` is not understood.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    config = get_config(rebuild=True)  # First: a bad FMNIST_QUICK fails before the slow imports.
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
        _report(config, tf.__version__, keras.__version__, threads, devices, seed)
    return config


def _report(config: RunConfig, tensorflow: str, keras: str, threads: int, devices: list, seed: int) -> None:
    names = ", ".join(f"{device.device_type}:{device.name.rsplit(':', 1)[-1]}" for device in devices)
    memory = "memory unknown" if config.memory is None else f"{config.memory / 1e9:.1f} GB of memory"
    print(f"Python {platform.python_version()}, TensorFlow {tensorflow}, Keras {keras}")
    print(f"Devices: {names}")
    print(f"Machine: {threads} CPU cores for TensorFlow, {memory}")
    print(f"Random seed: {seed}")
    print(config.describe())
