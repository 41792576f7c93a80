"""The notebooks as a student meets them: a clean Setup cell, cells run twice, any working folder.

nbval (``make test``) runs every notebook with the course's plugin (``tools/nbval_twice.py``):
each kernel starts in an empty folder elsewhere and each code cell runs twice in a row, as a
student who presses Shift+Enter twice does. These tests check that plugin and what nbval
cannot see (the Setup cell's standard error, the committed outputs).
"""

from __future__ import annotations

import ast
import base64
import os
import re
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.etree import ElementTree

import nbformat
import pytest
from helpers import SOLUTIONS_DIR, student_environment
from nbclient import NotebookClient

from fmnist_utils._tensorflow_log import LOG_LINE, kept_lines, quiet_tensorflow

NOTEBOOKS = sorted(SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb"))
RUN_ONCE = "run-once"

#: What TensorFlow 2.21 and 2.16 write as they start on a CPU-only machine.
TENSORFLOW_START_LOG = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795985069.484525   31356 port.cc:153] oneDNN custom operations are on. You may see",
    "I0000 00:00:1795985069.484894   31356 cudart_stub.cc:31] Could not find cuda drivers on your machine",
    "I0000 00:00:1795985069.779414   31356 cpu_feature_guard.cc:227] This TensorFlow binary is optimized",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with "
    "the appropriate compiler flags.",
    "E0000 00:00:1795985073.859311   31356 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
    "2024-03-08 10:00:00.123456: I tensorflow/core/util/port.cc:113] oneDNN custom operations are on.",
    "2024-03-08 10:00:01.5: W tensorflow/compiler/tf2tensorrt/utils/py_utils.cc:38] TF-TRT Warning: "
    "Could not find TensorRT",
    "2024-03-08 10:00:02.1: E external/local_xla/xla/stream_executor/cuda/cuda_driver.cc:282] failed call "
    "to cuInit: CUDA_ERROR_NO_DEVICE",
]


def test_tensorflow_start_log_is_recognised_and_dropped_on_a_cpu_machine():
    assert all(LOG_LINE.match(line) for line in TENSORFLOW_START_LOG)
    assert kept_lines(TENSORFLOW_START_LOG, gpu_expected=False) == []


def test_cuda_errors_are_kept_when_the_machine_has_a_gpu_driver():
    warning = "W0000 00:00:1.0   1 gpu_device.cc:2344] Cannot dlopen some GPU libraries. Skipping."
    kept = kept_lines([*TENSORFLOW_START_LOG, warning], gpu_expected=True)
    assert kept[-1] == warning
    assert len(kept) == 3
    assert all("cuInit" in line for line in kept[:2])
    assert warning not in kept_lines([warning], gpu_expected=False)


def test_setup_says_when_a_gpu_goes_unused(monkeypatch, capsys):
    """A GPU machine where TensorFlow finds no GPU: the student must hear of it, log or not."""
    from fmnist_utils import _tensorflow_log, environment

    monkeypatch.setattr(_tensorflow_log, "has_nvidia_driver", lambda: True)
    environment.setup(verbose=False)
    assert "found no GPU and will train on the CPU" in capsys.readouterr().err


def test_setup_says_nothing_of_gpus_on_a_cpu_machine(monkeypatch, capsys):
    from fmnist_utils import _tensorflow_log, environment

    monkeypatch.setattr(_tensorflow_log, "has_nvidia_driver", lambda: False)
    environment.setup(verbose=False)
    assert capsys.readouterr().err == ""


def test_other_lines_and_errors_are_kept():
    lines = [
        "Traceback (most recent call last):",
        "ImportError: libcudnn.so.9: cannot open shared object file",
        "F0000 00:00:1.0   1 check.cc:1] Check failed: something fatal",
        "E0000 00:00:1.0   1 op_kernel.cc:1] OP_REQUIRES failed: out of memory",
    ]
    assert kept_lines(lines, gpu_expected=False) == lines


def test_quiet_tensorflow_hides_log_lines_written_below_python(capfd):
    with quiet_tensorflow():
        os.write(2, ("\n".join(TENSORFLOW_START_LOG) + "\nsomething else went wrong\n").encode())
    assert capfd.readouterr().err == "something else went wrong\n"


def test_quiet_tensorflow_still_shows_what_was_written_when_the_block_fails(capfd):
    def failing_import():
        with quiet_tensorflow():
            os.write(2, f"{TENSORFLOW_START_LOG[1]}\nlibtensorflow.so: cannot open\n".encode())
            raise ImportError("no TensorFlow")

    with pytest.raises(ImportError):
        failing_import()
    assert capfd.readouterr().err == "libtensorflow.so: cannot open\n"


