"""Plot helpers draw what they are given: the images, bar heights, curves and labels, in place.

Counting axes is not enough: a helper that draws the wrong image, swaps two class names or
transposes a matrix still makes the right number of axes. These tests read back what was
drawn (image arrays, bar sizes, line data, annotation texts, tick labels) and compare it
with the input.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from fmnist_utils.data import CLASS_NAMES
from fmnist_utils.plots import (
    plot_calibration,
    plot_class_distribution,
    plot_class_matrix,
    plot_examples_per_class,
    plot_feature_maps,
    plot_filters,
    plot_grad_cam,
    plot_image,
    plot_image_grid,
    plot_learning_curves,
    plot_per_class_accuracy,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), np.arange(50) % 10


def shown(ax, layer: int = 0) -> np.ndarray:
    """The array an axes shows as its image number ``layer``."""
    return np.asarray(ax.images[layer].get_array())


def tick_texts(labels) -> list[str]:
    return [label.get_text() for label in labels]


def test_plot_image_draws_the_image_into_given_axes(batch):
    image = batch[0][0] // 3  # A faint image: values 0..85.
    figure, ax = plt.subplots()
    assert plot_image(image, title="Bag", ax=ax) is figure
    assert ax.get_title() == "Bag"
    np.testing.assert_array_equal(shown(ax), image)
    # A fixed scale: a faint garment must not be stretched to full contrast.
    assert ax.images[0].get_clim() == (0, 255)
    assert ax.images[0].get_cmap().name == "gray_r"  # Dark pixels are the garment.
    assert len(ax.get_xticks()) == len(ax.get_yticks()) == 0


def test_plot_image_accepts_channel_axis(batch):
    image = batch[0][1]
    figure = plot_image(image[..., None])
    (ax,) = figure.axes
    np.testing.assert_array_equal(shown(ax), image)
    assert ax.get_title() == ""


def test_plot_image_grid_draws_each_image_under_its_title(batch):
    images = batch[0][:7]
    titles = [f"image {index}" for index in range(7)]
    figure = plot_image_grid(images, titles, columns=4)
    assert len(figure.axes) == 8  # Two rows of four.
    for index, ax in enumerate(figure.axes[:7]):
        np.testing.assert_array_equal(shown(ax), images[index])
        assert ax.get_title() == titles[index]
    assert not figure.axes[7].images
    assert not figure.axes[7].axison  # The unused cell is blank, not an empty frame.


def test_plot_image_grid_fills_given_axes_row_by_row(batch):
    images = batch[0][:5]
    figure, axes = plt.subplots(2, 3)
    assert plot_image_grid(images, axes=axes) is figure
    for index, ax in enumerate(axes.ravel()[:5]):
        np.testing.assert_array_equal(shown(ax), images[index])
        assert ax.get_title() == ""
    assert not axes[1, 2].images


def test_plot_image_grid_errors(batch):
    with pytest.raises(ValueError, match=r"got 3 images but 2 titles"):
        plot_image_grid(batch[0][:3], ["a", "b"])
    _, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match=r"got 3 images but only 2 axes"):
        plot_image_grid(batch[0][:3], axes=axes)


def test_examples_per_class_grid(batch):
    images, labels = batch
    figure = plot_examples_per_class(images, labels, examples_per_class=3, seed=1)
    assert len(figure.axes) == 30
    assert [ax.get_title() for ax in figure.axes[:10]] == list(CLASS_NAMES)
    assert [ax.get_title() for ax in figure.axes[10:]] == [""] * 20  # Names on the first row only.
    for column in range(10):
        drawn = [shown(figure.axes[row * 10 + column]) for row in range(3)]
        # Column c shows three different images of class c.
        positions = [
            next(index for index in np.flatnonzero(labels == column) if np.array_equal(image, images[index]))
            for image in drawn
        ]
        assert len(set(positions)) == 3, column


def test_examples_per_class_without_seed_takes_the_first_examples(batch):
    images, labels = batch
    figure = plot_examples_per_class(images, labels, examples_per_class=2)
    for column in range(10):
        for row in range(2):
            expected = images[np.flatnonzero(labels == column)[row]]
            np.testing.assert_array_equal(shown(figure.axes[row * 10 + column]), expected)


def test_examples_per_class_needs_enough_examples(batch):
    images, labels = batch
    with pytest.raises(ValueError, match=r"class 0 \(T-shirt/top\) has 5 examples, 6 requested"):
        plot_examples_per_class(images, labels, examples_per_class=6)


def bars(ax) -> list:
    return [patch for patch in ax.patches if patch.get_width() > 0]


def test_class_distribution_bars_match_counts():
    train_labels = np.repeat(np.arange(10), np.arange(1, 11))
    test_labels = np.repeat(np.arange(10), [3, 1, 4, 1, 5, 9, 2, 6, 5, 3])
    figure = plot_class_distribution(train_labels, test_labels)
    ax = figure.axes[0]
    drawn = bars(ax)
    assert len(drawn) == 20
    # Training bars first, then the test bars, each in class order from left to right.
    for split, counts in ((drawn[:10], range(1, 11)), (drawn[10:], [3, 1, 4, 1, 5, 9, 2, 6, 5, 3])):
        by_position = sorted(split, key=lambda patch: patch.get_x())
        assert [patch.get_height() for patch in by_position] == list(counts)
    assert tick_texts(ax.get_xticklabels()) == list(CLASS_NAMES)
    assert tick_texts(ax.get_legend().get_texts()) == ["train", "test"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("class", "count (images)")


def test_class_distribution_legend_covers_no_bar():
    """Balanced classes make every bar as tall as the axes: a legend inside hid the last ones."""
    figure = plot_class_distribution(np.repeat(np.arange(10), 6), np.arange(10))
    ax = figure.axes[0]
    figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    extents = [patch.get_window_extent() for patch in bars(ax)]
    assert len(extents) == 20
    assert not [bar for bar in extents if bar.overlaps(legend)]


def test_class_distribution_draws_into_given_axes():
    figure, ax = plt.subplots()
    labels = np.repeat(np.arange(10), np.arange(10, 0, -1))
    assert plot_class_distribution(labels, ax=ax) is figure
    assert [patch.get_height() for patch in sorted(bars(ax), key=lambda patch: patch.get_x())] == list(
        range(10, 0, -1)
    )


def cell_texts(ax) -> dict[tuple[int, int], str]:
    """The heatmap's annotations by (row, column), read from where each text is drawn."""
    return {(int(text.get_position()[1]), int(text.get_position()[0])): text.get_text() for text in ax.texts}


