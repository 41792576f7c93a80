"""Plot helpers return figures with the expected axes and content."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
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


def test_plot_image_draws_into_given_axes(batch):
    figure, ax = plt.subplots()
    assert plot_image(batch[0][0], title="Bag", ax=ax) is figure
    assert ax.get_title() == "Bag"
    assert ax.images[0].get_array().shape == (28, 28)


def test_plot_image_accepts_channel_axis(batch):
    figure = plot_image(batch[0][0][..., None])
    assert len(figure.axes) == 1


def test_plot_image_grid_shape_and_blank_axes(batch):
    figure = plot_image_grid(batch[0][:7], [str(i) for i in range(7)], columns=4)
    assert len(figure.axes) == 8
    assert [len(ax.images) for ax in figure.axes] == [1] * 7 + [0]
    assert figure.axes[6].get_title() == "6"


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
    # Column c shows images of class c.
    for column in range(10):
        for row in range(3):
            shown = figure.axes[row * 10 + column].images[0].get_array()
            assert any(np.array_equal(shown, image) for image in images[labels == column])


def test_examples_per_class_needs_enough_examples(batch):
    images, labels = batch
    with pytest.raises(ValueError, match=r"class 0 \(T-shirt/top\) has 5 examples, 6 requested"):
        plot_examples_per_class(images, labels, examples_per_class=6)


def test_class_distribution_bars_match_counts():
    train_labels = np.repeat(np.arange(10), np.arange(1, 11))
    test_labels = np.arange(10)
    figure = plot_class_distribution(train_labels, test_labels)
    ax = figure.axes[0]
    heights = [patch.get_height() for patch in ax.patches if patch.get_width() > 0]
    assert heights[:10] == list(range(1, 11))  # Training bars first...
    assert heights[10:20] == [1] * 10  # ...then the test bars.
    assert [label.get_text() for label in ax.get_xticklabels()] == list(CLASS_NAMES)


def test_class_distribution_legend_covers_no_bar():
    """Balanced classes make every bar as tall as the axes: a legend inside hid the last ones."""
    figure = plot_class_distribution(np.repeat(np.arange(10), 6), np.arange(10))
    ax = figure.axes[0]
    figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    bars = [patch.get_window_extent() for patch in ax.patches if patch.get_width() > 0]
    assert len(bars) == 20
    assert not [bar for bar in bars if bar.overlaps(legend)]


def test_class_distribution_draws_into_given_axes():
    figure, ax = plt.subplots()
    assert plot_class_distribution(np.arange(10), ax=ax) is figure


def test_class_matrix_annotates_every_cell():
    matrix = np.arange(100).reshape(10, 10) / 100
    figure = plot_class_matrix(matrix, title="similarity", fmt=".1f")
    ax = figure.axes[0]
    assert ax.get_title() == "similarity"
    texts = [text.get_text() for text in ax.texts]
    assert len(texts) == 100
    assert texts[11] == "0.1"
    assert [label.get_text() for label in ax.get_yticklabels()] == list(CLASS_NAMES)


def test_class_matrix_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"matrix must have shape \(10, 10\)"):
        plot_class_matrix(np.zeros((3, 3)))


def test_filters_one_panel_per_filter_centred_on_zero():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 1, 12))
    figure = plot_filters(kernel, columns=6)
    drawn = [ax for ax in figure.axes if ax.images]
    assert len(drawn) == 12
    np.testing.assert_array_equal(drawn[5].images[0].get_array(), kernel[:, :, 0, 5])
    low, high = drawn[0].images[0].get_clim()
    assert low == -high


def test_filters_rejects_multichannel_kernel():
    with pytest.raises(ValueError, match=r"kernel must have shape \(height, width, 1, filters\)"):
        plot_filters(np.zeros((3, 3, 32, 64)))


def test_feature_maps_limit_and_errors():
    maps = np.random.default_rng(0).random((14, 14, 32))
    figure = plot_feature_maps(maps, max_maps=8, columns=4)
    drawn = [ax for ax in figure.axes if ax.images]
    assert len(drawn) == 8
    np.testing.assert_array_equal(drawn[3].images[0].get_array(), maps[:, :, 3])
    with pytest.raises(ValueError, match=r"maps must have shape \(height, width, channels\)"):
        plot_feature_maps(maps[None])


def test_learning_curves_one_history():
    history = {
        "loss": [1.0, 0.5, 0.3],
        "val_loss": [1.1, 0.7, 0.6],
        "accuracy": [0.5, 0.7, 0.8],
        "val_accuracy": [0.4, 0.6, 0.7],
    }
    figure = plot_learning_curves(history)
    loss_ax, accuracy_ax = figure.axes
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy"]
    assert len(loss_ax.lines) == 2
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), [1.1, 0.7, 0.6])
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), [1, 2, 3])  # Epochs count from 1.
    assert [text.get_text() for text in accuracy_ax.get_legend().get_texts()] == ["training", "validation"]


def test_learning_curves_compare_runs():
    runs = {
        "dropout": {"loss": [1.0, 0.6], "val_loss": [0.9, 0.7]},
        "no dropout": {"loss": [0.9, 0.3, 0.1], "val_loss": [0.8, 0.7, 0.9]},
    }
    figure = plot_learning_curves(runs, metrics=("loss",))
    ax = figure.axes[0]
    assert len(ax.lines) == 4
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == [
        "dropout, training",
        "dropout, validation",
        "no dropout, training",
        "no dropout, validation",
    ]
    assert ax.lines[0].get_color() != ax.lines[2].get_color()


def test_learning_curves_missing_metric():
    with pytest.raises(ValueError, match=r"history has no 'accuracy'; it has \['loss'\]"):
        plot_learning_curves({"loss": [1.0]})


def test_per_class_accuracy_sorted_worst_first():
    accuracies = np.linspace(0.5, 0.95, 10)[::-1]  # Class 9 is the worst.
    figure = plot_per_class_accuracy(accuracies)
    ax = figure.axes[0]
    assert ax.get_yticklabels()[0].get_text() == CLASS_NAMES[9]
    assert [round(patch.get_width(), 3) for patch in ax.patches][:2] == [0.5, 0.55]
    with pytest.raises(ValueError, match=r"one value per class"):
        plot_per_class_accuracy(np.ones(3))


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
    bar_heights = [patch.get_height() for patch in reliability_ax.patches]
    np.testing.assert_allclose(bar_heights, bins.accuracy[bins.counts > 0])
    assert sum(patch.get_height() for patch in hist_ax.patches) == pytest.approx(500)


def test_grad_cam_overlay():
    figure = plot_grad_cam(np.zeros((28, 28), np.uint8), np.ones((28, 28)) / 2, title="Bag")
    ax = figure.axes[0]
    assert len(ax.images) == 2
    assert ax.get_title() == "Bag"
    with pytest.raises(ValueError, match=r"heatmap must have shape \(28, 28\)"):
        plot_grad_cam(np.zeros((28, 28), np.uint8), np.ones((7, 7)))
