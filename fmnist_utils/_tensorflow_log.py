"""Plumbing: start TensorFlow without the C++ log lines it writes to the terminal.

Importing TensorFlow writes about ten log lines straight to file descriptor 2, below Python,
which Jupyter shows as a red block; ``TF_CPP_MIN_LOG_LEVEL`` does not reach those written
before absl's logging starts. :func:`quiet_tensorflow` sends file descriptor 2 to a
temporary file while TensorFlow starts, then shows again every line that is not such a log
line (and CUDA's errors when the machine has an NVIDIA driver: a failing GPU must be seen).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# TensorFlow's C++ log lines: absl's format (TF 2.17 and later) and TensorFlow's own (2.16),
# with the level letter captured, plus absl's one-off warning and cpu_feature_guard's second line,
# and the two lines LiteRT writes (notebook 06): its CPU delegate and its quantizer's settings.
LOG_LINE = re.compile(
    r"^(?:(?P<absl>[IWEF])\d{4} [\d:.]+\s+\d+ [\w.-]+:\d+\]"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (?P<tf>[IWEF]) [\w./-]+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions: .* rebuild TensorFlow"
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."
    r"|fully_quantize: \d+, inference_type: \d+)"
)
_CUDA_WORDS = ("cuda", "cuinit", "cudnn", "cufft", "cublas", "gpu")  # Compared in lower case.


def has_nvidia_driver() -> bool:
    """Return whether an NVIDIA driver is loaded (Linux), i.e. a GPU is there to be used."""
    return Path("/proc/driver/nvidia/version").exists()


def kept_lines(lines: list[str], *, gpu_expected: bool) -> list[str]:
    """Return the lines to show: all but TensorFlow's log lines; on a GPU machine, CUDA's kept.

    Args:
        lines: What TensorFlow wrote to standard error.
        gpu_expected: Whether the machine has a GPU driver: its CUDA errors then matter.
    """
    kept = []
    for line in lines:
        match = LOG_LINE.match(line)
        level = match and (match["absl"] or match["tf"])
        if match is None or level == "F" or (gpu_expected and level == "E"):
            kept.append(line)
        elif gpu_expected and level == "W" and any(word in line.lower() for word in _CUDA_WORDS):
            kept.append(line)  # "Cannot dlopen some GPU libraries": why a GPU goes unused.
        elif level == "E" and not any(word in line.lower() for word in _CUDA_WORDS):
            kept.append(line)  # An error that has nothing to do with a missing GPU.
    return kept


def _capture_path(pid: int) -> Path:
    """Where the held-back output of process ``pid`` waits: it outlives a process that crashes."""
    return Path(tempfile.gettempdir()) / f"fmnist-tensorflow-start-{pid}.log"


@contextmanager
def _file_descriptor_2_captured() -> Iterator[list[str]]:
    """Send what is written to file descriptor 2 to a list of lines, filled on exit."""
    lines: list[str] = []
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # No standard error to hold back (closed): nothing to hide either.
        yield lines
        return
    path = _capture_path(os.getpid())
    try:
        with path.open("w+b") as capture:
            os.dup2(capture.fileno(), 2)
            try:
                yield lines
            finally:
                os.dup2(saved, 2)
                capture.seek(0)
                lines.extend(capture.read().decode(errors="replace").splitlines())
    finally:
        os.close(saved)
        path.unlink(missing_ok=True)


def _process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # Signal 0: only asks whether the process exists.
    except ProcessLookupError:
        return True
    except OSError:  # Another user's process.
        return False
    return False


def report_crashed_start() -> None:
    """Show what TensorFlow wrote before a fatal error ended an earlier kernel as it started.

    Such an error (``LOG(FATAL)``) ends the process inside :func:`quiet_tensorflow`, whose
    file stays behind; the next start shows it, then removes it.
    """
    if os.name != "posix":  # os.kill(pid, 0) would signal the process on Windows.
        return
    for path in Path(tempfile.gettempdir()).glob("fmnist-tensorflow-start-*.log"):
        pid = path.stem.rsplit("-", 1)[-1]
        try:
            if not pid.isdigit() or path.stat().st_uid != os.getuid() or not _process_is_gone(int(pid)):
                continue
            lines = kept_lines(path.read_text(errors="replace").splitlines(), gpu_expected=True)
            path.unlink()
        except OSError:
            continue
        if lines:
            print(
                "TensorFlow stopped an earlier kernel while it started, with this message:",
                *lines,
                sep="\n",
                file=sys.stderr,
            )


@contextmanager
def quiet_tensorflow() -> Iterator[None]:
    """Run the block (TensorFlow's import, the first device listing) without TensorFlow's log lines.

    What the block writes to standard error is held back, then written to ``sys.stderr``
    but for TensorFlow's log lines. Also sets ``TF_CPP_MIN_LOG_LEVEL=2`` (unless set).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    report_crashed_start()
    lines: list[str] = []
    try:
        with _file_descriptor_2_captured() as lines:
            yield
    finally:  # Also when the block fails: its error messages are what explains the failure.
        for line in kept_lines(lines, gpu_expected=has_nvidia_driver()):
            print(line, file=sys.stderr)