def test_class_matrix_annotates_every_cell_with_its_value():
    matrix = np.arange(100).reshape(10, 10) / 100  # Not symmetric: a transposed plot differs.
    figure = plot_class_matrix(matrix, title="similarity", fmt=".2f", xlabel="predicted", ylabel="true")
    ax = figure.axes[0]
    assert ax.get_title() == "similarity"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted", "true")
    assert cell_texts(ax) == {
        (row, column): f"{matrix[row, column]:.2f}" for row in range(10) for column in range(10)
    }
    colours = np.asarray(ax.collections[0].get_array()).reshape(10, 10)
    np.testing.assert_array_equal(colours, matrix)
    # Row i and column i are class i.
    for ticks, labels in ((ax.get_yticks(), ax.get_yticklabels()), (ax.get_xticks(), ax.get_xticklabels())):
        assert {int(tick): label for tick, label in zip(ticks, tick_texts(labels), strict=True)} == dict(
            enumerate(CLASS_NAMES)
        )


def test_class_matrix_takes_a_labelled_dataframe():
    """A crosstab or df.corr() keeps its numbers (pandas would re-index its own labels to NaN)."""
    matrix = np.arange(100).reshape(10, 10)
    frame = pd.DataFrame(matrix, index=range(10), columns=[f"p{column}" for column in range(10)])
    ax = plot_class_matrix(frame, fmt="d").axes[0]
    assert cell_texts(ax) == {
        (row, column): str(matrix[row, column]) for row in range(10) for column in range(10)
    }


