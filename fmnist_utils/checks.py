"""Self-checks for the notebooks' exercises.

Every numbered notebook ends with exercises; after each one's solution cell a
cell calls its check, for example::

    verdict = checks.exercise_01_1(background_share, train_images, train_labels)

A check with a definite answer says "correct", or gives a hint that names the mistake
(a percentage instead of a fraction, another class, the wrong part of the data, a
string instead of a number, ...) without giving the answer away. It never raises:
whatever it is given, it returns a verdict, and an answer left as ``None`` (the
handouts' stubs start that way) gets "no answer yet". Open-ended exercises have no
single answer: their check lists what a good answer shows. The checks take the
student's answer and the data it was computed from, so they work in quick mode (on
the subsets) as in full mode.

Each check returns a :class:`CheckResult`, which Jupyter shows as one short text and
which is true only when the answer is correct; the graded cells of the notebooks
``assert`` it. Instructors: :data:`EXERCISES` lists every exercise with its check;
``INSTRUCTORS.md`` says what reading this file tells a student, and how the checks are
tested against the wrong answers students give.
"""

from __future__ import annotations

import csv
import functools
import inspect
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmnist_utils.data import CLASS_NAMES, NUM_CLASSES, validate_labels

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
]


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check.

    Attributes:
        exercise: ``"01.1"`` for notebook 01's first exercise.
        passed: ``True``: correct; ``False``: not yet (see ``message``); ``None``: an
            open-ended exercise, for which ``message`` lists what a good answer shows.
        message: What Jupyter shows.
    """

    exercise: str
    passed: bool | None
    message: str

    def __bool__(self) -> bool:
        return self.passed is True

    def __repr__(self) -> str:
        return self.message

    __str__ = __repr__


class _NotYet(Exception):
    """Raised inside a check to answer with a hint at once."""


def _correct(exercise: str) -> CheckResult:
    return CheckResult(exercise, True, f"Exercise {exercise}: correct.")


def _hint(exercise: str, hint: str) -> CheckResult:
    return CheckResult(exercise, False, f"Exercise {exercise}: not yet. Hint: {hint}")


def _check(exercise: str, *answers: str) -> Callable[[Callable[..., bool]], Callable[..., CheckResult]]:
    """Make a check from a function that returns ``True`` or raises :class:`_NotYet`.

    ``answers`` names the student's variables, the check's first arguments: any of them
    still ``None`` gets "no answer yet". Nothing escapes: an error in the data passed
    (a missing log file, say) becomes a verdict that says what is wrong.
    """

    def decorate(function: Callable[..., bool]) -> Callable[..., CheckResult]:
        # These lines run when the module is imported, out of mutation testing's reach
        # (pragma): tests/test_checks.py checks the names, signatures and docstrings they set.
        @functools.wraps(function)  # pragma: no mutate
        def check(*args: object, **kwargs: object) -> CheckResult:
            return _verdict(exercise, answers, function, args, kwargs)  # pragma: no mutate

        check.__signature__ = inspect.signature(function).replace(return_annotation="CheckResult")  # type: ignore[attr-defined]  # pragma: no mutate
        return check

    return decorate


def _verdict(
    exercise: str, answers: Sequence[str], function: Callable[..., bool], args: tuple, kwargs: dict
) -> CheckResult:
    """What the check made by :func:`_check` answers when called with ``args``."""
    for name, value in zip(answers, args, strict=False):
        if value is None:
            return CheckResult(
                exercise, False, f"Exercise {exercise}: no answer yet. Store your answer in `{name}`."
            )
    try:
        function(*args, **kwargs)
    except _NotYet as hint:
        return _hint(exercise, str(hint))
    except Exception as error:  # A check never raises: it says what it could not read.
        return CheckResult(exercise, False, f"Exercise {exercise}: cannot check this yet: {error}")
    return _correct(exercise)


def _open_ended(exercise: str, title: str, points: Sequence[str]) -> Callable[[], CheckResult]:
    """The check of an open-ended exercise: it lists what a good answer shows."""

    def check() -> CheckResult:
        return _open_ended_verdict(exercise, points)  # pragma: no mutate

    check.__name__ = check.__qualname__ = f"exercise_{exercise.replace('.', '_')}"  # pragma: no mutate
    check.__doc__ = f"Exercise {exercise} (open-ended): {title}."  # pragma: no mutate
    return check


def _open_ended_verdict(exercise: str, points: Sequence[str]) -> CheckResult:
    lines = "\n".join(f"- {point}" for point in points)
    return CheckResult(
        exercise, None, f"Exercise {exercise} is open-ended: no single answer. A good answer\n{lines}"
    )


# Reading answers: each returns the value, or raises _NotYet with what is wrong with its type.


def _number(value: object, name: str) -> float:
    """``value`` as one finite float."""
    if isinstance(value, (str, bytes)):
        raise _NotYet(f"`{name}` is a string: store a number, without quotes.")
    if isinstance(value, (bool, np.bool_)):
        raise _NotYet(f"`{name}` is {value}: store a number, not True or False.")
    try:
        array = np.asarray(value, dtype="float64")
    except (TypeError, ValueError, OverflowError):
        raise _NotYet(f"store `{name}` as one number, not a {type(value).__name__}.") from None
    if array.ndim != 0:
        raise _NotYet(
            f"store `{name}` as one number, not an array or a list of {array.size} "
            "(.item() or float(...) turns a one-element array into a number)."
        )
    if not np.isfinite(array):
        raise _NotYet(f"`{name}` is {float(array)}, not a finite number.")
    return float(array)


def _count(value: object, name: str) -> int:
    """``value`` as a whole number >= 0 held in an integer type."""
    number = _number(value, name)
    if not np.issubdtype(np.asarray(value).dtype, np.integer):
        raise _NotYet(
            f"`{name}` is a float ({number!r}): a count is a whole number; store an int (int(...))."
        )
    if number < 0:
        raise _NotYet(f"`{name}` is negative: a count is 0 or more.")
    return int(number)


def _fraction(value: object, name: str, *, count_of: int | None = None) -> float:
    """``value`` as a float in [0, 1]; ``count_of``: the number of items it is a share of."""
    number = _number(value, name)
    if number < 0:
        raise _NotYet(f"`{name}` is negative: a fraction lies between 0 and 1.")
    if number > 1:
        if count_of is not None and number == int(number) and number <= count_of and number > 100:
            raise _NotYet(f"`{name}` looks like a number of images: divide by how many there are.")
        raise _NotYet(f"`{name}` must be a fraction between 0 and 1, not a percentage.")
    return number


def _simplified(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower()).removesuffix("s")


def _class_name(value: object, name: str) -> str:
    """``value`` as a name from ``CLASS_NAMES``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        raise _NotYet(f"store in `{name}` the class's name (a string from data.CLASS_NAMES), not its number.")
    if not isinstance(value, str):
        raise _NotYet(f"store in `{name}` one class name, a string from data.CLASS_NAMES.")
    if value in CLASS_NAMES:
        return str(value)
    if any(_simplified(value) == _simplified(class_name) for class_name in CLASS_NAMES):
        raise _NotYet(
            f"{value!r} is not written as in data.CLASS_NAMES: copy the name from there "
            "(capitals and punctuation count)."
        )
    raise _NotYet(f"{value!r} is not a class name; use one of data.CLASS_NAMES.")


