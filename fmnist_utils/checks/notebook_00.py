"""The checks of notebook 00 (Getting started): 00.1 count, 00.2 look, 00.3 explore."""

from __future__ import annotations

import numpy as np

from fmnist_utils.checks._core import (
    _check,
    _class_name,
    _count,
    _labels,
    _NotYet,
    _number,
    _open_ended,
)
from fmnist_utils.data import CLASS_NAMES, NUM_CLASSES

__all__ = ["exercise_00_1", "exercise_00_2", "exercise_00_3"]


@_check("00.1", "sneaker_count")
def exercise_00_1(sneaker_count: object, test_labels: np.ndarray) -> bool:
    """Exercise 00.1: how many of the first 100 test images are sneakers.

    Every class has exactly 1,000 test images, so a count over the whole test set
    cannot tell the sneakers from another class; the first 100 images are not balanced.

    Args:
        sneaker_count: The answer, an int (Python or NumPy).
        test_labels: The test labels it was counted from (``exercise_data.test_labels``).
    """
    labels = _labels(test_labels, "test_labels")
    first = labels[:100]
    sneaker = CLASS_NAMES.index("Sneaker")
    counts = np.bincount(first, minlength=NUM_CLASSES)
    if 0 < _number(sneaker_count, "sneaker_count") < 1:
        raise _NotYet("that is a share of the images; count them instead.")
    answer = _count(sneaker_count, "sneaker_count")
    if answer == counts[sneaker]:
        return True
    if answer == np.sum(labels == sneaker):
        raise _NotYet(f"you counted all {len(labels):,} test images; the exercise asks about the first 100.")
    if answer == len(first) // NUM_CLASSES:
        raise _NotYet(
            "a tenth of 100 assumes the first 100 images are balanced (they are not): count the "
            "sneakers among them."
        )
    if answer in counts:
        raise _NotYet(
            "that many images of another class are among the first 100 test images: check the label you "
            "compare with (data.CLASS_NAMES) and that you count in test_labels."
        )
    if answer in (np.sum(labels[:99] == sneaker), np.sum(labels[:101] == sneaker)):
        raise _NotYet("off by one image: test_labels[:100] holds exactly the first 100 labels.")
    if answer > len(first):
        raise _NotYet("there are only 100 images to count among.")
    raise _NotYet("count the labels among test_labels[:100] equal to the sneakers' label (data.CLASS_NAMES).")


exercise_00_2 = _open_ended(
    "00.2",
    "the first 10 bags of the test set",
    [
        "shows ten images in one row, and every one of them is a bag;",
        "selects them with the labels (test_labels == the bags' label), not by looking;",
        "notes how varied the bags are (handles, shapes), which makes the class easy or hard.",
    ],
)


@_check("00.3", "most_ink_class", "least_ink_class")
def exercise_00_3(
    most_ink_class: object, least_ink_class: object, images: np.ndarray, labels: np.ndarray
) -> bool:
    """Exercise 00.3: the classes with the highest and the lowest average pixel value.

    Args:
        most_ink_class: The answer's class with the most ink (a name from ``data.CLASS_NAMES``).
        least_ink_class: The class with the least ink.
        images: The images it was computed from (``exercise_data.train_images``).
        labels: Their labels.
    """
    most_answer = _class_name(most_ink_class, "most_ink_class")
    least_answer = _class_name(least_ink_class, "least_ink_class")
    images, labels = np.asarray(images), _labels(labels, "labels")
    ink = np.array([images[labels == label].mean() for label in range(NUM_CLASSES)])
    area = np.array([np.mean(images[labels == label] > 0) for label in range(NUM_CLASSES)])
    most, least = CLASS_NAMES[int(np.argmax(ink))], CLASS_NAMES[int(np.argmin(ink))]
    if (most_answer, least_answer) == (most, least):
        return True
    if most_answer == least_answer:
        raise _NotYet("the two answers are the same class: one class has the most ink, another the least.")
    if (most_answer, least_answer) == (least, most):
        raise _NotYet("the two are swapped: the most ink means the highest average pixel value.")
    wrong, area_class = (
        ("most_ink_class", CLASS_NAMES[int(np.argmax(area))])
        if most_answer != most
        else ("least_ink_class", CLASS_NAMES[int(np.argmin(area))])
    )
    if (most_answer if wrong == "most_ink_class" else least_answer) == area_class:
        raise _NotYet(
            f"{wrong} is the class with the most (or fewest) non-zero pixels; ink also counts how dark "
            "they are: average the pixel values themselves."
        )
    raise _NotYet(f"{wrong} is not right: average all the pixels of each class's images, then compare.")
