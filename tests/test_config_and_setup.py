"""Quick mode and the notebooks' setup() call."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

import fmnist_utils
from fmnist_utils.config import (
    QUICK_MAX_EPOCHS,
    QUICK_TEST_SIZE,
    QUICK_TRAIN_SIZE,
    RunConfig,
    get_config,
    quick_mode,
)
from fmnist_utils.environment import check_versions


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        (" YES ", True),
        ("on", True),
        ("0", False),
        ("", False),
        ("false", False),
        ("off", False),
    ],
)
def test_quick_mode_values(monkeypatch, value, expected):
    monkeypatch.setenv("FMNIST_QUICK", value)
    assert quick_mode() is expected


def test_quick_mode_unset_is_full(monkeypatch):
    monkeypatch.delenv("FMNIST_QUICK", raising=False)
    assert get_config() == RunConfig(quick=False)


def test_quick_mode_typo_is_an_error(monkeypatch):
    monkeypatch.setenv("FMNIST_QUICK", "ture")
    with pytest.raises(ValueError, match=r"FMNIST_QUICK='ture' is not understood: use FMNIST_QUICK=1"):
        quick_mode()


def test_epochs_and_trials(monkeypatch):
    monkeypatch.setenv("FMNIST_QUICK", "1")
    quick = get_config()
    assert quick.epochs(15) == QUICK_MAX_EPOCHS
    assert quick.epochs(1) == 1
    assert quick.trials(20) == 2
    full = RunConfig(quick=False)
    assert full.epochs(15) == 15
    with pytest.raises(ValueError, match=r"epochs must be a positive integer"):
        full.epochs(0)


def test_subset_in_quick_mode_is_balanced_ordered_and_seeded(monkeypatch):
    monkeypatch.setenv("FMNIST_QUICK", "1")
    labels = np.tile(np.arange(10), 600)  # 6,000 examples, 600 per class.
    images = np.arange(6_000)
    kept_images, kept_labels = get_config().subset(images, labels)
    assert len(kept_labels) == QUICK_TRAIN_SIZE
    assert np.bincount(kept_labels).tolist() == [QUICK_TRAIN_SIZE // 10] * 10
    assert np.all(np.diff(kept_images) > 0)  # Original order kept.
    np.testing.assert_array_equal(labels[kept_images], kept_labels)
    np.testing.assert_array_equal(get_config().subset(images, labels)[0], kept_images)
    assert len(get_config().subset(images, labels, "test")[1]) == QUICK_TEST_SIZE
    assert len(get_config().subset(images, labels, "validation")[1]) == QUICK_TEST_SIZE


def test_subset_in_full_mode_returns_everything():
    labels = np.tile(np.arange(10), 600)
    images = np.arange(6_000)
    kept_images, kept_labels = RunConfig(quick=False).subset(images, labels)
    assert kept_images is images
    assert kept_labels is labels


def test_subset_rejects_bad_split():
    with pytest.raises(ValueError, match=r"split must be 'train', 'validation' or 'test'"):
        RunConfig(quick=True, train_size=1).subset(np.zeros(3), np.zeros(3), "valid")


def test_setup_seeds_everything_and_reports(monkeypatch, capsys):
    import tensorflow as tf

    monkeypatch.setenv("FMNIST_QUICK", "1")
    config = fmnist_utils.setup(seed=7)
    first = (random.random(), np.random.rand(), float(tf.random.uniform(())))  # noqa: NPY002
    fmnist_utils.setup(seed=7, verbose=False)
    second = (random.random(), np.random.rand(), float(tf.random.uniform(())))  # noqa: NPY002
    assert first == second
    assert config.quick is True
    output = capsys.readouterr().out
    assert f"TensorFlow {tf.__version__}" in output
    assert "Keras 3." in output
    assert "Devices: CPU:0" in output
    assert "Quick mode: ON" in output


def test_setup_rejects_bad_seed():
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer"):
        fmnist_utils.setup(seed=-1)


@pytest.mark.parametrize(
    ("tensorflow_version", "keras_version", "message"),
    [("2.15.1", "3.0.0", r"TensorFlow 2\.15\.1 \(need 2\.16"), ("2.20.0", "2.15.0", r"Keras 2\.15\.0")],
)
def test_old_versions_are_refused_with_a_fix(tensorflow_version, keras_version, message):
    with pytest.raises(RuntimeError, match=message) as info:
        check_versions(tensorflow_version, keras_version)
    assert "pip install -U -r requirements.txt" in str(info.value)


@pytest.mark.parametrize(
    ("tensorflow_version", "keras_version"), [("2.16.0", "3.0.0"), ("2.21.0rc1", "3.13.2")]
)
def test_current_versions_pass(tensorflow_version, keras_version):
    check_versions(tensorflow_version, keras_version)


def test_model_path_keeps_quick_and_full_models_apart():
    assert RunConfig(quick=False).model_path("baseline_cnn") == Path("models/baseline_cnn.keras")
    assert RunConfig(quick=True).model_path("baseline_cnn") == Path("models/baseline_cnn_quick.keras")
    assert RunConfig(quick=False).model_path("m", folder="out") == Path("out/m.keras")
    with pytest.raises(ValueError, match=r"plain file name"):
        RunConfig(quick=False).model_path("../m")


def test_run_dir_follows_the_same_rule():
    assert RunConfig(quick=False).run_dir("baseline") == Path("runs/baseline")
    assert RunConfig(quick=True).run_dir("baseline") == Path("runs/baseline_quick")
    with pytest.raises(ValueError, match=r"plain file name"):
        RunConfig(quick=True).run_dir("a/b")


def test_tuner_dir_is_temporary_and_fresh_in_quick_mode(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert RunConfig(quick=False).tuner_dir("improved") == Path("tuner/improved")
    first, second = RunConfig(quick=True).tuner_dir("improved"), RunConfig(quick=True).tuner_dir("improved")
    assert first != second
    for folder in (first, second):
        assert folder.is_dir()
        assert not any(folder.iterdir())
        assert folder.is_absolute()
        assert tmp_path not in folder.parents
        assert "improved_quick" in folder.name
        folder.rmdir()
    with pytest.raises(ValueError, match=r"plain file name"):
        RunConfig(quick=True).tuner_dir("a/b")