def test_a_fatal_error_while_tensorflow_starts_is_shown_at_the_next_start(tmp_path, monkeypatch, capfd):
    """TensorFlow aborts the kernel (LOG(FATAL)): its message must reach the student after all."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # Read TMPDIR again.
    crash = (
        "import os\n"
        "from fmnist_utils._tensorflow_log import quiet_tensorflow\n"
        "with quiet_tensorflow():\n"
        f"    os.write(2, {TENSORFLOW_START_LOG[1]!r}.encode() + b'\\n')\n"
        "    os.write(2, b'F0000 00:00:1.0   7 cpu_feature_guard.cc:1] Check failed: AVX is missing\\n')\n"
        "    os.abort()\n"
    )
    crashed = subprocess.run([sys.executable, "-c", crash], capture_output=True, text=True, check=False)
    assert crashed.returncode != 0
    assert "Check failed" not in crashed.stderr  # Held back when the process died ...
    capfd.readouterr()
    with quiet_tensorflow():
        pass
    shown = capfd.readouterr().err
    assert "TensorFlow stopped an earlier kernel" in shown  # ... and shown at the next start,
    assert "Check failed: AVX is missing" in shown
    assert "oneDNN" not in shown
    assert list(tmp_path.glob("fmnist-tensorflow-start-*")) == []  # once.


def _stderr(outputs: list) -> str:
    return "".join(output.get("text", "") for output in outputs if output.get("name") == "stderr")


def _is_setup(cell) -> bool:
    return cell.cell_type == "code" and "fmnist_utils.setup(" in cell.source


def _execute(notebook, folder, **settings: str) -> None:
    """Run ``notebook`` in a new kernel started in ``folder``, with these environment variables.

    The kernel shows what is written to its standard error, as in JupyterLab
    (:func:`helpers.student_environment`).
    """
    env = student_environment()
    client = NotebookClient(
        notebook, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.execute(env=env | settings)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem[:2])
def test_committed_outputs_hold_no_tensorflow_log_line(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            assert not [line for line in text.splitlines() if LOG_LINE.match(line)], cell.source[:200]
    setup = next(cell for cell in notebook.cells if _is_setup(cell))
    assert _stderr(setup.outputs) == "", "the Setup cell's saved output must be the course's report only"


def test_setup_cell_prints_the_report_and_nothing_on_stderr(tmp_path):
    """A fresh kernel, as JupyterLab starts it: the first thing a student sees is the report."""
    notebook = nbformat.read(NOTEBOOKS[0], as_version=4)
    notebook.cells = [cell for cell in notebook.cells if _is_setup(cell)]
    _execute(notebook, tmp_path, FMNIST_QUICK="1")
    outputs = notebook.cells[0].outputs
    assert _stderr(outputs) == ""
    report = "".join(output.get("text", "") for output in outputs)
    assert re.match(r"Python \S+, TensorFlow \S+, Keras \S+\nDevices: CPU:0", report), report


def _notebook(path: Path, *cells: tuple[str, list[str], str | list[str]]) -> None:
    """Write a notebook of code cells: (source, tags, saved stdout, or its parts)."""
    notebook = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
    )
    for number, (source, tags, saved) in enumerate(cells, start=1):
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": tags}, execution_count=number)
        for text in [saved] if isinstance(saved, str) and saved else saved:  # Several: a split stream.
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text))
        notebook.cells.append(cell)
    nbformat.write(notebook, path)


def _nbval(folder: Path, *extra: str, **env: str) -> dict[str, str]:
    """Run nbval with the course's plugin (tools/nbval_twice.py) on ``folder``'s notebooks:
    ``{test id: outcome}``, where outcome is "passed", "failed: ..." or "error: ..."."""
    report = folder / "report.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "tools.nbval_twice",
        "--nbval-lax",
        "--nbval-current-env",
    ]
    command += ["-p", "no:cacheprovider", f"--junitxml={report}", "--rootdir", str(folder), *extra]
    command += sorted(str(path) for path in folder.glob("*.ipynb"))
    environment = os.environ | {"PYTHONPATH": str(SOLUTIONS_DIR.parent)} | env
    subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True, check=False)
    outcomes = {}
    for case in ElementTree.parse(report).iter("testcase"):
        name = f"{Path(case.get('file') or case.get('classname')).stem}::{case.get('name')}"
        problems = [
            f"{child.tag}: {child.get('message')}" for child in case if child.tag in ("failure", "error")
        ]
        outcomes[name] = problems[-1] if problems else "passed"
    return outcomes


def test_nbval_runs_every_cell_twice_from_an_empty_folder(tmp_path):
    """The plugin that makes make test's one nbval run a Shift+Enter-twice run from elsewhere:
    a cell runs twice unless tagged run-once, a NBVAL_CHECK_OUTPUT cell must print its saved
    output both times, and a notebook that writes into its working folder fails."""
    _notebook(
        tmp_path / "good.ipynb",
        ('runs = globals().get("runs", 0) + 1', [], ""),
        ('once = globals().get("once", 0) + 1', [RUN_ONCE], ""),
        ("assert (runs, once) == (2, 1), (runs, once)", [], ""),
        ("# NBVAL_CHECK_OUTPUT\nimport os\nprint(os.listdir())", [], "[]\n"),  # Not the notebook's folder.
        # Saved in two parts, as Jupyter often splits a stream: both runs must match it.
        ('# NBVAL_CHECK_OUTPUT\nprint("first")\nprint("second")', [], ["first\n", "second\n"]),
    )
    _notebook(
        tmp_path / "prints.ipynb",
        ('# NBVAL_CHECK_OUTPUT\nn = globals().get("n", 0) + 1\nprint(n)', [], "1\n"),
    )
    _notebook(tmp_path / "writes.ipynb", ('open("model.keras", "w").write("weights")', [], ""))
    outcomes = _nbval(tmp_path)
    assert {name: outcome for name, outcome in outcomes.items() if name.startswith("good")} == {
        f"good::Cell {number}": "passed" for number in range(5)
    }
    assert outcomes["prints::Cell 0"].startswith("failure"), outcomes
    assert "wrote into the working folder: ['model.keras']" in outcomes["writes::Cell 0"], outcomes
    # FMNIST_NBVAL_ONCE=1: nbval's own behaviour, each cell once in the notebook's folder.
    once = _nbval(tmp_path, FMNIST_NBVAL_ONCE="1")
    assert once["good::Cell 2"].startswith("failure"), once
    assert once["prints::Cell 0"] == "passed", once


def test_run_once_cells_say_why():
    """A run-once cell is the exception: the text before it says so, and there are few."""
    tagged = []
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        for index, cell in enumerate(cells):
            if RUN_ONCE in cell.metadata.get("tags", []):
                tagged.append(path.stem)
                before = cells[index - 1]
                assert before.cell_type == "markdown", (path.stem, index)
                assert "once" in before.source, (path.stem, index)
    assert len(tagged) <= 2, tagged


def test_kernel_is_this_environment():
    """The kernels above must be this Python, with this fmnist_utils (the ``python3`` kernel spec)."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] in (sys.executable, "python", "python3") or os.path.samefile(
        spec.argv[0], sys.executable
    )


