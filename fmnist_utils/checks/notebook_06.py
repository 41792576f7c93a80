"""The checks of notebook 06 (From notebook to app): 06.1 the int8 file's size ratio,
06.2-06.3 open-ended."""

from __future__ import annotations

from fmnist_utils.checks._core import _check, _decimals, _NotYet, _number, _open_ended

__all__ = ["exercise_06_1", "exercise_06_2", "exercise_06_3"]


def _ratio_close(answer: float, expected: float) -> bool:
    """The tolerance of 06.1 (and of its hidden test): 1% of the ratio."""
    return abs(answer - expected) <= 0.01 * expected


@_check("06.1", "size_ratio")
def exercise_06_1(size_ratio: object, table: object) -> bool:
    """Exercise 06.1: how many times smaller the full-integer LiteRT file is than the float one.

    A ratio within 1% is right (3.76 for 3.7621; 3.8 only when that is within 1%).

    Args:
        size_ratio: The answer: float size divided by int8 size.
        table: Notebook 06's comparison table, indexed by format, with a ``size (MB)`` column
            (``exercise_data.table``).
    """
    answer = _number(size_ratio, "size_ratio")
    sizes = {str(name): float(size) for name, size in table["size (MB)"].items()}  # type: ignore[index]
    expected = sizes["LiteRT float32"] / sizes["LiteRT int8"]
    if _ratio_close(answer, expected):
        return True
    if 0 < answer < 1 and abs(answer * expected - 1) < 0.05:  # Rounded, too: 0.26 for 0.2563.
        raise _NotYet("that is int8 / float, below 1; divide the float size by the int8 size.")
    for decimals in (0, 1):
        if answer == round(expected, decimals):
            raise _NotYet(
                f"that is the ratio rounded to {_decimals(decimals)}, too coarse (more than 1% off): "
                "keep two decimals or more."
            )
    if _ratio_close(answer, sizes["Keras .keras"] / sizes["LiteRT int8"]):
        raise _NotYet(
            "that compares with the .keras file, which also holds the optimizer's state; use LiteRT float32."
        )
    if _ratio_close(answer, sizes["LiteRT float32"] / sizes["LiteRT dynamic range"]):
        raise _NotYet("that is the dynamic-range file; the exercise asks about full-integer (int8).")
    raise _NotYet("read both sizes from the table's size column and divide the float32 one by the int8 one.")


exercise_06_2 = _open_ended(
    "06.2",
    "calibrate full-integer quantization badly on purpose",
    [
        "converts the SavedModel twice more: calibrated on 20 images of one class, and on 20 blank images;",
        "measures their test accuracy and agreement with the float model, next to the table's int8 row;",
        "explains both: what the calibration measures (each activation's range), why one class can be "
        "enough, and why blank images collapse the input's range to almost zero, so that every "
        "picture reads as blank.",
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
