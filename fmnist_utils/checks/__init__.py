"""Self-checks for the notebooks' exercises.

Every numbered notebook ends with exercises. A setup cell before the first answer cell sets
the answers to ``None`` and keeps the checks' own read-only copy of the data
(``exercise_data = checks.keep(...)``); after each answer cell a cell calls its check::

    verdict = checks.exercise_00_1(sneaker_count, exercise_data.test_labels)

A check with a definite answer says "correct", or gives a hint that names the mistake
(a percentage instead of a fraction, another class, the wrong part of the data, a
string instead of a number, ...) without giving the answer away. It never raises:
whatever it is given, it returns a verdict, and an answer left as ``None`` gets "no answer
yet". Open-ended exercises have no single answer: their check lists what a good answer
shows. The checks take the answer and the data it was computed from, so they work in quick
mode (on the subsets) as in full mode.

Each check returns a :class:`CheckResult`, which is true only when the answer is correct;
the graded cells ``assert`` it, and nbgrader's hidden tests, which recompute the answer on
their own, agree with it (tests/test_checks.py runs both on every case). One module per
notebook holds its checks (``notebook_00`` ... ``notebook_06``); ``_core`` the machinery.
Instructors: :data:`EXERCISES` lists every exercise with its check.
"""

from __future__ import annotations

from fmnist_utils.checks._core import EXERCISES, CheckResult, keep
from fmnist_utils.checks.notebook_00 import exercise_00_1, exercise_00_2, exercise_00_3
from fmnist_utils.checks.notebook_01 import exercise_01_1, exercise_01_2, exercise_01_3, exercise_01_4
from fmnist_utils.checks.notebook_02 import exercise_02_1, exercise_02_2, exercise_02_3, exercise_02_4
from fmnist_utils.checks.notebook_03 import exercise_03_1, exercise_03_2, exercise_03_3, exercise_03_4
from fmnist_utils.checks.notebook_04 import exercise_04_1, exercise_04_2, exercise_04_3, exercise_04_4
from fmnist_utils.checks.notebook_05 import exercise_05_1, exercise_05_2, exercise_05_3, exercise_05_4
from fmnist_utils.checks.notebook_06 import exercise_06_1, exercise_06_2, exercise_06_3

__all__ = [
    "EXERCISES",
    "CheckResult",
    "exercise_00_1",
    "exercise_00_2",
    "exercise_00_3",
    "exercise_01_1",
    "exercise_01_2",
    "exercise_01_3",
    "exercise_01_4",
    "exercise_02_1",
    "exercise_02_2",
    "exercise_02_3",
    "exercise_02_4",
    "exercise_03_1",
    "exercise_03_2",
    "exercise_03_3",
    "exercise_03_4",
    "exercise_04_1",
    "exercise_04_2",
    "exercise_04_3",
    "exercise_04_4",
    "exercise_05_1",
    "exercise_05_2",
    "exercise_05_3",
    "exercise_05_4",
    "exercise_06_1",
    "exercise_06_2",
    "exercise_06_3",
    "keep",
]
