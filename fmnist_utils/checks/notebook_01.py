"""The checks of notebook 01 (Data exploration and preprocessing): 01.1 background shares,
01.2 a split of all the training images, 01.3 the validation pipeline, 01.4 open-ended."""

from __future__ import annotations

import numpy as np

from fmnist_utils.checks._core import _array, _check, _floats, _labels, _NotYet, _open_ended
from fmnist_utils.data import NUM_CLASSES, train_validation_split

__all__ = ["exercise_01_1", "exercise_01_2", "exercise_01_3", "exercise_01_4"]


def _per_class(images: np.ndarray, labels: np.ndarray, statistic) -> np.ndarray:
    return np.array([statistic(images[labels == label]) for label in range(NUM_CLASSES)])


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
        background_share: The answer, ten shares in label order (an array, list or tuple).
        train_images: The ``uint8`` training images.
        train_labels: Their labels.
        validation_images: The validation part, if the split took one off.
        validation_labels: Its labels.
    """
    parts = [(np.asarray(train_images), _labels(train_labels, "train_labels"))]
    if validation_images is not None and validation_labels is not None:
        parts.append((np.asarray(validation_images), _labels(validation_labels, "validation_labels")))
    answer = _ten_shares(background_share)
    candidates = [parts[0]]
    if len(parts) == 2:
        candidates.append(tuple(np.concatenate(arrays) for arrays in zip(*parts, strict=True)))
    shares = [_per_class(*candidate, lambda pixels: np.mean(pixels == 0)) for candidate in candidates]
    close = lambda a, b: np.allclose(a, b, rtol=0, atol=1e-4)  # noqa: E731
    if any(close(answer, share) for share in shares):
        return True
    _hint_01_1(answer, candidates, shares, parts, close)
    return False  # pragma: no cover (_hint_01_1 always raises)


def _hint_01_1(answer, candidates, shares, parts, close) -> None:
    """Raise the hint for a wrong answer to exercise 01.1."""
    if any(np.array_equal(answer, _per_class(*c, lambda p: np.sum(p == 0))) for c in candidates):
        raise _NotYet("these are counts of pixels: divide each by the number of that class's pixels.")
    if any(close(answer, _per_class(*c, np.mean)) for c in candidates):
        raise _NotYet(
            "these are the classes' mean pixel values (0-255), not shares: count the pixels that are "
            "exactly 0 instead."
        )
    if any(np.allclose(answer, 100 * share, rtol=0, atol=1e-2) for share in shares):
        raise _NotYet("these are percentages: a share is a fraction between 0 and 1.")
    if answer.max() > 1.0 or answer.min() < 0.0:
        raise _NotYet("a share is a fraction between 0 and 1: these values are not shares of pixels.")
    if any(close(answer, 1.0 - share) for share in shares):
        raise _NotYet("these are the shares of the pixels that are *not* background.")
    if len(parts) == 2 and close(answer, _per_class(*parts[1], lambda p: np.mean(p == 0))):
        raise _NotYet("these are the validation part's shares: use the training images.")
    if any(close(np.sort(answer), np.sort(share)) for share in shares):
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
        answer = _floats(background_share)
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


def _keys(images: np.ndarray, labels: np.ndarray | None = None) -> list[bytes]:
    """Each image's bytes (and its label's), sorted: equal lists hold the same images, in any order."""
    rows = np.ascontiguousarray(images).reshape(len(images), -1)
    if labels is None:
        return sorted(row.tobytes() for row in rows)
    return sorted(
        row.tobytes() + int(label).to_bytes(8, "little") for row, label in zip(rows, labels, strict=True)
    )


@_check("01.2", "split_train_images", "split_validation_images", "split_validation_labels")
def exercise_01_2(
    split_train_images: np.ndarray,
    split_validation_images: np.ndarray,
    split_validation_labels: np.ndarray,
    all_images: np.ndarray,
    all_labels: np.ndarray,
    lesson_train_labels: np.ndarray | None = None,
) -> bool:
    """Exercise 01.2: a stratified 80/20 split of all the training images with seed 7.

    The right split is the one ``data.train_validation_split(all_images, all_labels,
    validation_size=0.2, seed=7)`` gives; each part may be in any order, with every
    validation label next to its own image.

    Args:
        split_train_images: The training part of the new split.
        split_validation_images: Its validation part.
        split_validation_labels: The validation part's labels.
        all_images: All the training images, as loaded (``exercise_data.all_train_images``).
        all_labels: Their labels.
        lesson_train_labels: The labels of the lesson's training part, to recognise a split of
            that part alone.
    """
    train, validation, labels = _split_parts(
        split_train_images, split_validation_images, split_validation_labels
    )
    all_images, all_labels = np.asarray(all_images), _labels(all_labels, "all_labels")
    _split_sizes(len(train), len(validation), len(all_labels), lesson_train_labels)
    if train.size != len(train) * all_images[0].size or train.dtype != all_images.dtype:
        raise _NotYet(
            f"the images are {train.dtype} of shape {train.shape[1:]}, the training images "
            f"{all_images.dtype} of shape {all_images.shape[1:]}: split the images as loaded."
        )
    (expected_train, _), (expected_validation, expected_labels) = train_validation_split(
        all_images, all_labels, validation_size=0.2, seed=7
    )
    if _keys(validation, labels) == _keys(expected_validation, expected_labels) and _keys(train) == _keys(
        expected_train
    ):
        return True
    _split_hint(train, validation, labels, all_images, all_labels)
    return False  # pragma: no cover (_split_hint always raises)


def _split_parts(train: object, validation: object, labels: object) -> tuple[np.ndarray, ...]:
    """The three answers of exercise 01.2 as arrays, or a hint about their form."""
    train = _images(train, "split_train_images")
    validation = _images(validation, "split_validation_images")
    labels = _array(labels, "split_validation_labels")
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
    return train, validation, _labels(labels, "split_validation_labels", answer=True)


def _split_sizes(train: int, validation: int, total: int, lesson_train_labels: object) -> None:
    """Raise a hint when the two parts' sizes are not those of an 80/20 split of ``total``."""
    given = train + validation
    if given != total:
        if lesson_train_labels is not None and given == len(lesson_train_labels):  # type: ignore[arg-type]
            raise _NotYet(
                f"you split the {given:,} images left after the lesson's split; the exercise asks for all "
                f"{total:,} training images: put the two parts back together first (all_train_images)."
            )
        raise _NotYet(f"your two parts hold {given:,} images; the training set has {total:,}.")
    if validation > train:
        raise _NotYet("the validation part is the larger one: validation_size is the validation's share.")
    if validation != int(np.ceil(0.2 * total)):
        raise _NotYet(
            f"{validation:,} validation images are {validation / total:.0%} of the {total:,}; "
            "validation_size=0.2 asks for 20%."
        )


