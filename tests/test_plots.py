"""Plot helpers return figures with the expected axes and content."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from fmnist_utils.data import CLASS_NAMES
from fmnist_utils.plots import (
    plot_class_distribution,
    plot_class_matrix,
    plot_examples_per_class,
    plot_feature_maps,
    plot_filters,
    plot_image,
    plot_image_grid,
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
