"""A pytest plugin: nbval runs every notebook as a student who presses Shift+Enter twice.

Loaded for every pytest run of this repository (``-p tools.nbval_twice`` in pyproject.toml's
``addopts``). Under nbval, each code cell runs, is checked (no error; a ``NBVAL_CHECK_OUTPUT``
cell prints its saved output), then runs again at once and is checked again, except cells
tagged ``run-once`` (the text before such a cell says why). The kernel starts in an empty
folder of its own, not the notebook's, as when JupyterLab is started elsewhere, and that
folder must be empty when the notebook ends: models and logs go to the course's folder
(``config.work_dir``), never to the working folder.

So the one nbval run of ``make test`` checks what a separate doubled run used to check,
at the cost of the second runs only. ``FMNIST_NBVAL_ONCE=1`` runs each cell once, in the
notebook's folder (nbval's own behaviour).
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile

import pytest

RUN_ONCE = "run-once"
ONCE_ENV_VAR = "FMNIST_NBVAL_ONCE"


def _enabled() -> bool:
    return os.environ.get(ONCE_ENV_VAR, "") in ("", "0")


def pytest_configure(config: pytest.Config) -> None:
    if not _enabled() or not config.pluginmanager.hasplugin("nbval"):
        return
    from nbval import plugin

    if getattr(plugin.IPyNbCell.runtest, "twice", False):
        return
    data_dir = os.environ.get("FMNIST_DATA_DIR")
    if data_dir:  # The kernel starts elsewhere: a relative folder would point nowhere.
        os.environ["FMNIST_DATA_DIR"] = os.path.abspath(data_dir)
    run_once = plugin.IPyNbCell.runtest

    def runtest_twice(cell: plugin.IPyNbCell) -> None:
        saved = copy.deepcopy(cell.cell.outputs)
        run_once(cell)
        if RUN_ONCE not in cell.cell.metadata.get("tags", []):
            # nbval merges the saved stream outputs in place when it compares: start afresh.
            cell.cell.outputs = saved
            run_once(cell)  # Shift+Enter again: it must not fail, nor print something else.

    runtest_twice.twice = True
    plugin.IPyNbCell.runtest = runtest_twice
    plugin.RunningKernel = _kernel_elsewhere(plugin.RunningKernel)
    plugin.IPyNbFile.teardown = _teardown_elsewhere(plugin.IPyNbFile.teardown)


def _kernel_elsewhere(kernel_class):
    """nbval's kernel, started in a new empty folder instead of the notebook's."""

    class KernelElsewhere(kernel_class):
        def __init__(self, *args, cwd: str | None = None, **kwargs) -> None:
            self.elsewhere = tempfile.mkdtemp(prefix="fmnist-elsewhere-")
            super().__init__(*args, cwd=self.elsewhere, **kwargs)

    return KernelElsewhere


def _teardown_elsewhere(teardown):
    """nbval's teardown, then: the working folder must still be empty."""

    def teardown_elsewhere(notebook) -> None:
        folder = getattr(notebook.kernel, "elsewhere", None)
        teardown(notebook)
        if folder is None:
            return
        written = sorted(os.listdir(folder))
        shutil.rmtree(folder, ignore_errors=True)
        assert written == [], f"{notebook.fspath.basename} wrote into the working folder: {written}"

    return teardown_elsewhere
