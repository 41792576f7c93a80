"""Exercise self-checks: each passes on a right answer; on the stub (None) it says "no answer
yet"; on the wrong answers students give it fails with a hint that names the mistake; and no
input makes it raise.

The wrong-answer matrix (``WRONG_ANSWERS``) holds, for every exercise with a definite answer,
at least five plausible mistakes and a fragment of the hint each must get.
"""

from __future__ import annotations

import ast
import csv
import inspect
import re
import warnings

import keras
import nbformat
import numpy as np
import pandas as pd
import pytest
from helpers import SOLUTIONS_DIR

from fmnist_utils import checks, data
from fmnist_utils.checks import CheckResult

SNEAKER = data.CLASS_NAMES.index("Sneaker")
SHIRT = data.CLASS_NAMES.index("Shirt")


def assert_correct(result: CheckResult) -> None:
    assert isinstance(result, CheckResult)
    assert result.passed is True, result.message
    assert bool(result)
    assert repr(result) == f"Exercise {result.exercise}: correct."


def assert_hint(result: CheckResult, *fragments: str) -> None:
    assert isinstance(result, CheckResult)
    assert result.passed is False, result.message
    assert not bool(result)
    assert result.message.startswith(f"Exercise {result.exercise}: not yet. Hint: "), result.message
    for fragment in fragments:
        assert fragment in result.message, result.message


# The data each exercise's check is given, built so that every mistake below gives a value of
# its own (another class's count differs from the sneakers', the epoch of the best loss from
# that of the best accuracy, and so on).


def sneaker_labels() -> np.ndarray:
    """10,000 test labels, 1,000 a class, whose first 100 are unbalanced (11 sneakers), and
    whose image 100 is a sneaker (so test_labels[:101] holds 12)."""
    first = np.repeat(np.arange(10), [8, 13, 14, 9, 15, 9, 8, 11, 7, 6])
    rest = np.random.default_rng(0).permutation(np.repeat(np.arange(10), 1000 - np.bincount(first)))
    sneaker = np.flatnonzero(rest == SNEAKER)[0]
    rest[[0, sneaker]] = rest[[sneaker, 0]]
    return np.concatenate([first, rest])


def ink_images() -> tuple[np.ndarray, np.ndarray]:
    """Class k has pixels of value 20 (k + 1) on half of the image: Ankle boot has the most ink,
    T-shirt/top the least; Pullover covers the most pixels (dimly), Sandal the fewest."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 20)
    share = np.full(10, 0.5)
    value = 20.0 * (np.arange(10) + 1)
    share[2], value[2] = 0.95, 60  # Pullover: 57 on average.
    share[5], value[5] = 0.1, 120  # Sandal: 12 on average.
    masks = rng.random((200, 28, 28)) < share[labels][:, None, None]
    return (masks * value[labels][:, None, None]).astype(np.uint8), labels


def split_data() -> tuple[np.ndarray, np.ndarray]:
    """200 different images, 20 a class; class k's background (0) covers about (k + 3) / 14 of it."""
    rng = np.random.default_rng(0)
    labels = np.arange(200) % 10
    background = rng.random((200, 28, 28)) < ((labels + 3) / 14)[:, None, None]
    images = rng.integers(1, 256, size=(200, 28, 28)) * ~background
    return images.astype(np.uint8), labels


def pipeline_data() -> tuple[np.ndarray, np.ndarray]:
    """600 different validation images (600 different labels' order) for exercise 01.3."""
    rng = np.random.default_rng(5)
    return rng.integers(0, 256, size=(600, 28, 28), dtype=np.uint8), np.arange(600) % 10


def other_images(count: int) -> np.ndarray:
    """Images that are not pipeline_data()'s, mostly dark (their pixel sums differ too)."""
    rng = np.random.default_rng(6)
    return (rng.integers(0, 256, size=(count, 28, 28)) * (rng.random((count, 28, 28)) < 0.3)).astype(np.uint8)


def write_log(path, rows) -> None:
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["epoch", "accuracy", "loss", "val_accuracy", "val_loss"])
        writer.writerows(rows)


#: Epochs 0-7: best val_accuracy at 3 (answer 4), best val_loss at 5, best training accuracy at 6.
LOG_ROWS = [
    (0, 0.70, 0.9, 0.80, 0.60),
    (1, 0.80, 0.6, 0.85, 0.45),
    (2, 0.84, 0.5, 0.86, 0.40),
    (3, 0.86, 0.4, 0.90, 0.38),
    (4, 0.87, 0.35, 0.88, 0.37),
    (5, 0.88, 0.3, 0.89, 0.33),
    (6, 0.95, 0.2, 0.87, 0.36),
    (7, 0.94, 0.25, 0.885, 0.39),
]


def confusion_matrix() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 50, size=(10, 10)) + np.diag(np.arange(400, 600, 20))


