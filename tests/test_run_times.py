"""Stated run times come from docs/run_times.json, which tools/run_times.py measures (issue 30)."""

from __future__ import annotations

import json
import re

import pytest
from helpers import SOLUTIONS_DIR

from tools import run_times
from tools.run_times import disagreements, format_seconds, load, measure, rewrite, stated_time

ROOT = SOLUTIONS_DIR.parent

NOTEBOOK_KEYS = sorted(path.name[:2] for path in SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb"))

#: A duration in a text: "13 min", "about 5 minutes", "190 seconds", "2 hours".
DURATION = re.compile(
    r"\b\d+(?:[.,]\d+)?(?:\s*(?:to|-|–)\s*\d+(?:\.\d+)?)?\s*(?:s|seconds?|min|minutes?|h|hours?)\b"
    r"|\b(?:a|one|a few|a couple of) (?:minute|minutes|hour|hours)\b",
    re.IGNORECASE,
)
#: Durations that are not run times of the course, each with its reason.
NOT_RUN_TIMES = {
    "an hour per cell": "INSTRUCTORS.md: nbgrader's time-out setting, not a measurement",
}


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.4, "0 s"), (48.44, "48 s"), (99.4, "99 s"), (100, "1.7 min"), (822, "13.7 min")]
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_measure_records_each_notebook_with_a_controlled_clock(tmp_path, monkeypatch):
    ticks = iter([10.0, 22.5, 100.0, 1000.25])
    ran = []
    measurements_path = tmp_path / "run_times.json"
    monkeypatch.delenv("FMNIST_QUICK", raising=False)
    result = measure(
        [tmp_path / "03_training.ipynb", tmp_path / "05_tuning.ipynb"],
        "quick",
        run=ran.append,
        clock=lambda: next(ticks),
        measurements_path=measurements_path,
    )
    assert [path.name for path in ran] == ["03_training.ipynb", "05_tuning.ipynb"]
    assert result["notebooks"]["03"]["quick"]["seconds"] == 12.5
    assert result["notebooks"]["05"]["quick"]["seconds"] == 900.2
    assert json.loads(measurements_path.read_text()) == result  # Saved, as measured.
    assert run_times.os.environ["FMNIST_QUICK"] == "1"  # The kernels run in the mode measured.
    with pytest.raises(ValueError, match="mode must be one of"):
        measure([], "fast", measurements_path=measurements_path)


def test_rewrite_writes_the_measured_time_and_the_course_total():
    measurements = {"notebooks": {"00": {"quick": {"seconds": 30.0}}, "03": {"quick": {"seconds": 90.4}}}}
    text = "03 takes <!-- time:03:quick -->5 s<!-- /time -->, all <!-- time:all:quick -->?<!-- /time -->."
    assert rewrite(text, measurements) == (
        "03 takes <!-- time:03:quick -->90 s<!-- /time -->, all <!-- time:all:quick -->2.0 min<!-- /time -->."
    )
    with pytest.raises(KeyError, match="no full-mode time for notebook 03"):
        stated_time(measurements, "03", "full")
    unmeasured = "<!-- time:03:full -->5 s<!-- /time -->"
    assert rewrite(unmeasured, measurements) == unmeasured  # Left for disagreements() to name.


def test_every_notebook_is_measured_in_both_modes():
    measured = load()["notebooks"]
    missing = [
        (key, mode) for key in NOTEBOOK_KEYS for mode in run_times.MODES if mode not in measured.get(key, {})
    ]
    assert missing == [], "run: python tools/run_times.py measure --mode MODE solutions/NN_*.ipynb"


def test_every_stated_time_is_the_measured_one():
    assert disagreements(load()) == [], "run: python tools/run_times.py write (then make exercises)"


def _unmarked_durations(text: str) -> list[str]:
    text = run_times.MARKER.sub("", text)
    found = []
    for match in DURATION.finditer(text):
        context = text[max(0, match.start() - 60) : match.end() + 30].replace("\n", " ")
        if not any(phrase in context for phrase in NOT_RUN_TIMES):
            found.append(context)
    return found


def test_no_run_time_is_typed_by_hand():
    """A duration in the course's prose is a marked, measured time (or listed in NOT_RUN_TIMES)."""
    found = []
    for path in run_times.stating_files():
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text())["cells"]
            texts = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]
        else:
            texts = [path.read_text()]
        found += [
            f"{path.relative_to(ROOT)}: ...{context}..."
            for text in texts
            for context in _unmarked_durations(text)
        ]
    assert found == [], "\n".join(found)


def test_the_duration_finder_finds_what_a_hand_would_type():
    assert _unmarked_durations("It trains for about 14 minutes, then 5.3 min, 190 seconds, a minute.") != []
    assert len(_unmarked_durations("takes 3 to 5 minutes and 20 s")) == 2
    assert _unmarked_durations("<!-- time:03:full -->13 min<!-- /time --> and 0.05 ms per image") == []
