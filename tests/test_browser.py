"""JupyterLab as a student sees it: the landing notebook, and its handout from `make student`,
opened and run in headless Chromium.

Starts ``jupyter lab --no-browser`` on 127.0.0.1 with a token, opens
``00_getting_started.ipynb`` in Debian's Chromium (driven by Playwright, with the browser
binary the system provides: Playwright's own browser download does not work offline),
runs the first cells through the UI with Shift+Enter, and checks that their output
appears and that no cell fails. A screenshot is saved under the test's temporary folder.

The notebook runs from a copy in the temporary folder, so JupyterLab's autosave never
touches the committed one. Skipped, with the reason, when no Chromium binary is found
(install one with ``sudo apt-get install chromium`` or point ``CHROMIUM_PATH`` at it); in
CI (``CI`` set) a missing browser is a failure instead, since ``.ci/run`` installs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from helpers import NOTEBOOKS_DIR, chromium_binary, student_environment

LANDING = "00_getting_started.ipynb"
#: Run through the UI: the title and text cells, Setup, a first computation, loading
#: the data and printing what was loaded (cells 0 to 9 of the landing notebook).
CELLS_TO_RUN = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_server(url: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"jupyter lab did not answer on {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def _serve(tmp_path: Path, real_data_dir: Path, notebook: Path):
    """A JupyterLab server on 127.0.0.1 serving a copy of ``notebook``."""
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(notebook, root / notebook.name)
    port, token = _free_port(), secrets.token_hex(16)
    environment = {
        **student_environment(),  # Kernels show their standard error, as a student's do.
        "FMNIST_DATA_DIR": str(real_data_dir),  # The kernel reads the real data offline.
        "FMNIST_QUICK": "1",
        # Jupyter's own folders in the temporary folder: no user settings or saved layout.
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
    }
    # Render every cell (no lazy "windowing"), so the cells' outputs are in the page, and
    # ask for no news from the internet.
    settings = {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "apputils-extension/notification": {"fetchNews": "false"},
    }
    for name, values in settings.items():
        path = tmp_path / "lab-settings" / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    log = tmp_path / "jupyter-lab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabServerApp.extension_manager=readonly",
    ]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")  # Containers and CI run as root.
    with log.open("w") as log_file:
        process = subprocess.Popen(command, env=environment, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_server(f"{base}/api/status?token={token}", process, log)
        yield {"base": base, "token": token, "root": root, "log": log}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def jupyter_lab(tmp_path, real_data_dir):
    """A JupyterLab server on 127.0.0.1 serving a copy of the landing notebook."""
    with _serve(tmp_path, real_data_dir, NOTEBOOKS_DIR / LANDING) as server:
        yield server


def _wait_for_kernel(server: dict, path: str, timeout: float = 180) -> None:
    """Wait until the notebook's kernel has started, is idle and the page is connected to it.

    JupyterLab shows "Idle" a moment before its connection to a new kernel is up; a cell
    run in that moment can be lost. The server's own view of the session decides.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(
            f"{server['base']}/api/sessions?token={server['token']}", timeout=10
        ) as reply:
            sessions = json.load(reply)
        for session in sessions:
            kernel = session.get("kernel") or {}
            if (
                session.get("path", "").endswith(path)
                and kernel.get("execution_state") == "idle"
                and kernel.get("connections", 0) >= 1
            ):
                return
        time.sleep(0.5)
    pytest.fail(
        f"the kernel of {path} was not ready within {timeout:.0f} s:\n{server['log'].read_text()[-3000:]}"
    )