def test_class_matrix_draws_a_confusion_matrix_into_given_axes():
    confusion = np.diag(np.arange(100, 110))
    confusion[6, 0] = 42  # 42 shirts taken for T-shirts: row Shirt, column T-shirt/top.
    figure, ax = plt.subplots()
    assert plot_class_matrix(confusion, fmt="d", ax=ax) is figure
    texts = cell_texts(ax)
    assert texts[6, 0] == "42"
    assert texts[0, 6] == "0"
    assert texts[9, 9] == "109"


def test_class_matrix_rejects_wrong_shape():
    # pandas reports a matrix without one row and column per class (plots makes no check of its own).
    with pytest.raises(ValueError, match=r"Shape of passed values is \(3, 3\), indices imply \(10, 10\)"):
        plot_class_matrix(np.zeros((3, 3)))


def test_filters_one_panel_per_filter_each_centred_on_zero():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 1, 12))
    kernel[:, :, 0, 3] *= 10  # One strong filter must not wash out the others.
    figure = plot_filters(kernel, columns=6)
    drawn = [ax for ax in figure.axes if ax.images]
    assert len(drawn) == 12
    for index, ax in enumerate(drawn):
        np.testing.assert_array_equal(shown(ax), kernel[:, :, 0, index])
        limit = np.abs(kernel[:, :, 0, index]).max()
        np.testing.assert_allclose(ax.images[0].get_clim(), (-limit, limit))
        assert ax.get_title() == str(index)


def test_filters_draw_into_given_axes():
    kernel = np.random.default_rng(1).normal(size=(3, 3, 1, 4))
    figure, axes = plt.subplots(1, 4)
    assert plot_filters(kernel, axes=axes) is figure
    np.testing.assert_array_equal(shown(axes[2]), kernel[:, :, 0, 2])


def test_filters_rejects_multichannel_kernel():
    with pytest.raises(ValueError, match=r"kernel must have shape \(height, width, 1, filters\)"):
        plot_filters(np.zeros((3, 3, 32, 64)))


def test_feature_maps_limit_and_errors():
    maps = np.random.default_rng(0).random((14, 14, 32))
    figure = plot_feature_maps(maps, max_maps=8, columns=4)
    drawn = [ax for ax in figure.axes if ax.images]
    assert len(drawn) == 8
    for index, ax in enumerate(drawn):
        np.testing.assert_array_equal(shown(ax), maps[:, :, index])
        assert ax.get_title() == str(index)
    with pytest.raises(TypeError, match=r"Invalid shape \(1, 14, 14\) for image data"):  # matplotlib's check.
        plot_feature_maps(maps[None])


HISTORY = {
    "loss": [1.0, 0.5, 0.3],
    "val_loss": [1.1, 0.7, 0.6],
    "accuracy": [0.5, 0.7, 0.8],
    "val_accuracy": [0.4, 0.6, 0.7],
}


def test_learning_curves_one_history():
    figure = plot_learning_curves(HISTORY)
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy"]
    for ax, metric in zip(figure.axes, ["loss", "accuracy"], strict=True):
        training_line, validation_line = ax.lines
        np.testing.assert_array_equal(training_line.get_ydata(), HISTORY[metric])
        np.testing.assert_array_equal(validation_line.get_ydata(), HISTORY[f"val_{metric}"])
        np.testing.assert_array_equal(training_line.get_xdata(), [1, 2, 3])  # Epochs count from 1.
        np.testing.assert_array_equal(validation_line.get_xdata(), [1, 2, 3])
        assert (training_line.get_linestyle(), validation_line.get_linestyle()) == ("-", "--")
        assert training_line.get_color() == validation_line.get_color()
        unit = {"loss": "loss (cross-entropy)", "accuracy": "accuracy (fraction)"}[metric]
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", unit)
        assert tick_texts(ax.get_legend().get_texts()) == ["training", "validation"]