def _png_width(output) -> int:
    png = base64.b64decode(output["data"]["image/png"])
    return struct.unpack(">I", png[16:20])[0]


def test_mistake_captions_are_shown_at_their_size():
    """JupyterLab shrinks a figure wider than the notebook: the mistakes' captions became unreadable."""
    notebook = nbformat.read(SOLUTIONS_DIR / "04_evaluation_and_error_analysis.ipynb", as_version=4)
    grids = [
        cell
        for cell in notebook.cells
        if "mistake_titles(" in cell.source and "plot_image_grid" in cell.source
    ]
    widths = [
        _png_width(output)
        for cell in grids
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert len(widths) == 2
    assert max(widths) <= 800, widths


def _asserts_without_message(source: str) -> list[str]:
    """The ``assert`` statements of a cell that would fail with a bare ``AssertionError``."""
    magic = re.compile(r"^(\s*)[%!].*$", re.MULTILINE)  # IPython magics: not Python.
    code = magic.sub(r"\1pass", source)
    return [
        ast.get_source_segment(code, node) or ""
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Assert)
        and not (isinstance(node.msg, ast.JoinedStr) or isinstance(getattr(node.msg, "value", None), str))
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem[:2])
def test_assert_cells_say_what_is_wrong(path):
    """A student whose run went wrong reads a sentence, not a bare ``AssertionError:``.

    Graded check cells are left out: ``assert verdict, verdict`` shows the check's hint, and
    their hidden tests are the instructor's, stripped from the handouts.
    """
    bare = {
        index: _asserts_without_message(cell.source)
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells)
        if cell.cell_type == "code" and "check" not in cell.metadata.get("tags", [])
    }
    assert not {index: found for index, found in bare.items() if found}