def _open(page, server: dict, name: str, sync_api):
    """Open a notebook and wait until its kernel is ready; return the notebook's locator."""
    page.set_default_timeout(120_000)
    page.goto(f"{server['base']}/lab/tree/{name}?token={server['token']}")
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    notebook.locator(".jp-Cell").first.wait_for()
    _wait_for_kernel(server, name)
    page.locator(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
    return notebook


def _run_cells(page, notebook, count: int, sync_api) -> None:
    """Run the first ``count`` cells one by one with Shift+Enter, as a student does."""
    cells = notebook.locator(".jp-Cell")
    active = re.compile(r"\bjp-mod-active\b")
    finished = re.compile(r"^\[\d+\]:$")  # [n]: ran; [*]: waiting or running; [ ]: never run.
    cells.first.click()  # Select the first cell, in command mode ...
    page.keyboard.press("Escape")
    sync_api.expect(cells.first).to_have_class(active)
    for index in range(count):  # ... and run the cells one by one:
        cell = cells.nth(index)
        is_code = "jp-CodeCell" in (cell.get_attribute("class") or "")
        page.keyboard.press("Shift+Enter")  # each press runs a cell and selects the next;
        sync_api.expect(cells.nth(index + 1)).to_have_class(active)
        if is_code:  # the student waits for a code cell's output before going on.
            sync_api.expect(cell.locator(".jp-InputPrompt")).to_have_text(finished, timeout=240_000)


def test_landing_notebook_runs_in_jupyterlab_in_chromium(jupyter_lab, tmp_path):
    executable = chromium_binary()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt")
    screenshot = tmp_path / "jupyterlab-00_getting_started.png"

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            notebook = _open(page, jupyter_lab, LANDING, sync_api)
            sync_api.expect(notebook.locator(".jp-Cell").first).to_contain_text("00 · Getting started")
            _run_cells(page, notebook, CELLS_TO_RUN, sync_api)
            code_cells = notebook.locator(".jp-CodeCell")  # Cells 4, 6, 8 and 9 are the first four.
            prompts = [
                code_cells.nth(index).locator(".jp-InputPrompt").inner_text().strip() for index in range(4)
            ]
            outputs = [code_cells.nth(index).locator(".jp-OutputArea").inner_text() for index in range(4)]
            setup_stderr = code_cells.first.locator("[data-mime-type='application/vnd.jupyter.stderr']")
            setup_stderr_count = setup_stderr.count()
            page.screenshot(path=str(screenshot), full_page=False)
            page.keyboard.press("Control+s")  # Save, to read the outputs back from the file too.
            page.locator(".jp-mod-dirty").wait_for(state="detached", timeout=30_000)
        finally:
            browser.close()

    assert screenshot.stat().st_size > 10_000
    failed = [text for text in outputs if "Traceback (most recent call last)" in text]
    assert not failed, f"a cell failed in JupyterLab:\n{failed[0]}"
    assert prompts == ["[1]:", "[2]:", "[3]:", "[4]:"]
    assert "TensorFlow" in outputs[0]  # The Setup cell's report ...
    assert setup_stderr_count == 0, f"the Setup cell shows a red block:\n{outputs[0]}"  # ... only.
    assert "[[ 7. 10.]\n [15. 22.]]" in outputs[1]
    assert "train_images  shape=(60000, 28, 28) dtype=uint8  values 0..255" in outputs[3]

    saved = json.loads((jupyter_lab["root"] / LANDING).read_text())
    code = [cell for cell in saved["cells"] if cell["cell_type"] == "code"]
    assert [cell["execution_count"] for cell in code[:4]] == [1, 2, 3, 4]
    assert not [o for cell in code[:4] for o in cell["outputs"] if o["output_type"] == "error"]


def test_handout_in_jupyterlab_says_no_answer_yet_before_the_student_answers(tmp_path, real_data_dir):
    """The exercise version as a student opens it (notebooks/): no "correct." anywhere; run down to
    the first exercise, its stub names it, its check says "no answer yet", and the link under the
    check leads to the solution."""
    executable = chromium_binary()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt")
    handout = NOTEBOOKS_DIR / LANDING
    cells = nbformat.read(handout, as_version=4).cells
    first_check = next(
        index
        for index, cell in enumerate(cells)
        if "check" in cell.metadata.get("tags", []) and cell.metadata.get("nbgrader", {}).get("grade")
    )
    screenshot = tmp_path / "jupyterlab-handout-00.png"
    (tmp_path / "lab").mkdir()
    with _serve(tmp_path / "lab", real_data_dir, handout) as server, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            notebook = _open(page, server, LANDING, sync_api)
            opened = notebook.inner_text()
            _run_cells(page, notebook, first_check + 1, sync_api)
            page_cells = notebook.locator(".jp-Cell")
            stub = page_cells.nth(first_check - 1).locator(".jp-OutputArea").inner_text()
            check = page_cells.nth(first_check).locator(".jp-OutputArea").inner_text()
            page_cells.nth(first_check).scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot), full_page=False)
        finally:
            browser.close()

    assert "checks.exercise_00_1(sneaker_count" in opened  # The checks are there ...
    assert not re.search(r"Exercise \d\d\.\d: correct\.", opened)  # ... and no verdict before an answer.
    assert "Stuck on exercise 00.1? Its solution" in opened
    assert "NotImplementedError: Exercise 00.1: write your answer here, then run the check below" in stub
    assert "AssertionError: Exercise 00.1: no answer yet. Store your answer in `sneaker_count`." in check
    assert "NameError" not in check


def test_without_chromium_the_browser_test_skips_saying_how_to_install_it(monkeypatch):
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.skip.Exception, match=r"sudo apt-get install chromium"):
        chromium_binary()
    monkeypatch.setenv("CI", "true")  # CI installs Chromium: there a missing one is a failure.
    with pytest.raises(pytest.fail.Exception, match=r"CI must run the browser test"):
        chromium_binary()
    monkeypatch.setenv("CHROMIUM_PATH", "/nowhere/chromium")
    with pytest.raises(pytest.fail.Exception, match=r"CHROMIUM_PATH=/nowhere/chromium is not a file"):
        chromium_binary()