def test_learning_curves_draw_into_given_axes():
    figure, axes = plt.subplots(1, 2)
    assert plot_learning_curves(HISTORY, metrics=("accuracy",), axes=[axes[1]]) is figure
    assert not axes[0].lines
    np.testing.assert_array_equal(axes[1].lines[0].get_ydata(), HISTORY["accuracy"])


def test_learning_curves_compare_runs():
    runs = {
        "dropout": {"loss": [1.0, 0.6], "val_loss": [0.9, 0.7]},
        "no dropout": {"loss": [0.9, 0.3, 0.1], "val_loss": [0.8, 0.7, 0.9]},
    }
    figure, ax = plt.subplots()
    # Colours the helper does not choose: a curve drawn without its run's colour would take one.
    ax.set_prop_cycle(color=["red", "green", "blue", "black"])
    assert plot_learning_curves(runs, metrics=("loss",), axes=[ax]) is figure
    assert len(ax.lines) == 4
    labels = tick_texts(ax.get_legend().get_texts())
    assert labels == [
        "dropout, training",
        "dropout, validation",
        "no dropout, training",
        "no dropout, validation",
    ]
    expected = [
        runs["dropout"]["loss"],
        runs["dropout"]["val_loss"],
        runs["no dropout"]["loss"],
        runs["no dropout"]["val_loss"],
    ]
    for line, values in zip(ax.lines, expected, strict=True):
        np.testing.assert_array_equal(line.get_ydata(), values)
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(values) + 1))
    # One colour per run, the same for its training and validation curves.
    assert (
        ax.lines[0].get_color()
        == ax.lines[1].get_color()
        != ax.lines[2].get_color()
        == ax.lines[3].get_color()
    )
    assert not {line.get_color() for line in ax.lines} & {"red", "green", "blue", "black"}


def test_learning_curves_missing_metric():
    with pytest.raises(ValueError, match=r"history has no 'accuracy'; it has \['loss'\]"):
        plot_learning_curves({"loss": [1.0]})


def test_per_class_accuracy_sorted_worst_first_with_the_right_names():
    accuracies = np.array([0.81, 0.98, 0.84, 0.9, 0.83, 0.97, 0.66, 0.95, 0.99, 0.96])
    order = np.argsort(accuracies)
    figure = plot_per_class_accuracy(accuracies)
    ax = figure.axes[0]
    assert ax.get_title() == "Accuracy per class"
    names = dict(zip(ax.get_yticks(), tick_texts(ax.get_yticklabels()), strict=True))
    drawn = {names[round(patch.get_y() + patch.get_height() / 2)]: patch.get_width() for patch in ax.patches}
    assert drawn == dict(zip(CLASS_NAMES, accuracies, strict=True))  # Each bar is its class's accuracy.
    assert [names[position] for position in range(10)] == [CLASS_NAMES[index] for index in order]
    assert [text.get_text() for text in ax.texts] == [f" {accuracies[index]:.1%}" for index in order]
    assert [text.get_position()[0] for text in ax.texts] == [accuracies[index] for index in order]
    with pytest.raises(ValueError, match=r"one value per class"):
        plot_per_class_accuracy(np.ones(3))


def test_per_class_accuracy_draws_into_given_axes():
    figure, ax = plt.subplots()
    assert plot_per_class_accuracy(np.linspace(0.5, 0.95, 10), ax=ax) is figure
    assert len(ax.patches) == 10


