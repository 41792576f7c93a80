"""The real dataset, from FMNIST_DATA_DIR (CI points it at ../shared/data/fashion-mnist)."""

from __future__ import annotations

import hashlib

import numpy as np

from fmnist_utils.__main__ import main
from fmnist_utils.data import CLASS_NAMES, FILES, load_fashion_mnist


def test_official_digests(real_data_dir):
    for spec in FILES.values():
        digest = hashlib.sha256((real_data_dir / spec.name).read_bytes()).hexdigest()
        assert digest == spec.sha256, spec.name


def test_shapes_dtypes_and_counts(real_data):
    (train_images, train_labels), (test_images, test_labels) = real_data
    assert train_images.shape == (60_000, 28, 28)
    assert train_labels.shape == (60_000,)
    assert test_images.shape == (10_000, 28, 28)
    assert test_labels.shape == (10_000,)
    for array in real_data[0] + real_data[1]:
        assert array.dtype == np.uint8
    assert np.bincount(train_labels, minlength=10).tolist() == [6_000] * 10
    assert np.bincount(test_labels, minlength=10).tolist() == [1_000] * 10
    assert train_images.min() == 0
    assert train_images.max() == 255


def test_official_order(real_data):
    """The first labels of the official files (as in the dataset's README)."""
    (_, train_labels), (_, test_labels) = real_data
    assert train_labels[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert test_labels[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert CLASS_NAMES[9] == "Ankle boot"


def test_found_through_environment_variable(real_data_dir, monkeypatch):
    monkeypatch.setenv("FMNIST_DATA_DIR", str(real_data_dir))
    (_, train_labels), _ = load_fashion_mnist(mirrors=())
    assert len(train_labels) == 60_000


def test_cli_download_verifies_local_copy(real_data_dir, capsys):
    assert main(["download", "--data-dir", str(real_data_dir)]) == 0
    assert f"4 files verified (SHA-256) in {real_data_dir}" in capsys.readouterr().out


def test_load_test_set_on_the_real_files(real_data_dir, real_data):
    from fmnist_utils.data import load_test_set

    test_images, test_labels = load_test_set(real_data_dir)
    np.testing.assert_array_equal(test_images, real_data[1][0])
    np.testing.assert_array_equal(test_labels, real_data[1][1])