def _shape(value: object, name: str) -> tuple[int | None, ...]:
    """``value`` as a tuple of sizes (``None`` for an unknown size, such as the batch axis)."""
    if isinstance(value, (str, bytes)):
        raise _NotYet(f"`{name}` is a string: store a tuple of numbers, such as (5, 5, 8), not its text.")
    try:
        sizes = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise _NotYet(f"store `{name}` as a tuple of sizes, such as (5, 5, 8).") from None
    for size in sizes:
        if size is not None and (
            isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer))
        ):
            raise _NotYet(f"every size in `{name}` must be a whole number, got {size!r}.")
    return tuple(None if size is None else int(size) for size in sizes)


def _array(value: object, name: str) -> np.ndarray:
    """An answer as a NumPy array."""
    try:
        return np.asarray(value)
    except (TypeError, ValueError, OverflowError):
        raise _NotYet(f"`{name}` cannot be read as an array: store a NumPy array.") from None


def _image_shape(value: object, name: str) -> tuple[int | None, ...]:
    """A layer's output shape for one image: (height, width, channels), without the batch axis."""
    shape = _shape(value, name)
    if len(shape) == 4:
        raise _NotYet("leave out the batch axis: store (height, width, channels).")
    if len(shape) != 3:
        raise _NotYet(f"store `{name}` with three axes: (height, width, channels).")
    return shape


def _labels(values: object, name: str, *, answer: bool = False) -> np.ndarray:
    """Integer labels: a ``ValueError`` says what is wrong (a hint when they are an ``answer``)."""
    labels = _array(values, name) if answer else np.asarray(values)
    try:
        validate_labels(labels, name=name)
    except ValueError as error:
        if answer:
            raise _NotYet(str(error)) from None
        raise
    return labels


# Notebook 00 ----------------------------------------------------------------------------------