def _split_hint(train, validation, labels, all_images, all_labels) -> None:
    """Raise the hint for a split of the right sizes that is not the right one."""
    label_of = dict(zip(_keys_in_order(all_images), all_labels.tolist(), strict=True))
    train_keys, validation_keys = _keys_in_order(train), _keys_in_order(validation)
    strangers = sum(key not in label_of for key in train_keys + validation_keys)
    if strangers:
        raise _NotYet(
            f"{strangers:,} of your images are not training images as loaded (changed, scaled, or "
            "from another set): split all_train_images itself."
        )
    if any(label_of[key] != label for key, label in zip(validation_keys, labels.tolist(), strict=True)):
        raise _NotYet(
            "some validation labels do not belong to their images: keep each label with its image "
            "(split images and labels together)."
        )
    shared = len(set(validation_keys) & set(train_keys))
    if shared:
        raise _NotYet(
            f"{shared} validation images are also training images: split once, do not sample twice."
        )
    wanted = 0.2 * np.bincount(all_labels, minlength=NUM_CLASSES)
    if np.any(np.abs(np.bincount(labels, minlength=NUM_CLASSES) - wanted) > 1):
        raise _NotYet(
            "some classes have more validation images than others: the split is not stratified. "
            "data.train_validation_split keeps every class's share."
        )
    raise _NotYet(
        "a split of the right sizes, but not the one the exercise asks for: use "
        "data.train_validation_split with validation_size=0.2 and seed=7 (another seed draws "
        "other images)."
    )


def _keys_in_order(images: np.ndarray) -> list[bytes]:
    return [row.tobytes() for row in np.ascontiguousarray(images).reshape(len(images), -1)]


@_check("01.3", "validation_one_hot")
def exercise_01_3(
    validation_one_hot: object, validation_images: np.ndarray, validation_labels: np.ndarray
) -> bool:
    """Exercise 01.3: a pipeline of the validation set, batches of 256, one-hot labels.

    Right is what ``data.make_dataset(validation_images, validation_labels, batch_size=256,
    one_hot_labels=True)`` yields: the ``uint8`` images, in order, with a channel axis, each
    with its one-hot label.

    Args:
        validation_one_hot: The ``tf.data.Dataset`` built.
        validation_images: The validation images it should hold (``exercise_data``'s copy).
        validation_labels: Their labels.
    """
    images, labels = np.asarray(validation_images), _labels(validation_labels, "validation_labels")
    _pipeline_structure(validation_one_hot)
    batches = _read_batches(validation_one_hot, len(labels))
    _batch_sizes([len(batch_labels) for _, batch_labels in batches], len(labels))
    given = np.concatenate([batch_images for batch_images, _ in batches])
    given_labels = np.concatenate([batch_labels for _, batch_labels in batches])
    _pipeline_images(given, images[..., np.newaxis] if images.ndim == 3 else images)
    if not np.array_equal(given_labels, np.eye(NUM_CLASSES)[labels]):
        _pipeline_labels_hint(given_labels, labels)
    return True


