"""Static plots shared by the notebooks.

Every helper takes ``ax=`` (or ``axes=`` for grids) to draw into an existing figure,
creates one otherwise, and returns the :class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fmnist_utils.data import CLASS_NAMES, validate_images, validate_labels

__all__ = ["plot_examples_per_class", "plot_image", "plot_image_grid"]


def plot_image(image: np.ndarray, *, title: str | None = None, ax: Axes | None = None) -> Figure:
    """Draw one 28x28 image (dark pixels = garment), without ticks.

    Args:
        image: A ``uint8`` image, ``(28, 28)`` or ``(28, 28, 1)``.
        title: Title above the image.
        ax: Axes to draw into; a new figure when ``None``.

    Returns:
        The figure drawn into.
    """
    image = np.asarray(image)
    validate_images(image[np.newaxis], name="image")
    if ax is None:
        _, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(image.reshape(28, 28), cmap="gray_r", vmin=0, vmax=255)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title is not None:
        ax.set_title(title, fontsize=9)
    return ax.figure


def plot_image_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    columns: int = 10,
    axes: Sequence[Axes] | np.ndarray | None = None,
) -> Figure:
    """Draw images in a grid, each with an optional title.

    Args:
        images: ``uint8`` images, ``(N, 28, 28)`` or ``(N, 28, 28, 1)``.
        titles: One title per image.
        columns: Images per row when a new figure is made.
        axes: At least ``N`` axes to draw into; a new figure when ``None``.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: Bad images, a wrong number of titles or too few axes.
    """
    validate_images(images)
    count = len(images)
    if count == 0:
        raise ValueError("images is empty: there is nothing to plot.")
    if titles is not None and len(titles) != count:
        raise ValueError(f"got {count} images but {len(titles)} titles.")
    if axes is None:
        columns = min(columns, count)
        rows = -(-count // columns)
        _, grid = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.5 * rows), squeeze=False)
        axes = grid.ravel()
    else:
        axes = np.asarray(axes, dtype=object).ravel()
        if len(axes) < count:
            raise ValueError(f"got {count} images but only {len(axes)} axes.")
    for index, ax in enumerate(axes):
        if index < count:
            plot_image(images[index], title=None if titles is None else titles[index], ax=ax)
        else:
            ax.axis("off")
    figure = axes[0].figure
    figure.tight_layout()
    return figure


def plot_examples_per_class(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    examples_per_class: int = 1,
    class_names: Sequence[str] = CLASS_NAMES,
    seed: int | None = None,
    axes: Sequence[Axes] | np.ndarray | None = None,
) -> Figure:
    """Draw a labelled grid: one row per example, one column per class.

    Taught in notebook 00.

    Args:
        images: ``uint8`` images.
        labels: Their integer labels.
        examples_per_class: Rows of the grid.
        class_names: Column titles, in label order.
        seed: Pick random examples with this seed; ``None`` takes the first ones.
        axes: ``examples_per_class * len(class_names)`` axes, row by row; a new
            figure when ``None``.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: Bad inputs, or a class with too few examples.
    """
    validate_images(images)
    num_classes = len(class_names)
    validate_labels(labels, num_classes=num_classes)
    if len(images) != len(labels):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels.")
    if examples_per_class < 1:
        raise ValueError(f"examples_per_class must be at least 1, got {examples_per_class}.")
    rng = None if seed is None else np.random.default_rng(seed)
    chosen = np.empty((examples_per_class, num_classes), dtype=np.int64)
    for label in range(num_classes):
        indices = np.flatnonzero(labels == label)
        if len(indices) < examples_per_class:
            raise ValueError(
                f"class {label} ({class_names[label]}) has {len(indices)} examples, "
                f"{examples_per_class} requested."
            )
        if rng is not None:
            indices = rng.choice(indices, size=examples_per_class, replace=False)
        chosen[:, label] = indices[:examples_per_class]
    titles = [
        class_names[label] if row == 0 else ""
        for row in range(examples_per_class)
        for label in range(num_classes)
    ]
    return plot_image_grid(images[chosen.ravel()], titles, columns=num_classes, axes=axes)
