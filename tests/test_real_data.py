"""The real dataset, from FMNIST_DATA_DIR (CI points it at ../shared/data/fashion-mnist)."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from fmnist_utils.__main__ import main
from fmnist_utils._files import FILES
from fmnist_utils.data import CLASS_NAMES, DatasetError, load_fashion_mnist


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
    folder = os.path.abspath(real_data_dir)  # CI gives a relative FMNIST_DATA_DIR; messages are absolute.
    assert f"4 files verified (SHA-256) in {folder}" in capsys.readouterr().out


def test_load_test_set_on_the_real_files(real_data_dir, real_data):
    from fmnist_utils.data import load_test_set

    test_images, test_labels = load_test_set(real_data_dir)
    np.testing.assert_array_equal(test_images, real_data[1][0])
    np.testing.assert_array_equal(test_labels, real_data[1][1])


def copy_dataset(source: Path, folder: Path, decompressed: set[str]) -> Path:
    """Copy the real files into ``folder``, decompressing those of ``decompressed`` as a browser does."""
    folder.mkdir()
    for key, spec in FILES.items():
        content = (source / spec.name).read_bytes()
        if key in decompressed:
            (folder / spec.raw_name).write_bytes(gzip.decompress(content))
        else:
            (folder / spec.name).write_bytes(content)
    return folder


@pytest.mark.parametrize("decompressed", [set(FILES), {"train_labels", "test_images"}], ids=["all", "mixed"])
def test_decompressed_files_load_like_the_official_ones(real_data_dir, real_data, tmp_path, decompressed):
    folder = copy_dataset(real_data_dir, tmp_path / "downloads", decompressed)
    loaded = load_fashion_mnist(folder, mirrors=())
    for array, expected in zip(loaded[0] + loaded[1], real_data[0] + real_data[1], strict=True):
        np.testing.assert_array_equal(array, expected)


def test_truncated_decompressed_file_is_reported(real_data_dir, tmp_path):
    folder = copy_dataset(real_data_dir, tmp_path / "downloads", {"train_images"})
    path = folder / FILES["train_images"].raw_name
    with open(path, "r+b") as file:
        file.truncate(1_000_000)
    with pytest.raises(
        DatasetError, match=r"the file is truncated: its header announces 60000x28x28"
    ) as info:
        load_fashion_mnist(folder, mirrors=())
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.parametrize("decompressed", [set(), set(FILES)], ids=["gz", "decompressed"])
def test_cli_check_verifies_without_downloading(real_data_dir, tmp_path, capsys, monkeypatch, decompressed):
    folder = copy_dataset(real_data_dir, tmp_path / "data", decompressed)

    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr("keras.utils.get_file", refuse)
    monkeypatch.setattr("fmnist_utils._files._download_one", refuse)
    monkeypatch.chdir(tmp_path)
    assert main(["download", "--check", "--data-dir", "data"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [spec.raw_name if decompressed else spec.name for spec in FILES.values()]
    assert lines[:4] == [
        f"OK {folder / name} ({spec.count:,} {spec.kind}, SHA-256 verified)"
        for name, spec in zip(names, FILES.values(), strict=True)
    ]
    assert lines[4] == f"Fashion-MNIST: 4 files verified (SHA-256) in {folder}; nothing was downloaded."
    monkeypatch.setenv("FMNIST_DATA_DIR", "data")  # Without --data-dir: the search order.
    assert main(["download", "--check"]) == 0
    assert f"in {folder}; nothing was downloaded." in capsys.readouterr().out
