"""The checks of notebook 02 (Building a CNN): 02.1-02.2 shapes and parameter counts, 02.3-02.4 open-ended."""

from __future__ import annotations

import functools

import numpy as np

from fmnist_utils.checks._core import _check, _count, _image_shape, _NotYet, _open_ended

__all__ = ["exercise_02_1", "exercise_02_2", "exercise_02_3", "exercise_02_4"]


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
        "shows the response as an image whose colour scale is centred on zero, with a colour bar;",
        "names the parts of the sneaker that light up, with their sign, and why (where the shoe lies);",
        "compares with the horizontal or vertical filter of the notebook.",
    ],
)


exercise_02_4 = _open_ended(
    "02.4",
    "dropout 0 against 0.5",
    [
        "trains both models from the same seed and reports training and validation accuracy;",
        "notes that after 2 epochs both underfit (and why training accuracy can be below validation's);",
        "predicts overfitting without dropout over 15 epochs: training accuracy up, validation loss up;",
        "checks the prediction against notebook 03's learning curves.",
    ],
)