@_check("00.1", "sneaker_count")
def exercise_00_1(sneaker_count: object, test_labels: np.ndarray) -> bool:
    """Exercise 00.1: how many of the first 100 test images are sneakers.

    Every class has exactly 1,000 test images, so a count over the whole test set
    cannot tell the sneakers from another class; the first 100 images are not balanced.

    Args:
        sneaker_count: The answer, an int.
        test_labels: The test labels it was counted from.
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
        images: The images it was computed from.
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


# Notebook 01 ----------------------------------------------------------------------------------


@_check("01.1", "background_share")
def exercise_01_1(
    background_share: object,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    validation_images: np.ndarray | None = None,
    validation_labels: np.ndarray | None = None,
) -> bool:
    """Exercise 01.1: the share of each class's pixels that are exactly 0.

    Shares computed on the training part alone or on all the training images (the
    training and validation parts together) both count as correct.

    Args:
        background_share: The answer, ten shares in label order.
        train_images: The ``uint8`` training images.
        train_labels: Their labels.
        validation_images: The validation part, if the split took one off.
        validation_labels: Its labels.
    """
    parts = [(np.asarray(train_images), _labels(train_labels, "train_labels"))]
    if validation_images is not None and validation_labels is not None:
        parts.append((np.asarray(validation_images), _labels(validation_labels, "validation_labels")))
    answer = _ten_shares(background_share)

    def shares(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return np.array([np.mean(images[labels == label] == 0) for label in range(NUM_CLASSES)])

    def zero_counts(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return np.array([np.sum(images[labels == label] == 0) for label in range(NUM_CLASSES)])

    candidates = [parts[0]]
    if len(parts) == 2:
        candidates.append(
            (np.concatenate([parts[0][0], parts[1][0]]), np.concatenate([parts[0][1], parts[1][1]]))
        )
    expected = [shares(*candidate) for candidate in candidates]
    close = lambda a, b: np.allclose(a, b, rtol=0, atol=1e-4)  # noqa: E731
    if any(close(answer, share) for share in expected):
        return True
    if any(np.array_equal(answer, zero_counts(*candidate)) for candidate in candidates):
        raise _NotYet("these are counts of pixels: divide each by the number of that class's pixels.")
    if answer.max() > 1.0:
        raise _NotYet("a share is a fraction between 0 and 1, not a percentage.")
    if any(close(answer, 1.0 - share) for share in expected):
        raise _NotYet("these are the shares of the pixels that are *not* background.")
    if len(parts) == 2 and close(answer, shares(*parts[1])):
        raise _NotYet("these are the validation part's shares: use the training images.")
    if any(close(np.sort(answer), np.sort(share)) for share in expected):
        raise _NotYet("the right shares, in the wrong order: keep label order (label 0 first), do not sort.")
    if np.ptp(answer) < 1e-9:
        raise _NotYet("all ten shares are the same: select each class's images with labels == label.")
    raise _NotYet(
        "count the pixels that are exactly 0 (not just dark) among all the pixels of each class's "
        "images, and divide by that class's number of pixels."
    )


def _ten_shares(background_share: object) -> np.ndarray:
    """Exercise 01.1's answer as ten floats, or a hint about its form."""
    if isinstance(background_share, dict):
        raise _NotYet("store the shares in an array in label order (share of label 0 first), not a dict.")
    if isinstance(background_share, (str, bytes)):
        raise _NotYet("`background_share` is a string: store ten numbers in a NumPy array.")
    try:
        answer = np.asarray(background_share, dtype="float64")
    except (TypeError, ValueError, OverflowError):
        raise _NotYet("store ten numbers, one share per class, in a NumPy array.") from None
    if answer.shape != (NUM_CLASSES,):
        raise _NotYet(
            f"store one share per class, in label order: shape ({NUM_CLASSES},), not {answer.shape}."
        )
    if not np.all(np.isfinite(answer)):
        raise _NotYet("some shares are not numbers: does every class have images in the data you used?")
    return answer


def _images(value: object, name: str) -> np.ndarray:
    """A part of a split: an array of images, not the ``(images, labels)`` pair."""
    if isinstance(value, tuple) and len(value) == 2:
        raise _NotYet(f"`{name}` holds a pair (images, labels): unpack the pair into two names.")
    array = _array(value, name)
    if array.ndim < 2 or array.dtype == object:
        raise _NotYet(f"`{name}` should be images, an array of shape (n, 28, 28); got shape {array.shape}.")
    return array


