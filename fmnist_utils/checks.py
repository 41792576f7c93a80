"""Self-checks for the notebooks' exercises.

Every numbered notebook ends with exercises; after each one's solution cell a
cell calls its check, for example::

    checks.exercise_01_1(background_share, all_images, all_labels)

A check with a definite answer says "correct", or gives a hint about what is wrong
without giving the answer away. Open-ended exercises have no single answer: their check
lists what a good answer shows. The checks take the student's answer and the data it was
computed from, so they work in quick mode (on the subsets) as in full mode.

Each check returns a :class:`CheckResult`, which Jupyter shows as one short text and
which is true only when the answer is correct. Instructors: :data:`EXERCISES` lists every
exercise with its check, and ``INSTRUCTORS.md`` explains how the checks are tested.
"""

from __future__ import annotations

import csv
import os
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


def _correct(exercise: str) -> CheckResult:
    return CheckResult(exercise, True, f"Exercise {exercise}: correct.")


def _hint(exercise: str, hint: str) -> CheckResult:
    return CheckResult(exercise, False, f"Exercise {exercise}: not yet. Hint: {hint}")


def _no_answer(exercise: str, name: str) -> CheckResult:
    return CheckResult(exercise, False, f"Exercise {exercise}: no answer yet. Store your answer in `{name}`.")


def _open_ended(exercise: str, title: str, points: Sequence[str]) -> Callable[[], CheckResult]:
    """The check of an open-ended exercise: it lists what a good answer shows."""
    lines = "\n".join(f"- {point}" for point in points)
    message = f"Exercise {exercise} is open-ended: no single answer. A good answer\n{lines}"

    def check() -> CheckResult:
        return CheckResult(exercise, None, message)

    check.__name__ = check.__qualname__ = f"exercise_{exercise.replace('.', '_')}"
    check.__doc__ = f"Exercise {exercise} (open-ended): {title}."
    return check


def _as_number(value: object) -> float | None:
    """``value`` as a float, or ``None`` when it is not one number."""
    try:
        array = np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        return None
    return float(array) if array.ndim == 0 and np.isfinite(array) else None


def _not_a_fraction(exercise: str, answer: float | None) -> CheckResult | None:
    """A hint when an accuracy is not one number between 0 and 1, else ``None``."""
    if answer is None:
        return _hint(exercise, "store the accuracy as one number between 0 and 1.")
    if answer > 1:
        return _hint(exercise, "an accuracy is a fraction between 0 and 1, not a percentage.")
    return None


def _predicted_classes(values: np.ndarray, name: str) -> np.ndarray:
    """Class indices from class indices or from ``(n, 10)`` probabilities."""
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] == NUM_CLASSES:
        return values.argmax(axis=1)
    validate_labels(values, name=name)
    return values.astype(np.int64)


def _probabilities(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype="float64")
    if values.ndim != 2 or values.shape[1] != NUM_CLASSES:
        raise ValueError(
            f"{name} must be probabilities of shape (n, {NUM_CLASSES}), got shape {values.shape}: "
            "pass the output of evaluation.predict_probabilities."
        )
    return values


def _same_length(*arrays: np.ndarray) -> None:
    lengths = {len(array) for array in arrays}
    if len(lengths) != 1:
        raise ValueError(
            f"the arrays passed have different lengths {sorted(lengths)}; pass the same images' data."
        )


# Notebook 00 ----------------------------------------------------------------------------------


def exercise_00_1(sneaker_count: object, test_labels: np.ndarray) -> CheckResult:
    """Exercise 00.1: the number of sneakers in the test set.

    Args:
        sneaker_count: The answer.
        test_labels: The test labels it was counted from.
    """
    exercise = "00.1"
    if sneaker_count is None:
        return _no_answer(exercise, "sneaker_count")
    labels = np.asarray(test_labels)
    validate_labels(labels)
    expected = int(np.sum(labels == CLASS_NAMES.index("Sneaker")))
    answer = _as_number(sneaker_count)
    if answer is None:
        return _hint(exercise, "store the count as one integer.")
    if answer == expected:
        return _correct(exercise)
    if 0 < answer < 1:
        return _hint(exercise, "that is a share of the test set; count the images instead.")
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    if answer in counts:
        return _hint(
            exercise, "that is the count of another class: look up the sneakers' label in data.CLASS_NAMES."
        )
    return _hint(exercise, "count the test labels equal to the sneakers' label (data.CLASS_NAMES.index).")