def probabilities(seed: int, labels: np.ndarray, accuracy: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.dirichlet(np.ones(10), size=len(labels))
    right = rng.random(len(labels)) < accuracy
    values[right, labels[right]] += 1.0
    return values / values.sum(axis=1, keepdims=True)


def comparison_table() -> pd.DataFrame:
    """Two steps gain at no extra cost ("+ free", "+ free too"): both count as the cheapest."""
    table = pd.DataFrame(
        {
            "step": ["baseline", "+ big", "+ free", "+ cheap", "+ loss", "+ free too"],
            "s/epoch": [10.0, 30.0, 29.0, 30.0, 31.0, 31.0],
            "val acc": [0.900, 0.930, 0.931, 0.935, 0.933, 0.935],
        }
    )
    table["gain"] = table["val acc"].diff()
    return table


def class_predictions() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class accuracies (50 images a class): Shirt gains most (0.4 -> 0.9), Trouser loses
    most (1.0 -> 0.0), Ankle boot is the improved model's best (0.96), Coat the baseline's
    weakest (0.1)."""
    baseline_accuracy = [0.8, 1.0, 0.7, 0.7, 0.1, 0.7, 0.4, 0.7, 0.7, 0.7]
    improved_accuracy = [0.9, 0.0, 0.7, 0.72, 0.1, 0.7, 0.9, 0.7, 0.7, 0.96]
    labels = np.repeat(np.arange(10), 50)

    def predictions(accuracy):
        right = np.concatenate([np.arange(50) < round(share * 50) for share in accuracy])
        return np.where(right, labels, (labels + 1) % 10)

    return predictions(baseline_accuracy), predictions(improved_accuracy), labels


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """For every exercise with a definite answer: (its right answers, the data arguments after them)."""
    labels = sneaker_labels()
    images, ink_labels = ink_images()
    all_images, all_labels = split_data()
    (lesson_train, lesson_train_labels), (lesson_validation, lesson_validation_labels) = (
        data.train_validation_split(all_images, all_labels, validation_size=0.1, seed=0)
    )
    (split_train, _), (split_validation, split_validation_labels) = data.train_validation_split(
        all_images, all_labels, validation_size=0.2, seed=7
    )
    validation_images, validation_labels = pipeline_data()
    log = tmp_path_factory.mktemp("log") / "training_log.csv"
    write_log(log, LOG_ROWS)
    confusion = confusion_matrix()
    test_labels = np.arange(300) % 10
    model_outputs = probabilities(2, test_labels, 0.5)
    ensemble_labels = np.arange(400) % 10
    first, second = probabilities(3, ensemble_labels, 0.6), probabilities(4, ensemble_labels, 0.6)
    baseline, improved, class_labels = class_predictions()
    return {
        "00.1": ((11,), (labels,)),
        "00.3": (("Ankle boot", "T-shirt/top"), (images, ink_labels)),
        "01.1": (
            (np.array([np.mean(all_images[all_labels == k] == 0) for k in range(10)]),),
            (lesson_train, lesson_train_labels, lesson_validation, lesson_validation_labels),
        ),
        "01.2": (
            (split_train, split_validation, split_validation_labels),
            (all_images, all_labels, lesson_train_labels),
        ),
        "01.3": (
            (
                Later(
                    lambda: data.make_dataset(
                        validation_images, validation_labels, batch_size=256, one_hot_labels=True
                    )
                ),
            ),
            (validation_images, validation_labels),
        ),
        "02.1": (((24, 24, 16), 416), ()),
        "02.2": (((3, 3, 128), 241_546), ()),
        "03.1": ((4,), (log,)),
        "04.1": (
            (
                confusion[SHIRT, SHIRT] / confusion[:, SHIRT].sum(),
                confusion[SHIRT, SHIRT] / confusion[SHIRT].sum(),
            ),
            (confusion,),
        ),
        "04.2": (
            (np.mean((np.argsort(model_outputs, axis=1)[:, -2:] == test_labels[:, None]).any(axis=1)),),
            (model_outputs, test_labels),
        ),
        "05.1": (("+ free",), (comparison_table(),)),
        "05.2": (
            (np.mean(((first + second) / 2).argmax(axis=1) == ensemble_labels),),
            (first, second, ensemble_labels),
        ),
        "05.3": (("Shirt",), (baseline, improved, class_labels)),
        "06.1": ((1.17 / 0.311,), (format_table(),)),
    }


def format_table() -> pd.DataFrame:
    """Notebook 06's comparison table, sizes only: float32 LiteRT 1.17 MB, int8 0.311 MB (a ratio
    of 3.762, which rounded to 3.8 is more than 1% off, and within 1% of the dynamic-range ratio 3.811)."""
    sizes = {"Keras .keras": 3.52, "SavedModel": 1.26, "ONNX": 1.17, "LiteRT float32": 1.17}
    sizes |= {"LiteRT dynamic range": 0.307, "LiteRT int8": 0.311}
    return pd.DataFrame({"size (MB)": sizes})


DEFINITE = [
    "00.1",
    "00.3",
    "01.1",
    "01.2",
    "01.3",
    "02.1",
    "02.2",
    "03.1",
    "04.1",
    "04.2",
    "05.1",
    "05.2",
    "05.3",
    "06.1",
]


def test_every_exercise_has_a_check():
    expected = ["00.1", "00.2", "00.3"]
    expected += [f"0{notebook}.{number}" for notebook in range(1, 6) for number in range(1, 5)]
    expected += ["06.1", "06.2", "06.3"]
    assert list(checks.EXERCISES) == expected
    for name, check in checks.EXERCISES.items():
        assert check.__name__ == check.__qualname__ == f"exercise_{name.replace('.', '_')}"
        assert check.__doc__.startswith(f"Exercise {name}")  # What help() and Shift+Tab show.
        assert inspect.signature(check).return_annotation in (CheckResult, "CheckResult")
    assert list(inspect.signature(checks.exercise_01_1).parameters)[:1] == ["background_share"]
    open_ended = [name for name, check in checks.EXERCISES.items() if not inspect.signature(check).parameters]
    assert sorted(set(expected) - set(open_ended)) == DEFINITE


@pytest.mark.parametrize(
    "exercise",
    ["00.2", "01.4", "02.3", "02.4", "03.2", "03.3", "03.4", "04.3", "04.4", "05.4", "06.2", "06.3"],
)
def test_open_ended_exercises_list_what_a_good_answer_shows(exercise):
    result = checks.EXERCISES[exercise]()
    assert result.passed is None
    assert not bool(result)
    opening = f"Exercise {exercise} is open-ended: no single answer. A good answer\n- "
    assert result.message.startswith(opening)
    assert result.message.count("\n- ") >= 3
    assert result.exercise == exercise


@pytest.mark.parametrize("exercise", DEFINITE)
def test_right_answers_pass(cases, exercise):
    answers, arguments = cases[exercise]
    result = checks.EXERCISES[exercise](*resolved(answers), *arguments)
    assert_correct(result)
    assert (result.exercise, result.message) == (exercise, f"Exercise {exercise}: correct.")


def test_checks_take_keyword_arguments(cases):
    (answer,), (test_labels,) = cases["00.1"]
    assert_correct(checks.exercise_00_1(sneaker_count=answer, test_labels=test_labels))


@pytest.mark.parametrize("exercise", DEFINITE)
def test_no_answer_yet(cases, exercise):
    """The handouts' stubs set every answer to None: each one gets "no answer yet" and its name."""
    answers, arguments = cases[exercise]
    check = checks.EXERCISES[exercise]
    names = list(inspect.signature(check).parameters)[: len(answers)]
    for position, name in enumerate(names):
        given = [*answers[:position], None, *answers[position + 1 :]]
        result = check(*given, *arguments)
        assert (result.exercise, result.passed) == (exercise, False)
        assert result.message == f"Exercise {exercise}: no answer yet. Store your answer in `{name}`."


def _split_cases():
    images, labels = split_data()
    (lesson_train, lesson_labels), _ = data.train_validation_split(
        images, labels, validation_size=0.1, seed=0
    )
    (train, train_labels), (validation, validation_labels) = data.train_validation_split(
        images, labels, validation_size=0.2, seed=7
    )
    (small_train, _), (small_validation, small_labels) = data.train_validation_split(
        lesson_train, lesson_labels, validation_size=0.2, seed=7
    )
    (ten_train, _), (ten_validation, ten_labels) = data.train_validation_split(
        images, labels, validation_size=0.1, seed=7
    )
    (seed_train, _), (seed_validation, seed_labels) = data.train_validation_split(
        images, labels, validation_size=0.2, seed=8
    )
    by_class = np.argsort(labels, kind="stable")
    overlapping = np.concatenate([train[:-1], validation[:1]])
    doubled = np.concatenate([train[:-1], train[:1]])
    moved = np.roll(validation_labels, 1)  # Every label next to another image, the counts unchanged.
    other = np.random.default_rng(9).integers(0, 256, size=validation.shape, dtype=np.uint8)
    return [
        (
            "the 0.2 split of the lesson's training part",
            (small_train, small_validation, small_labels),
            "left after",
        ),
        ("results unpacked into the wrong names", (train, validation, train_labels), "training part's"),
        ("labels where images belong", (train, train_labels, validation_labels), "should be images"),
        ("a pair kept whole", ((train, train_labels), validation, validation_labels), "holds a pair"),
        ("validation_size=0.1", (ten_train, ten_validation, ten_labels), "asks for 20%"),
        ("parts swapped", (validation, train, train_labels), "larger one"),
        (
            "not stratified",
            (images[by_class[:160]], images[by_class[160:]], labels[by_class[160:]]),
            "stratified",
        ),
        ("an image in both parts", (overlapping, validation, validation_labels), "1 validation images"),
        ("one-hot labels", (train, validation, np.eye(10)[validation_labels]), "one label per image"),
        ("the full-mode split in quick mode", (images, images[:40], labels[:40]), "the training set has 200"),
        ("another seed", (seed_train, seed_validation, seed_labels), "seed=7"),
        ("labels not with their images", (train, validation, moved), "do not belong to their images"),
        ("sorted labels", (train, validation, np.sort(validation_labels)), "do not belong to their images"),
        ("scaled images", (train / 255, validation / 255, validation_labels), "split the images as loaded"),
        ("images not from the training set", (train, other, validation_labels), "not training images"),
        ("an image twice, another missing", (doubled, validation, validation_labels), "seed=7"),
        ("float labels", (train, validation, validation_labels.astype("float64")), "integer dtype"),
    ]