def test_calibration_plot_panels():
    from fmnist_utils.evaluation import calibration_bins

    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10) * 0.3, size=500)
    labels = rng.integers(0, 10, 500)
    bins = calibration_bins(probabilities, labels)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    figure = plot_calibration(bins, confidence, correct)
    hist_ax, reliability_ax = figure.axes
    assert f"ECE = {bins.expected_calibration_error:.3f}" in reliability_ax.get_title()
    filled = bins.counts > 0
    bar_heights = [patch.get_height() for patch in reliability_ax.patches]
    np.testing.assert_allclose(bar_heights, bins.accuracy[filled])
    centres = (bins.edges[:-1] + bins.edges[1:]) / 2
    np.testing.assert_allclose(
        [patch.get_x() + patch.get_width() / 2 for patch in reliability_ax.patches], centres[filled]
    )
    diagonal, points = reliability_ax.lines
    np.testing.assert_array_equal(diagonal.get_ydata(), diagonal.get_xdata())
    np.testing.assert_allclose(points.get_xdata(), centres[filled])
    np.testing.assert_allclose(points.get_ydata(), bins.confidence[filled])
    # The histogram stacks the right predictions, then the wrong ones, in the same bins.
    right, _ = np.histogram(confidence[correct], bins=bins.edges)
    wrong, _ = np.histogram(confidence[~correct], bins=bins.edges)
    heights = [patch.get_height() for patch in hist_ax.patches]
    np.testing.assert_array_equal(heights, np.concatenate([right, wrong]))
    assert tick_texts(hist_ax.get_legend().get_texts()) == ["right", "wrong"]
    # Wrong predictions are hatched too: right and wrong read apart in grayscale.
    assert [bool(patch.get_hatch()) for patch in hist_ax.patches] == [False] * len(right) + [True] * len(
        wrong
    )
    assert [bool(handle.get_hatch()) for handle in hist_ax.get_legend().legend_handles] == [False, True]


def test_calibration_plot_draws_into_given_axes():
    from fmnist_utils.evaluation import calibration_bins

    probabilities = np.random.default_rng(1).dirichlet(np.ones(10), size=50)
    labels = np.arange(50) % 10
    figure, axes = plt.subplots(1, 2)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    assert plot_calibration(calibration_bins(probabilities, labels), confidence, correct, axes=axes) is figure
    assert axes[0].get_title() == "Confidence"
    with pytest.raises(IndexError, match=r"boolean index did not match"):  # NumPy's check.
        plot_calibration(calibration_bins(probabilities, labels), confidence, correct[:3])


def test_grad_cam_overlays_the_heatmap_on_the_image(batch):
    image = batch[0][2]
    heatmap = np.random.default_rng(0).random((28, 28))
    figure, ax = plt.subplots()
    assert plot_grad_cam(image, heatmap, title="Bag", ax=ax) is figure
    assert len(ax.images) == 2
    assert ax.get_title() == "Bag"
    np.testing.assert_array_equal(shown(ax, 0), image)  # The image below...
    np.testing.assert_array_equal(shown(ax, 1), heatmap)  # ...the heatmap above it, see-through,
    assert 0 < ax.images[1].get_alpha() < 1
    assert ax.images[1].get_clim() == (0, 1)  # on a fixed scale: 0 is cold, 1 is hot.
    with pytest.raises(ValueError, match=r"heatmap must have shape \(28, 28\)"):
        plot_grad_cam(np.zeros((28, 28), np.uint8), np.ones((7, 7)))


def test_grad_cam_makes_its_own_figure():
    figure = plot_grad_cam(np.zeros((28, 28), np.uint8), np.ones((28, 28)) / 2)
    ax, scale = figure.axes
    assert len(ax.images) == 2
    assert scale.get_ylabel() == "importance (0-1)"  # The heatmap's colour bar.
    assert len(plot_grad_cam(np.zeros((28, 28), np.uint8), np.ones((28, 28)), colorbar=False).axes) == 1