exercise_00_2 = _open_ended(
    "00.2",
    "the first 10 bags of the test set",
    [
        "shows ten images in one row, and every one of them is a bag;",
        "selects them with the labels (test_labels == the bags' label), not by looking;",
        "notes how varied the bags are (handles, shapes), which makes the class easy or hard.",
    ],
)


def exercise_00_3(
    most_ink_class: object, least_ink_class: object, images: np.ndarray, labels: np.ndarray
) -> CheckResult:
    """Exercise 00.3: the classes with the highest and the lowest average pixel value.

    Args:
        most_ink_class: The answer's class with the most ink (a name from ``data.CLASS_NAMES``).
        least_ink_class: The class with the least ink.
        images: The images it was computed from.
        labels: Their labels.
    """
    exercise = "00.3"
    if most_ink_class is None:
        return _no_answer(exercise, "most_ink_class")
    if least_ink_class is None:
        return _no_answer(exercise, "least_ink_class")
    images, labels = np.asarray(images), np.asarray(labels)
    _same_length(images, labels)
    validate_labels(labels)
    for answer in (most_ink_class, least_ink_class):
        if not isinstance(answer, str):
            return _hint(exercise, "store class names (strings from data.CLASS_NAMES), not numbers.")
        if answer not in CLASS_NAMES:
            return _hint(exercise, f"{answer!r} is not a class name; use one of data.CLASS_NAMES.")
    ink = np.array([images[labels == label].mean() for label in range(NUM_CLASSES)])
    most, least = CLASS_NAMES[int(np.argmax(ink))], CLASS_NAMES[int(np.argmin(ink))]
    if (most_ink_class, least_ink_class) == (most, least):
        return _correct(exercise)
    if (most_ink_class, least_ink_class) == (least, most):
        return _hint(exercise, "the two are swapped: the most ink means the highest average pixel value.")
    wrong = "most_ink_class" if most_ink_class != most else "least_ink_class"
    return _hint(
        exercise, f"{wrong} is not right: average all the pixels of each class's images, then compare."
    )


# Notebook 01 ----------------------------------------------------------------------------------