class Later:
    """An answer built when its test runs, not when the tests are collected: a tf.data
    pipeline made at import starts TensorFlow's threads, and mutation testing forks test
    runs from a process that collected the tests (a fork of a threaded TensorFlow hangs)."""

    def __init__(self, build):
        self.build = build


def resolved(answers: tuple) -> tuple:
    return tuple(answer.build() if isinstance(answer, Later) else answer for answer in answers)


def _datasets():
    images, labels = pipeline_data()
    make = data.make_dataset
    other_labels = np.sort(labels)[::-1].copy()
    other_labels[:10] = 0

    def right():
        return make(images, labels, batch_size=256, one_hot_labels=True)

    def mapped(function):
        return Later(lambda: right().map(function))

    import tensorflow as tf  # Only to build the wrong pipelines.

    return [
        ("integer labels", Later(lambda: make(images, labels, batch_size=256)), "one-hot"),
        ("the default batch size", Later(lambda: make(images, labels, one_hot_labels=True)), "hold 128"),
        (
            "the training set",
            Later(lambda: make(other_images(800), np.arange(800) % 10, batch_size=256, one_hot_labels=True)),
            "holds 800 examples",
        ),
        ("drop_remainder", Later(lambda: right().unbatch().batch(256, drop_remainder=True)), "last, smaller"),
        ("not batched", Later(lambda: right().unbatch()), "not batched"),
        ("batched twice", Later(lambda: right().batch(256)), "batched twice"),
        ("repeated", Later(lambda: right().repeat()), "never ends"),
        ("a NumPy array", images, "not a NumPy array"),
        ("images only", mapped(lambda image, label: image), "batch (images, labels)"),
        (
            "other labels",
            Later(lambda: make(images, other_labels, batch_size=256, one_hot_labels=True)),
            "not the validation labels",
        ),
        ("no channel axis", mapped(lambda image, label: (image[..., 0], label)), "(28, 28, 1)"),
        ("scaled", mapped(lambda image, label: (tf.cast(image, "float32") / 255, label)), "do not scale"),
        (
            "scaled twice",
            mapped(lambda image, label: (tf.cast(image, "float32") / 255 / 255, label)),
            "do not scale",
        ),
        ("float32 pixels", mapped(lambda image, label: (tf.cast(image, "float32"), label)), "float32"),
        ("augmented (flipped)", mapped(lambda image, label: (image[:, :, ::-1], label)), "augmented"),
        (
            "shuffled with the labels",
            Later(lambda: make(images, labels, batch_size=256, one_hot_labels=True, shuffle=True)),
            "another order",
        ),
        (
            "labels shuffled apart",
            Later(lambda: make(images, np.roll(labels, 3), batch_size=256, one_hot_labels=True)),
            "not next to their images",
        ),
        (
            "the training images",
            Later(lambda: make(other_images(600), labels, batch_size=256, one_hot_labels=True)),
            "not the validation images",
        ),
        (
            "smoothed labels",
            mapped(lambda image, label: (image, label * 0.9 + 0.01)),
            "not one-hot rows",
        ),
    ]


def _confusion_cases():
    confusion = confusion_matrix().astype("float64")
    precision = np.diag(confusion) / confusion.sum(axis=0)
    recall = np.diag(confusion) / confusion.sum(axis=1)
    accuracy = np.trace(confusion) / confusion.sum()
    other = confusion * 10 + np.random.default_rng(3).integers(0, 40, size=(10, 10))
    return [
        ("swapped", (recall[SHIRT], precision[SHIRT]), "swapped"),
        ("percentages", (100 * precision[SHIRT], 100 * recall[SHIRT]), "not a percentage"),
        ("another class", (precision[0], recall[0]), "another class"),
        (
            "the right total, another class's precision",
            (precision[3], recall[SHIRT]),
            "precision belongs to another",
        ),
        ("rounded", (round(precision[SHIRT], 3), round(recall[SHIRT], 3)), "rounded to 3 decimals"),
        ("rounded to 2 decimals", (round(precision[SHIRT], 2), recall[SHIRT]), "rounded to 2 decimals"),
        (
            "another test set's matrix (full set in quick mode)",
            (other[SHIRT, SHIRT] / other[:, SHIRT].sum(), other[SHIRT, SHIRT] / other[SHIRT].sum()),
            "this notebook's confusion",
        ),
        ("the accuracy", (accuracy, recall[SHIRT]), "overall accuracy"),
        ("every class at once", (precision, recall), "every class"),
        ("strings", (f"{precision[SHIRT]:.3f}", f"{recall[SHIRT]:.3f}"), "is a string"),
        ("recall off", (precision[SHIRT], 0.5), "the recall is off"),
    ]


def _top2_cases():
    labels = np.arange(300) % 10
    outputs = probabilities(2, labels, 0.5)
    order = np.argsort(outputs, axis=1)

    def top(columns):
        return np.mean((columns == labels[:, None]).any(axis=1))

    hits = (order[:, -2:] == labels[:, None]).any(axis=1)
    return [
        ("the top-1 accuracy", top(order[:, -1:]), "top-1 accuracy"),
        ("a percentage", 100 * top(order[:, -2:]), "not a percentage"),
        ("a number of hits", int(hits.sum()), "number of images"),
        ("the least likely two", top(order[:, :2]), "*least* likely"),
        ("the share of misses", 1 - top(order[:, -2:]), "share of misses"),
        ("top-3", top(order[:, -3:]), "three most likely"),
        ("one hit per image", hits, "take their mean"),
        ("a string", f"{top(order[:, -2:]):.4f}", "is a string"),
        ("rounded", round(top(order[:, -2:]), 1), "rounded to 1 decimal:"),
        ("a one-element array", np.array([top(order[:, -2:])]), "one number"),
    ]


def _ensemble_cases():
    labels = np.arange(400) % 10
    first, second = probabilities(3, labels, 0.6), probabilities(4, labels, 0.6)
    ensemble = np.mean(((first + second) / 2).argmax(axis=1) == labels)
    either = np.mean((first.argmax(axis=1) == labels) | (second.argmax(axis=1) == labels))
    return [
        ("one model alone", np.mean(first.argmax(axis=1) == labels), "one model's accuracy alone"),
        ("either model right", either, "either model is right"),
        (
            "the larger probability",
            np.mean(np.maximum(first, second).argmax(axis=1) == labels),
            "larger of the two",
        ),
        ("a percentage", 100 * ensemble, "not a percentage"),
        ("a string", f"{ensemble}", "is a string"),
        ("hits as a count", int(np.sum(((first + second) / 2).argmax(axis=1) == labels)), "number of images"),
    ]