# --- Figures every student can read -------------------------------------------------------
# The rules are in fmnist_utils/plots.py's docstring. Each helper draws small synthetic data at
# the sizes the notebooks use, under matplotlib's defaults and under the course's theme
# (environment.setup: seaborn "notebook" context, bigger fonts, 100 dpi), and each rule is
# checked on what was drawn.

# Colour maps refused by name whatever their lightness (rainbows, red-green maps).
UNREADABLE_CMAPS = {"jet", "rainbow", "gist_rainbow", "hsv", "nipy_spectral", "RdYlGn", "RdGn"}
# Two legend entries of the same style must differ this much in luminance (0-1) to tell apart in grey.
MIN_LUMINANCE_STEP = 0.1


@pytest.fixture(params=["matplotlib defaults", "course theme"])
def course_style(request):
    import matplotlib as mpl
    import seaborn as sns

    with mpl.rc_context():
        if request.param == "course theme":  # What fmnist_utils.environment.setup() sets.
            sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
            mpl.rcParams["figure.dpi"] = 100
        yield request.param


def _calibration_figure():
    from fmnist_utils.evaluation import calibration_bins

    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10) * 0.3, size=500)
    labels = rng.integers(0, 10, 500)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    return plot_calibration(calibration_bins(probabilities, labels), confidence, correct)


def _images(count=30):
    return np.random.default_rng(0).integers(0, 256, (count, 28, 28), dtype=np.uint8)


TWO_RUNS = {"dropout 0.3": HISTORY, "no dropout": {key: values[::-1] for key, values in HISTORY.items()}}

# One drawing per public helper, as the notebooks call them (columns, counts, titles).
DRAWINGS = {
    "plot_image": lambda: plot_image(_images(1)[0], title="9: Ankle boot"),
    "plot_image_grid": lambda: plot_image_grid(_images(10), ["Bag"] * 10),
    "plot_examples_per_class": lambda: plot_examples_per_class(
        _images(30), np.arange(30) % 10, examples_per_class=3, seed=0
    ),
    "plot_class_distribution": lambda: plot_class_distribution(np.arange(100) % 10, np.arange(50) % 10),
    "plot_class_matrix": lambda: plot_class_matrix(np.eye(10), title="Cosine similarity of the class means"),
    "plot_filters": lambda: plot_filters(np.random.default_rng(0).normal(size=(3, 3, 1, 32)), columns=16),
    "plot_feature_maps": lambda: plot_feature_maps(
        np.random.default_rng(0).random((28, 28, 32)), max_maps=16, columns=16
    ),
    "plot_learning_curves": lambda: plot_learning_curves(HISTORY),
    "plot_learning_curves, two runs": lambda: plot_learning_curves(TWO_RUNS),
    "plot_per_class_accuracy": lambda: plot_per_class_accuracy(np.linspace(0.6, 0.99, 10)),
    "plot_calibration": _calibration_figure,
    "plot_grad_cam": lambda: plot_grad_cam(
        _images(1)[0], np.random.default_rng(0).random((28, 28)), title="Bag\n(right)"
    ),
}


def test_every_public_helper_is_checked_for_readability():
    from fmnist_utils import plots

    helpers = {name for name in plots.__all__ if name.startswith("plot_")}
    assert helpers == {name.split(",")[0] for name in DRAWINGS}


def shown_scale(figure) -> float:
    """How much JupyterLab scales the figure down: its PNG (tight box) against the display width."""
    from fmnist_utils.plots import DISPLAY_WIDTH_IN

    figure.canvas.draw()
    box = figure.get_tightbbox(figure.canvas.get_renderer())  # In inches.
    width = box.width + 2 * plt.rcParams["savefig.pad_inches"]  # The inline backend saves "tight".
    return min(1.0, DISPLAY_WIDTH_IN / width)


