"""The checks of notebook 04 (Evaluation and error analysis): 04.1 Shirt's precision and
recall, 04.2 top-2 accuracy, 04.3-04.4 open-ended."""

from __future__ import annotations

import numpy as np

from fmnist_utils.checks._core import (
    _check,
    _close,
    _decimals,
    _fraction,
    _labels,
    _NotYet,
    _open_ended,
    _probabilities,
    _rounded,
    _same_length,
    _size,
)
from fmnist_utils.data import CLASS_NAMES, NUM_CLASSES

__all__ = ["exercise_04_1", "exercise_04_2", "exercise_04_3", "exercise_04_4"]


def _metric(value: object, name: str) -> float:
    """One precision or recall: a fraction (or nan, 0 / 0), with a hint for every class's values."""
    if _size(value) == NUM_CLASSES:
        raise _NotYet(f"`{name}` holds a value for every class: keep only the Shirt's.")
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return float("nan")
    return _fraction(value, name)


def _matches(answer: float, value: float) -> bool:
    """Right: within 1e-6, or 0 / 0 (no image predicted Shirt) given as nan or 0."""
    return bool((np.isnan(value) and (np.isnan(answer) or answer == 0)) or _close(answer, value))


@_check("04.1", "shirt_precision", "shirt_recall")
def exercise_04_1(shirt_precision: object, shirt_recall: object, confusion: np.ndarray) -> bool:
    """Exercise 04.1: Shirt's precision and recall from the confusion matrix.

    Args:
        shirt_precision: The answer's precision.
        shirt_recall: The answer's recall.
        confusion: The notebook's confusion matrix of counts (rows: true class, columns:
            predicted), ``exercise_data.confusion``: in quick mode, of the 1,000-image subset.
    """
    answers = {"precision": _metric(shirt_precision, "shirt_precision")}
    answers["recall"] = _metric(shirt_recall, "shirt_recall")
    matrix = np.asarray(confusion, dtype="float64")
    if matrix.shape != (NUM_CLASSES, NUM_CLASSES):
        raise ValueError(
            f"confusion must be the {NUM_CLASSES} x {NUM_CLASSES} matrix of counts, got {matrix.shape}."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        every = {
            "precision": np.diag(matrix) / matrix.sum(axis=0),
            "recall": np.diag(matrix) / matrix.sum(axis=1),
        }
    shirt = CLASS_NAMES.index("Shirt")
    expected = {metric: float(values[shirt]) for metric, values in every.items()}
    if all(_matches(answers[metric], expected[metric]) for metric in answers):
        return True
    if any(np.isnan(answer) for answer in answers.values()):
        raise _NotYet("one of the two is nan (0 / 0): divide by a total that is not zero.")
    if _matches(answers["precision"], expected["recall"]) and _matches(
        answers["recall"], expected["precision"]
    ):
        raise _NotYet(
            "precision and recall are swapped: which of them asks about the images *predicted* as "
            "shirts, and which about the images that *are* shirts? Rows are true classes."
        )
    for metric, answer in answers.items():
        if not _matches(answer, expected[metric]):
            _metric_hint(metric, answer, expected[metric], every[metric], matrix)
    return True  # pragma: no cover (_metric_hint always raises)


def _metric_hint(metric: str, answer: float, expected: float, every: np.ndarray, matrix: np.ndarray) -> None:
    """Raise the hint for a wrong precision or recall."""
    others = np.delete(every, CLASS_NAMES.index("Shirt"))
    if np.any(np.abs(others - answer) < 1e-6):
        raise _NotYet(f"that {metric} belongs to another class: Shirt is data.CLASS_NAMES.index('Shirt').")
    if _close(answer, np.trace(matrix) / matrix.sum()):
        raise _NotYet(f"the {metric} given is the overall accuracy; take only the Shirt's row or column.")
    decimals = _rounded(answer, expected)
    if decimals is not None:
        raise _NotYet(
            f"the {metric} is rounded to {_decimals(decimals)}: compute it from confusion instead of "
            "copying a printed value."
        )
    raise _NotYet(
        f"the {metric} is off: divide the correctly found shirts by the right total (a column of the "
        "matrix for one of the two, a row for the other), using this notebook's confusion (in quick "
        "mode, of the test subset)."
    )


@_check("04.2", "top2_accuracy")
def exercise_04_2(top2_accuracy: object, probabilities: np.ndarray, labels: np.ndarray) -> bool:
    """Exercise 04.2: how often the true class is among the two most likely ones.

    Args:
        top2_accuracy: The answer.
        probabilities: The model's ``(n, 10)`` test probabilities (``exercise_data.probabilities``).
        labels: The true labels (``exercise_data.test_labels``).
    """
    probabilities = _probabilities(probabilities, "probabilities")
    labels = _labels(labels, "labels")
    _same_length(probabilities, labels)
    order = np.argsort(probabilities, axis=1)

    def top(columns: np.ndarray) -> float:
        return float(np.mean((columns == labels[:, None]).any(axis=1)))

    expected, top1 = top(order[:, -2:]), top(order[:, -1:])
    if _size(top2_accuracy) == len(labels):
        raise _NotYet("that is one hit or miss per image: take their mean.")
    answer = _fraction(top2_accuracy, "top2_accuracy", count_of=len(labels))
    if _close(answer, expected):
        return True
    if _close(answer, top1):
        raise _NotYet("that is the top-1 accuracy: count a hit when the true class is first *or* second.")
    if _close(answer, 1 - expected):
        raise _NotYet("that is the share of misses: count the images whose true class *is* among the two.")
    if _close(answer, top(order[:, :2])):
        raise _NotYet("those are the two *least* likely classes: np.argsort sorts from the smallest up.")
    if _close(answer, top(order[:, -3:])):
        raise _NotYet("that counts the three most likely classes; take two.")
    decimals = _rounded(answer, expected)
    if decimals is not None:
        raise _NotYet(f"that is rounded to {_decimals(decimals)}: store the value computed, unrounded.")
    if answer < top1:
        raise _NotYet(f"top-2 accuracy cannot be below the top-1 accuracy ({top1:.4f}).")
    raise _NotYet(
        "take, for each image, the two classes with the highest probabilities (np.argsort), over this "
        "notebook's test images and probabilities."
    )


exercise_04_3 = _open_ended(
    "04.3",
    "Grad-CAM for a mistake",
    [
        "shows two Grad-CAM maps of the same image, for the predicted and for the true class;",
        "says which regions each one uses (collar, sleeves, buttons, outline);",
        "relates the mistake to a feature the two classes share.",
    ],
)


exercise_04_4 = _open_ended(
    "04.4",
    "a photo of your own",
    [
        "classifies at least one photo and shows what data.load_image_file made of it;",
        "tries a case that fails and explains it (background, angle, several garments, a person);",
        "relates the failures to how Fashion-MNIST's images were made (centred, plain background).",
    ],
)