WRONG_ANSWERS = {
    "00.1": [
        ("the whole test set", (1000,), "all 10,000 test images"),
        ("a tenth of 100", (10,), "a tenth of 100"),
        ("another class", (13,), "another class"),
        ("a share", (0.11,), "a share"),
        ("a string", ("11",), "is a string"),
        ("a float", (11.0,), "is a float"),
        ("a one-element list", ([11],), "one number"),
        ("True", (True,), "not True or False"),
        ("off by one (101 images)", (12,), "off by one"),
        ("more than there are", (150,), "only 100 images"),
        ("negative", (-11,), "negative"),
    ],
    "00.3": [
        ("swapped", ("T-shirt/top", "Ankle boot"), "swapped"),
        ("class numbers", (9, 0), "not its number"),
        ("lower case", ("ankle boot", "T-shirt/top"), "not written as in data.CLASS_NAMES"),
        ("not a class", ("Ankle boot", "Sock"), "not a class name"),
        ("the same class twice", ("Ankle boot", "Ankle boot"), "same class"),
        ("least wrong", ("Ankle boot", "Trouser"), "least_ink_class is not right"),
        ("most non-zero pixels", ("Pullover", "T-shirt/top"), "non-zero pixels"),
        ("fewest non-zero pixels", ("Ankle boot", "Sandal"), "non-zero pixels"),
        ("a list", (["Ankle boot"], "T-shirt/top"), "one class name"),
    ],
    "02.1": [
        ('"same" padding', ((28, 28, 16), 416), "no border"),
        ("no bias", ((24, 24, 16), 400), "bias"),
        ("the batch axis", ((None, 24, 24, 16), 416), "batch axis"),
        ("one channel", ((24, 24, 1), 416), "one channel per filter"),
        ("channels first", ((16, 24, 24), 416), "channels last"),
        ("kernel fits wrong", ((26, 26, 16), 416), "positions"),
        ("one filter", ((24, 24, 16), 26), "one filter's"),
        ("a float count", ((24, 24, 16), 416.0), "is a float"),
        ("a string count", ((24, 24, 16), "416"), "is a string"),
        ("a string shape", ("(24, 24, 16)", 416), "is a string"),
        ("a 3 x 3 kernel", ((24, 24, 16), 160), "one weight per kernel position"),
    ],
    "02.2": [
        ("rounded up", ((4, 4, 128), 241_546), "rounds down"),
        ("the channels of conv2", ((3, 3, 64), 241_546), "channels"),
        ("the batch axis", ((None, 3, 3, 128), 241_546), "batch axis"),
        ("the two-block total", ((3, 3, 128), 421_642), "two-block"),
        ("no biases", ((3, 3, 128), 241_546 - (32 + 64 + 128 + 128 + 10)), "also has a bias"),
        ("a float", ((3, 3, 128), 241_546.0), "is a float"),
        ("a string", ((3, 3, 128), "241546"), "is a string"),
        ("two axes", ((3, 3), 241_546), "(height, width, channels)"),
        ("miscounted", ((3, 3, 128), 240_000), "add up every layer"),
    ],
    "03.1": [
        ("counted from 0", (3,), "counts epochs from 0"),
        ("the best validation loss", (5,), "lowest validation loss"),
        ("the best training accuracy", (7,), "*training* accuracy"),
        ("the last epoch", (8,), "last epoch"),
        ("the accuracy itself", (0.90,), "that is an accuracy"),
        ("a string", ("4",), "is a string"),
        ("a float", (4.0,), "is a float"),
        ("epoch 0", (0,), "epochs 1 to 8"),
        ("past the end", (20,), "epochs 1 to 8"),
        ("another epoch", (2,), "largest value"),
    ],
    "04.1": _confusion_cases(),
    "04.2": [(name, (answer,), hint) for name, answer, hint in _top2_cases()],
    "05.1": [
        ("the baseline", ("baseline",), "starting point"),
        ("the biggest gain", ("+ big",), "gained the most"),
        ("a step that lost accuracy", ("+ loss",), "negative"),
        ("without its '+ '", ("free",), "spell it exactly"),
        ("a row number", (2,), "not its row number"),
        ("not a step", ("+ nothing",), "not a step"),
        ("a row of the table", (pd.Series(["+ free"]),), "name (a string)"),
        ("a cheap but not the cheapest step", ("+ cheap",), "divide each step's gain"),
    ],
    "05.2": [(name, (answer,), hint) for name, answer, hint in _ensemble_cases()],
    "05.3": [
        ("a class number", (SHIRT,), "not its number"),
        ("plural", ("Shirts",), "not written as"),
        ("not a class", ("Sock",), "not a class name"),
        ("the improved model's best class", ("Ankle boot",), "right most often"),
        ("the class that lost most", ("Trouser",), "gained the least"),
        ("the baseline's weakest class", ("Coat",), "weakest class"),
        ("another class", ("Dress",), "subtract"),
    ],
    "06.1": [
        ("int8 / float", (0.311 / 1.17,), "divide the float size by the int8 size"),
        ("int8 / float, rounded", (0.27,), "divide the float size by the int8 size"),
        ("the .keras file", (3.52 / 0.311,), "optimizer's state"),
        ("dynamic range", (1.17 / 0.307,), "dynamic-range file"),
        ("rounded to one decimal", (3.8,), "rounded to 1 decimal,"),
        ("rounded to a whole number", (4,), "rounded to 0 decimals"),
        ("a percentage saved", (73.4,), "read both sizes"),
        ("the difference in MB", (0.86,), "read both sizes"),
        ("a string", ("3.76",), "is a string"),
        ("a one-element list", ([1.17 / 0.311],), "one number"),
    ],
}


def _background_cases():
    images, labels = split_data()
    shares = np.array([np.mean(images[labels == k] == 0) for k in range(10)])
    zeros = np.array([np.sum(images[labels == k] == 0) for k in range(10)])
    dark = np.array([np.mean(images[labels == k] < 10) for k in range(10)])
    return [
        ("the complement", 1 - shares, "*not* background"),
        ("percentages", 100 * shares, "these are percentages"),
        ("mean pixel values", np.array([images[labels == k].mean() for k in range(10)]), "mean pixel values"),
        ("strings", [str(share) for share in shares], "ten numbers"),
        ("counts", zeros, "counts of pixels"),
        ("sorted", np.sort(shares)[::-1], "wrong order"),
        ("one share for all", np.full(10, shares.mean()), "labels == label"),
        ("dark, not 0", dark, "exactly 0"),
        ("five classes", shares[:5], "shape (10,)"),
        ("a dict", dict(zip(data.CLASS_NAMES, shares, strict=True)), "not a dict"),
        ("a string", str(shares), "is a string"),
        ("per image", np.mean(images == 0, axis=(1, 2)), "shape (10,)"),
        ("the validation part alone", validation_shares(), "validation part's"),
    ]


def validation_shares() -> np.ndarray:
    images, labels = split_data()
    _, (validation, validation_labels) = data.train_validation_split(
        images, labels, validation_size=0.1, seed=0
    )
    return np.array([np.mean(validation[validation_labels == k] == 0) for k in range(10)])


WRONG_ANSWERS["01.1"] = [(name, (answer,), hint) for name, answer, hint in _background_cases()]
WRONG_ANSWERS["01.2"] = _split_cases()
WRONG_ANSWERS["01.3"] = [(name, (answer,), hint) for name, answer, hint in _datasets()]


def test_the_matrix_has_five_wrong_answers_per_exercise():
    assert sorted(WRONG_ANSWERS) == DEFINITE
    for exercise, wrong in WRONG_ANSWERS.items():
        assert len(wrong) >= 5, exercise


@pytest.mark.parametrize(
    ("exercise", "mistake", "answers", "hint"),
    [(exercise, *case) for exercise, wrong in WRONG_ANSWERS.items() for case in wrong],
    ids=[f"{exercise}-{case[0]}" for exercise, wrong in WRONG_ANSWERS.items() for case in wrong],
)
def test_wrong_answers_get_a_hint_that_names_the_mistake(cases, exercise, mistake, answers, hint):
    _, arguments = cases[exercise]
    assert_hint(checks.EXERCISES[exercise](*resolved(answers), *arguments), hint)


#: What a student can store by mistake: none of it may make a check raise.
ODD_VALUES = [
    "",
    "abc",
    b"bytes",
    [],
    [1, 2],
    [[1], [2, 3]],
    (),
    {},
    {"a": 1},
    set(),
    np.nan,
    np.inf,
    -1,
    0,
    10**30,
    10**400,
    True,
    False,
    1 + 2j,
    object(),
    np.zeros((3, 3)),
    np.array(["x"]),
    np.array([], dtype=float),
    np.float32(0.5),
    print,
]


