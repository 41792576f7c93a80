"""The checks of notebook 05 (Tuning and improvements): 05.1 the cheapest step, 05.2 an
ensemble's accuracy, 05.3 the most improved class, 05.4 open-ended.

They take the comparison table and validation probabilities that the notebook's exercise
setup cell copied into ``exercise_data``, never models or the notebook's own variables.
"""

from __future__ import annotations

import numpy as np

from fmnist_utils.checks._core import (
    _check,
    _class_name,
    _close,
    _fraction,
    _labels,
    _NotYet,
    _open_ended,
    _probabilities,
    _same_length,
    _simplified,
)
from fmnist_utils.data import CLASS_NAMES, NUM_CLASSES

__all__ = ["exercise_05_1", "exercise_05_2", "exercise_05_3", "exercise_05_4"]


def _step_values(comparison: object) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Steps, gains, seconds per epoch and gain per added second, in the steps' own order.

    The rows are put back in the order the table was built (its index), so a table
    re-sorted for display gives the same values.
    """
    table = comparison.sort_index()  # type: ignore[attr-defined]
    steps = [str(step) for step in table["step"]]
    gain = np.asarray(table["gain"], dtype="float64")
    seconds = np.asarray(table["s/epoch"], dtype="float64")
    cost = np.diff(seconds, prepend=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(cost > 0, gain / cost, np.where(gain > 0, np.inf, -np.inf))
    value[0] = -np.inf  # The baseline is where the steps start.
    return steps, gain, seconds, value


@_check("05.1", "cheapest_step")
def exercise_05_1(cheapest_step: object, comparison: object) -> bool:
    """Exercise 05.1: the step that bought validation accuracy most cheaply.

    Steps that gained at no extra cost (or while saving time) all count as the cheapest.

    Args:
        cheapest_step: The answer, a step's name (``str`` or ``np.str_``).
        comparison: Notebook 05's comparison table (``step``, ``gain``, ``s/epoch`` columns),
            ``exercise_data.comparison``; its row order does not matter.
    """
    steps, gain, seconds, value = _step_values(comparison)
    if isinstance(cheapest_step, (int, np.integer)) and not isinstance(cheapest_step, bool):
        raise _NotYet("store the step's name, as in the table's step column, not its row number.")
    if not isinstance(cheapest_step, str):
        raise _NotYet("store the step's name (a string), as in the table's step column.")
    if cheapest_step not in steps:
        close = [step for step in steps if _simplified(step) == _simplified(cheapest_step)]
        spelling = " (spell it exactly as the table does, with its '+ ')" if close else ""
        raise _NotYet(
            f"{cheapest_step!r} is not a step of the table; use a name of its step column{spelling}."
        )
    chosen = steps.index(cheapest_step)
    if chosen == 0:
        raise _NotYet("the baseline is the starting point; compare the steps after it.")
    if value[chosen] == np.max(value):
        return True
    later = np.arange(len(steps)) > 0
    if chosen == int(np.nanargmax(np.where(later, gain, -np.inf))):
        raise _NotYet("that step gained the most, but what did it cost per epoch? Divide by the extra time.")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_total = np.where(later, gain / seconds, -np.inf)
    if chosen == int(np.nanargmax(per_total)):
        raise _NotYet("that divides by the whole time per epoch; divide by the time the step *added*.")
    if gain[chosen] <= 0:
        raise _NotYet("that step gained nothing (its gain is zero or negative).")
    raise _NotYet(
        "divide each step's gain by the seconds per epoch it added (in the table's original step "
        "order); a gain at no extra cost beats any other."
    )


@_check("05.2", "ensemble_accuracy")
def exercise_05_2(
    ensemble_accuracy: object,
    first_probabilities: np.ndarray,
    second_probabilities: np.ndarray,
    labels: np.ndarray,
) -> bool:
    """Exercise 05.2: the validation accuracy of two models' averaged probabilities.

    Args:
        ensemble_accuracy: The answer.
        first_probabilities: The first model's ``(n, 10)`` validation probabilities.
        second_probabilities: The second model's.
        labels: The validation labels.
    """
    labels = _labels(labels, "labels")
    first = _probabilities(first_probabilities, "first_probabilities")
    second = _probabilities(second_probabilities, "second_probabilities")
    _same_length(first, second, labels)
    answer = _fraction(ensemble_accuracy, "ensemble_accuracy", count_of=len(labels))
    expected = float(np.mean(((first + second) / 2).argmax(axis=1) == labels))
    if _close(answer, expected):
        return True
    singles = [float(np.mean(probabilities.argmax(axis=1) == labels)) for probabilities in (first, second)]
    if any(_close(answer, single) for single in singles):
        raise _NotYet("that is one model's accuracy alone: average the two models' probabilities first.")
    either = float(np.mean((first.argmax(axis=1) == labels) | (second.argmax(axis=1) == labels)))
    if _close(answer, either):
        raise _NotYet(
            "that counts an image right when either model is right; the ensemble makes one prediction."
        )
    if _close(answer, float(np.mean(np.maximum(first, second).argmax(axis=1) == labels))):
        raise _NotYet("that takes the larger of the two probabilities; average them instead.")
    raise _NotYet("average the probabilities (not the predicted classes), then take each row's argmax.")


def _predicted_classes(values: np.ndarray, name: str) -> np.ndarray:
    """Class indices from class indices or from ``(n, 10)`` probabilities."""
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] == NUM_CLASSES:
        return values.argmax(axis=1)
    return _labels(values, name).astype(np.int64)


def _class_accuracy(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Each class's share of right predictions (nan for a class without images)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        right = np.bincount(labels[predicted == labels], minlength=NUM_CLASSES)
        return right / np.bincount(labels, minlength=NUM_CLASSES)


@_check("05.3", "most_improved_class")
def exercise_05_3(
    most_improved_class: object,
    baseline_predictions: np.ndarray,
    improved_predictions: np.ndarray,
    labels: np.ndarray,
) -> bool:
    """Exercise 05.3: the class whose validation accuracy gained the most.

    Args:
        most_improved_class: The answer, a class name from ``data.CLASS_NAMES``.
        baseline_predictions: The baseline's validation probabilities (or predicted classes).
        improved_predictions: The improved model's (or its predicted classes).
        labels: The validation labels.
    """
    answer = _class_name(most_improved_class, "most_improved_class")
    labels = _labels(labels, "labels").astype(np.int64)
    baseline = _predicted_classes(baseline_predictions, "baseline_predictions")
    improved = _predicted_classes(improved_predictions, "improved_predictions")
    _same_length(baseline, improved, labels)
    improved_accuracy = _class_accuracy(labels, improved)
    baseline_accuracy = _class_accuracy(labels, baseline)
    gains = improved_accuracy - baseline_accuracy
    if abs(gains[CLASS_NAMES.index(answer)] - np.nanmax(gains)) < 1e-9:  # Tied classes are all right.
        return True
    if answer == CLASS_NAMES[int(np.nanargmin(gains))]:
        raise _NotYet(
            "that class gained the least (or lost the most): subtract the baseline from the improved model."
        )
    if answer == CLASS_NAMES[int(np.nanargmax(improved_accuracy))]:
        raise _NotYet(
            "that is the class the improved model gets right most often, not the one that gained most."
        )
    if answer == CLASS_NAMES[int(np.nanargmin(baseline_accuracy))]:
        raise _NotYet("that is the baseline's weakest class; what matters is how much each class gained.")
    raise _NotYet("subtract the baseline's per-class accuracy from the improved model's, class by class.")


exercise_05_4 = _open_ended(
    "05.4",
    "a wider network in the same time",
    [
        "gives the parameter count and an epoch time measured without the first epoch's tracing;",
        "turns it into the number of full epochs that fit in the final model's training time, against the "
        "recipe's 12;",
        "argues whether more capacity can make up for fewer epochs, and names the run that would decide "
        "(same budget, compared on the validation set).",
    ],
)
