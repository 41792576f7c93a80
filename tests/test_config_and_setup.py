"""Quick mode and the notebooks' setup() call."""

from __future__ import annotations

import os
import platform
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fmnist_utils
from fmnist_utils import _runtime
from fmnist_utils._runtime import cpu_limit, limit_malloc_arenas, memory_limit_bytes, release_free_memory
from fmnist_utils.config import (
    QUICK_ENV_VAR,
    QUICK_MAX_EPOCHS,
    QUICK_TEST_SIZE,
    QUICK_TRAIN_SIZE,
    SMALL_MACHINE_BYTES,
    SMALL_MACHINE_EVAL_BATCH,
    SMALL_MACHINE_SHUFFLE_BUFFER,
    WORK_DIR_ENV_VAR,
    RunConfig,
    default_work_dir,
    get_config,
    quick_mode,
    shown_path,
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


def test_quick_mode_unset_is_full(monkeypatch, machine_memory):
    machine_memory(16 * 2**30)
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


def test_a_lesson_may_choose_its_own_quick_epochs_and_size(monkeypatch):
    """Quick mode keeps each lesson: a lesson names what its point needs (issue 30)."""
    monkeypatch.setenv("FMNIST_QUICK", "1")
    quick = get_config()
    assert (quick.epochs(15, quick=15), quick.epochs(12, quick=6), quick.epochs(4)) == (
        15,
        6,
        QUICK_MAX_EPOCHS,
    )
    images, labels = np.zeros((5000, 2)), np.repeat(np.arange(10), 500)
    assert len(quick.subset(images, labels, "train", quick_size=4000)[1]) == 4000
    assert len(quick.subset(images, labels, "validation", quick_size=2000)[1]) == 2000
    assert (
        len(quick.subset(images, labels, "train")[1]) == QUICK_TRAIN_SIZE if QUICK_TRAIN_SIZE < 5000 else 5000
    )
    full = RunConfig(quick=False)
    assert full.epochs(12, quick=6) == 12
    assert len(full.subset(images, labels, "train", quick_size=100)[1]) == 5000


def test_subset_in_quick_mode_is_balanced_ordered_and_seeded(monkeypatch):
    monkeypatch.setenv("FMNIST_QUICK", "1")
    labels = np.tile(np.arange(10), 1_200)  # 12,000 examples, more than quick mode keeps.
    images = np.arange(12_000)
    kept_images, kept_labels = get_config().subset(images, labels)
    assert len(kept_labels) == QUICK_TRAIN_SIZE
    assert np.bincount(kept_labels).tolist() == [QUICK_TRAIN_SIZE // 10] * 10
    assert np.all(np.diff(kept_images) > 0)  # Original order kept.
    np.testing.assert_array_equal(labels[kept_images], kept_labels)
    np.testing.assert_array_equal(get_config().subset(images, labels)[0], kept_images)
    assert len(get_config().subset(images, labels, "test")[1]) == QUICK_TEST_SIZE
    assert len(get_config().subset(images, labels, "validation")[1]) == QUICK_TEST_SIZE


def test_subset_follows_its_seed(monkeypatch):
    monkeypatch.setenv("FMNIST_QUICK", "1")
    labels = np.tile(np.arange(10), 1_200)
    images = np.arange(12_000)
    picks = {seed: get_config().subset(images, labels, seed=seed)[0] for seed in (0, 0, 1)}
    assert not np.array_equal(picks[0], picks[1])  # Another seed, another pick.
    np.testing.assert_array_equal(get_config().subset(images, labels, seed=1)[0], picks[1])


def test_subset_in_full_mode_returns_everything():
    labels = np.tile(np.arange(10), 600)
    images = np.arange(6_000)
    kept_images, kept_labels = RunConfig(quick=False).subset(images, labels)
    assert kept_images is images
    assert kept_labels is labels


def test_subset_rejects_images_and_labels_of_different_lengths():
    """Quick mode picks rows by the labels: the training images with the test labels must fail here."""
    with pytest.raises(ValueError, match=r"images and labels must have the same length, got 600 and 300\."):
        RunConfig(quick=True, train_size=100).subset(np.zeros((600, 28, 28)), np.arange(300) % 10)


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


def test_setup_follows_its_seed():
    import tensorflow as tf

    def draws(seed):
        fmnist_utils.setup(seed=seed, verbose=False)
        return (random.random(), np.random.rand(), float(tf.random.uniform(())))  # noqa: NPY002

    first, other, again = draws(3), draws(4), draws(3)
    assert first == again
    assert all(a != b for a, b in zip(first, other, strict=True))  # Every generator follows the seed.


def test_setup_builds_the_one_configuration_every_module_reads(monkeypatch):
    """The cgroup files are read once per Setup cell; a re-run Setup cell reads FMNIST_QUICK again."""
    reads = []
    real_path = _runtime.Path

    def recorded(name):
        if str(name).startswith("/sys/fs/cgroup"):
            reads.append(str(name))
        return real_path(name)

    monkeypatch.setattr(_runtime, "Path", recorded)
    monkeypatch.setenv(QUICK_ENV_VAR, "0")
    config = fmnist_utils.setup(seed=1)
    assert get_config() is config
    assert get_config() is config
    assert reads
    assert len(reads) == len(set(reads))  # Each file once: memory (config) and CPU quota (TensorFlow).
    monkeypatch.setenv(QUICK_ENV_VAR, "1")
    assert fmnist_utils.setup(seed=1, verbose=False).quick
    assert get_config().quick


def test_without_setup_the_first_configuration_is_kept(monkeypatch):
    from fmnist_utils import config as config_module

    monkeypatch.setenv(QUICK_ENV_VAR, "1")
    first = get_config()
    config_module.os.environ[QUICK_ENV_VAR] = "0"  # Not through monkeypatch: nothing forgets it.
    assert get_config() is first
    assert get_config(rebuild=True).quick is False


def test_setup_rejects_bad_seed():
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer"):
        fmnist_utils.setup(seed=-1)


@pytest.mark.parametrize(
    ("tensorflow_version", "keras_version", "message"),
    [
        ("2.19.1", "3.10.0", r"TensorFlow 2\.19\.1 \(need 2\.20"),
        ("2.20.0", "2.15.0", r"Keras 2\.15\.0"),
        ("2.20.0", "3.9.2", r"Keras 3\.9\.2 \(need 3\.10 or newer"),
    ],
)
def test_old_versions_are_refused_with_a_fix(tensorflow_version, keras_version, message):
    with pytest.raises(RuntimeError, match=message) as info:
        check_versions(tensorflow_version, keras_version)
    assert "pip install -U -r requirements.txt" in str(info.value)


@pytest.mark.parametrize(
    ("tensorflow_version", "keras_version"), [("2.20.0", "3.10.0"), ("2.21.0rc1", "3.13.2")]
)
def test_current_versions_pass(tensorflow_version, keras_version):
    check_versions(tensorflow_version, keras_version)


def test_model_path_keeps_quick_and_full_models_apart(tmp_path):
    work = tmp_path / "work"
    assert (
        RunConfig(quick=False, work_dir=work).model_path("baseline_cnn") == work / "models/baseline_cnn.keras"
    )
    assert (
        RunConfig(quick=True, work_dir=work).model_path("baseline_cnn")
        == work / "models/baseline_cnn_quick.keras"
    )
    assert RunConfig(quick=False, work_dir=work).model_path("m", folder="out") == work / "out/m.keras"
    with pytest.raises(ValueError, match=r"plain file name"):
        RunConfig(quick=False).model_path("../m")


def test_run_dir_follows_the_same_rule(tmp_path):
    assert RunConfig(quick=False, work_dir=tmp_path).run_dir("baseline") == tmp_path / "runs/baseline"
    assert RunConfig(quick=True, work_dir=tmp_path).run_dir("baseline") == tmp_path / "runs/baseline_quick"
    with pytest.raises(ValueError, match=r"plain file name"):
        RunConfig(quick=True).run_dir("a/b")


def test_tuner_dir_is_temporary_and_fresh_in_quick_mode(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert RunConfig(quick=False, work_dir=tmp_path).tuner_dir("improved") == tmp_path / "tuner/improved"
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


def test_quick_tuner_dirs_are_removed_when_the_kernel_ends(tmp_path):
    """Each quick search's trials, in a temporary folder, go when the process does (not left in /tmp)."""
    import subprocess
    import sys

    script = (
        "from fmnist_utils.config import RunConfig\n"
        "folder = RunConfig(quick=True).tuner_dir('improved')\n"
        "(folder / 'trial_0').mkdir()\n"
        "print(folder)\n"
    )
    environment = {**os.environ, "TMPDIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip())
    assert folder.parent == tmp_path
    assert not folder.exists()


def test_work_dir_is_the_course_folder_whatever_the_working_folder(tmp_path, monkeypatch):
    """Notebook 04 started from another folder must find notebook 03's model, not retrain."""
    course_notebooks = Path(__file__).resolve().parent.parent / "notebooks"
    monkeypatch.chdir(tmp_path)
    config = get_config()
    assert config.work_dir == course_notebooks
    assert config.model_path("baseline_cnn").is_absolute()
    assert config.model_path("baseline_cnn").parent == course_notebooks / "models"
    assert "Saving models and training logs in ~/" in config.describe() or str(course_notebooks) in (
        config.describe()
    )  # tmp_path is far from the course: shown from the home folder, or whole.


@pytest.mark.parametrize(
    ("working", "target", "shown"),
    [
        ("course/solutions", "course/notebooks", "../notebooks"),
        ("course/notebooks", "course/notebooks/models/a.keras", "models/a.keras"),
        ("course/notebooks", "course/notebooks", "."),
        ("elsewhere/deep/down", "course/notebooks", "~/course/notebooks"),
    ],
)
def test_shown_path_leaves_out_the_machines_folders(tmp_path, monkeypatch, working, target, shown):
    """Saved outputs must not carry the author's checkout path (issue 30)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / working).mkdir(parents=True)
    monkeypatch.chdir(tmp_path / working)
    assert shown_path(tmp_path / target) == shown == get_config().shown_path(tmp_path / target)


def test_describe_names_the_work_folder_as_the_notebook_sees_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for folder in ("course/notebooks", "course/solutions"):
        (tmp_path / folder).mkdir(parents=True)
    monkeypatch.setenv(WORK_DIR_ENV_VAR, str(tmp_path / "course/notebooks"))
    monkeypatch.chdir(tmp_path / "course/solutions")
    assert "Saving models and training logs in ../notebooks (set" in get_config().describe()
    monkeypatch.chdir(tmp_path / "course/notebooks")
    assert "Saving models and training logs in the working folder (.) (set" in get_config().describe()
    assert str(tmp_path) not in get_config().describe()


def test_tensorboard_starts_from_a_kernel_whose_path_lacks_the_environment(tmp_path):
    """make lab's kernel: the venv's bin/ is not on PATH, yet %tensorboard must start (issue 30)."""
    script = (
        "import datetime, os, fmnist_utils\n"
        "fmnist_utils.setup(verbose=False)\n"
        "from tensorboard import manager\n"
        f"result = manager.start(['--logdir', {str(tmp_path)!r}, '--port', '0'],"
        " timeout=datetime.timedelta(seconds=90))\n"
        "print(type(result).__name__)\n"
        "info = getattr(result, 'info', None)\n"
        "info and os.kill(info.pid, 15)\n"
    )
    environment = {
        key: value for key, value in os.environ.items() if key not in ("TENSORBOARD_BINARY", "VIRTUAL_ENV")
    }
    environment["PATH"] = os.pathsep.join(("/usr/bin", "/bin"))  # No venv, as make lab's kernel has.
    environment["TMPDIR"] = str(tmp_path)  # TensorBoard's info files, kept apart from other runs.
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        timeout=180,
        check=False,
    )
    assert result.stdout.strip().splitlines()[-1:] == ["StartLaunched"], result.stdout + result.stderr


def test_work_dir_variable_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.delenv(QUICK_ENV_VAR, raising=False)  # Full mode's run names, whatever the suite's mode.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(WORK_DIR_ENV_VAR, "course-work")
    config = get_config()
    assert config.work_dir == tmp_path / "course-work"
    monkeypatch.chdir(tmp_path.parent)  # Later changes of working folder change nothing.
    assert config.run_dir("baseline") == tmp_path / "course-work/runs/baseline"


def test_work_dir_is_the_working_folder_when_the_course_folder_is_read_only(tmp_path, monkeypatch):
    """A course installed read-only for a class (JupyterHub): saving a model must not fail."""
    from fmnist_utils import config as config_module

    monkeypatch.setattr(config_module.os, "access", lambda path, mode: mode != os.W_OK)
    monkeypatch.chdir(tmp_path)
    assert default_work_dir() == tmp_path


def test_work_dir_outside_a_copy_of_the_course_is_the_working_folder(tmp_path, monkeypatch):
    """Installed with pip (Colab), the package has no notebooks/ beside it: the working folder."""
    from fmnist_utils import config as config_module

    monkeypatch.setattr(config_module, "__file__", str(tmp_path / "site-packages/fmnist_utils/config.py"))
    monkeypatch.chdir(tmp_path)
    assert default_work_dir() == tmp_path


def test_binder_mem_limit_makes_a_small_machine(monkeypatch, machine_memory):
    machine_memory(16 * 2**30)
    monkeypatch.setenv("MEM_LIMIT", str(2 * 2**30))  # What Binder (JupyterHub) sets.
    assert memory_limit_bytes() == 2 * 2**30
    assert get_config().small_machine
    monkeypatch.setenv("FMNIST_QUICK", "1")
    assert get_config().small_machine  # Independent of quick mode.


def test_large_machine_is_not_small(monkeypatch, machine_memory):
    machine_memory(16 * 2**30)
    assert memory_limit_bytes() == 16 * 2**30
    assert not get_config().small_machine
    monkeypatch.setenv("MEM_LIMIT", "not a number")  # Ignored, not an error.
    assert memory_limit_bytes() == 16 * 2**30


def test_smallest_limit_wins_and_unknown_is_not_small(monkeypatch, tmp_path, machine_memory):
    from fmnist_utils import _runtime

    read_limit = _runtime._read_limit
    machine_memory(None)
    assert memory_limit_bytes() is None
    assert not get_config().small_machine
    cgroup = tmp_path / "memory.max"
    cgroup.write_text("max\n")  # cgroup v2 without a limit.
    assert read_limit(cgroup) is None
    cgroup.write_text(f"{SMALL_MACHINE_BYTES - 1}\n")
    assert read_limit(cgroup) == SMALL_MACHINE_BYTES - 1
    assert read_limit(tmp_path / "missing") is None
    monkeypatch.setattr(_runtime, "_read_limit", lambda path: SMALL_MACHINE_BYTES - 1)
    monkeypatch.setenv("MEM_LIMIT", str(8 * 2**30))
    assert memory_limit_bytes() == SMALL_MACHINE_BYTES - 1
    assert get_config().small_machine


def test_small_machine_settings():
    big, small = RunConfig(quick=False), RunConfig(quick=False, small_machine=True)
    assert big.eval_batch_size() == 512
    assert big.eval_batch_size(1024) == 1024
    assert small.eval_batch_size() == SMALL_MACHINE_EVAL_BATCH == 128
    assert small.eval_batch_size(64) == 64  # Never larger than asked.
    assert big.shuffle_buffer(54_000) == 54_000
    assert small.shuffle_buffer(54_000) == SMALL_MACHINE_SHUFFLE_BUFFER == 10_000
    assert small.shuffle_buffer(3_000) == 3_000
    assert "Small machine" in small.describe()
    assert "Small machine" not in big.describe()


def test_cpu_limit_reads_the_cgroup_quota(monkeypatch, tmp_path):
    from fmnist_utils import _runtime

    cpu_max = tmp_path / "cpu.max"
    real_path = _runtime.Path

    def fake_path(name):
        return cpu_max if str(name) == "/sys/fs/cgroup/cpu.max" else real_path(tmp_path / "absent")

    monkeypatch.setattr(_runtime, "Path", fake_path)
    cpu_max.write_text("max 100000\n")
    assert cpu_limit() is None
    cpu_max.write_text("150000 100000\n")  # One and a half cores: TensorFlow gets 2 threads.
    assert cpu_limit() == 2
    cpu_max.write_text("50000 100000\n")
    assert cpu_limit() == 1
    cpu_max.unlink()
    assert cpu_limit() is None  # No cgroup files at all.


def test_setup_reports_the_machine(monkeypatch, capsys):
    monkeypatch.setenv("MEM_LIMIT", str(2 * 2**30))
    config = fmnist_utils.setup(seed=3)
    output = capsys.readouterr().out
    assert config.small_machine
    assert re.search(r"^Machine: \d+ CPU cores for TensorFlow, 2\.1 GB of memory$", output, re.MULTILINE)
    assert "Small machine (under 3 GiB of memory)" in output


# A fresh Python process that starts 12 threads, each allocating while the others are
# alive, and prints how many arenas glibc then has (malloc_info writes one <heap> each).
_ARENA_PROBE = """
import ctypes, sys, threading
from fmnist_utils._runtime import limit_malloc_arenas

libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
capped = limit_malloc_arenas(2) if sys.argv[1] == "cap" else False
barrier = threading.Barrier(12)

def work():
    pointer = libc.malloc(1000)
    barrier.wait()
    libc.free(pointer)

threads = [threading.Thread(target=work) for _ in range(12)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
stream = libc.fopen(sys.argv[2].encode(), b"w")
libc.malloc_info(0, stream)
libc.fclose(stream)
with open(sys.argv[2]) as report:
    print(capped, report.read().count("<heap nr="))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")
def test_limit_malloc_arenas_caps_the_pools_of_new_threads(tmp_path, monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # No NumPy threads with arenas of their own.
    script = tmp_path / "arenas.py"
    script.write_text(_ARENA_PROBE)

    def arenas(mode: str) -> tuple[str, int]:
        output = subprocess.run(
            [sys.executable, str(script), mode, str(tmp_path / f"{mode}.xml")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return output[0], int(output[1])

    assert arenas("cap") == ("True", 2)
    capped_flag, uncapped = arenas("none")
    assert capped_flag == "False"
    assert uncapped > 2  # glibc's default: a pool per thread, up to 8 per core.


def test_limit_malloc_arenas_leaves_a_chosen_setting(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False


@pytest.mark.parametrize(("mem_limit", "expected"), [(2 * 2**30, [2]), (None, [])])
def test_setup_caps_malloc_arenas_only_on_a_small_machine(monkeypatch, mem_limit, expected):
    calls = []
    monkeypatch.setattr(_runtime, "limit_malloc_arenas", lambda arenas=2: calls.append(arenas) or True)
    monkeypatch.setattr(_runtime, "memory_limit_bytes", lambda: mem_limit)
    fmnist_utils.setup(seed=1, verbose=False)
    assert calls == expected


# A fresh Python process that fills glibc's main pool with 64 MB of small blocks, frees
# all but the last (which keeps the pool from shrinking on its own), and prints its
# resident memory in MiB after the frees and after release_free_memory().
_TRIM_PROBE = """
import ctypes
from fmnist_utils._runtime import release_free_memory

libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]

def resident_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))

blocks = [libc.malloc(4000) for _ in range(16_000)]
for block in blocks:
    ctypes.memset(block, 1, 4000)  # Touch the pages: they become resident.
for block in blocks[:-1]:
    libc.free(block)
before = resident_mib()
released = release_free_memory()
print(before, resident_mib(), released)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_release_free_memory_returns_freed_pages_to_the_system(tmp_path):
    script = tmp_path / "trim.py"
    script.write_text(_TRIM_PROBE)
    before, after, released = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert released == "True"
    assert int(before) - int(after) > 50  # Of the 64 MB freed, nearly all left the process.


def test_release_free_memory_does_nothing_off_linux(monkeypatch):
    monkeypatch.setattr(_runtime.platform, "system", lambda: "Darwin")
    assert release_free_memory() is False


RETRACING_SCRIPT = """
import sys, numpy as np
if sys.argv[1] == "setup":
    import fmnist_utils
    fmnist_utils.setup(verbose=False)
import keras
from fmnist_utils import evaluation
images = np.zeros((100, 28, 28), "uint8")
for _ in range(8):  # Several models, each predicting two batch shapes, as notebook 05 does.
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    evaluation.predict_probabilities(model, images, batch_size=64, flip_average=True)
"""


def test_no_retracing_warning_after_setup(tmp_path):
    """Notebook 05 printed eight lines of TensorFlow's retracing warning (issue 30)."""
    script = tmp_path / "retrace.py"
    script.write_text(RETRACING_SCRIPT)

    def stderr(mode: str) -> str:
        run = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        return run.stderr

    assert "triggered tf.function retracing" in stderr("plain")  # What the notebooks would show.
    assert "triggered tf.function retracing" not in stderr("setup")
