"""Shared fixtures: tiny IDX files made on the fly, and the real dataset when available."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from helpers import write_tiny_dataset

from fmnist_utils._files import DATA_DIR_ENV_VAR
from fmnist_utils.config import WORK_DIR_ENV_VAR

# Only this process: notebook kernels started by nbval keep Jupyter's inline backend.
matplotlib.use("Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Read before any test runs: the autouse fixture below hides it from the tests.
REAL_DATA_DIR = os.environ.get(DATA_DIR_ENV_VAR, "")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No FMNIST_DATA_DIR or FMNIST_WORK_DIR and an empty Keras home: no test finds real files by accident."""
    monkeypatch.delenv(DATA_DIR_ENV_VAR, raising=False)
    monkeypatch.delenv(WORK_DIR_ENV_VAR, raising=False)
    keras_home = tmp_path / "keras-home"
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    return keras_home


@pytest.fixture(autouse=True)
def fresh_config(monkeypatch):
    """No test reads a configuration built before it, or before it changed the environment.

    ``get_config()`` keeps the configuration it builds; tests set FMNIST_QUICK, FMNIST_WORK_DIR
    or MEM_LIMIT as they go, so each ``monkeypatch.setenv``, ``delenv`` or ``chdir`` forgets it.
    """
    from fmnist_utils import config

    def forgetting(change):
        def changed(*args, **kwargs):
            change(*args, **kwargs)
            config._current = None

        return changed

    config._current = None
    for name in ("setenv", "delenv", "chdir"):
        setattr(monkeypatch, name, forgetting(getattr(monkeypatch, name)))


@pytest.fixture
def machine_memory(monkeypatch):
    """Make this machine look as big as a test needs: ``machine_memory(16 * 2**30)``.

    Sets the physical memory the package reads and removes ``MEM_LIMIT`` and any cgroup
    limit, so a test of the large-machine path passes on a 2 GiB runner too (and a test
    may set ``MEM_LIMIT`` afterwards). ``None``: the memory cannot be read at all.
    """
    from fmnist_utils import _runtime

    def set_memory(physical: int | None) -> None:
        monkeypatch.delenv("MEM_LIMIT", raising=False)
        monkeypatch.setattr(_runtime, "_read_limit", lambda path: None)
        if physical is None:
            monkeypatch.setattr(_runtime.os, "sysconf", lambda name: (_ for _ in ()).throw(ValueError(name)))
        else:
            pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": physical // 4096}
            monkeypatch.setattr(_runtime.os, "sysconf", lambda name: pages[name])

    return set_memory


@pytest.fixture
def tiny_data():
    """A learnable training/validation pair: each class is a bright square in its own place."""
    rng = np.random.default_rng(0)
    labels = np.arange(64) % 10
    images = rng.integers(0, 40, size=(64, 28, 28), dtype=np.uint8)
    for index, label in enumerate(labels):
        images[index, 2 * label : 2 * label + 6, 4:10] = 255
    return (images[:48], labels[:48]), (images[48:], labels[48:])


@pytest.fixture
def tiny_dataset(tmp_path):
    """A folder with four tiny valid files, and their file table."""
    folder = tmp_path / "tiny"
    files = write_tiny_dataset(folder)
    return folder, files


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real dataset folder from FMNIST_DATA_DIR (required in CI, skipped elsewhere)."""
    if not REAL_DATA_DIR:
        message = f"{DATA_DIR_ENV_VAR} is not set: point it at the four official .gz files."
        if os.environ.get("CI"):
            pytest.fail(f"In CI the real dataset must be tested. {message}")
        pytest.skip(message)
    return Path(REAL_DATA_DIR)


@pytest.fixture(scope="session")
def real_data(real_data_dir):
    from fmnist_utils.data import load_fashion_mnist

    return load_fashion_mnist(real_data_dir)


@pytest.fixture(scope="session")
def tiny_classifier(real_data):
    """A small CNN trained for one epoch on 6,000 real images (about 80% test accuracy, a few seconds).

    It takes float32 images of pixels 0..255, like the course's models, and has a
    convolution for Grad-CAM. Shared by the deploy and demo tests.
    """
    import keras
    from keras import layers

    from fmnist_utils.data import add_channel_axis

    (train_images, train_labels), _ = real_data
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    hidden = layers.Rescaling(1 / 255)(inputs)
    hidden = layers.Conv2D(8, 3, activation="relu")(hidden)
    hidden = layers.MaxPooling2D(4)(layers.Conv2D(16, 3, activation="relu")(hidden))
    hidden = layers.Dense(64, activation="relu")(layers.Flatten()(hidden))  # Most of the weights.
    outputs = layers.Dense(10, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs, name="tiny")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(add_channel_axis(train_images[:6000]), train_labels[:6000], epochs=1, batch_size=64, verbose=0)
    return model