@_check("01.2", "split_train_images", "split_validation_images", "split_validation_labels")
def exercise_01_2(
    split_train_images: np.ndarray,
    split_validation_images: np.ndarray,
    split_validation_labels: np.ndarray,
    *training_labels: np.ndarray,
) -> bool:
    """Exercise 01.2: a stratified 80/20 split of all the training images, no image in both parts.

    Args:
        split_train_images: The training part of the new split.
        split_validation_images: Its validation part.
        split_validation_labels: The validation part's labels.
        *training_labels: The labels of all the training images the notebook has, in one
            array or in parts (the lesson's training and validation labels).
    """
    train = _images(split_train_images, "split_train_images")
    validation = _images(split_validation_images, "split_validation_images")
    labels = _array(split_validation_labels, "split_validation_labels")
    if labels.ndim != 1:
        raise _NotYet(
            f"`split_validation_labels` should be one label per image, shape (n,); got shape {labels.shape}: "
            "unpack the split as (train_images, train_labels), (validation_images, validation_labels)."
        )
    if len(labels) != len(validation):
        mismatch = " they look like the training part's" if len(labels) == len(train) else ""
        raise _NotYet(
            f"{len(labels):,} validation labels for {len(validation):,} validation images:{mismatch} "
            "unpack the split as (train_images, train_labels), (validation_images, validation_labels)."
        )
    labels = _labels(labels, "split_validation_labels", answer=True)
    every_label = np.concatenate([_labels(part, "training_labels") for part in training_labels])
    total, given = len(every_label), len(train) + len(validation)
    if given != total:
        if training_labels and given == len(training_labels[0]):
            raise _NotYet(
                f"you split the {given:,} images left after the lesson's split; the exercise asks for all "
                f"{total:,} training images: put the two parts back together first."
            )
        raise _NotYet(f"your two parts hold {given:,} images; the training set has {total:,}.")
    if len(validation) > len(train):
        raise _NotYet("the validation part is the larger one: validation_size is the validation's share.")
    expected = int(np.ceil(0.2 * total))
    if len(validation) != expected:
        raise _NotYet(
            f"{len(validation):,} validation images are {len(validation) / total:.0%} of the {total:,}; "
            "validation_size=0.2 asks for 20%."
        )
    wanted = 0.2 * np.bincount(every_label, minlength=NUM_CLASSES)
    if np.any(np.abs(np.bincount(labels, minlength=NUM_CLASSES) - wanted) > 1):
        raise _NotYet(
            "some classes have more validation images than others: the split is not stratified. "
            "data.train_validation_split keeps every class's share."
        )
    in_train = {image.tobytes() for image in train}
    shared = sum(image.tobytes() in in_train for image in validation)
    if shared:
        raise _NotYet(
            f"{shared} validation images are also training images: split once, do not sample twice."
        )
    return True


@_check("01.3", "validation_one_hot")
def exercise_01_3(validation_one_hot: object, validation_labels: np.ndarray) -> bool:
    """Exercise 01.3: a pipeline of the validation set, batches of 256, one-hot labels.

    Args:
        validation_one_hot: The ``tf.data.Dataset`` built.
        validation_labels: The labels of the validation set it should hold.
    """
    labels = _labels(validation_labels, "validation_labels")
    if not hasattr(validation_one_hot, "as_numpy_iterator") or not hasattr(validation_one_hot, "cardinality"):
        raise _NotYet(
            "store the tf.data.Dataset that data.make_dataset returns, not a NumPy array or a list."
        )
    if int(validation_one_hot.cardinality()) == -1:  # tf.data.INFINITE_CARDINALITY
        raise _NotYet("the pipeline never ends (.repeat()): build it without repeating.")
    sizes, counts = [], np.zeros(NUM_CLASSES, dtype=np.int64)
    for number, element in enumerate(validation_one_hot.as_numpy_iterator()):
        if not isinstance(element, tuple) or len(element) != 2:
            raise _NotYet(
                "each element should be a batch (images, labels): pass the labels to make_dataset too."
            )
        images, batch_labels = element
        if np.shape(images) in ((28, 28), (28, 28, 1)):
            raise _NotYet("the pipeline is not batched: give make_dataset a batch_size.")
        if np.ndim(batch_labels) != 2 or np.shape(batch_labels)[1] != NUM_CLASSES:
            raise _NotYet("the labels are class numbers: ask data.make_dataset for one-hot labels.")
        if np.shape(images)[1:] != (28, 28, 1):
            raise _NotYet(
                f"the images should have shape (28, 28, 1) in every batch, not {np.shape(images)[1:]}."
            )
        sizes.append(len(batch_labels))
        counts += np.bincount(np.argmax(batch_labels, axis=1), minlength=NUM_CLASSES)
        if number > len(labels):
            break
    held = sum(sizes)
    if held < len(labels) and len(labels) - held < 256 and sizes and sizes[-1] == 256:
        raise _NotYet("the last, smaller batch is missing: keep it (no drop_remainder).")
    if held != len(labels):
        raise _NotYet(f"the pipeline holds {held:,} examples, the validation set {len(labels):,}.")
    if any(size != 256 for size in sizes[:-1]) or sizes[-1] > 256:
        raise _NotYet(f"the batches hold {sizes[0]} examples, not 256.")
    if not np.array_equal(counts, np.bincount(labels, minlength=NUM_CLASSES)):
        raise _NotYet(
            "the pipeline's labels are not the validation labels: build it from the validation set."
        )
    return True


exercise_01_4 = _open_ended(
    "01.4",
    "rotation as augmentation",
    [
        "shows grids for at least two or three rotation ranges, small to large;",
        "knows how RandomRotation's factor maps to degrees (a fraction of a full turn);",
        "picks a range and argues from the pictures: would a shop photograph a garment like that?",
        "says what goes wrong with too large a range (garments upside down, like a vertical flip).",
    ],
)


# Notebook 02 ----------------------------------------------------------------------------------


