"""The instructor grading by hand: `make formgrader` started as INSTRUCTORS.md says, nbgrader's
Formgrader driven in Chromium (Playwright): the open-ended answer shown with its model answer, a
manual grade typed in and saved, then `make grades` exports it in its exercise's column.

It grades a two-cell notebook made here, so that no training runs (about 30 s).
"""

from __future__ import annotations

import csv
import os
import secrets
import signal
import subprocess
import time

import nbformat
import pytest
from helpers import chromium_binary
from test_browser import _free_port, _wait_for_server
from test_grading import BIN, ROOT, hand_in, make

ANSWER_CELL = {"grade": True, "grade_id": "exercise_99_2", "locked": False, "points": 2, "solution": True}


def _assignment(tmp_path, real_data_dir):
    notebook = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
    )
    notebook.cells = [
        nbformat.v4.new_markdown_cell("Why are sandals hard to tell from sneakers? Answer in code comments."),
        nbformat.v4.new_code_cell(
            "### BEGIN SOLUTION\n# Both are low shoes seen from the side: a model answer.\n### END SOLUTION",
            metadata={"nbgrader": {**ANSWER_CELL, "schema_version": 3, "task": False}, "tags": ["solution"]},
        ),
    ]
    path = tmp_path / "99_open.ipynb"
    nbformat.write(notebook, path)
    course = tmp_path / "course"
    make("assignment", course, real_data_dir, f"NOTEBOOKS={path}")
    hand_in(course, "alice", {"99_open": {"exercise_99_2": "# Their straps look like laces at 28 x 28."}})
    make("autograde", course, real_data_dir, f"NOTEBOOKS={path}")
    return course, path


def test_a_grade_given_in_the_formgrader_is_saved_and_exported(tmp_path, real_data_dir):
    if not (BIN / "nbgrader").exists():
        pytest.skip("nbgrader is not installed: pip install -r requirements-dev.txt")
    executable = chromium_binary()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt")
    course, path = _assignment(tmp_path, real_data_dir)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission_notebook("99_open", "fmnist", "alice").id
    port, token = _free_port(), secrets.token_hex(16)
    flags = (
        f"--no-browser --ServerApp.port={port} --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    )
    if os.getuid() == 0:
        flags += " --allow-root"
    environment = {
        "HOME": os.environ.get("HOME", "/root"),
        "PATH": os.environ["PATH"],
        "FMNIST_DATA_DIR": str(real_data_dir),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
    }
    log = tmp_path / "formgrader.log"

    with log.open("w") as log_file:
        server = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "-C",
                str(ROOT),
                "formgrader",
                f"COURSE_DIR={course}",
                f"LAB_FLAGS={flags}",
            ],
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make and the server it starts, stopped together below.
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{base}/api/status?token={token}", server, log)
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{base}/login?token={token}")  # Logs in: the Formgrader's own calls need it.
                page.goto(f"{base}/formgrader/submissions/{submission}/")
                score = page.locator("input.score#exercise_99_2")
                score.wait_for(timeout=60_000)
                shown = page.inner_text("body")
                score.fill("1.5")
                score.press("Tab")  # The Formgrader saves a score when the field loses focus.
                deadline, saved = time.monotonic() + 30, None
                while time.monotonic() < deadline and saved != 1.5:
                    time.sleep(0.5)
                    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
                        saved = gradebook.find_grade(
                            "exercise_99_2", "99_open", "fmnist", "alice"
                        ).manual_score
                page.screenshot(path=str(tmp_path / "formgrader.png"))
            finally:
                browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert "Their straps look like laces at 28 x 28." in shown  # The student's answer ...
    assert "Model answer to exercise 99.2" in shown  # ... with the model answer under it.
    assert "Both are low shoes seen from the side" in shown
    assert saved == 1.5, log.read_text()[-3000:]
    make("grades", course, real_data_dir, f"NOTEBOOKS={path}")
    with open(course / "grades_by_exercise.csv", newline="") as file:
        (row,) = list(csv.DictReader(file))
    assert (row["student_id"], row["99.2"], row["score"], row["max_score"]) == ("alice", "1.5", "1.5", "2")
    assert "CRITICAL" not in log.read_text()
