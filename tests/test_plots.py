"""Plot helpers return figures with the expected axes and content."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from fmnist_utils.data import CLASS_NAMES
from fmnist_utils.plots import plot_examples_per_class, plot_image, plot_image_grid


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