@pytest.mark.parametrize("exercise", DEFINITE)
def test_no_answer_makes_a_check_raise(cases, exercise):
    answers, arguments = cases[exercise]
    check = checks.EXERCISES[exercise]
    for position in range(len(answers)):
        for value in ODD_VALUES:
            given = [*answers[:position], value, *answers[position + 1 :]]
            result = check(*given, *arguments)
            assert isinstance(result, CheckResult), (position, value)
            assert (result.exercise, result.passed) == (exercise, False), (position, value, result.message)
            assert result.message.startswith(f"Exercise {exercise}: not yet. Hint: "), (position, value)


def test_bad_data_from_the_notebook_gets_a_verdict_not_an_exception(tmp_path):
    missing = tmp_path / "runs" / "training_log.csv"
    result = checks.exercise_03_1(4, missing)
    assert (result.exercise, result.passed) == ("03.1", False)
    assert result.message == (
        f"Exercise 03.1: cannot check this yet: {missing.resolve()}: no training log; "
        "run the training cell of notebook 03 first."
    )
    result = checks.exercise_04_2(0.5, np.arange(10), np.arange(10))
    assert result.passed is False
    assert "probabilities of shape (n, 10)" in result.message
    result = checks.exercise_00_1(11, np.array([10, 11]))
    assert "test_labels must lie in 0..9" in result.message


def test_exercise_00_1_on_the_real_test_set(real_data):
    """The original defect: every class has 1,000 test images, so any class's count passed."""
    test_labels = real_data[1][1]
    first = np.bincount(test_labels[:100], minlength=10)
    assert_correct(checks.exercise_00_1(int(first[SNEAKER]), test_labels))
    assert_hint(checks.exercise_00_1(1000, test_labels), "all 10,000")
    for label in np.flatnonzero(first != first[SNEAKER]):
        assert checks.exercise_00_1(int(first[label]), test_labels).passed is False


def test_exercise_01_1_accepts_the_training_part_alone(cases):
    images, labels = split_data()
    (train, train_labels), validation = data.train_validation_split(
        images, labels, validation_size=0.1, seed=0
    )
    shares = [np.mean(train[train_labels == k] == 0) for k in range(10)]
    assert_correct(checks.exercise_01_1(shares, train, train_labels, *validation))
    assert_correct(checks.exercise_01_1(np.array(shares), train, train_labels))


def test_exercise_01_2_accepts_each_part_in_any_order(cases):
    """The same split, each part permuted (every label with its image), is the same answer."""
    (train, validation, validation_labels), arguments = cases["01.2"]
    order = np.random.default_rng(0).permutation(len(validation))
    shuffled = (train[::-1], validation[order], validation_labels[order])
    assert_correct(checks.exercise_01_2(*shuffled, *arguments))


def test_exercise_02_1_accepts_lists_numpy_integers_and_keras_shapes():
    layer = keras.layers.Conv2D(16, 5)
    layer.build((None, 28, 28, 1))
    output_shape = tuple(layer.compute_output_shape((None, 28, 28, 1))[1:])
    assert_correct(checks.exercise_02_1(output_shape, layer.count_params()))
    assert_correct(checks.exercise_02_1([24, 24, 16], np.int64(416)))


def test_exercise_02_2_matches_the_model_it_asks_about():
    """The expected values, worked out by hand, are also those Keras reports for the model."""
    from fmnist_utils.models import build_baseline_cnn

    convolutions = (3 * 3 * 1 + 1) * 32 + (3 * 3 * 32 + 1) * 64
    three_blocks = convolutions + (3 * 3 * 64 + 1) * 128 + (3 * 3 * 128 + 1) * 128 + (128 + 1) * 10
    two_blocks = convolutions + (7 * 7 * 64 + 1) * 128 + (128 + 1) * 10
    biases = 32 + 64 + 128 + 128 + 10
    assert_correct(checks.exercise_02_2((3, 3, 128), three_blocks))
    assert_hint(checks.exercise_02_2((3, 3, 128), two_blocks), "two-block baseline's total")
    assert_hint(checks.exercise_02_2((3, 3, 128), three_blocks - biases), "also has a bias")
    assert_hint(checks.exercise_02_2((3, 3, 128), three_blocks + 1), "add up every layer")
    model = build_baseline_cnn(filters=(32, 64, 128))
    assert tuple(model.get_layer("pool3").output.shape[1:]) == (3, 3, 128)
    assert model.count_params() == three_blocks == 241_546
    assert build_baseline_cnn().count_params() == two_blocks == 421_642


def test_exercise_03_1_accepts_every_epoch_tied_for_the_best(tmp_path):
    log = tmp_path / "training_log.csv"
    write_log(log, [(0, 0.8, 0.5, 0.85, 0.4), (1, 0.85, 0.4, 0.90, 0.35), (2, 0.9, 0.3, 0.90, 0.36)])
    assert_correct(checks.exercise_03_1(2, log))
    assert_correct(checks.exercise_03_1(3, log))
    assert_hint(checks.exercise_03_1(1, log), "counts epochs from 0")


def test_exercise_04_1_when_no_image_is_predicted_shirt():
    """Precision is 0 / 0: nan (NumPy) and 0.0 (scikit-learn's report) are both right."""
    confusion = confusion_matrix()
    confusion[:, SHIRT] = 0
    recall = 0.0
    assert_correct(checks.exercise_04_1(np.float64("nan"), recall, confusion))
    assert_correct(checks.exercise_04_1(0.0, recall, confusion))
    assert_hint(checks.exercise_04_1(0.5, recall, confusion), "precision is off")
    assert_hint(checks.exercise_04_1(np.nan, np.nan, confusion_matrix()), "nan (0 / 0)")


def test_exercise_05_3_accepts_every_class_tied_for_the_biggest_gain(cases):
    _, (baseline, improved, labels) = cases["05.3"]
    tied = improved.copy()
    coats = np.flatnonzero(labels == 4)
    tied[coats[:30]] = 4  # Coat: 0.1 -> 0.6, the same gain as Shirt's.
    assert_correct(checks.exercise_05_3("Shirt", baseline, tied, labels))
    assert_correct(checks.exercise_05_3("Coat", baseline, tied, labels))


def test_exercise_05_1_counts_every_free_gain_as_the_cheapest(cases):
    _, (table,) = cases["05.1"]
    assert_correct(checks.exercise_05_1("+ free too", table))


def test_exercise_05_3_accepts_probabilities(cases):
    (answer,), (baseline, improved, labels) = cases["05.3"]
    assert_correct(checks.exercise_05_3(answer, np.eye(10)[baseline], np.eye(10)[improved], labels))


def _spellings(answer) -> list[str]:
    """The ways a hint could write an answer: 416, 241,546, 0.807, 80.7%, (3, 3, 128), 3 x 3, ..."""
    if isinstance(answer, str):
        return [answer]
    if isinstance(answer, tuple):
        return [
            str(answer),
            " x ".join(str(size) for size in answer[:2]),
            ", ".join(str(size) for size in answer),
        ]
    if isinstance(answer, (int, np.integer)):
        return [str(answer), f"{answer:,}"]
    if isinstance(answer, (float, np.floating)):
        return [f"{answer:.3f}", f"{answer:.4f}", f"{answer:.1%}", f"{answer:.2%}"]
    return []  # Arrays and a pipeline.