def is_colorbar(ax) -> bool:
    return hasattr(ax, "_colorbar")


def data_axes(figure) -> list:
    """The panels that show something: not colour bars, not the blank cells of a grid."""
    return [ax for ax in figure.axes if not is_colorbar(ax) and (ax.axison or ax.images)]


def is_image_panel(ax) -> bool:
    """An image with neither axis drawn (turned off, or without ticks)."""
    return bool(ax.images) and (not ax.axison or not (len(ax.get_xticks()) or len(ax.get_yticks())))


def drawn_texts(figure) -> list:
    """Every non-empty text the figure draws: titles, labels, tick labels, legends, notes."""
    texts = list(figure.texts)
    for ax in figure.axes:
        texts += [ax.title, ax._left_title, ax._right_title, *ax.texts]
        if ax.get_legend() is not None:
            texts += [*ax.get_legend().get_texts(), ax.get_legend().get_title()]
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                texts += [axis.label, *axis.get_ticklabels()]
    return [text for text in texts if text.get_visible() and text.get_text().strip()]


@pytest.mark.parametrize("name", DRAWINGS)
def test_every_figure_has_titles_and_labelled_axes(name, course_style):
    figure = DRAWINGS[name]()
    suptitle = figure._suptitle.get_text() if figure._suptitle is not None else ""
    panels = data_axes(figure)
    assert panels
    untitled = [ax for ax in panels if not ax.get_title()]
    assert suptitle or not untitled, f"{name}: {len(untitled)} panels without a title, no figure title"
    for ax in panels:
        if not is_image_panel(ax):  # Image panels carry a title instead of axis labels.
            assert ax.get_xlabel().strip(), f"{name}: {ax.get_title()!r} has no x label"
            assert ax.get_ylabel().strip(), f"{name}: {ax.get_title()!r} has no y label"


@pytest.mark.parametrize("name", DRAWINGS)
def test_every_text_is_at_least_8_pt_as_shown(name, course_style):
    from fmnist_utils.plots import MIN_FONT_PT

    figure = DRAWINGS[name]()
    scale = shown_scale(figure)
    small = {
        (text.get_text(), round(text.get_fontsize() * scale, 1))
        for text in drawn_texts(figure)
        if text.get_fontsize() * scale < MIN_FONT_PT
    }
    assert not small, f"{name} is shown at {scale:.2f} of its size; text under {MIN_FONT_PT} pt: {small}"


def used_cmaps(figure) -> list:
    mappables = [item for ax in figure.axes for item in [*ax.images, *ax.collections]]
    return [item.get_cmap() for item in mappables if item.get_array() is not None]


@pytest.mark.parametrize("name", DRAWINGS)
def test_colour_maps_read_in_grayscale(name, course_style):
    from fmnist_utils.plots import lightness_is_monotone

    for cmap in used_cmaps(DRAWINGS[name]()):
        assert cmap.name.removesuffix("_r") not in UNREADABLE_CMAPS, f"{name} uses {cmap.name}"
        assert lightness_is_monotone(cmap), f"{name}: {cmap.name} is not steadily lighter or darker"


def luminance(colour) -> float:
    from matplotlib.colors import to_rgb

    rgb = np.asarray(to_rgb(colour))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def style_without_colour(handle) -> tuple:
    """What tells a legend entry apart in grayscale, besides its lightness."""
    if hasattr(handle, "get_linestyle") and hasattr(handle, "get_marker"):
        return ("line", handle.get_linestyle(), handle.get_marker(), handle.get_fillstyle())
    return ("patch", handle.get_hatch())


def handle_colour(handle):
    return handle.get_color() if hasattr(handle, "get_marker") else handle.get_facecolor()


