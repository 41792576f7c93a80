"""Static plots shared by the notebooks.

Every helper takes ``ax=`` (or ``axes=`` for grids) to draw into an existing figure,
creates one otherwise, and returns the :class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fmnist_utils.data import CLASS_NAMES, validate_images, validate_labels

if TYPE_CHECKING:
    from fmnist_utils.evaluation import CalibrationBins

__all__ = [
    "plot_calibration",
    "plot_class_distribution",
    "plot_class_matrix",
    "plot_examples_per_class",
    "plot_feature_maps",
    "plot_filters",
    "plot_grad_cam",
    "plot_image",
    "plot_image_grid",
    "plot_learning_curves",
    "plot_per_class_accuracy",
]


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


def _grid_axes(
    count: int,
    columns: int,
    axes: Sequence[Axes] | np.ndarray | None,
    *,
    what: str,
    cell_size: tuple[float, float],
) -> np.ndarray:
    """Return ``count`` or more axes: the ones given (checked), or a new grid of them."""
    if axes is None:
        columns = min(columns, count)
        rows = -(-count // columns)
        width, height = cell_size
        _, grid = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
        return grid.ravel()
    axes = np.asarray(axes, dtype=object).ravel()
    if len(axes) < count:
        raise ValueError(f"got {count} {what} but only {len(axes)} axes.")
    return axes


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
    axes = _grid_axes(count, columns, axes, what="images", cell_size=(1.3, 1.5))
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


def plot_class_distribution(
    train_labels: np.ndarray,
    test_labels: np.ndarray | None = None,
    *,
    class_names: Sequence[str] = CLASS_NAMES,
    ax: Axes | None = None,
) -> Figure:
    """Bar chart of the number of examples per class, training and test side by side.

    Taught in notebook 01.

    Args:
        train_labels: Integer labels of the training set.
        test_labels: Integer labels of the test set, if any.
        class_names: Class names, in label order.
        ax: Axes to draw into; a new figure when ``None``.

    Returns:
        The figure drawn into.
    """
    num_classes = len(class_names)
    frames = []
    for split, labels in (("train", train_labels), ("test", test_labels)):
        if labels is None:
            continue
        validate_labels(labels, num_classes=num_classes, name=f"{split}_labels")
        counts = np.bincount(labels, minlength=num_classes)
        frames.append(pd.DataFrame({"class": list(class_names), "examples": counts, "split": split}))
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5))
    sns.barplot(data=pd.concat(frames), x="class", y="examples", hue="split", ax=ax)
    if ax.get_legend() is not None:  # Beside the bars: inside, it covers the last classes' bars.
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel("")
    ax.set_ylabel("examples")
    ax.figure.tight_layout()
    return ax.figure


def plot_class_matrix(
    matrix: np.ndarray,
    *,
    class_names: Sequence[str] = CLASS_NAMES,
    title: str | None = None,
    fmt: str = ".2f",
    cmap: str = "Blues",
    xlabel: str = "",
    ylabel: str = "",
    ax: Axes | None = None,
) -> Figure:
    """Annotated heatmap of a class-by-class matrix (similarities, a confusion matrix).

    Taught in notebook 01 (similarity of the class means); notebook 04 draws its
    confusion matrix with it.

    Args:
        matrix: A square array, one row and column per class.
        class_names: Row and column labels.
        title: Title of the plot.
        fmt: Number format of the annotations.
        cmap: Colour map.
        xlabel: Label of the columns.
        ylabel: Label of the rows.
        ax: Axes to draw into; a new figure when ``None``.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: The matrix is not square with one row per class.
    """
    matrix = np.asarray(matrix)
    size = len(class_names)
    if matrix.shape != (size, size):
        raise ValueError(
            f"matrix must have shape ({size}, {size}), one row and column per class, got {matrix.shape}."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 6.5))
    sns.heatmap(
        matrix,
        annot=True,
        fmt=fmt,
        cmap=cmap,
        square=True,
        cbar=False,
        annot_kws={"fontsize": 8},
        xticklabels=class_names,
        yticklabels=class_names,
        ax=ax,
    )
    ax.tick_params(axis="x", labelrotation=45)
    ax.tick_params(axis="y", labelrotation=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    ax.figure.tight_layout()
    return ax.figure


def _plot_array_grid(
    arrays: np.ndarray,
    *,
    cmap: str,
    symmetric: bool,
    columns: int,
    axes: Sequence[Axes] | np.ndarray | None,
) -> Figure:
    """Draw 2-D float arrays in a grid, each titled with its index."""
    count = len(arrays)
    axes = _grid_axes(count, columns, axes, what="maps", cell_size=(1.2, 1.35))
    for index, ax in enumerate(axes):
        ax.axis("off")
        if index >= count:
            continue
        array = arrays[index]
        if symmetric:
            limit = float(np.abs(array).max()) or 1.0
            ax.imshow(array, cmap=cmap, vmin=-limit, vmax=limit)
        else:
            ax.imshow(array, cmap=cmap)
        ax.set_title(str(index), fontsize=8)
    figure = axes[0].figure
    figure.tight_layout()
    return figure


def plot_filters(
    kernel: np.ndarray, *, columns: int = 8, axes: Sequence[Axes] | np.ndarray | None = None
) -> Figure:
    """Draw the filters of a convolution layer with one input channel.

    Taught in notebook 02. Red weights respond to ink, blue ones to background; each
    filter has its own colour scale, centred on zero.

    Args:
        kernel: The layer's kernel, ``(height, width, 1, filters)`` (``layer.get_weights()[0]``).
        columns: Filters per row when a new figure is made.
        axes: Axes to draw into, one per filter; a new figure when ``None``.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: The kernel is not 4-D with one input channel.
    """
    kernel = np.asarray(kernel)
    if kernel.ndim != 4 or kernel.shape[2] != 1:
        raise ValueError(
            "kernel must have shape (height, width, 1, filters), the first convolution's, "
            f"got {kernel.shape}."
        )
    filters = np.moveaxis(kernel[:, :, 0, :], -1, 0)
    return _plot_array_grid(filters, cmap="RdBu_r", symmetric=True, columns=columns, axes=axes)


def plot_feature_maps(
    maps: np.ndarray,
    *,
    max_maps: int | None = None,
    columns: int = 8,
    axes: Sequence[Axes] | np.ndarray | None = None,
) -> Figure:
    """Draw the channels of one layer's output for one image (see ``models.feature_maps``).

    Taught in notebook 02. Bright pixels are where a filter responds strongly.

    Args:
        maps: ``(height, width, channels)``.
        max_maps: Draw only the first channels.
        columns: Maps per row when a new figure is made.
        axes: Axes to draw into; a new figure when ``None``.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``maps`` is not 3-D.
    """
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (height, width, channels) for one image, got {maps.shape}.")
    channels = np.moveaxis(maps, -1, 0)[:max_maps]
    return _plot_array_grid(channels, cmap="viridis", symmetric=False, columns=columns, axes=axes)


def plot_learning_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]] | Mapping[str, Sequence[float]],
    *,
    metrics: Sequence[str] = ("loss", "accuracy"),
    axes: Sequence[Axes] | np.ndarray | None = None,
) -> Figure:
    """Learning curves: each metric per epoch, training (solid) against validation (dashed).

    Taught in notebook 03.

    Args:
        histories: One ``history.history`` dict, or several keyed by a label (one colour
            each), to compare runs.
        metrics: Metrics to draw, one panel each; ``val_<metric>`` is drawn with each.
        axes: One axes per metric; a new figure when ``None``.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: A history without one of the metrics, or too few axes.
    """
    if histories and all(isinstance(value, Mapping) for value in histories.values()):
        runs = dict(histories)
    else:
        runs = {"": histories}
    for label, history in runs.items():
        for metric in metrics:
            if metric not in history:
                name = f"history {label!r}" if label else "history"
                raise ValueError(f"{name} has no {metric!r}; it has {sorted(history)}.")
    axes = _grid_axes(len(metrics), len(metrics), axes, what="metrics", cell_size=(5.0, 3.6))
    palette = sns.color_palette(n_colors=max(len(runs), 1))
    for ax, metric in zip(axes, metrics, strict=False):
        for colour, (label, history) in zip(palette, runs.items(), strict=False):
            epochs = np.arange(1, len(history[metric]) + 1)
            prefix = f"{label}, " if label else ""
            ax.plot(epochs, history[metric], color=colour, label=f"{prefix}training")
            if f"val_{metric}" in history:
                ax.plot(
                    epochs,
                    history[f"val_{metric}"],
                    color=colour,
                    linestyle="--",
                    label=f"{prefix}validation",
                )
        ax.set(xlabel="epoch", ylabel=metric, title=metric)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8)
    figure = axes[0].figure
    figure.tight_layout()
    return figure


def plot_per_class_accuracy(
    accuracies: np.ndarray, *, class_names: Sequence[str] = CLASS_NAMES, ax: Axes | None = None
) -> Figure:
    """Horizontal bar chart of the accuracy of each class, worst class first.

    Taught in notebook 04.

    Raises:
        ValueError: Not one accuracy per class.
    """
    accuracies = np.asarray(accuracies, dtype=float)
    if accuracies.shape != (len(class_names),):
        raise ValueError(
            f"accuracies must have one value per class ({len(class_names)}), got {accuracies.shape}."
        )
    order = np.argsort(accuracies)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    ax.barh([class_names[index] for index in order], accuracies[order], color=sns.color_palette()[0])
    for position, index in enumerate(order):
        ax.text(accuracies[index], position, f" {accuracies[index]:.1%}", va="center", fontsize=8)
    ax.set(xlim=(0, 1.1), xlabel="accuracy", title="Accuracy per class")
    ax.figure.tight_layout()
    return ax.figure


def plot_calibration(
    bins: CalibrationBins, confidence: np.ndarray, correct: np.ndarray, *, axes: Sequence[Axes] | None = None
) -> Figure:
    """Confidence histogram (right and wrong predictions) and reliability diagram.

    Taught in notebook 04.

    Args:
        bins: From :func:`fmnist_utils.evaluation.calibration_bins`.
        confidence: Each prediction's largest probability.
        correct: Whether each prediction is right.
        axes: Two axes; a new figure when ``None``.

    Returns:
        The figure drawn into.
    """
    confidence = np.asarray(confidence)
    correct = np.asarray(correct, dtype=bool)
    if confidence.shape != correct.shape:
        raise ValueError(
            f"confidence and correct must have the same shape, got {confidence.shape} and {correct.shape}."
        )
    axes = _grid_axes(2, 2, axes, what="panels", cell_size=(5.0, 4.0))
    hist_ax, reliability_ax = axes[0], axes[1]
    hist_ax.hist(
        [confidence[correct], confidence[~correct]], bins=bins.edges, stacked=True, label=["right", "wrong"]
    )
    hist_ax.set(
        yscale="log", xlabel="confidence (largest probability)", ylabel="predictions", title="Confidence"
    )
    hist_ax.legend()
    centres = (bins.edges[:-1] + bins.edges[1:]) / 2
    filled = bins.counts > 0
    width = bins.edges[1] - bins.edges[0]
    reliability_ax.bar(centres[filled], bins.accuracy[filled], width=width * 0.9, label="accuracy in the bin")
    reliability_ax.plot([0, 1], [0, 1], color="gray", linestyle="--", label="perfect calibration")
    reliability_ax.plot(
        centres[filled], bins.confidence[filled], "o", color="black", markersize=3, label="mean confidence"
    )
    reliability_ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="confidence",
        ylabel="accuracy",
        title=f"Reliability (ECE = {bins.expected_calibration_error:.3f})",
    )
    reliability_ax.legend(fontsize=8, loc="upper left")
    figure = axes[0].figure
    figure.tight_layout()
    return figure


def plot_grad_cam(
    image: np.ndarray, heatmap: np.ndarray, *, title: str | None = None, ax: Axes | None = None
) -> Figure:
    """Draw a Grad-CAM heatmap over its image.

    Taught in notebook 04.

    Args:
        image: The ``uint8`` image, ``(28, 28)`` or ``(28, 28, 1)``.
        heatmap: ``(28, 28)`` values in [0, 1] from :func:`fmnist_utils.evaluation.grad_cam`.
        title: Title above the plot.
        ax: Axes to draw into; a new figure when ``None``.

    Returns:
        The figure drawn into.
    """
    heatmap = np.asarray(heatmap)
    if heatmap.shape != (28, 28):
        raise ValueError(f"heatmap must have shape (28, 28), got {heatmap.shape}.")
    figure = plot_image(image, title=title, ax=ax)
    ax = ax if ax is not None else figure.axes[0]
    ax.imshow(heatmap, cmap="jet", alpha=0.45, vmin=0, vmax=1)
    return figure