def exercise_01_1(
    background_share: object,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    validation_images: np.ndarray | None = None,
    validation_labels: np.ndarray | None = None,
) -> CheckResult:
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
    exercise = "01.1"
    if background_share is None:
        return _no_answer(exercise, "background_share")
    parts = [(np.asarray(train_images), np.asarray(train_labels))]
    if validation_images is not None and validation_labels is not None:
        parts.append((np.asarray(validation_images), np.asarray(validation_labels)))
    for images, labels in parts:
        _same_length(images, labels)
        validate_labels(labels)
    try:
        answer = np.asarray(background_share, dtype="float64")
    except (TypeError, ValueError):
        return _hint(exercise, "store ten numbers, one share per class, in a NumPy array.")
    if answer.shape != (NUM_CLASSES,):
        return _hint(
            exercise,
            f"store one share per class, in label order: shape ({NUM_CLASSES},), not {answer.shape}.",
        )
    if not np.all(np.isfinite(answer)):
        return _hint(
            exercise, "some shares are not numbers: does every class have images in the data you used?"
        )
    if answer.max() > 1.0:
        return _hint(exercise, "a share is a fraction between 0 and 1, not a percentage or a count.")

    def shares(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return np.array([np.mean(images[labels == label] == 0) for label in range(NUM_CLASSES)])

    candidates = [shares(*parts[0])]
    if len(parts) == 2:
        candidates.append(
            shares(np.concatenate([parts[0][0], parts[1][0]]), np.concatenate([parts[0][1], parts[1][1]]))
        )
    if any(np.allclose(answer, expected, atol=1e-4) for expected in candidates):
        return _correct(exercise)
    if any(np.allclose(answer, 1.0 - expected, atol=1e-4) for expected in candidates):
        return _hint(exercise, "these are the shares of the pixels that are *not* background.")
    if np.ptp(answer) < 1e-9:
        return _hint(
            exercise, "all ten shares are the same: select each class's images with labels == label."
        )
    return _hint(
        exercise,
        "count the pixels that are exactly 0 (not just dark) among all the pixels of each class's "
        "images, and divide by that class's number of pixels.",
    )


def exercise_01_2(
    split_train_images: np.ndarray, split_validation_images: np.ndarray, split_validation_labels: np.ndarray
) -> CheckResult:
    """Exercise 01.2: a stratified 80/20 split with no image in both parts.

    Args:
        split_train_images: The training part of the new split.
        split_validation_images: Its validation part.
        split_validation_labels: The validation part's labels.
    """
    exercise = "01.2"
    if split_train_images is None:
        return _no_answer(exercise, "split_train_images")
    if split_validation_images is None:
        return _no_answer(exercise, "split_validation_images")
    if split_validation_labels is None:
        return _no_answer(exercise, "split_validation_labels")
    train, validation = np.asarray(split_train_images), np.asarray(split_validation_images)
    labels = np.asarray(split_validation_labels)
    _same_length(validation, labels)
    validate_labels(labels)
    total = len(train) + len(validation)
    expected_size = int(np.ceil(0.2 * total))
    if len(validation) != expected_size:
        return _hint(
            exercise,
            f"with {total:,} images, validation_size=0.2 gives {expected_size:,} validation images, "
            f"not {len(validation):,}. Did you split all the training images, once?",
        )
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    if counts.max() - counts.min() > 1:
        return _hint(
            exercise,
            f"the classes have {counts.min()} to {counts.max()} validation images each: the split is not "
            "stratified. data.train_validation_split keeps every class's share.",
        )
    in_train = {image.tobytes() for image in train}
    shared = sum(image.tobytes() in in_train for image in validation)
    if shared:
        return _hint(
            exercise, f"{shared} validation images are also training images: split once, do not sample twice."
        )
    return _correct(exercise)


def exercise_01_3(dataset: object, validation_labels: np.ndarray) -> CheckResult:
    """Exercise 01.3: a pipeline of the validation set, batches of 256, one-hot labels.

    Args:
        dataset: The ``tf.data.Dataset`` built.
        validation_labels: The labels of the validation set it should hold.
    """
    exercise = "01.3"
    if dataset is None:
        return _no_answer(exercise, "dataset")
    validate_labels(np.asarray(validation_labels))
    if not hasattr(dataset, "as_numpy_iterator"):
        return _hint(exercise, "pass the tf.data.Dataset that data.make_dataset returned.")
    sizes, one_hot, images_ok = [], True, True
    for images, labels in dataset.as_numpy_iterator():
        sizes.append(len(labels))
        one_hot &= labels.ndim == 2 and labels.shape[1] == NUM_CLASSES
        images_ok &= images.shape[1:] == (28, 28, 1)
    if sum(sizes) != len(validation_labels):
        return _hint(
            exercise,
            f"the pipeline holds {sum(sizes):,} examples, the validation set {len(validation_labels):,}.",
        )
    if not one_hot:
        return _hint(exercise, "the labels are class numbers: ask data.make_dataset for one-hot labels.")
    if any(size != 256 for size in sizes[:-1]) or sizes[-1] > 256:
        return _hint(exercise, f"the batches hold {sizes[0]} examples, not 256.")
    if not images_ok:
        return _hint(exercise, "the images should have shape (28, 28, 1) in every batch.")
    return _correct(exercise)


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


def _shape(value: object) -> tuple | None:
    """``value`` as a tuple of sizes (``None`` for an unknown size, such as the batch axis)."""
    try:
        return tuple(None if size is None else int(size) for size in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None


def exercise_02_1(output_shape: object, parameter_count: object) -> CheckResult:
    """Exercise 02.1: output shape and parameters of ``Conv2D(16, 5)`` on 28 x 28 x 1 images."""
    exercise = "02.1"
    if output_shape is None:
        return _no_answer(exercise, "output_shape")
    if parameter_count is None:
        return _no_answer(exercise, "parameter_count")
    shape = _shape(output_shape)
    if shape is None:
        return _hint(
            exercise, "store the output shape as a tuple of sizes, such as (height, width, channels)."
        )
    if len(shape) == 4:
        return _hint(exercise, "leave out the batch axis: store (height, width, channels).")
    if len(shape) != 3:
        return _hint(exercise, "an image has three axes: (height, width, channels).")
    if shape[2] != 16:
        return _hint(exercise, "the last axis has one channel per filter.")
    if shape[:2] == (28, 28):
        return _hint(exercise, '"valid" padding adds no border, so the image shrinks.')
    if shape[:2] != (24, 24):
        return _hint(exercise, "a k x k kernel fits in (28 - k + 1) positions along each side.")
    count = _as_number(parameter_count)
    if count is None:
        return _hint(exercise, "store the number of parameters as one integer.")
    if count == 400:
        return _hint(exercise, "each filter also has a bias.")
    if count != 416:
        return _hint(
            exercise, "each filter has one weight per kernel position and input channel, plus a bias."
        )
    return _correct(exercise)


def exercise_02_2(pool3_shape: object, predicted_total: object) -> CheckResult:
    """Exercise 02.2: ``pool3``'s shape and the parameters of the three-block baseline."""
    from fmnist_utils.models import build_baseline_cnn

    exercise = "02.2"
    if pool3_shape is None:
        return _no_answer(exercise, "pool3_shape")
    if predicted_total is None:
        return _no_answer(exercise, "predicted_total")
    model = build_baseline_cnn(filters=(32, 64, 128))
    expected_shape = tuple(model.get_layer("pool3").output.shape[1:])
    shape = _shape(pool3_shape)
    if shape is None or len(shape) != 3:
        return _hint(exercise, "store pool3's shape as (height, width, channels), without the batch axis.")
    if shape[2] != expected_shape[2]:
        return _hint(exercise, "pooling keeps the number of channels of the convolution before it.")
    if shape[:2] != expected_shape[:2]:
        return _hint(
            exercise, "each pooling halves the size and rounds down: follow 28 through three of them."
        )
    total = _as_number(predicted_total)
    if total is None:
        return _hint(exercise, "store the total number of parameters as one integer.")
    if total != model.count_params():
        return _hint(
            exercise,
            "add up every layer: a convolution has (k * k * input channels + 1) * filters parameters, "
            "a dense layer (inputs + 1) * units, and the first dense layer's inputs are pool3's "
            "height * width * channels. model.summary() shows each layer's count to compare with.",
        )
    return _correct(exercise)


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


def exercise_03_1(best_accuracy_epoch: object, log_path: str | os.PathLike[str]) -> CheckResult:
    """Exercise 03.1: the epoch (from 1) with the highest validation accuracy in the log.

    Args:
        best_accuracy_epoch: The answer.
        log_path: The run's ``training_log.csv``.
    """
    exercise = "03.1"
    if best_accuracy_epoch is None:
        return _no_answer(exercise, "best_accuracy_epoch")
    path = Path(log_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no training log; run the training cell of notebook 03 first.")
    with open(path) as file:
        rows = list(csv.DictReader(file))
    if not rows or "val_accuracy" not in rows[0]:
        raise ValueError(
            f"{path} has no val_accuracy column: pass the training_log.csv of notebook 03's run."
        )
    epochs = [int(row["epoch"]) for row in rows]
    accuracy = [float(row["val_accuracy"]) for row in rows]
    expected = epochs[int(np.argmax(accuracy))] + 1
    answer = _as_number(best_accuracy_epoch)
    if answer is None:
        return _hint(exercise, "store the epoch as one integer.")
    if answer == expected:
        return _correct(exercise)
    if answer == expected - 1:
        return _hint(exercise, "the log counts epochs from 0; the exercise counts from 1.")
    losses = [float(row["val_loss"]) for row in rows] if "val_loss" in rows[0] else []
    if losses and answer in (epochs[int(np.argmin(losses))], epochs[int(np.argmin(losses))] + 1):
        return _hint(
            exercise, "that is the epoch of the lowest validation loss; the exercise asks about accuracy."
        )
    return _hint(exercise, "look for the largest value in the val_accuracy column.")


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


def exercise_04_1(shirt_precision: object, shirt_recall: object, confusion: np.ndarray) -> CheckResult:
    """Exercise 04.1: Shirt's precision and recall from the confusion matrix.

    Args:
        shirt_precision: The answer's precision.
        shirt_recall: The answer's recall.
        confusion: The confusion matrix of counts (rows: true class, columns: predicted).
    """
    exercise = "04.1"
    if shirt_precision is None:
        return _no_answer(exercise, "shirt_precision")
    if shirt_recall is None:
        return _no_answer(exercise, "shirt_recall")
    confusion = np.asarray(confusion, dtype="float64")
    if confusion.shape != (NUM_CLASSES, NUM_CLASSES):
        raise ValueError(
            f"confusion must be the {NUM_CLASSES} x {NUM_CLASSES} matrix of counts, got {confusion.shape}."
        )
    shirt = CLASS_NAMES.index("Shirt")
    precision = confusion[shirt, shirt] / confusion[:, shirt].sum()
    recall = confusion[shirt, shirt] / confusion[shirt, :].sum()
    answer_precision, answer_recall = _as_number(shirt_precision), _as_number(shirt_recall)
    if answer_precision is None or answer_recall is None:
        return _hint(exercise, "store each as one number between 0 and 1.")
    if answer_precision > 1 or answer_recall > 1:
        return _hint(exercise, "precision and recall are fractions between 0 and 1, not percentages.")
    close = lambda a, b: abs(a - b) < 1e-6  # noqa: E731
    if close(answer_precision, precision) and close(answer_recall, recall):
        return _correct(exercise)
    if close(answer_precision, recall) and close(answer_recall, precision):
        return _hint(
            exercise,
            "precision and recall are swapped: which of them asks about the images *predicted* as "
            "shirts, and which about the images that *are* shirts? Rows are true classes.",
        )
    wrong = "precision" if not close(answer_precision, precision) else "recall"
    return _hint(
        exercise,
        f"the {wrong} is off: divide the correctly found shirts by the right total "
        "(a column of the matrix for one of the two, a row for the other).",
    )


def exercise_04_2(top2_accuracy: object, probabilities: np.ndarray, labels: np.ndarray) -> CheckResult:
    """Exercise 04.2: how often the true class is among the two most likely ones.

    Args:
        top2_accuracy: The answer.
        probabilities: The model's ``(n, 10)`` predicted probabilities.
        labels: The true labels.
    """
    exercise = "04.2"
    if top2_accuracy is None:
        return _no_answer(exercise, "top2_accuracy")
    probabilities = _probabilities(probabilities, "probabilities")
    labels = np.asarray(labels)
    _same_length(probabilities, labels)
    validate_labels(labels)
    top2 = np.argsort(probabilities, axis=1)[:, -2:]
    expected = float(np.mean((top2 == labels[:, None]).any(axis=1)))
    top1 = float(np.mean(probabilities.argmax(axis=1) == labels))
    answer = _as_number(top2_accuracy)
    if (hint := _not_a_fraction(exercise, answer)) is not None:
        return hint
    if abs(answer - expected) < 1e-6:
        return _correct(exercise)
    if abs(answer - top1) < 1e-6:
        return _hint(
            exercise, "that is the top-1 accuracy: count a hit when the true class is first *or* second."
        )
    if answer < top1:
        return _hint(exercise, f"top-2 accuracy cannot be below the top-1 accuracy ({top1:.4f}).")
    return _hint(
        exercise, "take, for each image, the two classes with the highest probabilities (np.argsort)."
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


# Notebook 05 ----------------------------------------------------------------------------------


def exercise_05_1(cheapest_step: object, comparison: object) -> CheckResult:
    """Exercise 05.1: the step that bought validation accuracy most cheaply.

    Args:
        cheapest_step: The answer, a step's name.
        comparison: Notebook 05's comparison table (``step``, ``gain``, ``s/epoch`` columns).
    """
    exercise = "05.1"
    if cheapest_step is None:
        return _no_answer(exercise, "cheapest_step")
    steps = list(comparison["step"])  # type: ignore[index]
    gain = np.asarray(comparison["gain"], dtype="float64")  # type: ignore[index]
    seconds = np.asarray(comparison["s/epoch"], dtype="float64")  # type: ignore[index]
    cost = np.diff(seconds, prepend=np.nan)
    value = np.where(cost > 0, gain / np.where(cost > 0, cost, 1.0), np.where(gain > 0, np.inf, -np.inf))
    value[0] = -np.inf  # The baseline is where the steps start.
    expected = steps[int(np.argmax(value))]
    if not isinstance(cheapest_step, str):
        return _hint(exercise, "store the step's name, as in the table's step column.")
    if cheapest_step not in steps:
        return _hint(
            exercise, f"{cheapest_step!r} is not a step of the table; use a name of its step column."
        )
    if cheapest_step == expected:
        return _correct(exercise)
    if cheapest_step == steps[0]:
        return _hint(exercise, "the baseline is the starting point; compare the steps after it.")
    if cheapest_step == steps[int(np.nanargmax(np.where(np.arange(len(steps)) > 0, gain, -np.inf)))]:
        return _hint(
            exercise, "that step gained the most, but what did it cost per epoch? Divide by the extra time."
        )
    return _hint(
        exercise,
        "divide each step's gain by the seconds per epoch it added; a gain at no extra cost beats any other.",
    )


def _outputs(model_or_outputs: object, images: np.ndarray) -> np.ndarray:
    """A model's probabilities for ``images``, or the array given when it is not a model."""
    if hasattr(model_or_outputs, "predict"):
        from fmnist_utils.evaluation import predict_probabilities

        return predict_probabilities(model_or_outputs, images)  # type: ignore[arg-type]
    return np.asarray(model_or_outputs)


def exercise_05_2(
    ensemble_accuracy: object,
    first_model: object,
    second_model: object,
    images: np.ndarray,
    labels: np.ndarray,
) -> CheckResult:
    """Exercise 05.2: the validation accuracy of two models' averaged probabilities.

    Args:
        ensemble_accuracy: The answer.
        first_model: The first model (or its ``(n, 10)`` probabilities for ``images``).
        second_model: The second model (or its probabilities).
        images: The validation images.
        labels: The validation labels.
    """
    exercise = "05.2"
    if ensemble_accuracy is None:
        return _no_answer(exercise, "ensemble_accuracy")
    labels = np.asarray(labels)
    first = _probabilities(_outputs(first_model, images), "first_model's probabilities")
    second = _probabilities(_outputs(second_model, images), "second_model's probabilities")
    _same_length(first, second, labels)
    validate_labels(labels)
    expected = float(np.mean(((first + second) / 2).argmax(axis=1) == labels))
    answer = _as_number(ensemble_accuracy)
    if (hint := _not_a_fraction(exercise, answer)) is not None:
        return hint
    if abs(answer - expected) < 1e-6:
        return _correct(exercise)
    singles = [float(np.mean(probabilities.argmax(axis=1) == labels)) for probabilities in (first, second)]
    if any(abs(answer - single) < 1e-6 for single in singles):
        return _hint(
            exercise, "that is one model's accuracy alone: average the two models' probabilities first."
        )
    return _hint(
        exercise, "average the probabilities (not the predicted classes), then take each row's argmax."
    )


def exercise_05_3(
    most_improved_class: object,
    baseline_model: object,
    improved_model: object,
    images: np.ndarray,
    labels: np.ndarray,
) -> CheckResult:
    """Exercise 05.3: the class whose validation accuracy gained the most.

    Args:
        most_improved_class: The answer, a class name from ``data.CLASS_NAMES``.
        baseline_model: The baseline (or its predicted classes or probabilities for ``images``).
        improved_model: The improved model (or its predicted classes or probabilities).
        images: The validation images.
        labels: The validation labels.
    """
    exercise = "05.3"
    if most_improved_class is None:
        return _no_answer(exercise, "most_improved_class")
    labels = np.asarray(labels)
    baseline = _predicted_classes(_outputs(baseline_model, images), "baseline_model's predictions")
    improved = _predicted_classes(_outputs(improved_model, images), "improved_model's predictions")
    _same_length(baseline, improved, labels)
    validate_labels(labels)

    from fmnist_utils.evaluation import per_class_accuracy  # Taught in notebook 04.

    improved_accuracy = per_class_accuracy(labels, improved)
    gains = improved_accuracy - per_class_accuracy(labels, baseline)
    expected = CLASS_NAMES[int(np.nanargmax(gains))]
    if not isinstance(most_improved_class, str):
        return _hint(exercise, "store the class's name (a string from data.CLASS_NAMES), not its number.")
    if most_improved_class not in CLASS_NAMES:
        return _hint(exercise, f"{most_improved_class!r} is not a class name; use one of data.CLASS_NAMES.")
    if most_improved_class == expected:
        return _correct(exercise)
    if most_improved_class == CLASS_NAMES[int(np.nanargmax(improved_accuracy))]:
        return _hint(
            exercise,
            "that is the class the improved model gets right most often, not the one that gained most.",
        )
    return _hint(
        exercise, "subtract the baseline's per-class accuracy from the improved model's, class by class."
    )


exercise_05_4 = _open_ended(
    "05.4",
    "residual blocks in 20 minutes",
    [
        "gives the parameter count and an epoch time measured without the first epoch's tracing;",
        "turns it into the number of full epochs that fit in 20 minutes, against the recipe's 30;",
        "argues whether more capacity can make up for fewer epochs, and names the run that would decide "
        "(same budget, compared on the validation set).",
    ],
)


#: Every exercise with its check: ``{"01.1": exercise_01_1, ...}``.
EXERCISES: dict[str, Callable[..., CheckResult]] = {
    name.removeprefix("exercise_").replace("_", "."): globals()[name]
    for name in __all__
    if name.startswith("exercise_")
}
