"""Walk the course in JupyterLab in headless Chromium, as a student does, and report what it shows.

For each notebook 00..06 it

1. opens the exercise version (``notebooks/NN``) in a JupyterLab started in quick mode
   (``FMNIST_QUICK=1``), runs it with the menu's Run > Run All Cells, and, each time the run
   stops at a failing cell (an exercise stub raises ``NotImplementedError``), goes on with
   Run > Run Selected Cell and All Below from the next cell, until every cell has run;
2. opens the solution version (``solutions/NN``) in a second JupyterLab in full mode
   (``FMNIST_QUICK=0``): runs it with Run All Cells where that takes at most a few minutes
   (``--full-run``, by default 00, 01, 02, 04 and 06; 04 and 06 use the full-mode models that
   ``make execute`` left in ``notebooks/models``), else shows it as committed.

It saves JPEG screenshots (1280 x 900) of the top, of up to four figures and of the end of
every notebook under ``OUT/quick`` and ``OUT/full``, and writes ``OUT/report.md``: how long
each run took and every error, standard-error text and warning in the outputs, with its cell
index (0-based, as in ``nb["cells"]``). In exercise versions the stubs' ``NotImplementedError``
and the checks' "no answer yet" are expected and listed apart.

Everything runs from a copy of the course in a temporary folder (JupyterLab's autosave never
touches the committed notebooks); models and logs go to temporary work folders.
Notebooks execute, so run it under the course's training lock::

    flock /tmp/fmnist-train.lock .venv/bin/python tools/walkthrough.py

Needs Playwright (requirements-dev.txt) and a Chromium binary (``apt-get install chromium``
or ``CHROMIUM_PATH``). See docs/walkthrough.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path("/work/shared/walkthrough-issue30")
DEFAULT_DATA = Path("/work/shared/data/fashion-mnist")
NUMBERS = ("00", "01", "02", "03", "04", "05", "06")
VIEWPORT = {"width": 1280, "height": 900}
JPEG_QUALITY = 60
MAX_FIGURES = 4
BROWSER_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
WARNING = re.compile(r"WARNING|Warning:|warn\(")
DOM_PROBLEMS = ("Error displaying widget", "Loading widget...", "Javascript Error", "Model not found")

# Per cell: its type, its prompt ("[3]:", "[*]:", "[ ]:") and whether it shows an error.
CELLS_JS = """
() => Array.from(document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')).map(cell => ({
  code: cell.classList.contains('jp-CodeCell'),
  prompt: (cell.querySelector('.jp-InputPrompt') || {}).innerText || '',
}))
"""
# Per figure (an image or a frame in an output): the index of its cell.
FIGURES_JS = """
() => {
  const cells = Array.from(document.querySelectorAll(
      '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell'));
  const found = Array.from(document.querySelectorAll(
      '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img, ' +
      '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output iframe'));
  return found.map(el => cells.indexOf(el.closest('.jp-Cell')));
}
"""


@dataclass
class Finding:
    """One thing seen in a notebook's outputs."""

    kind: str  # "expected stub", "expected check", "error", "stderr", "warning", "page"
    cell: int
    text: str


@dataclass
class Walk:
    """What one notebook showed in one mode."""

    number: str
    mode: str  # "quick" or "full"
    path: str
    ran: bool
    seconds: float | None = None
    rounds: int = 0
    unrun: list[int] = field(default_factory=list)
    screenshots: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    failure: str | None = None


# --------------------------------------------------------------------------- servers