def test_hints_do_not_give_the_answer_away(cases):
    """No hint writes the answer it hints at, in any of the usual spellings."""
    for exercise, wrong in WRONG_ANSWERS.items():
        answers, arguments = cases[exercise]
        secrets = [spelling for answer in answers for spelling in _spellings(answer)]
        assert secrets or exercise in ("01.1", "01.2", "01.3"), exercise  # Arrays and a pipeline.
        for _, given, _ in wrong:
            message = checks.EXERCISES[exercise](*resolved(given), *arguments).message
            for secret in secrets:
                assert not re.search(rf"(?<![\w.]){re.escape(secret)}(?![\w.])", message), (exercise, message)


def test_every_solution_cell_is_followed_by_its_check():
    for path in sorted(SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        cells = notebook.cells
        solutions = [index for index, cell in enumerate(cells) if "solution" in cell.metadata.get("tags", [])]
        assert len(solutions) >= 3, path.name
        for number, index in enumerate(solutions, start=1):
            check = cells[index + 1]
            assert "check" in check.metadata.get("tags", []), (path.name, number)
            assert f"checks.exercise_{path.name[:2]}_{number}(" in check.source, (path.name, number)
            assert check.source.startswith("# NBVAL_CHECK_OUTPUT"), (path.name, number)
            assert check.source.endswith(
                f"print({'verdict' if 'verdict' in check.source else check.source.split(chr(10))[1][6:-1]})"
            ), (path.name, number)
            assert [output.output_type for output in check.outputs] == ["stream"], (path.name, number)
            outputs = "".join(output.text for output in check.outputs)
            assert outputs.startswith(f"Exercise {path.name[:2]}.{number}"), (path.name, number, outputs)
            assert "not yet" not in outputs, (path.name, number, outputs)


def _notebook_points() -> dict[str, tuple[int, int, int, int]]:
    """Per notebook: (exercises, exercises with a check, autograded points, points graded by hand)."""
    found = {}
    for path in sorted(SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        exercises = sum("solution" in cell.metadata.get("tags", []) for cell in cells)
        auto = manual = checked = 0
        for cell in cells:
            grading = cell.metadata.get("nbgrader", {})
            if grading.get("grade") and grading.get("solution"):
                manual += grading["points"]
            elif grading.get("grade"):
                checked += 1
                auto += grading["points"]
        found[path.name[:2]] = (exercises, checked, auto, manual)
    return found


def test_every_exercise_is_worth_two_points_graded_one_way():
    for path in sorted(SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        for index, cell in enumerate(cells):
            if "solution" not in cell.metadata.get("tags", []):
                continue
            answer, check = cell.metadata["nbgrader"], cells[index + 1].metadata.get("nbgrader", {})
            exercise = f"{path.name[:2]}.{answer['grade_id'][-1]}"
            definite = bool(inspect.signature(checks.EXERCISES[exercise]).parameters)
            assert answer["solution"], exercise
            assert answer["grade"] is not definite, exercise  # Open-ended answers are graded by hand.
            graded = check if definite else answer
            assert graded["points"] == 2, exercise
            if definite:
                assert check["grade_id"] == f"check_{exercise.replace('.', '_')}"
                assert check["locked"], exercise
                hidden = cells[index + 1].source.split("### BEGIN HIDDEN TESTS\n")[1].split("### END")[0]
                tree = ast.parse(hidden)
                stored = {
                    node
                    for node in ast.walk(tree)
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
                }
                local = {  # Comprehension variables stay inside their comprehension.
                    name
                    for loop in ast.walk(tree)
                    if isinstance(loop, ast.comprehension)
                    for name in ast.walk(loop.target)
                }
                assigned = {node.id for node in stored - local}
                assert all(name.startswith("_") for name in assigned), (
                    exercise,
                    assigned,
                )  # No student's name.
            else:
                assert not check, exercise


def test_instructors_guide_states_the_exercises_and_points_right():
    """INSTRUCTORS.md's two tables agree with the notebooks' nbgrader metadata."""
    guide = (SOLUTIONS_DIR.parent / "INSTRUCTORS.md").read_text()
    lines = guide.splitlines()
    totals = [0, 0]
    for number, (exercises, checked, auto, manual) in _notebook_points().items():
        overview = next(line for line in lines if line.startswith(f"| {number} ") and "with a check" in line)
        assert overview.endswith(f"| {exercises} ({checked} with a check), {auto + manual} points |"), (
            overview
        )
        points = next(line for line in lines if line.startswith(f"| {number} | {number}.1 "))
        assert points.endswith(f"| {auto + manual} ({auto} auto + {manual} by hand) |"), points
        assert points.count("(auto)") * 2 == auto, points
        assert points.count("(by hand)") * 2 == manual, points
        totals = [totals[0] + auto, totals[1] + manual]
    assert f"| {sum(totals)} ({totals[0]} auto + {totals[1]} by hand) |" in guide


def test_exercise_01_2_accepts_flattened_images(cases):
    """A split of images flattened to 784 pixels is still a right split."""
    (train, validation, validation_labels), arguments = cases["01.2"]
    flat = (train.reshape(len(train), -1), validation.reshape(len(validation), -1), validation_labels)
    assert_correct(checks.exercise_01_2(*flat, *arguments))
    assert_hint(
        checks.exercise_01_2(train[0, 0], validation, validation_labels, *arguments),
        "`split_train_images` should be images, an array of shape (n, 28, 28); got shape (28,)",
    )


def test_an_answer_numpy_cannot_read_is_named(cases):
    ragged = [[0, 1], [2]]
    assert_hint(
        checks.exercise_01_2(ragged, ragged, ragged, *cases["01.2"][1]),
        "`split_train_images` cannot be read as an array",
    )


def test_exercise_03_1_reads_a_log_of_one_epoch(tmp_path):
    log = tmp_path / "training_log.csv"
    write_log(log, [(0, 0.8, 0.5, 0.85, 0.4)])
    assert_correct(checks.exercise_03_1(1, log))


@pytest.mark.parametrize("missing", ["epoch", "val_accuracy"])
def test_exercise_03_1_names_a_log_without_its_columns(tmp_path, missing):
    log = tmp_path / "training_log.csv"
    columns = [column for column in ("epoch", "accuracy", "val_accuracy") if column != missing]
    log.write_text(",".join(columns) + "\n" + ",".join("0.5" for _ in columns) + "\n")
    result = checks.exercise_03_1(1, log)
    assert not result
    assert "has no epoch and val_accuracy columns: pass notebook 03's training_log.csv" in result.message


def test_exercise_04_1_names_the_answer_that_is_not_a_fraction():
    result = checks.exercise_04_1(0.5, 75, confusion_matrix())
    assert_hint(result, "`shirt_recall` must be a fraction between 0 and 1, not a percentage")


def test_exercise_04_1_tells_a_table_from_a_value_per_class():
    every_class = checks.exercise_04_1(np.full(10, 0.5), 0.5, confusion_matrix())
    assert_hint(every_class, "holds a value for every class: keep only the Shirt's")
    table = checks.exercise_04_1(np.full((2, 5), 0.5), 0.5, confusion_matrix())
    assert_hint(table, "store `shirt_precision` as one number, not an array or a list of 10")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ("12", "`sneaker_count` is a string: store a number, without quotes."),
        (True, "`sneaker_count` is True: store a number, not True or False."),
        (print, "store `sneaker_count` as one number, not a builtin_function_or_method."),
        (float("inf"), "`sneaker_count` is inf, not a finite number."),
        (12.0, "`sneaker_count` is a float (12.0): a count is a whole number; store an int (int(...))."),
        (-3, "`sneaker_count` is negative: a count is 0 or more."),
    ],
)
def test_hints_about_the_type_of_an_answer_name_it(cases, answer, hint):
    _, arguments = cases["00.1"]
    result = checks.exercise_00_1(answer, *arguments)
    assert result.message == f"Exercise 00.1: not yet. Hint: {hint}"


def test_a_count_that_is_not_a_number_is_named_in_the_hint():
    """Exercise 02.1 reads its count with _count alone (00.1 reads it as a number first)."""
    result = checks.exercise_02_1((24, 24, 16), "416")
    assert result.message == (
        "Exercise 02.1: not yet. Hint: `parameter_count` is a string: store a number, without quotes."
    )


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (-0.5, "`top2_accuracy` is negative: a fraction lies between 0 and 1."),
        (1.5, "`top2_accuracy` must be a fraction between 0 and 1, not a percentage."),
        (100, "`top2_accuracy` must be a fraction between 0 and 1, not a percentage."),
        (101, "`top2_accuracy` looks like a number of images: divide by how many there are."),
    ],
)
def test_fraction_hints_tell_percentages_from_counts(cases, answer, hint):
    _, (probabilities, labels) = cases["04.2"]
    assert len(labels) >= 101
    result = checks.exercise_04_2(answer, probabilities, labels)
    assert result.message == f"Exercise 04.2: not yet. Hint: {hint}"
    every_image = checks.exercise_04_2(len(labels), probabilities, labels)
    assert "looks like a number of images" in every_image.message  # All of them: still a count.
    assert (
        "not a percentage" not in checks.exercise_04_2(1.0, probabilities, labels).message
    )  # 1 is a fraction.