def _pipeline_structure(dataset: object) -> None:
    """Raise a hint when ``dataset`` is not a finite dataset of (images, one-hot labels) batches."""
    if not hasattr(dataset, "as_numpy_iterator") or not hasattr(dataset, "element_spec"):
        raise _NotYet(
            "store the tf.data.Dataset that data.make_dataset returns, not a NumPy array or a list."
        )
    if int(dataset.cardinality()) == -1:  # type: ignore[attr-defined]  # tf.data.INFINITE_CARDINALITY
        raise _NotYet("the pipeline never ends (.repeat()): build it without repeating.")
    spec = dataset.element_spec  # type: ignore[attr-defined]
    if not isinstance(spec, tuple) or len(spec) != 2:
        raise _NotYet("each element should be a batch (images, labels): pass the labels to make_dataset too.")
    image_shape, label_shape = tuple(spec[0].shape), tuple(spec[1].shape)
    if len(image_shape) >= 5 or len(label_shape) >= 3:
        raise _NotYet(
            "the pipeline is batched twice (batches of batches): data.make_dataset already batches; "
            "do not call .batch() on its result."
        )
    if image_shape in ((28, 28), (28, 28, 1)) or len(label_shape) == 0:
        raise _NotYet("the pipeline is not batched: give make_dataset a batch_size.")
    if len(label_shape) != 2 or label_shape[1] != NUM_CLASSES:
        raise _NotYet("the labels are class numbers: ask data.make_dataset for one-hot labels.")
    if image_shape[1:] != (28, 28, 1):
        raise _NotYet(f"the images should have shape (28, 28, 1) in every batch, not {image_shape[1:]}.")


def _read_batches(dataset, expected: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The batches (at most about 20 times ``expected`` examples), or a hint when reading them fails."""
    batches, held = [], 0
    try:
        for images, labels in dataset.as_numpy_iterator():
            batches.append((np.asarray(images), np.asarray(labels)))
            held += len(labels)
            if held > 20 * expected + 256:  # Never ends, or not the validation set: enough to tell.
                break
    except Exception as error:
        raise _NotYet(
            f"reading the pipeline fails ({type(error).__name__}): build it with data.make_dataset alone, "
            "without further steps."
        ) from None
    if not batches:
        raise _NotYet("the pipeline is empty: build it from the validation images and labels.")
    return batches


def _batch_sizes(sizes: list[int], expected: int) -> None:
    held = sum(sizes)
    if held < expected and expected - held < 256 and sizes[-1] == 256:
        raise _NotYet("the last, smaller batch is missing: keep it (no drop_remainder).")
    if held != expected:
        raise _NotYet(f"the pipeline holds {held:,} examples, the validation set {expected:,}.")
    if any(size != 256 for size in sizes[:-1]) or sizes[-1] > 256:
        raise _NotYet(f"the batches hold {sizes[0]} examples, not 256.")


def _pipeline_images(given: np.ndarray, expected: np.ndarray) -> None:
    """Raise a hint unless ``given`` are exactly the ``expected`` images, in order and type."""
    if given.dtype != expected.dtype:
        raise _NotYet(
            f"the images are {given.dtype} with values up to {float(given.max()):.3g}; data.make_dataset "
            f"keeps the {expected.dtype} pixels (0-255) of validation_images: do not scale or convert them "
            "(the model rescales)."
        )
    if np.array_equal(given, expected):
        return
    if _keys(given) == _keys(expected):
        raise _NotYet(
            "the validation images, in another order: an evaluation pipeline keeps their order "
            "(no shuffle), and every label must stay with its image."
        )
    kept = np.isin(_keys_in_order(given), _keys_in_order(expected)).mean()
    if kept < 0.5 and not np.allclose(given.sum(axis=(1, 2, 3)), expected.sum(axis=(1, 2, 3)), rtol=0.2):
        raise _NotYet("these are not the validation images: build the pipeline from validation_images.")
    raise _NotYet(
        "the images are changed (augmented?): a validation pipeline takes them as they are, without "
        "augmentation."
    )


def _pipeline_labels_hint(given: np.ndarray, labels: np.ndarray) -> None:
    one_hot = np.isin(given, (0, 1)).all() and np.all(given.sum(axis=1) == 1)
    if not one_hot:
        raise _NotYet(
            "the labels are not one-hot rows (a single 1, zeros elsewhere): use one_hot_labels=True."
        )
    if np.array_equal(np.sort(given.argmax(axis=1)), np.sort(labels)):
        raise _NotYet(
            "the labels are the validation labels, but not next to their images: keep each label with "
            "its image (shuffle neither apart)."
        )
    raise _NotYet("the pipeline's labels are not the validation labels: build it from the validation set.")


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
