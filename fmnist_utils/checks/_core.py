"""The machinery the exercise checks share: verdicts, readers of answers, the registry.

Every check is made by :func:`_check` (or :func:`_open_ended`) in the module of its notebook,
which registers it in :data:`EXERCISES`. A check's body returns ``True`` or raises
:class:`_NotYet` with a hint; :func:`_verdict` turns everything else into a verdict too, so a
check never raises. :func:`keep` makes the read-only copies of the data that the notebooks'
exercise setup cells hand to the checks (``exercise_data``).
"""

from __future__ import annotations

import functools
import inspect
import re
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from fmnist_utils.data import CLASS_NAMES, NUM_CLASSES, validate_labels

#: Every exercise with its check, in notebook order: ``{"01.1": exercise_01_1, ...}``.
EXERCISES: dict[str, Callable[..., CheckResult]] = {}


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


class Kept(types.SimpleNamespace):
    """The read-only namespace :func:`keep` returns: its names cannot be rebound."""

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"exercise_data is read-only: it keeps the checks' own copy of {name!r}.")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("exercise_data is read-only.")

    def __repr__(self) -> str:
        return f"exercise_data({', '.join(vars(self))})"


def keep(**values: object) -> Kept:
    """Private, read-only copies of the data the checks compare an answer with.

    An answer cell can rebind or change the notebook's variables (``test_labels``, a table
    re-sorted for display); the checks read these copies instead.

    Args:
        **values: NumPy arrays (copied and made read-only), pandas objects (deep-copied),
            anything else (paths, models) kept as it is.

    Returns:
        A namespace whose attributes are the copies, and cannot be rebound.
    """
    kept = {}
    for name, value in values.items():
        if isinstance(value, np.ndarray):
            value = value.copy()
            value.setflags(write=False)
        elif hasattr(value, "copy") and type(value).__module__.startswith("pandas"):
            value = value.copy(deep=True)  # type: ignore[union-attr]
        kept[name] = value
    return Kept(**kept)


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
    (a missing log file, say) becomes a verdict that says what is wrong. The check is
    registered in :data:`EXERCISES`.
    """

    def decorate(function: Callable[..., bool]) -> Callable[..., CheckResult]:
        # These lines run when the module is imported, out of mutation testing's reach
        # (pragma): tests/test_checks.py checks the names, signatures and docstrings they set.
        @functools.wraps(function)  # pragma: no mutate
        def check(*args: object, **kwargs: object) -> CheckResult:
            return _verdict(exercise, answers, function, args, kwargs)  # pragma: no mutate

        check.__signature__ = inspect.signature(function).replace(return_annotation="CheckResult")  # type: ignore[attr-defined]  # pragma: no mutate
        EXERCISES[exercise] = check  # pragma: no mutate
        return check

    return decorate


def _verdict(
    exercise: str, answers: Sequence[str], function: Callable[..., bool], args: tuple, kwargs: dict
) -> CheckResult:
    """What the check made by :func:`_check` answers when called with ``args``."""
    given = dict(zip(answers, args, strict=False)) | {
        name: kwargs[name] for name in answers if name in kwargs
    }
    for name in answers:
        if name in given and given[name] is None:
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
    """The check of an open-ended exercise: it lists what a good answer shows (registered too)."""

    def check() -> CheckResult:
        return _open_ended_verdict(exercise, points)  # pragma: no mutate

    check.__name__ = check.__qualname__ = f"exercise_{exercise.replace('.', '_')}"  # pragma: no mutate
    check.__doc__ = f"Exercise {exercise} (open-ended): {title}."  # pragma: no mutate
    EXERCISES[exercise] = check  # pragma: no mutate
    return check


def _open_ended_verdict(exercise: str, points: Sequence[str]) -> CheckResult:
    lines = "\n".join(f"- {point}" for point in points)
    return CheckResult(
        exercise, None, f"Exercise {exercise} is open-ended: no single answer. A good answer\n{lines}"
    )


# Reading answers: each returns the value, or raises _NotYet with what is wrong with its type.


def _floats(value: object) -> np.ndarray:
    """``value`` as a float64 array; ``TypeError`` when it holds no numbers (strings, objects)."""
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"not numbers: {array.dtype}")
    return array.astype("float64")


def _number(value: object, name: str) -> float:
    """``value`` as one finite float."""
    if isinstance(value, (str, bytes)):
        raise _NotYet(f"`{name}` is a string: store a number, without quotes.")
    if isinstance(value, (bool, np.bool_)):
        raise _NotYet(f"`{name}` is {value}: store a number, not True or False.")
    try:
        array = _floats(value)
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
    """``value`` as a name from ``CLASS_NAMES`` (a ``str`` or ``np.str_``)."""
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


def _size(value: object) -> int | None:
    """The number of values in a 1-D answer, else ``None``."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return array.size if array.ndim == 1 else None


def _probabilities(values: object, name: str) -> np.ndarray:
    """Probabilities of shape ``(n, 10)``, in their own float type (``ValueError`` otherwise)."""
    array = np.asarray(values)
    if array.dtype.kind != "f":  # Computed in the probabilities' own type, as a student does.
        array = array.astype("float64")
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


def _close(answer: float, expected: float) -> bool:
    """The tolerance of every check with a numeric answer (and of the hidden tests): 1e-6."""
    return abs(answer - expected) < 1e-6


def _rounded(answer: float, expected: float) -> int | None:
    """The number of decimals (0-4) ``expected`` was rounded to to give ``answer``, else ``None``."""
    for decimals in range(5):
        if answer == round(expected, decimals) and not _close(answer, expected):
            return decimals
    return None


def _decimals(count: int) -> str:
    """``"1 decimal"``, ``"3 decimals"``: how far a rounded answer was rounded."""
    return f"{count} decimal{'' if count == 1 else 's'}"
