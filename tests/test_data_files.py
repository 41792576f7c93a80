"""Reading and verifying dataset files: every bad input gets its own clear error."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import idx_bytes, sha256_of, tiny_arrays, write_gz, write_tiny_dataset

from fmnist_utils._files import (
    FILES,
    DataFile,
    candidate_data_dirs,
    check_local_copy,
    download_fashion_mnist,
    keras_cache_dir,
    read_idx,
    verify_file,
    verify_folder,
)
from fmnist_utils.data import DatasetError, load_fashion_mnist, load_test_set

OFFLINE = ("http://127.0.0.1:9/",)  # Port 9 (discard): nothing listens, nothing is fetched.


def test_valid_tiny_dataset_loads_exactly(tiny_dataset):
    folder, files = tiny_dataset
    expected = tiny_arrays()
    (train_images, train_labels), (test_images, test_labels) = load_fashion_mnist(
        folder, files=files, mirrors=OFFLINE
    )
    np.testing.assert_array_equal(train_images, expected["train_images"])
    np.testing.assert_array_equal(train_labels, expected["train_labels"])
    np.testing.assert_array_equal(test_images, expected["test_images"])
    np.testing.assert_array_equal(test_labels, expected["test_labels"])
    assert train_images.dtype == np.uint8
    assert train_images.flags.writeable  # Students may edit arrays in place.


def test_truncated_file_is_reported_as_truncated(tiny_dataset):
    folder, files = tiny_dataset
    path = folder / files["train_images"].name
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DatasetError, match=r"truncated") as info:
        load_fashion_mnist(folder, files=files, mirrors=OFFLINE)
    assert path.name in str(info.value)
    assert "SHA-256 mismatch" in str(info.value)
    assert "Delete the file" in str(info.value)


def test_idx_payload_shorter_than_header_says(tmp_path):
    images = np.zeros((5, 28, 28), dtype=np.uint8)
    path = write_gz(tmp_path / "x.gz", idx_bytes(images)[:-28])
    with pytest.raises(DatasetError, match=r"the file is truncated: its header announces 5x28x28"):
        read_idx(path, "images")


def test_idx_cut_inside_its_header_or_longer_than_it_says(tmp_path):
    images = np.zeros((5, 28, 28), dtype=np.uint8)
    cut = tmp_path / "cut"
    cut.write_bytes(idx_bytes(images)[:6])  # The magic number, and half of the first dimension.
    with pytest.raises(
        DatasetError, match=r"the file is truncated: 6 bytes, less than its 16-byte IDX header"
    ):
        read_idx(cut, "images")
    longer = tmp_path / "longer"
    longer.write_bytes(idx_bytes(images) + b"\0" * 28)
    with pytest.raises(DatasetError, match=r"the file is longer than its header says: .*5x28x28 images"):
        read_idx(longer, "images")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(DatasetError, match=r"the file is empty \(.*\)\. Delete the file"):  # No "error page".
        read_idx(empty, "labels")


def test_not_gzip(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(
        DatasetError, match=r"not an IDX images file, compressed or not: its data starts with 3c68"
    ):
        read_idx(path, "images")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.gz"
    path.write_bytes(b"")
    with pytest.raises(DatasetError, match=r"the file is empty"):
        read_idx(path, "labels")


def test_corrupt_gzip_data(tmp_path):
    path = write_gz(tmp_path / "x.gz", idx_bytes(np.zeros(100, dtype=np.uint8)))
    raw = bytearray(path.read_bytes())
    raw[12:20] = b"\xff" * 8
    path.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match=r"gzip data is corrupt or truncated"):
        read_idx(path, "labels")


def test_wrong_magic_number(tmp_path):
    path = write_gz(tmp_path / "x.gz", idx_bytes(np.zeros((3, 28, 28), np.uint8), magic=0x0D03))
    with pytest.raises(
        DatasetError, match=r"its data starts with 00000d03 .*an IDX images file with 00000803"
    ):
        read_idx(path, "images")


def test_swapped_images_and_labels_are_named(tmp_path):
    path = write_gz(tmp_path / "x.gz", idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(DatasetError, match=r"swapped"):
        read_idx(path, "images")


def test_wrong_image_dimensions(tmp_path):
    path = write_gz(tmp_path / "x.gz", idx_bytes(np.zeros((3, 32, 32), np.uint8)))
    with pytest.raises(DatasetError, match=r"its images are 32x32, Fashion-MNIST's are 28x28"):
        read_idx(path, "images")


def test_wrong_item_count(tmp_path):
    path = write_gz(tmp_path / "x.gz", idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    with pytest.raises(DatasetError, match=r"it holds 3 images, the official file holds 60,000"):
        read_idx(path, "images", 60_000)
    labels = write_gz(tmp_path / "y.gz", idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(DatasetError, match=r"it holds 3 labels, the official file holds 10,000"):
        read_idx(labels, "labels", 10_000)


def test_labels_out_of_range(tiny_dataset):
    folder, files = tiny_dataset
    labels = tiny_arrays()["test_labels"].copy()
    labels[4] = 12
    path = write_gz(folder / files["test_labels"].name, idx_bytes(labels))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    files = {**files, "test_labels": dataclasses.replace(files["test_labels"], sha256=digest)}
    with pytest.raises(DatasetError, match=r"1 labels lie outside 0\.\.9 \(the first, at index 4, is 12\)"):
        load_fashion_mnist(folder, files=files, mirrors=OFFLINE)


def test_wrong_digest_of_wellformed_file(tiny_dataset):
    folder, files = tiny_dataset
    wrong = {**files, "train_labels": dataclasses.replace(files["train_labels"], sha256="0" * 64)}
    with pytest.raises(DatasetError, match=r"SHA-256 mismatch: expected 0{64}, got [0-9a-f]{64}") as info:
        load_fashion_mnist(folder, files=wrong, mirrors=OFFLINE)
    assert "train-labels-idx1-ubyte.gz" in str(info.value)
    assert "well-formed" in str(info.value)


def test_verify_file_missing(tmp_path):
    with pytest.raises(DatasetError, match=r"nope.gz: cannot be read \(No such file or directory\)"):
        verify_file(tmp_path / "nope.gz", FILES["train_images"])


def test_bad_local_file_is_not_replaced_by_a_download(tiny_dataset):
    """A corrupt local file stops the load with an error; the file stays as it was."""
    folder, files = tiny_dataset
    path = folder / files["train_images"].name
    path.write_bytes(b"garbage")
    with pytest.raises(DatasetError, match=r"not an IDX images file"):
        load_fashion_mnist(folder, files=files, mirrors=OFFLINE)
    assert path.read_bytes() == b"garbage"


def test_search_order(tmp_path, monkeypatch, isolated_env):
    monkeypatch.setenv("FMNIST_DATA_DIR", str(tmp_path / "env"))
    origins = [origin for origin, _ in candidate_data_dirs(tmp_path / "arg")]
    folders = [folder for _, folder in candidate_data_dirs(tmp_path / "arg")]
    assert origins == ["data_dir argument", "FMNIST_DATA_DIR environment variable", "Keras dataset cache"]
    assert folders == [tmp_path / "arg", tmp_path / "env", isolated_env / "datasets" / "fashion-mnist"]


def test_keras_cache_default_is_home(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert keras_cache_dir() == tmp_path / ".keras" / "datasets" / "fashion-mnist"


def test_env_var_is_used_when_argument_folder_is_empty(tmp_path, monkeypatch, isolated_env):
    folder = tmp_path / "from-env"
    files = write_tiny_dataset(folder)
    monkeypatch.setenv("FMNIST_DATA_DIR", str(folder))
    (train_images, _), _ = load_fashion_mnist(tmp_path / "empty", files=files, mirrors=OFFLINE)
    assert train_images.shape == (30, 28, 28)


def test_files_in_keras_cache_are_reused(isolated_env):
    files = write_tiny_dataset(keras_cache_dir())
    (_, train_labels), _ = load_fashion_mnist(files=files, mirrors=OFFLINE)
    assert train_labels.shape == (30,)


def test_gzip_written_by_other_tools_is_read(tmp_path):
    """Multi-member or differently-configured gzip files are still valid gzip."""
    labels = np.arange(10, dtype=np.uint8)
    path = tmp_path / "labels.gz"
    with gzip.open(path, "wb", compresslevel=1) as file:
        file.write(idx_bytes(labels))
    np.testing.assert_array_equal(read_idx(path, "labels"), labels)


def test_load_test_set_gives_the_same_test_arrays(tiny_dataset):
    folder, files = tiny_dataset
    _, (test_images, test_labels) = load_fashion_mnist(folder, files=files, mirrors=OFFLINE)
    images, labels = load_test_set(folder, files=files, mirrors=OFFLINE)
    np.testing.assert_array_equal(images, test_images)
    np.testing.assert_array_equal(labels, test_labels)
    assert images.dtype == labels.dtype == np.uint8


# --------------------------------------------------------------------------- any working folder


def decompress(folder, files: dict[str, DataFile], keys) -> dict[str, DataFile]:
    """Replace the ``.gz`` files of ``keys`` by their decompressed versions, as a browser does."""
    for key in keys:
        spec = files[key]
        (folder / spec.raw_name).write_bytes(gzip.decompress((folder / spec.name).read_bytes()))
        (folder / spec.name).unlink()
    return files


@pytest.mark.parametrize("keys", [set(FILES), {"train_images", "test_labels"}], ids=["all", "mixed"])
def test_decompressed_files_load_like_the_gz_files(tiny_dataset, keys):
    folder, files = tiny_dataset
    table = decompress(folder, files, keys)
    (train_images, train_labels), (test_images, test_labels) = load_fashion_mnist(
        folder, files=table, mirrors=OFFLINE
    )
    loaded = [train_images, train_labels, test_images, test_labels]
    for array, key in zip(
        loaded, ["train_images", "train_labels", "test_images", "test_labels"], strict=True
    ):
        np.testing.assert_array_equal(array, tiny_arrays()[key])
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        spec.raw_name if key in keys else spec.name for key, spec in table.items()
    )


def test_truncated_decompressed_file_is_reported_as_truncated(tiny_dataset):
    folder, files = tiny_dataset
    table = decompress(folder, files, {"train_images"})
    path = folder / table["train_images"].raw_name
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.raises(DatasetError, match=r"truncated") as info:
        load_fashion_mnist(folder, files=table, mirrors=OFFLINE)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "SHA-256 mismatch as well" in message
    assert "Delete the file" in message


def test_modified_decompressed_file_names_the_decompressed_digest(tiny_dataset):
    folder, files = tiny_dataset
    table = decompress(folder, files, {"test_labels"})
    path = folder / table["test_labels"].raw_name
    raw = bytearray(path.read_bytes())
    raw[-1] = (raw[-1] + 1) % 10  # Still a valid label: well-formed, but not the official file.
    path.write_bytes(bytes(raw))
    expected = table["test_labels"].raw_sha256
    with pytest.raises(DatasetError, match=rf"SHA-256 mismatch: expected {expected}") as info:
        load_fashion_mnist(folder, files=table, mirrors=OFFLINE)
    assert f"not the official {table['test_labels'].raw_name} " in str(info.value)


def test_decompressed_contents_under_the_gz_name_are_accepted(tiny_dataset):
    """Some browsers decompress the download but keep the ``.gz`` name."""
    folder, files = tiny_dataset
    table = decompress(folder, files, {"train_labels"})
    spec = table["train_labels"]
    (folder / spec.raw_name).rename(folder / spec.name)
    (_, train_labels), _ = load_fashion_mnist(folder, files=table, mirrors=OFFLINE)
    np.testing.assert_array_equal(train_labels, tiny_arrays()["train_labels"])


def test_nonexistent_folder_is_reported_as_such_with_its_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError) as info:
        load_fashion_mnist("no/such/folder", mirrors=OFFLINE)
    message = str(info.value)
    assert (
        f"  - {tmp_path / 'no' / 'such' / 'folder'} (data_dir argument 'no/such/folder', relative " in message
    )
    assert f"relative to the working folder {tmp_path}): does not exist" in message
    assert "missing" not in message.split("Looked for")[1]
    assert not (tmp_path / "no").exists()
    with pytest.raises(DatasetError, match=rf"^{tmp_path / 'nowhere'}: the folder does not exist\. To fix"):
        verify_folder("nowhere")


def test_relative_environment_variable_is_reported_with_its_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FMNIST_DATA_DIR", "data")
    with pytest.raises(DatasetError) as info:
        load_fashion_mnist(mirrors=OFFLINE)
    assert (
        f"  - {tmp_path / 'data'} (FMNIST_DATA_DIR environment variable 'data', relative to the "
        f"working folder {tmp_path}): does not exist" in str(info.value)
    )


def test_relative_folder_loads_and_is_returned_absolute(tmp_path, monkeypatch):
    files = write_tiny_dataset(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FMNIST_DATA_DIR", "data")
    assert download_fashion_mnist(files=files, mirrors=OFFLINE) == tmp_path / "data"
    (train_images, _), _ = load_fashion_mnist("./data/../data", files=files, mirrors=OFFLINE)
    assert train_images.shape == (30, 28, 28)


def test_errors_of_relative_files_name_the_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "labels.gz").write_bytes(b"")
    with pytest.raises(
        DatasetError, match=rf"^{tmp_path / 'labels.gz'}: not an IDX labels .*: the file is empty"
    ):
        read_idx("labels.gz", "labels")
    with pytest.raises(DatasetError, match=rf"^{tmp_path / 'gone.gz'}: cannot be read"):
        verify_file("gone.gz", FILES["train_images"])


def test_verify_folder_lists_every_problem(tiny_dataset):
    folder, files = tiny_dataset
    (folder / files["train_images"].name).write_bytes(b"<html>")
    (folder / files["test_labels"].name).unlink()
    with pytest.raises(DatasetError) as info:
        verify_folder(folder, files)
    lines = str(info.value).splitlines()
    assert lines[0] == f"{folder}: 2 of the 4 files are missing or bad:"
    assert lines[1].startswith(f"  - {folder / files['train_images'].name}: not an IDX images file")
    assert lines[2].startswith(f"  - {folder / files['test_labels'].name}: missing")
    assert lines[3].startswith(
        f"To fix it: copy the four Fashion-MNIST files (.gz or decompressed) into {folder}"
    )
    assert verify_folder(folder.parent / "tiny" / ".." / "tiny", write_tiny_dataset(folder)) == {
        key: folder / spec.name for key, spec in files.items()
    }


def test_the_digest_covers_the_whole_file(tmp_path):
    """A file bigger than the 1 MiB read blocks, changed near its end, fails verification."""
    images = np.random.default_rng(0).integers(0, 256, size=(1500, 28, 28), dtype=np.uint8)  # 1.1 MB
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(images))
    spec = DataFile("train-images-idx3-ubyte.gz", "images", 1500, "0" * 64, sha256_of(path))
    verify_file(path, spec)
    images[-1, -1, -1] ^= 0xFF  # One pixel of the last image: past the first MiB.
    path.write_bytes(idx_bytes(images))
    with pytest.raises(DatasetError, match=r"SHA-256 mismatch"):
        verify_file(path, spec)


@pytest.mark.parametrize("kind", ["images", "labels"])
def test_idx_payload_longer_than_header_says(tmp_path, kind):
    array = np.zeros((5, 28, 28) if kind == "images" else (5,), dtype=np.uint8)
    path = write_gz(tmp_path / "x.gz", idx_bytes(array) + b"\0")
    with pytest.raises(
        DatasetError, match=rf"the file is longer than its header says: its header announces 5\S* {kind} in"
    ):
        read_idx(path, kind)


def test_wrong_magic_number_of_a_labels_file(tmp_path):
    path = write_gz(tmp_path / "y.gz", idx_bytes(np.zeros(3, np.uint8), magic=0x0802))
    with pytest.raises(
        DatasetError, match=r"its data starts with 00000802 .*an IDX labels file with 00000801"
    ):
        read_idx(path, "labels")


def test_an_images_file_read_as_labels_says_they_were_swapped(tmp_path):
    path = write_gz(tmp_path / "x.gz", idx_bytes(np.zeros((2, 28, 28), np.uint8)))
    with pytest.raises(
        DatasetError, match=r"starts with 00000803, as an IDX images file does: were the images and labels"
    ):
        read_idx(path, "labels")


@pytest.mark.parametrize(("largest", "accepted"), [(9, True), (10, False)])
def test_labels_must_lie_below_the_number_of_classes(tmp_path, largest, accepted):
    labels = np.array([0, largest, 3], dtype=np.uint8)
    path = write_gz(tmp_path / "y.gz", idx_bytes(labels))
    if accepted:
        np.testing.assert_array_equal(read_idx(path, "labels"), labels)
        return
    with pytest.raises(DatasetError, match=r"1 labels lie outside 0\.\.9 \(the first, at index 1, is 10\)"):
        read_idx(path, "labels")


def test_check_local_copy_verifies_the_folder_given_or_the_one_it_finds(tiny_dataset, monkeypatch):
    folder, files = tiny_dataset
    expected = {key: folder / spec.name for key, spec in files.items()}
    assert check_local_copy(folder, files=files) == expected
    monkeypatch.setenv("FMNIST_DATA_DIR", str(folder))
    assert check_local_copy(files=files) == expected
    assert check_local_copy("", files=files) == expected  # An empty folder name: none given.
    with pytest.raises(DatasetError, match=r"SHA-256 mismatch"):
        check_local_copy(folder)  # Tiny files are not the official ones.
    monkeypatch.setenv("FMNIST_DATA_DIR", str(folder.parent / "elsewhere"))
    write_tiny_dataset(keras_cache_dir())
    with pytest.raises(DatasetError, match=r"SHA-256 mismatch"):
        check_local_copy()  # The Keras cache's copy, against the official digests.


def test_a_truncated_labels_file_is_named(tmp_path):
    path = write_gz(tmp_path / "labels.gz", idx_bytes(np.zeros(5, np.uint8))[:-2])
    with pytest.raises(DatasetError, match=r"^" + re.escape(str(path)) + r": the file is truncated"):
        read_idx(path, "labels")


def test_a_file_of_zero_items_reads_as_an_empty_array(tmp_path):
    path = write_gz(tmp_path / "labels.gz", idx_bytes(np.zeros(0, np.uint8)))
    assert read_idx(path, "labels").shape == (0,)


def test_wrong_magic_numbers_say_what_the_file_should_start_with(tmp_path):
    images = write_gz(tmp_path / "x.gz", idx_bytes(np.zeros((2, 28, 28), np.uint8), magic=0x0802))
    with pytest.raises(DatasetError) as info:
        read_idx(images, "images")
    assert str(info.value).startswith(
        f"{images}: not an IDX images file, compressed or not: its data starts with 00000802 (a gzip "
        "file starts with 1f8b, an IDX images file with 00000803); perhaps an error page saved under its "
        "name. Delete"
    )


def test_a_file_with_the_right_digest_and_another_count_is_refused(tiny_dataset):
    folder, files = tiny_dataset
    more = {**files, "test_images": dataclasses.replace(files["test_images"], count=11)}
    with pytest.raises(DatasetError, match=r"it holds 10 images, the official file holds 11\."):
        load_fashion_mnist(folder, files=more, mirrors=OFFLINE)
    more = {**files, "test_labels": dataclasses.replace(files["test_labels"], count=11)}
    with pytest.raises(DatasetError, match=r"it holds 10 labels, the official file holds 11\."):
        load_fashion_mnist(folder, files=more, mirrors=OFFLINE)


def test_an_empty_folder_name_is_no_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("FMNIST_DATA_DIR", str(tmp_path / "env"))
    assert candidate_data_dirs("") == candidate_data_dirs() == candidate_data_dirs(None)
    assert next(origin for origin, _ in candidate_data_dirs("")).startswith("FMNIST_DATA_DIR")


def test_the_keras_cache_falls_back_to_tmp_when_home_is_read_only(monkeypatch):
    from fmnist_utils import _files as data

    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setattr(data.os, "access", lambda path, mode: False)
    assert keras_cache_dir() == Path("/tmp/.keras/datasets/fashion-mnist")


def test_verify_folder_says_what_the_path_is_and_how_to_fix_it(tiny_dataset, tmp_path):
    folder, files = tiny_dataset
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    with pytest.raises(DatasetError) as info:
        verify_folder(a_file, files)
    assert str(info.value).startswith(f"{a_file}: is a file, not a folder. To fix it: copy the four")
    assert f"into {a_file}, or download them there" in str(info.value)
    path = folder / files["train_labels"].name
    path.write_bytes(b"garbage")  # One bad file, none missing: no advice about missing files.
    with pytest.raises(DatasetError) as info:
        verify_folder(folder, files)
    assert str(info.value).startswith(f"{path}: not an IDX labels file")
    assert str(info.value).endswith(f"(SHA-256 mismatch as well: got {sha256_of(path)}.)")
