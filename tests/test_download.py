"""The download path, for real: keras.utils.get_file against an HTTP server on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from helpers import tiny_arrays, write_tiny_dataset

from fmnist_utils.__main__ import main
from fmnist_utils._files import download_fashion_mnist, keras_cache_dir
from fmnist_utils.data import DatasetError, load_fashion_mnist, load_test_set


class FakeOrigin:
    """A tiny file server. Mirrors are URL prefixes that change what it serves:

    ``/good/NAME`` the file; ``/dead/NAME`` 404; ``/corrupt/NAME`` the file with one
    byte flipped; ``/short/NAME`` half the file, then the connection closes although
    the Content-Length promised all of it (an interrupted download).
    """

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.requests: list[str] = []
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                origin.requests.append(self.path)
                _, mode, name = self.path.split("/", 2)
                body = origin.files.get(name)
                if mode == "dead" or body is None:
                    self.send_error(404)
                    return
                if mode == "corrupt":
                    body = body[:-1] + bytes([body[-1] ^ 0xFF])
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if mode == "short" else body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def mirror(self, mode: str) -> str:
        return f"{self.url}/{mode}/"


@pytest.fixture
def origin(tmp_path) -> Iterator[tuple[FakeOrigin, dict]]:
    source = tmp_path / "source"
    files = write_tiny_dataset(source)
    server = FakeOrigin({spec.name: (source / spec.name).read_bytes() for spec in files.values()})
    server.thread.start()
    yield server, files
    server.server.shutdown()
    server.server.server_close()


def refused_mirror() -> str:
    """A URL on 127.0.0.1 where nothing listens: what a machine without internet sees."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.rglob("*")) if folder.exists() else []


def test_good_download_lands_in_keras_cache_and_loads(origin):
    server, files = origin
    (train_images, train_labels), (test_images, _) = load_fashion_mnist(
        mirrors=[server.mirror("good")], files=files
    )
    np.testing.assert_array_equal(train_images, tiny_arrays()["train_images"])
    assert train_labels.shape == (30,)
    assert test_images.shape == (10, 28, 28)
    assert leftovers(keras_cache_dir()) == sorted(spec.name for spec in files.values())
    assert len(server.requests) == 4
    # A second load uses the verified local copy: no new request.
    load_fashion_mnist(mirrors=[server.mirror("good")], files=files)
    assert len(server.requests) == 4


def test_download_goes_to_data_dir_when_given(origin, tmp_path):
    server, files = origin
    target = tmp_path / "course-data"
    assert download_fashion_mnist(target, mirrors=[server.mirror("good")], files=files) == target
    assert leftovers(target) == sorted(spec.name for spec in files.values())
    assert not keras_cache_dir().exists()


def test_corrupted_download_raises_digest_error_and_leaves_nothing(origin):
    server, files = origin
    with pytest.raises(DatasetError, match=r"(?is)Could not download .*(sha256|SHA-256)") as info:
        load_fashion_mnist(mirrors=[server.mirror("corrupt")], files=files)
    assert f"  - {server.mirror('corrupt')}train-images-idx3-ubyte.gz: " in str(info.value)  # Which URL.
    assert leftovers(keras_cache_dir()) == []


def test_interrupted_download_leaves_nothing(origin):
    server, files = origin
    with pytest.raises(DatasetError, match=r"(?s)Could not download .*retrieval incomplete"):
        load_fashion_mnist(mirrors=[server.mirror("short")], files=files)
    assert leftovers(keras_cache_dir()) == []


@pytest.mark.parametrize("first", ["dead", "refused", "corrupt"])
def test_failing_first_mirror_falls_through_to_second(origin, first):
    server, files = origin
    first_mirror = refused_mirror() if first == "refused" else server.mirror(first)
    load_fashion_mnist(mirrors=[first_mirror, server.mirror("good")], files=files)
    assert leftovers(keras_cache_dir()) == sorted(spec.name for spec in files.values())
    assert sum(path.startswith("/good/") for path in server.requests) == 4


def test_only_missing_files_are_downloaded(origin):
    server, files = origin
    cache = keras_cache_dir()
    write_tiny_dataset(cache)
    (cache / files["test_labels"].name).unlink()
    load_fashion_mnist(mirrors=[server.mirror("good")], files=files)
    assert server.requests == [f"/good/{files['test_labels'].name}"]


def test_no_network_no_local_copy_lists_every_place(tmp_path, monkeypatch, origin):
    _, files = origin
    monkeypatch.setenv("FMNIST_DATA_DIR", str(tmp_path / "offline-copy"))
    with pytest.raises(DatasetError) as info:
        load_fashion_mnist(tmp_path / "given", mirrors=[refused_mirror(), refused_mirror()], files=files)
    message = str(info.value)
    assert "Connection refused" in message
    assert message.count("http://127.0.0.1:") == 2  # Both mirrors are listed.
    for where in (tmp_path / "given", tmp_path / "offline-copy", keras_cache_dir()):
        assert str(where) in message
    assert "FMNIST_DATA_DIR=/path/to/that/folder" in message
    assert not (tmp_path / "given").exists()  # Nothing half-written, not even a folder.