def test_exercise_02_1_hint_for_a_batch_axis_is_exact():
    result = checks.exercise_02_1((None, 24, 24, 16), 416)
    assert result.message == (
        "Exercise 02.1: not yet. Hint: leave out the batch axis: store (height, width, channels)."
    )
    result = checks.exercise_02_1((24, 24.5, 16), 416)
    assert result.message.endswith("every size in `output_shape` must be a whole number, got 24.5.")
    result = checks.exercise_02_1(print, 416)
    assert result.message.endswith("store `output_shape` as a tuple of sizes, such as (5, 5, 8).")


def test_bad_data_from_the_notebook_is_not_called_the_students_mistake(cases):
    result = checks.exercise_00_1(5, np.array([0.5, 1.5]))
    assert result.message == (
        "Exercise 00.1: cannot check this yet: test_labels must have an integer dtype, got float64."
    )
    assert checks.exercise_00_1(5, [[0, 1], [2]]).message.startswith("Exercise 00.1: cannot check this yet: ")
    (train, validation, validation_labels), arguments = cases["01.2"]
    result = checks.exercise_01_2(train, validation, validation_labels.astype("float64"), *arguments)
    assert_hint(result, "split_validation_labels must have an integer dtype, got float64")


def test_exercise_05_3_names_the_predictions_it_cannot_read(cases):
    (answer,), (baseline, improved, labels) = cases["05.3"]
    result = checks.exercise_05_3(answer, baseline, improved.astype("float64"), labels)
    assert result.message == (
        "Exercise 05.3: cannot check this yet: improved_predictions must have an integer dtype, got float64."
    )


# One verdict: the check and nbgrader's hidden test agree on every answer -------------------------

#: The answer variables of each graded check cell, and what its ``exercise_data`` holds, built
#: from a case's data arguments (as the notebook's exercise setup cell builds it).
NOTEBOOK_DATA = {
    "00.1": (["sneaker_count"], lambda labels: {"test_labels": labels}),
    "00.3": (
        ["most_ink_class", "least_ink_class"],
        lambda images, labels: {"train_images": images, "train_labels": labels},
    ),
    "01.1": (
        ["background_share"],
        lambda train, train_labels, validation, validation_labels: {
            "train_images": train,
            "train_labels": train_labels,
            "validation_images": validation,
            "validation_labels": validation_labels,
        },
    ),
    "01.2": (
        ["split_train_images", "split_validation_images", "split_validation_labels"],
        lambda images, labels, lesson_labels: {
            "all_train_images": images,
            "all_train_labels": labels,
            "train_labels": lesson_labels,
        },
    ),
    "01.3": (
        ["validation_one_hot"],
        lambda images, labels: {"validation_images": images, "validation_labels": labels},
    ),
    "02.1": (["output_shape", "parameter_count"], dict),
    "02.2": (["pool3_shape", "predicted_total"], dict),
    "03.1": (["best_accuracy_epoch"], lambda log: {"log_path": log}),
    "04.1": (["shirt_precision", "shirt_recall"], lambda confusion: {"confusion": confusion}),
    "04.2": (
        ["top2_accuracy"],
        lambda outputs, labels: {"probabilities": outputs, "test_labels": labels},
    ),
    "05.1": (["cheapest_step"], lambda table: {"comparison": table}),
    "05.2": (
        ["ensemble_accuracy"],
        lambda first, second, labels: {
            "final_probabilities": first,
            "last_step_probabilities": second,
            "validation_labels": labels,
        },
    ),
    "05.3": (
        ["most_improved_class"],
        lambda baseline, improved, labels: {  # The notebook keeps probabilities.
            "baseline_probabilities": np.eye(10)[baseline],
            "final_probabilities": np.eye(10)[improved],
            "validation_labels": labels,
        },
    ),
    "06.1": (["size_ratio"], lambda table: {"table": table}),
}


def _table_sorted_by_gain() -> pd.DataFrame:
    return comparison_table().sort_values("gain", ascending=False)


#: Right answers in another form than the cases' (NumPy or Python scalars, lists, np.str_, ...).
EQUIVALENT_RIGHT = {
    "00.1": [(np.int64(11),), (np.uint8(11),), (np.array(11),)],
    "00.3": [(np.str_("Ankle boot"), np.str_("T-shirt/top"))],
    "02.1": [([24, 24, 16], np.int64(416)), (np.array([24, 24, 16]), 416)],
    "02.2": [([3, 3, 128], np.int32(241_546))],
    "03.1": [(np.int64(4),)],
    "05.1": [(np.str_("+ free"),), ("+ free too",)],
    "05.3": [(np.str_("Shirt"),)],
    "06.1": [(round(1.17 / 0.311, 2),), (np.float32(1.17 / 0.311),)],
}


def _hidden_test(exercise: str) -> tuple[str, str]:
    """The check cell of ``exercise`` in its solution notebook: (its check part, its hidden test)."""
    notebook, number = exercise.split(".")
    (path,) = SOLUTIONS_DIR.glob(f"{notebook}_*.ipynb")
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == f"check_{notebook}_{number}":
            before, rest = cell.source.split("### BEGIN HIDDEN TESTS\n")
            return before, rest.split("### END HIDDEN TESTS")[0]
    raise AssertionError(f"no check cell for {exercise}")


def _both_verdicts(exercise: str, answers: tuple, arguments: tuple) -> tuple[CheckResult, bool, str]:
    """Run the notebook's check cell on ``answers``: its verdict, and whether the hidden test passed."""
    names, build = NOTEBOOK_DATA[exercise]
    exercise_data = checks.keep(**build(*arguments))
    namespace = {"np": np, "pd": pd, "data": data, "exercise_data": exercise_data}
    namespace |= dict(zip(names, answers, strict=True))
    before, hidden = _hidden_test(exercise)
    call = before.replace("assert verdict, verdict\n", "")
    local = dict(namespace, checks=checks)
    exec(call, local)  # The verdict line, as the notebook calls the check.
    try:
        exec(hidden, dict(namespace))
    except Exception as error:  # Any error fails the cell, as under nbgrader.
        return local["verdict"], False, f"{type(error).__name__}: {error}"
    return local["verdict"], True, ""