def chromium_binary() -> str:
    """The Chromium binary to drive, or exit saying how to get one."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured and Path(configured).is_file():
        return configured
    for name in BROWSER_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    sys.exit("no Chromium found: install one (`sudo apt-get install chromium`) or set CHROMIUM_PATH.")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_course(folder: Path) -> Path:
    """Copy notebooks/ and solutions/ (without what runs leave there) into ``folder/course``."""
    course = folder / "course"
    ignore = shutil.ignore_patterns(".ruff_cache", "models", "runs", "tuner", ".ipynb_checkpoints")
    for name in ("notebooks", "solutions"):
        shutil.copytree(ROOT / name, course / name, ignore=ignore)
    return course


def write_lab_settings(folder: Path) -> None:
    """Render every cell (no windowing), so that outputs are in the page; fetch no news."""
    settings = {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }
    for name, values in settings.items():
        path = folder / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def api(server: dict, method: str, path: str) -> object:
    """Call the Jupyter server's REST API; return the decoded reply (or None)."""
    request = urllib.request.Request(
        f"{server['base']}{path}", method=method, headers={"Authorization": f"token {server['token']}"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        body = reply.read()
    return json.loads(body) if body else None


@contextlib.contextmanager
def serve(course: Path, state: Path, environment: dict[str, str]) -> Iterator[dict]:
    """A JupyterLab server on 127.0.0.1 serving ``course``, with its own Jupyter folders."""
    for name in ("config", "runtime", "settings", "workspaces"):
        (state / name).mkdir(parents=True, exist_ok=True)
    write_lab_settings(state / "settings")
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"},
        **environment,
        "JUPYTER_CONFIG_DIR": str(state / "config"),
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={course}",
        "--LabServerApp.extension_manager=readonly",
    ]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")
    log = state / "jupyter-lab.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = {"base": f"http://127.0.0.1:{port}", "token": token, "log": log, "root": course}
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited:\n{log.read_text()[-3000:]}")
            try:
                api(server, "GET", "/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.5)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # The server, its kernels and what they started.
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def shutdown_kernels(server: dict) -> None:
    """Delete every session (and its kernel) so that the next notebook starts alone."""
    for session in api(server, "GET", "/api/sessions") or []:
        with contextlib.suppress(OSError):
            api(server, "DELETE", f"/api/sessions/{session['id']}")


def kernel_state(server: dict, path: str) -> dict:
    """The kernel of the session open on ``path`` ({} while there is none)."""
    for session in api(server, "GET", "/api/sessions") or []:
        if session.get("path", "").endswith(path):
            return session.get("kernel") or {}
    return {}


# --------------------------------------------------------------------------- the page


def open_notebook(browser, server: dict, path: str, workspace: str):
    """Open ``path`` in a fresh workspace; wait for its kernel. Return (page, notebook locator)."""
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(120_000)
    page.goto(f"{server['base']}/lab/workspaces/{workspace}/tree/{path}?token={server['token']}")
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    notebook.locator(".jp-Cell").first.wait_for()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        kernel = kernel_state(server, path)
        if kernel.get("execution_state") == "idle" and kernel.get("connections", 0) >= 1:
            break
        time.sleep(0.5)
    page.locator(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
    time.sleep(1)
    return page, notebook


def menu(page, top: str, item: str) -> None:
    """Click ``top`` in the menu bar, then its entry ``item`` (a regular expression for the label)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{re.escape(top)}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{item}$")).first.click()


def cells(page) -> list[dict]:
    """Each rendered cell's type and prompt."""
    return page.evaluate(CELLS_JS)


def wait_until_done(page, server: dict, path: str, timeout: float) -> None:
    """Wait until no cell is queued or running and the kernel is idle (twice in a row)."""
    start = time.monotonic()
    while time.monotonic() - start < 10:  # The run shows up first ([*] or a busy kernel) ...
        if any(c["prompt"].startswith("[*]") for c in cells(page)):
            break
        if kernel_state(server, path).get("execution_state") == "busy":
            break
        time.sleep(0.2)
    quiet = 0
    while time.monotonic() - start < timeout:  # ... then ends.
        busy = any(c["prompt"].startswith("[*]") for c in cells(page))
        idle = kernel_state(server, path).get("execution_state") == "idle"
        quiet = quiet + 1 if idle and not busy else 0
        if quiet >= 3:
            return
        time.sleep(1)
    raise TimeoutError(f"{path} still running after {timeout:.0f} s")


def unrun_after_stop(page) -> tuple[int | None, list[int]]:
    """Where the run stopped (the cell with the highest count) and the code cells after it not run."""
    shown = cells(page)
    counts = {}
    for index, cell in enumerate(shown):
        found = re.match(r"\[(\d+)\]", cell["prompt"].strip())
        if cell["code"] and found:
            counts[index] = int(found.group(1))
    if not counts:
        return None, [i for i, c in enumerate(shown) if c["code"]]
    stop = max(counts, key=counts.get)
    return stop, [i for i, c in enumerate(shown) if c["code"] and i > stop and i not in counts]


def run_all(page, server: dict, path: str, timeout: float) -> tuple[float, int, list[int]]:
    """Run All Cells; after each stop at an error, run from the next cell down. Return (s, rounds, unrun)."""
    # The handouts keep a full run's outputs and counts: cleared first, a cell the run never
    # reaches shows "[ ]:", not an old count.
    menu(page, "Edit", "Clear Outputs of All Cells")
    start = time.monotonic()
    menu(page, "Run", "Run All Cells")
    wait_until_done(page, server, path, timeout)
    rounds = 1
    stop, unrun = unrun_after_stop(page)
    while unrun and stop is not None and rounds < 30:
        nxt = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(stop + 1)
        nxt.scroll_into_view_if_needed()
        nxt.locator(".jp-InputPrompt").click(force=True)
        page.keyboard.press("Escape")
        menu(page, "Run", "Run Selected Cell and All Below")
        wait_until_done(page, server, path, timeout - (time.monotonic() - start))
        rounds += 1
        new_stop, unrun = unrun_after_stop(page)
        if new_stop == stop:  # Nothing new ran: give up rather than loop.
            break
        stop = new_stop
    return time.monotonic() - start, rounds, unrun


def save(page) -> None:
    """Save the notebook (File > Save Notebook) and wait until it is written."""
    page.keyboard.press("Escape")
    menu(page, "File", "Save( Notebook)?")
    page.locator(".jp-mod-dirty").wait_for(state="detached", timeout=60_000)
    time.sleep(1)


def shoot(page, target: Path) -> str:
    """Save a JPEG of the viewport."""
    page.screenshot(path=str(target), type="jpeg", quality=JPEG_QUALITY)
    return str(target)


def screenshots(page, out: Path, number: str) -> list[str]:
    """The top, up to MAX_FIGURES figures (evenly picked) and the end of the open notebook."""
    out.mkdir(parents=True, exist_ok=True)
    all_cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    taken = []
    all_cells.first.evaluate("e => e.scrollIntoView({block: 'start'})")
    time.sleep(0.5)
    taken.append(shoot(page, out / f"{number}_0_top.jpg"))
    figures = page.evaluate(FIGURES_JS)
    seen_cells = list(dict.fromkeys(i for i in figures if i >= 0))
    if len(seen_cells) > MAX_FIGURES:
        step = (len(seen_cells) - 1) / (MAX_FIGURES - 1)
        seen_cells = [seen_cells[round(k * step)] for k in range(MAX_FIGURES)]
    for k, index in enumerate(seen_cells, start=1):
        output = all_cells.nth(index).locator(".jp-OutputArea").first
        output.evaluate("e => e.scrollIntoView({block: 'center'})")
        time.sleep(0.7)
        taken.append(shoot(page, out / f"{number}_{k}_cell{index:02d}.jpg"))
    all_cells.last.evaluate("e => e.scrollIntoView({block: 'end'})")
    time.sleep(0.5)
    taken.append(shoot(page, out / f"{number}_{len(seen_cells) + 1}_end.jpg"))
    return taken


# --------------------------------------------------------------------------- outputs


def output_text(output: dict) -> str:
    """An output's text, without ANSI colours."""
    if output["output_type"] == "stream":
        text = output.get("text", "")
    elif output["output_type"] == "error":
        text = "\n".join(output.get("traceback", [])) or f"{output.get('ename')}: {output.get('evalue')}"
    else:
        text = output.get("data", {}).get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else text
    return ANSI.sub("", text)


def classify_error(cell: dict, output: dict) -> str:
    """Expected in an exercise version: a stub's NotImplementedError, a check's 'no answer yet'."""
    tags = cell.get("metadata", {}).get("tags", [])
    if "solution" in tags and output.get("ename") == "NotImplementedError":
        return "expected stub"
    no_answer = "no answer yet" in output.get("evalue", "")
    if "check" in tags and output.get("ename") == "AssertionError" and no_answer:
        return "expected check"
    return "error"


def inspect(notebook_file: Path) -> list[Finding]:
    """Errors, standard error and warnings in a saved notebook's outputs, cell by cell."""
    notebook = json.loads(notebook_file.read_text())
    found = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            text = output_text(output)
            if output["output_type"] == "error":
                kind = classify_error(cell, output)
                short = f"{output.get('ename')}: {output.get('evalue')}"
                found.append(Finding(kind, index, short if kind != "error" else text[-1500:]))
            elif output["output_type"] == "stream" and output.get("name") == "stderr":
                found.append(Finding("stderr", index, text[:1500]))
            elif WARNING.search(text):
                lines = [line for line in text.splitlines() if WARNING.search(line)]
                found.append(Finding("warning", index, "\n".join(lines)[:1500]))
    return found


def page_problems(notebook) -> list[Finding]:
    """Widget or JavaScript failures JupyterLab shows in the page itself."""
    text = notebook.inner_text()
    return [Finding("page", -1, problem) for problem in DOM_PROBLEMS if problem in text]


# --------------------------------------------------------------------------- the walk


def walk_one(browser, server: dict, walk: Walk, out: Path, timeout: float) -> Walk:
    """Open (and maybe run) one notebook, screenshot it, read its outputs."""
    page = None
    try:
        page, notebook = open_notebook(browser, server, walk.path, f"{walk.mode}{walk.number}")
        if walk.ran:
            walk.seconds, walk.rounds, walk.unrun = run_all(page, server, walk.path, timeout)
        save(page)  # A copy: the findings are read from the file, as JupyterLab wrote it.
        walk.screenshots = screenshots(page, out, walk.number)
        walk.findings = inspect(server["root"] / walk.path) + page_problems(notebook)
    except Exception as error:  # One notebook's failure is reported; the walk goes on.
        walk.failure = f"{type(error).__name__}: {error}"
        if page is not None:
            with contextlib.suppress(Exception):
                walk.screenshots.append(shoot(page, out / f"{walk.number}_failure.jpg"))
    finally:
        if page is not None:
            page.close()
        shutdown_kernels(server)
        print(f"{walk.mode} {walk.number}: {walk.seconds or 0:.0f} s, {walk.failure or 'ok'}", flush=True)
    return walk


def notebook_path(folder: str, number: str) -> str:
    """``folder/NN_name.ipynb`` of the course."""
    (found,) = sorted((ROOT / folder).glob(f"{number}_*.ipynb"))
    return f"{folder}/{found.name}"


def walk_mode(args, course: Path, temp: Path, mode: str, numbers: list[str]) -> list[Walk]:
    """Every notebook of one mode, in one JupyterLab server."""
    from playwright.sync_api import sync_playwright

    work = temp / f"work-{mode}"
    work.mkdir()
    models = ROOT / "notebooks" / "models"
    if mode == "full" and models.is_dir():  # 04 and 06 load the models of make execute's full run.
        shutil.copytree(models, work / "models")
    environment = {
        "FMNIST_QUICK": "1" if mode == "quick" else "0",
        "FMNIST_DATA_DIR": str(args.data),
        "FMNIST_WORK_DIR": str(work),
    }
    walks = []
    with serve(course, temp / f"lab-{mode}", environment) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_binary(), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            for number in numbers:
                folder = "notebooks" if mode == "quick" else "solutions"
                ran = mode == "quick" or number in args.full_run
                walk = Walk(number, mode, notebook_path(folder, number), ran)
                walks.append(walk_one(browser, server, walk, args.out / mode, args.timeout))
        finally:
            browser.close()
    return walks


def report(walks: list[Walk], target: Path) -> None:
    """Write the walk's findings as Markdown."""
    lines = ["# Walk through the course in JupyterLab (headless Chromium)", ""]
    lines.append(f"Commit {git_commit()}, {time.strftime('%Y-%m-%d %H:%M %Z')}. Cell indices are 0-based.")
    lines.append("")
    lines += [
        "| mode | notebook | ran | Run All (s) | rounds | unrun code cells | problems |",
        "|---" * 7 + "|",
    ]
    for w in walks:
        problems = sum(f.kind in ("error", "page") for f in w.findings) + bool(w.failure)
        seconds = f"{w.seconds:.0f}" if w.seconds is not None else "-"
        lines.append(
            f"| {w.mode} | {w.path} | {'yes' if w.ran else 'as committed'} | {seconds} | {w.rounds} "
            f"| {w.unrun or '-'} | {problems} |"
        )
    for w in walks:
        lines += ["", f"## {w.mode}: {w.path}", ""]
        if w.failure:
            lines += [f"**Walk failed**: {w.failure}", ""]
        lines.append("Screenshots: " + ", ".join(Path(s).name for s in w.screenshots))
        for kind in ("error", "page", "stderr", "warning", "expected stub", "expected check"):
            chosen = [f for f in w.findings if f.kind == kind]
            if not chosen:
                continue
            lines += ["", f"### {kind} ({len(chosen)})", ""]
            for f in chosen:
                if kind.startswith("expected"):
                    lines.append(f"- cell {f.cell}: {f.text}")
                else:
                    lines += [f"- cell {f.cell}:", "", "```", f.text.rstrip(), "```"]
    target.write_text("\n".join(lines) + "\n")


def git_commit() -> str:
    """The checked-out commit, short."""
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="screenshots and report.md go here")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="FMNIST_DATA_DIR for the kernels")
    parser.add_argument("--notebooks", nargs="+", default=list(NUMBERS), choices=NUMBERS)
    parser.add_argument("--modes", nargs="+", default=["quick", "full"], choices=["quick", "full"])
    parser.add_argument(
        "--full-run",
        nargs="*",
        default=["00", "01", "02", "04", "06"],
        choices=NUMBERS,
        help="solutions run in full mode; the others are shown as committed",
    )
    parser.add_argument("--timeout", type=float, default=1200, help="seconds allowed per notebook run")
    return parser.parse_args(argv)


def stop_strays(temp: Path) -> None:
    """Stop what the kernels started and left running (TensorBoard) on files in ``temp``, by id."""
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if str(temp) in command and int(entry.name) != os.getpid():
                os.kill(int(entry.name), signal.SIGTERM)
                print(f"stopped {entry.name}: {command[:120]}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    walks: list[Walk] = []
    with tempfile.TemporaryDirectory(prefix="fmnist-walk-") as folder:
        temp = Path(folder)
        course = make_course(temp)
        for mode in args.modes:
            try:
                walks += walk_mode(args, course, temp, mode, args.notebooks)
            finally:
                stop_strays(temp)
            report(walks, args.out / "report.md")
    print(f"report: {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