def test_existing_good_files_survive_a_failed_download(origin):
    server, files = origin
    cache = keras_cache_dir()
    write_tiny_dataset(cache)
    (cache / files["test_images"].name).unlink()
    before = {path.name: path.read_bytes() for path in cache.iterdir()}
    with pytest.raises(DatasetError):
        load_fashion_mnist(mirrors=[server.mirror("corrupt")], files=files)
    assert {path.name: path.read_bytes() for path in cache.iterdir()} == before


def test_cli_download_error_exit_status(tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    for name in (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ):
        (folder / name).write_bytes(b"not gzip")
    assert main(["download", "--data-dir", str(folder)]) == 1
    assert "train-images-idx3-ubyte.gz: not an IDX images file" in capsys.readouterr().err


@pytest.fixture
def no_network(monkeypatch):
    """Make every download attempt fail the test: ``--check`` must never reach the network."""

    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr("keras.utils.get_file", refuse)
    monkeypatch.setattr("fmnist_utils._files._download_one", refuse)
    monkeypatch.setattr("fmnist_utils.__main__.download_fashion_mnist", refuse)


def test_cli_check_of_a_missing_folder_downloads_nothing(tmp_path, monkeypatch, capsys, no_network):
    monkeypatch.chdir(tmp_path)
    assert main(["download", "--check", "--data-dir", "course-data"]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: {tmp_path / 'course-data'}: the folder does not exist.")
    assert not (tmp_path / "course-data").exists()


def test_cli_check_lists_every_bad_file(tmp_path, capsys, no_network):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip")
    (folder / "train-labels-idx1-ubyte").write_bytes(b"")
    assert main(["download", "--check", "--data-dir", str(folder)]) == 1
    error = capsys.readouterr().err
    assert f"{folder / 'train-images-idx3-ubyte.gz'}: not an IDX images file" in error
    assert (
        f"{folder / 'train-labels-idx1-ubyte'}: not an IDX labels file, compressed or not: the file is empty"
        in error
    )
    assert f"{folder / 't10k-images-idx3-ubyte.gz'}: missing" in error
    assert f"{folder / 't10k-labels-idx1-ubyte.gz'}: missing" in error


def test_cli_check_without_a_folder_lists_where_it_looked(capsys, no_network):
    assert main(["download", "--check"]) == 1
    error = capsys.readouterr().err
    assert "No complete local copy of Fashion-MNIST on this machine (nothing was downloaded)." in error
    assert f"{keras_cache_dir()} (Keras dataset cache): does not exist" in error
    assert "(FMNIST_DATA_DIR is not set)" in error


def test_where_it_looked_says_what_each_folder_lacks(tmp_path, monkeypatch, capsys, no_network):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("FMNIST_DATA_DIR", str(not_a_folder))
    cache = keras_cache_dir()
    write_tiny_dataset(cache)
    (cache / "t10k-images-idx3-ubyte.gz").unlink()
    (cache / "t10k-labels-idx1-ubyte.gz").unlink()
    assert main(["download", "--check"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert "Looked for a local copy (.gz or decompressed files) in:" in lines
    assert f"  - {not_a_folder} (FMNIST_DATA_DIR environment variable): is a file, not a folder" in lines
    assert (
        f"  - {cache} (Keras dataset cache): missing t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz"
        in lines
    )
    assert not any("FMNIST_DATA_DIR is not set" in line for line in lines)


def test_load_test_set_downloads_from_the_mirrors_given(origin):
    server, files = origin
    test_images, test_labels = load_test_set(mirrors=[server.mirror("good")], files=files)
    assert len(server.requests) == 4
    np.testing.assert_array_equal(test_labels, tiny_arrays()["test_labels"])
    np.testing.assert_array_equal(test_images, tiny_arrays()["test_images"])


def test_a_modified_file_in_a_partly_filled_folder_is_refused_before_downloading(origin):
    """The files already there are verified too: a well-formed but modified one stops the load."""
    server, files = origin
    cache = keras_cache_dir()
    arrays = tiny_arrays()
    arrays["train_labels"] = np.roll(arrays["train_labels"], 1)  # Well-formed, every label wrong.
    write_tiny_dataset(cache, arrays)
    (cache / files["test_labels"].name).unlink()
    modified = (cache / files["train_labels"].name).read_bytes()
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte\.gz: SHA-256 mismatch"):
        load_fashion_mnist(mirrors=[server.mirror("good")], files=files)
    assert server.requests == []  # Nothing fetched on top of a bad folder.
    assert (cache / files["train_labels"].name).read_bytes() == modified  # Nor anything overwritten.


def test_downloads_are_staged_in_the_target_folder(origin, monkeypatch):
    """Downloaded into a hidden folder inside the target, then moved: on one filesystem the move is atomic."""
    from fmnist_utils import _files as data

    server, files = origin
    moves = []
    real_replace = os.replace
    monkeypatch.setattr(
        data.os,
        "replace",
        lambda source, target: moves.append((Path(source), Path(target))) or real_replace(source, target),
    )
    load_fashion_mnist(mirrors=[server.mirror("good")], files=files)
    cache = keras_cache_dir()
    assert len(moves) == 4
    for source, target in moves:
        assert source.parent.parent == target.parent == cache
    assert sorted(path.name for path in cache.iterdir()) == sorted(spec.name for spec in files.values())