@pytest.mark.parametrize("name", DRAWINGS)
def test_series_differ_by_more_than_colour(name, course_style):
    figure = DRAWINGS[name]()
    for ax in figure.axes:
        series = [line for line in ax.lines if not line.get_label().startswith("_")]
        styles = [style_without_colour(line) for line in series]
        assert len(set(styles)) == len(styles), f"{name}: curves told apart by colour only: {styles}"
        if ax.get_legend() is None:
            continue
        handles = ax.get_legend().legend_handles
        for first, second in [(a, b) for i, a in enumerate(handles) for b in handles[i + 1 :]]:
            same_style = style_without_colour(first) == style_without_colour(second)
            step = abs(luminance(handle_colour(first)) - luminance(handle_colour(second)))
            assert not same_style or step >= MIN_LUMINANCE_STEP, (
                f"{name}: legend entries {first.get_label()!r} and {second.get_label()!r} "
                f"differ only by colour (luminance step {step:.2f})"
            )


def test_figures_are_no_wider_than_the_display():
    from fmnist_utils.plots import DISPLAY_WIDTH_IN

    for name, draw in DRAWINGS.items():
        assert draw().get_figwidth() <= DISPLAY_WIDTH_IN, name
        plt.close("all")


def test_class_matrix_refuses_maps_that_do_not_read_in_grayscale():
    for cmap in ("jet", "RdYlGn", "RdBu_r", "rainbow_r"):
        with pytest.raises(ValueError, match=rf"cmap '{cmap}' does not read in grayscale.*'Blues'"):
            plot_class_matrix(np.eye(10), cmap=cmap)
    plot_class_matrix(np.eye(10), cmap="viridis")  # Steadily lighter: accepted.


def test_learning_curves_zoom_in_without_hiding_points():
    """Notebook 05 zoomed its accuracy panel in and cut epoch 1 off: points outside stay visible."""
    history = {"accuracy": [0.60, 0.90, 0.92, 0.93], "val_accuracy": [0.70, 0.89, 0.91, 0.95]}
    figure = plot_learning_curves(history, metrics=("accuracy",), ylims={"accuracy": (0.85, 0.94)})
    (ax,) = figure.axes
    assert ax.get_ylim() == (0.85, 0.94)
    edge = [
        (line.get_marker(), x, y)
        for line in ax.lines
        if line.get_label() == "_outside" and not line.get_clip_on()
        for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
    ]
    # Each point outside the limits is marked at the edge it crosses, at its epoch.
    assert sorted(edge) == [("^", 4, 0.94), ("v", 1, 0.85), ("v", 1, 0.85)]
    assert "3 points outside" in ax.get_title()
    # The curves themselves are unchanged.
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), history["accuracy"])
    # All inside: nothing marked, and the title still says the panel is zoomed in.
    figure = plot_learning_curves(history, metrics=("accuracy",), ylims={"accuracy": (0.5, None)})
    assert figure.axes[0].get_title() == "accuracy (zoomed in)"
    assert not [line for line in figure.axes[0].lines if line.get_label() == "_outside"]


def test_learning_curves_bad_ylims():
    with pytest.raises(ValueError, match=r"ylims names 'loss', which is not drawn"):
        plot_learning_curves(HISTORY, metrics=("accuracy",), ylims={"loss": (0, 1)})
    with pytest.raises(ValueError, match=r"low < high, got \(0.9, 0.8\)"):
        plot_learning_curves(HISTORY, ylims={"accuracy": (0.9, 0.8)})


def test_learning_curves_training_and_validation_differ_in_line_and_marker():
    figure = plot_learning_curves(TWO_RUNS, metrics=("loss",))
    styles = [
        (line.get_linestyle(), line.get_marker(), line.get_fillstyle()) for line in figure.axes[0].lines
    ]
    assert styles == [("-", "o", "full"), ("--", "o", "none"), ("-", "s", "full"), ("--", "s", "none")]
    assert figure.axes[0].get_ylabel() == "loss (cross-entropy)"
    assert plot_learning_curves(HISTORY).axes[1].get_ylabel() == "accuracy (fraction)"