def _agreement_cases() -> list[tuple[str, str, tuple]]:
    found = [
        (exercise, f"wrong: {name}", given)
        for exercise, wrong in WRONG_ANSWERS.items()
        for name, given, _ in wrong
    ]
    found += [
        (exercise, f"equivalent {index}", given)
        for exercise, right in EQUIVALENT_RIGHT.items()
        for index, given in enumerate(right)
    ]
    found += [(exercise, "right", None) for exercise in DEFINITE]
    return found


@pytest.mark.parametrize(
    ("exercise", "name", "given"),
    _agreement_cases(),
    ids=[f"{exercise}-{name}" for exercise, name, _ in _agreement_cases()],
)
def test_the_check_and_the_hidden_test_agree(cases, exercise, name, given):
    """Check passes <=> nbgrader's hidden test passes, on every right and wrong answer."""
    answers, arguments = cases[exercise]
    given = resolved(answers if given is None else given)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nbgrader scores 0 a cell that writes to stderr.
        verdict, hidden_passed, error = _both_verdicts(exercise, given, arguments)
    assert bool(verdict) == hidden_passed, (verdict.message, error)
    if name == "right" or name.startswith("equivalent"):
        assert_correct(verdict)


@pytest.mark.parametrize("exercise", DEFINITE)
def test_no_answer_yet_fails_the_hidden_test_too(cases, exercise):
    answers, arguments = cases[exercise]
    given = (None, *resolved(answers)[1:])
    verdict, hidden_passed, _ = _both_verdicts(exercise, given, arguments)
    assert "no answer yet" in verdict.message
    assert not hidden_passed


def test_exercise_05_1_does_not_depend_on_the_tables_row_order(cases):
    """A right answer followed by a re-sort of the table for display still passes; a wrong one fails."""
    resorted = (_table_sorted_by_gain(),)
    for answer, right in [("+ free", True), ("+ free too", True), ("+ big", False), ("+ cheap", False)]:
        verdict, hidden_passed, _ = _both_verdicts("05.1", (answer,), resorted)
        assert bool(verdict) is right is hidden_passed, (answer, verdict.message)


def test_a_broken_check_is_caught_by_the_agreement(cases, monkeypatch):
    """The agreement test notices a check that accepts what the hidden test refuses."""
    monkeypatch.setitem(checks.EXERCISES, "00.1", checks.EXERCISES["00.1"])
    monkeypatch.setattr(checks, "exercise_00_1", lambda *args: checks.CheckResult("00.1", True, "ok"))
    verdict, hidden_passed, _ = _both_verdicts("00.1", (1000,), cases["00.1"][1])
    assert bool(verdict)
    assert not hidden_passed


def test_the_setup_cell_keeps_read_only_copies():
    labels = np.arange(10)
    table = comparison_table()
    kept = checks.keep(labels=labels, table=table, path=SOLUTIONS_DIR)
    labels[0] = 5
    table.loc[0, "step"] = "changed"
    assert kept.labels[0] == 0
    assert kept.table.loc[0, "step"] == "baseline"
    assert kept.path is SOLUTIONS_DIR
    with pytest.raises(ValueError, match="read-only"):
        kept.labels[0] = 3
    with pytest.raises(AttributeError, match="read-only"):
        kept.labels = labels


def test_every_notebook_has_one_exercise_setup_cell_before_its_answers():
    for path in sorted(SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        setups = [i for i, cell in enumerate(cells) if "exercise-setup" in cell.metadata.get("tags", [])]
        first = min(i for i, cell in enumerate(cells) if "solution" in cell.metadata.get("tags", []))
        assert setups == [first - 1], path.name
        setup = cells[first - 1]
        assert setup.metadata["nbgrader"] == {
            "grade": False,
            "grade_id": f"setup_{path.name[:2]}",
            "locked": True,
            "schema_version": 3,
            "solution": False,
            "task": False,
        }
        assert setup.outputs == [], path.name
        assert "exercise_data = checks.keep(" in setup.source, path.name
        for cell in cells:
            if "check" in cell.metadata.get("tags", []) and "verdict" in cell.source:
                hidden = cell.source.split("### BEGIN HIDDEN TESTS\n")[1].split("### END")[0]
                assert "checks." not in hidden, path.name  # A monkeypatched check cannot pass it.
                for node in ast.walk(ast.parse(hidden)):
                    if isinstance(node, ast.Assert):
                        assert node.msg is not None, (path.name, ast.unparse(node))
                        assert "does not accept this answer" in ast.unparse(node.msg), path.name


@pytest.mark.parametrize("exercise", DEFINITE)
def test_odd_values_fail_the_hidden_test_too(cases, exercise):
    answers, arguments = cases[exercise]
    answers = resolved(answers)
    for position in range(len(answers)):
        for value in ODD_VALUES:
            given = (*answers[:position], value, *answers[position + 1 :])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Some odd values warn (NumPy on 10**400, ...).
                verdict, hidden_passed, _ = _both_verdicts(exercise, given, arguments)
            assert not verdict, (position, value)
            assert not hidden_passed, (position, value)


def _solution_source(notebook: str, grade_id: str) -> str:
    cells = nbformat.read(SOLUTIONS_DIR / notebook, as_version=4).cells
    (cell,) = [cell for cell in cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return cell.source


def test_exercise_02_4_asks_about_the_epochs_notebook_03_trains():
    """Exercise 02.4 points to notebook 03's runs with and without dropout: its text, its model
    answer and its check name their number of epochs (the baseline recipe's), not another."""
    from fmnist_utils.training import BASELINE_RECIPE

    epochs = BASELINE_RECIPE.epochs
    exercises = nbformat.read(SOLUTIONS_DIR / "02_building_a_cnn.ipynb", as_version=4).cells
    text = " ".join(" ".join(cell.source.split()) for cell in exercises if cell.cell_type == "markdown")
    assert re.search(r"What do you expect (?:after|with) (\d+) epochs\?", text).group(1) == str(epochs)
    answer = " ".join(_solution_source("02_building_a_cnn.ipynb", "exercise_02_4").replace("#", "").split())
    assert re.search(r"Over (\d+) epochs", answer).group(1) == str(epochs)
    assert f"without dropout over {epochs} epochs" in checks.exercise_02_4().message


def test_exercise_02_3_model_answer_names_the_band_its_filter_answers_most(real_data):
    """The model answer's comment once said the sole lit up "much less"; the filter it gives
    answers the bottom of the sole most, positively, and the comment must say so."""
    answer = _solution_source("02_building_a_cnn.ipynb", "exercise_02_3")
    kernel = np.array(ast.literal_eval(re.search(r"np\.array\((\[\[.*?\]\])", answer).group(1)), float)
    sneaker = np.pad(real_data[0][0][6].astype(float) / 255.0, 1)  # The notebook's sneaker.
    response = sum(
        kernel[row, column] * sneaker[row : row + 28, column : column + 28]
        for row in range(3)
        for column in range(3)
    )
    strongest_row = int(np.argmax(np.clip(response, 0, None).sum(axis=1)))
    shoe_rows = np.flatnonzero(real_data[0][0][6].max(axis=1) > 0)
    assert strongest_row >= shoe_rows[-1] - 4, "the strongest positive band is not at the sole"
    assert np.clip(response, 0, None).sum(axis=1).max() > np.abs(np.clip(response, None, 0)).sum(axis=1).max()
    comment = " ".join(line.lstrip("# ") for line in answer.splitlines() if line.startswith("#"))
    assert "bottom of the sole" in comment, comment
    assert "strongest band" in comment, comment
    assert "much less" not in comment, comment