@_check("02.1", "output_shape", "parameter_count")
def exercise_02_1(output_shape: object, parameter_count: object) -> bool:
    """Exercise 02.1: output shape and parameters of ``Conv2D(16, 5)`` on 28 x 28 x 1 images."""
    shape = _image_shape(output_shape, "output_shape")
    if shape[0] == 16 and shape[2] != 16:
        raise _NotYet("Keras puts the channels last: (height, width, channels).")
    if shape[2] != 16:
        raise _NotYet("the last axis has one channel per filter.")
    if shape[:2] == (28, 28):
        raise _NotYet('"valid" padding adds no border, so the image shrinks.')
    if shape[:2] != (24, 24):
        raise _NotYet("a k x k kernel fits in (28 - k + 1) positions along each side.")
    count = _count(parameter_count, "parameter_count")
    if count == 400:
        raise _NotYet("each filter also has a bias.")
    if count == 26:
        raise _NotYet("that is one filter's parameters; the layer has 16 filters.")
    if count != 416:
        raise _NotYet("each filter has one weight per kernel position and input channel, plus a bias.")
    return True


@functools.cache
def _three_blocks() -> tuple[tuple[int, ...], int, int, int]:
    """pool3's shape, the total and the biases of the three-block baseline; the two-block total."""
    from fmnist_utils.models import build_baseline_cnn

    model = build_baseline_cnn(filters=(32, 64, 128))
    biases = sum(int(np.prod(weight.shape)) for weight in model.weights if weight.name == "bias")
    shape = tuple(int(size) for size in model.get_layer("pool3").output.shape[1:])
    return shape, model.count_params(), biases, build_baseline_cnn().count_params()


@_check("02.2", "pool3_shape", "predicted_total")
def exercise_02_2(pool3_shape: object, predicted_total: object) -> bool:
    """Exercise 02.2: ``pool3``'s shape and the parameters of the three-block baseline."""
    shape = _image_shape(pool3_shape, "pool3_shape")
    expected_shape, expected_total, biases, two_blocks = _three_blocks()
    if shape[2] != expected_shape[2]:
        raise _NotYet("pooling keeps the number of channels of the convolution before it.")
    if shape[:2] != expected_shape[:2]:
        raise _NotYet("each pooling halves the size and rounds down: follow 28 through three of them.")
    total = _count(predicted_total, "predicted_total")
    if total == expected_total:
        return True
    if total == two_blocks:
        raise _NotYet("that is the two-block baseline's total: the third block changes the dense layer too.")
    if total == expected_total - biases:
        raise _NotYet("every convolution filter and every dense unit also has a bias.")
    raise _NotYet(
        "add up every layer: a convolution has (k * k * input channels + 1) * filters parameters, "
        "a dense layer (inputs + 1) * units, and the first dense layer's inputs are pool3's "
        "height * width * channels. model.summary() shows each layer's count to compare with."
    )


exercise_02_3 = _open_ended(
    "02.3",
    "a filter for diagonal edges",
    [
        "has a 3 x 3 filter whose values rise from one corner to the opposite one (and sum to about 0);",
        "shows the response as an image with a diverging colour map (positive and negative);",
        "names the parts of the sneaker that light up and explains why (slanted outlines);",
        "compares with the horizontal or vertical filter of the notebook.",
    ],
)


exercise_02_4 = _open_ended(
    "02.4",
    "dropout 0 against 0.5",
    [
        "trains both models from the same seed and reports training and validation accuracy;",
        "notes that after 2 epochs both underfit (and why training accuracy can be below validation's);",
        "predicts overfitting without dropout over 20 epochs: training accuracy up, validation loss up;",
        "checks the prediction against notebook 03's learning curves.",
    ],
)


# Notebook 03 ----------------------------------------------------------------------------------


def _read_log(log_path: str | os.PathLike[str]) -> dict[str, list[float]]:
    """The columns of a Keras ``CSVLogger`` file."""
    path = Path(log_path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no training log; run the training cell of notebook 03 first.")
    with open(path) as file:
        rows = list(csv.DictReader(file))
    if not rows or "val_accuracy" not in rows[0] or "epoch" not in rows[0]:
        raise ValueError(
            f"{path} has no epoch and val_accuracy columns: pass notebook 03's training_log.csv."
        )
    return {column: [float(row[column]) for row in rows] for column in rows[0]}


@_check("03.1", "best_accuracy_epoch")
def exercise_03_1(best_accuracy_epoch: object, log_path: str | os.PathLike[str]) -> bool:
    """Exercise 03.1: the epoch (from 1) with the highest validation accuracy in the log.

    Args:
        best_accuracy_epoch: The answer, an int.
        log_path: The run's ``training_log.csv``.
    """
    log = _read_log(log_path)
    epochs = [int(epoch) for epoch in log["epoch"]]
    accuracy = np.asarray(log["val_accuracy"])
    best = {epoch + 1 for epoch, value in zip(epochs, accuracy, strict=True) if value == accuracy.max()}
    number = _number(best_accuracy_epoch, "best_accuracy_epoch")
    if 0 < number < 1 and number in log["val_accuracy"]:
        raise _NotYet("that is an accuracy; store the number of the epoch that reached it.")
    answer = _count(best_accuracy_epoch, "best_accuracy_epoch")
    if answer in best:  # Epochs tied for the highest accuracy are all right.
        return True
    if answer + 1 in best:
        raise _NotYet("the log counts epochs from 0; the exercise counts from 1.")
    if "val_loss" in log and answer in (
        epochs[int(np.argmin(log["val_loss"]))],
        epochs[int(np.argmin(log["val_loss"]))] + 1,
    ):
        raise _NotYet("that is the epoch of the lowest validation loss; the exercise asks about accuracy.")
    if "accuracy" in log and answer in (
        epochs[int(np.argmax(log["accuracy"]))],
        epochs[int(np.argmax(log["accuracy"]))] + 1,
    ):
        raise _NotYet("that is the best *training* accuracy; the exercise asks about val_accuracy.")
    if answer in (epochs[-1], epochs[-1] + 1):
        raise _NotYet("that is the last epoch; the best one can come earlier.")
    if answer == 0 or answer > epochs[-1] + 1:
        raise _NotYet(f"the run has epochs 1 to {epochs[-1] + 1}, counting from 1.")
    raise _NotYet("look for the largest value in the val_accuracy column.")


exercise_03_2 = _open_ended(
    "03.2",
    "early stopping with patience 1",
    [
        "reports how many epochs ran and the validation accuracy kept, next to the patience-4 run;",
        "explains that one noisy epoch without improvement ends the run;",
        "names the risk: stopping before the model has finished learning, at a worse accuracy.",
    ],
)


exercise_03_3 = _open_ended(
    "03.3",
    "three learning rates",
    [
        "trains the three rates from the same seed and plots them on one figure;",
        "says which learns fastest at first and which ends best, reading the curves;",
        "explains both with step size: large steps move fast but overshoot, small ones are slow.",
    ],
)


exercise_03_4 = _open_ended(
    "03.4",
    "a callback of your own",
    [
        "subclasses keras.callbacks.Callback and overrides on_epoch_begin and on_epoch_end;",
        "reads the learning rate from self.model.optimizer, so schedule changes show;",
        "prints one line per epoch and passes the callback through fit_model(extra_callbacks=...).",
    ],
)


# Notebook 04 ----------------------------------------------------------------------------------


def _size(value: object) -> int | None:
    """The number of values in a 1-D answer, else ``None``."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return array.size if array.ndim == 1 else None


def _metric(value: object, name: str) -> float:
    """One precision or recall: a fraction (or nan, 0 / 0), with a hint for every class's values."""
    if _size(value) == NUM_CLASSES:
        raise _NotYet(f"`{name}` holds a value for every class: keep only the Shirt's.")
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return float("nan")
    return _fraction(value, name)


@_check("04.1", "shirt_precision", "shirt_recall")
def exercise_04_1(shirt_precision: object, shirt_recall: object, confusion: np.ndarray) -> bool:
    """Exercise 04.1: Shirt's precision and recall from the confusion matrix.

    Args:
        shirt_precision: The answer's precision.
        shirt_recall: The answer's recall.
        confusion: The confusion matrix of counts (rows: true class, columns: predicted).
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

    def close(answer: float, value: float) -> bool:  # 0 / 0 (no image predicted Shirt): nan or 0.
        return bool((np.isnan(value) and (np.isnan(answer) or answer == 0)) or abs(answer - value) < 1e-6)

    if all(close(answers[metric], expected[metric]) for metric in answers):
        return True
    if any(np.isnan(answer) for answer in answers.values()):
        raise _NotYet("one of the two is nan (0 / 0): divide by a total that is not zero.")
    if close(answers["precision"], expected["recall"]) and close(answers["recall"], expected["precision"]):
        raise _NotYet(
            "precision and recall are swapped: which of them asks about the images *predicted* as "
            "shirts, and which about the images that *are* shirts? Rows are true classes."
        )
    for metric, answer in answers.items():
        if close(answer, expected[metric]):
            continue
        others = np.delete(every[metric], shirt)
        if np.any(np.abs(others - answer) < 1e-6):
            raise _NotYet(
                f"that {metric} belongs to another class: Shirt is data.CLASS_NAMES.index('Shirt')."
            )
        if close(answer, np.trace(matrix) / matrix.sum()):
            raise _NotYet(f"the {metric} given is the overall accuracy; take only the Shirt's row or column.")
        if abs(answer - expected[metric]) < 0.0051:
            raise _NotYet(
                f"the {metric} is rounded: compute it from confusion instead of copying the report."
            )
        raise _NotYet(
            f"the {metric} is off: divide the correctly found shirts by the right total "
            "(a column of the matrix for one of the two, a row for the other)."
        )
    return True


@_check("04.2", "top2_accuracy")
def exercise_04_2(top2_accuracy: object, probabilities: np.ndarray, labels: np.ndarray) -> bool:
    """Exercise 04.2: how often the true class is among the two most likely ones.

    Args:
        top2_accuracy: The answer.
        probabilities: The model's ``(n, 10)`` predicted probabilities.
        labels: The true labels.
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
    if abs(answer - expected) < 1e-6:
        return True
    if abs(answer - top1) < 1e-6:
        raise _NotYet("that is the top-1 accuracy: count a hit when the true class is first *or* second.")
    if abs(answer - (1 - expected)) < 1e-6:
        raise _NotYet("that is the share of misses: count the images whose true class *is* among the two.")
    if abs(answer - top(order[:, :2])) < 1e-6:
        raise _NotYet("those are the two *least* likely classes: np.argsort sorts from the smallest up.")
    if abs(answer - top(order[:, -3:])) < 1e-6:
        raise _NotYet("that counts the three most likely classes; take two.")
    if answer < top1:
        raise _NotYet(f"top-2 accuracy cannot be below the top-1 accuracy ({top1:.4f}).")
    raise _NotYet("take, for each image, the two classes with the highest probabilities (np.argsort).")


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


# Notebook 05 ----------------------------------------------------------------------------------


@_check("05.1", "cheapest_step")
def exercise_05_1(cheapest_step: object, comparison: object) -> bool:
    """Exercise 05.1: the step that bought validation accuracy most cheaply.

    Steps that gained at no extra cost (or while saving time) all count as the cheapest.

    Args:
        cheapest_step: The answer, a step's name.
        comparison: Notebook 05's comparison table (``step``, ``gain``, ``s/epoch`` columns).
    """
    steps = [str(step) for step in comparison["step"]]  # type: ignore[index]
    gain = np.asarray(comparison["gain"], dtype="float64")  # type: ignore[index]
    seconds = np.asarray(comparison["s/epoch"], dtype="float64")  # type: ignore[index]
    cost = np.diff(seconds, prepend=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(cost > 0, gain / cost, np.where(gain > 0, np.inf, -np.inf))
    value[0] = -np.inf  # The baseline is where the steps start.
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
    if chosen == int(np.nanargmax(np.where(np.arange(len(steps)) > 0, gain, -np.inf))):
        raise _NotYet("that step gained the most, but what did it cost per epoch? Divide by the extra time.")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_total = np.where(np.arange(len(steps)) > 0, gain / seconds, -np.inf)
    if chosen == int(np.nanargmax(per_total)):
        raise _NotYet("that divides by the whole time per epoch; divide by the time the step *added*.")
    if gain[chosen] <= 0:
        raise _NotYet("that step gained nothing (its gain is zero or negative).")
    raise _NotYet(
        "divide each step's gain by the seconds per epoch it added; a gain at no extra cost beats any other."
    )


def _probabilities(values: object, name: str) -> np.ndarray:
    """Probabilities of shape ``(n, 10)`` (``ValueError`` otherwise)."""
    array = np.asarray(values, dtype="float64")
    if array.ndim != 2 or array.shape[1] != NUM_CLASSES:
        raise ValueError(
            f"{name} must be probabilities of shape (n, {NUM_CLASSES}), got shape {array.shape}: "
            "pass the output of evaluation.predict_probabilities."
        )
    return array


def _same_length(*arrays: np.ndarray) -> None:
    lengths = {len(array) for array in arrays}
    if len(lengths) != 1:
        raise ValueError(
            f"the arrays passed have different lengths {sorted(lengths)}; pass the same images' data."
        )


def _outputs(model_or_outputs: object, images: np.ndarray) -> np.ndarray:
    """A model's probabilities for ``images``, or the array given when it is not a model."""
    if hasattr(model_or_outputs, "predict"):
        from fmnist_utils.evaluation import predict_probabilities

        return predict_probabilities(model_or_outputs, images)  # type: ignore[arg-type]
    return np.asarray(model_or_outputs)


@_check("05.2", "ensemble_accuracy")
def exercise_05_2(
    ensemble_accuracy: object,
    first_model: object,
    second_model: object,
    images: np.ndarray,
    labels: np.ndarray,
) -> bool:
    """Exercise 05.2: the validation accuracy of two models' averaged probabilities.

    Args:
        ensemble_accuracy: The answer.
        first_model: The first model (or its ``(n, 10)`` probabilities for ``images``).
        second_model: The second model (or its probabilities).
        images: The validation images.
        labels: The validation labels.
    """
    labels = _labels(labels, "labels")
    first = _probabilities(_outputs(first_model, images), "first_model's probabilities")
    second = _probabilities(_outputs(second_model, images), "second_model's probabilities")
    _same_length(first, second, labels)
    answer = _fraction(ensemble_accuracy, "ensemble_accuracy", count_of=len(labels))
    expected = float(np.mean(((first + second) / 2).argmax(axis=1) == labels))
    if abs(answer - expected) < 1e-6:
        return True
    singles = [float(np.mean(probabilities.argmax(axis=1) == labels)) for probabilities in (first, second)]
    if any(abs(answer - single) < 1e-6 for single in singles):
        raise _NotYet("that is one model's accuracy alone: average the two models' probabilities first.")
    either = float(np.mean((first.argmax(axis=1) == labels) | (second.argmax(axis=1) == labels)))
    if abs(answer - either) < 1e-6:
        raise _NotYet(
            "that counts an image right when either model is right; the ensemble makes one prediction."
        )
    if abs(answer - float(np.mean(np.maximum(first, second).argmax(axis=1) == labels))) < 1e-6:
        raise _NotYet("that takes the larger of the two probabilities; average them instead.")
    raise _NotYet("average the probabilities (not the predicted classes), then take each row's argmax.")


def _predicted_classes(values: np.ndarray, name: str) -> np.ndarray:
    """Class indices from class indices or from ``(n, 10)`` probabilities."""
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] == NUM_CLASSES:
        return values.argmax(axis=1)
    return _labels(values, name).astype(np.int64)


@_check("05.3", "most_improved_class")
def exercise_05_3(
    most_improved_class: object,
    baseline_model: object,
    improved_model: object,
    images: np.ndarray,
    labels: np.ndarray,
) -> bool:
    """Exercise 05.3: the class whose validation accuracy gained the most.

    Args:
        most_improved_class: The answer, a class name from ``data.CLASS_NAMES``.
        baseline_model: The baseline (or its predicted classes or probabilities for ``images``).
        improved_model: The improved model (or its predicted classes or probabilities).
        images: The validation images.
        labels: The validation labels.
    """
    from fmnist_utils.evaluation import per_class_accuracy  # Taught in notebook 04.

    answer = _class_name(most_improved_class, "most_improved_class")
    labels = _labels(labels, "labels")
    baseline = _predicted_classes(_outputs(baseline_model, images), "baseline_model's predictions")
    improved = _predicted_classes(_outputs(improved_model, images), "improved_model's predictions")
    _same_length(baseline, improved, labels)
    improved_accuracy = per_class_accuracy(labels, improved)
    baseline_accuracy = per_class_accuracy(labels, baseline)
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


# Notebook 06 ----------------------------------------------------------------------------------


@_check("06.1", "size_ratio")
def exercise_06_1(size_ratio: object, table: object) -> bool:
    """Exercise 06.1: how many times smaller the full-integer LiteRT file is than the float one.

    Args:
        size_ratio: The answer: float size divided by int8 size.
        table: Notebook 06's comparison table, indexed by format, with a ``size (MB)`` column.
    """
    answer = _number(size_ratio, "size_ratio")
    sizes = {str(name): float(size) for name, size in table["size (MB)"].items()}  # type: ignore[index]
    expected = sizes["LiteRT float32"] / sizes["LiteRT int8"]
    if abs(answer - expected) <= 0.01 * expected:
        return True
    if 0 < answer < 1 and abs(answer * expected - 1) < 0.05:  # Rounded, too: 0.26 for 0.2563.
        raise _NotYet("that is int8 / float, below 1; divide the float size by the int8 size.")
    if abs(answer - sizes["Keras .keras"] / sizes["LiteRT int8"]) <= 0.01 * answer:
        raise _NotYet(
            "that compares with the .keras file, which also holds the optimizer's state; use LiteRT float32."
        )
    if abs(answer - sizes["LiteRT float32"] / sizes["LiteRT dynamic range"]) <= 0.01 * answer:
        raise _NotYet("that is the dynamic-range file; the exercise asks about full-integer (int8).")
    raise _NotYet("read both sizes from the table's size column and divide the float32 one by the int8 one.")


exercise_06_2 = _open_ended(
    "06.2",
    "calibrate full-integer quantization badly on purpose",
    [
        "converts the SavedModel twice more: calibrated on 20 images of one class, and on 20 blank images;",
        "measures their test accuracy and agreement with the float model, next to the table's int8 row;",
        "explains both: what the calibration measures (each activation's range), why one class can be "
        "enough, and why blank images, which light up nothing, leave the model at chance level.",
    ],
)

exercise_06_3 = _open_ended(
    "06.3",
    "fool the demo",
    [
        "shows a picture of a real garment that the demo gets wrong, and the probabilities it gave;",
        "reads the 28x28 image and the Grad-CAM map the page shows: what did the preparation lose, where did "
        "the model look?",
        "says whether the mistake comes from the picture (background, angle, several garments) or from the "
        "model (a look-alike class of notebook 01).",
    ],
)


#: Every exercise with its check: ``{"01.1": exercise_01_1, ...}``.
EXERCISES: dict[str, Callable[..., CheckResult]] = {
    name.removeprefix("exercise_").replace("_", "."): globals()[name]
    for name in __all__
    if name.startswith("exercise_")
}
