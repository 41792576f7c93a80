"""Static plots shared by the notebooks.

Every helper takes ``ax=`` (or ``axes=`` for grids) to draw into an existing figure,
creates one otherwise, and returns the :class:`matplotlib.figure.Figure`.

Figures every student can read (``tests/test_plots.py`` checks each rule on every helper):

- **Width.** JupyterLab shows an inline figure at most about 900 px wide (a laptop-sized
  window); :func:`fmnist_utils.environment.setup` draws at 100 dpi, so a figure wider than
  :data:`DISPLAY_WIDTH_IN` inches is scaled down, and its text with it. New figures are at
  most that wide: grids shrink their cells rather than grow.
- **Text.** At least :data:`MIN_FONT_PT` points *as shown*: the font size times
  ``min(1, DISPLAY_WIDTH_IN / shown width)``, the shown width being the saved PNG's.
- **Colour.** Colour maps get darker or lighter from end to end (``gray_r``, ``Blues``,
  ``viridis``, ``cividis``, ``inferno``), so they read in grayscale and with colour-blind
  eyes; never ``jet``, rainbows or red-green maps. Category colours come from seaborn's
  ``"colorblind"`` palette, and two series in one panel also differ by line style,
  marker or hatch, never by colour alone.
- **Labels.** Every panel has a title (or the figure one), and axes carry labels with
  their unit where there is one; image panels carry a title instead of axis labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure

from fmnist_utils.data import CLASS_NAMES, validate_images, validate_labels

if TYPE_CHECKING:
    from fmnist_utils.evaluation import CalibrationBins

__all__ = [
    "DISPLAY_WIDTH_IN",
    "MIN_FONT_PT",
    "PALETTE",
    "lightness_is_monotone",
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

#: Widest figure, in inches, that JupyterLab shows unscaled: about 900 px at setup()'s 100 dpi.
DISPLAY_WIDTH_IN = 9.0
#: Smallest font size, in points, of any text as shown (after any scaling down).
MIN_FONT_PT = 8.0
#: Category colours: seaborn's palette for colour-blind readers (Okabe-Ito-like).
PALETTE = "colorblind"
#: Colour maps that colour-blind readers or a grayscale print cannot read; refused by name.
_UNREADABLE_CMAPS = frozenset({"jet", "rainbow", "gist_rainbow", "hsv", "nipy_spectral", "gist_ncar"})
#: Height, in inches, a figure title takes above a grid (about two lines of 12 pt text).
_FIGURE_TITLE_ROOM_IN = 0.4
#: One marker per run in a comparison of runs: the runs differ by more than their colour.
_RUN_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: Axis labels of the usual metrics, with their unit.
_METRIC_LABELS = {"accuracy": "accuracy (fraction)", "loss": "loss (cross-entropy)"}


def _luminance(colours: np.ndarray) -> np.ndarray:
    """Relative luminance (0 black, 1 white) of sRGB colours: what a grayscale copy shows."""
    rgb = np.asarray(colours, dtype=float)[..., :3]
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def lightness_is_monotone(cmap: str | Colormap) -> bool:
    """Whether a colour map only gets lighter, or only darker, from one end to the other.

    Such a map reads in grayscale and for colour-blind readers: ``viridis``, ``Blues``,
    ``gray_r`` do; ``jet``, ``RdBu`` or ``RdYlGn`` do not.
    """
    cmap = plt.get_cmap(cmap)
    steps = np.diff(_luminance(cmap(np.linspace(0, 1, 256))))
    return bool(np.all(steps >= -1e-3) or np.all(steps <= 1e-3))


def _check_cmap(cmap: str | Colormap) -> None:
    """Refuse a colour map that hides information from colour-blind readers or in grayscale."""
    name = cmap if isinstance(cmap, str) else cmap.name
    if name.removesuffix("_r") in _UNREADABLE_CMAPS or not lightness_is_monotone(cmap):
        raise ValueError(
            f"cmap {name!r} does not read in grayscale or for colour-blind readers (its colours do "
            "not get steadily lighter); use a sequential map such as 'Blues', 'viridis' or 'cividis'."
        )


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
    title_room: float = 0.0,
    figure_title: bool = False,
) -> np.ndarray:
    """Return ``count`` or more axes: the ones given (checked), or a new grid of them.

    A new grid is at most :data:`DISPLAY_WIDTH_IN` wide: the cells (``cell_size`` inches)
    shrink to fit, while the room above each for its title (``title_room`` inches) and
    above the grid for the figure's title keep their size, as the text does.
    """
    if axes is None:
        columns = min(columns, count)
        rows = -(-count // columns)
        width, height = cell_size
        shrink = min(1.0, DISPLAY_WIDTH_IN / (width * columns))  # Smaller cells, not a wider figure.
        extra = _FIGURE_TITLE_ROOM_IN if figure_title else 0.0
        figsize = (width * shrink * columns, (height * shrink + title_room) * rows + extra)
        _, grid = plt.subplots(rows, columns, figsize=figsize, squeeze=False)
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
    title: str | None = None,
    axes: Sequence[Axes] | np.ndarray | None = None,
) -> Figure:
    """Draw images in a grid, each with an optional title.

    A new figure is at most :data:`DISPLAY_WIDTH_IN` wide: more columns make smaller images.

    Args:
        images: ``uint8`` images, ``(N, 28, 28)`` or ``(N, 28, 28, 1)``.
        titles: One title per image.
        columns: Images per row when a new figure is made.
        title: Title of the whole figure.
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
    axes = _grid_axes(
        count,
        columns,
        axes,
        what="images",
        cell_size=(1.3, 1.3),
        title_room=0.2,
        figure_title=title is not None,
    )
    for index, ax in enumerate(axes):
        if index < count:
            plot_image(images[index], title=None if titles is None else titles[index], ax=ax)
        else:
            ax.axis("off")
    return _finish_grid(axes[0].figure, title)


def _finish_grid(figure: Figure, title: str | None) -> Figure:
    """Give a grid figure its title, if any, and lay it out."""
    if title is not None:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_examples_per_class(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    examples_per_class: int = 1,
    class_names: Sequence[str] = CLASS_NAMES,
    seed: int | None = None,
    title: str | None = "Examples of each class",
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
        title: Title of the whole figure (``None``: none).
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
    return plot_image_grid(images[chosen.ravel()], titles, columns=num_classes, title=title, axes=axes)


def plot_class_distribution(
    train_labels: np.ndarray,
    test_labels: np.ndarray | None = None,
    *,
    class_names: Sequence[str] = CLASS_NAMES,
    ax: Axes | None = None,
) -> Figure:
    """Bar chart of the number of examples per class, training and test side by side.

    Taught in notebook 01. The two splits' colours differ in lightness too (grayscale).

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
    sns.barplot(data=pd.concat(frames), x="class", y="examples", hue="split", palette=PALETTE, ax=ax)
    if ax.get_legend() is not None:  # Beside the bars: inside, it covers the last classes' bars.
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.tick_params(axis="x", labelrotation=45)
    ax.set(xlabel="class", ylabel="count (images)", title="Examples per class")
    ax.figure.tight_layout()
    return ax.figure


def plot_class_matrix(
    matrix: np.ndarray,
    *,
    class_names: Sequence[str] = CLASS_NAMES,
    title: str | None = None,
    fmt: str = ".2f",
    cmap: str = "Blues",
    xlabel: str = "class",
    ylabel: str = "class",
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
        cmap: Colour map; one that gets steadily lighter or darker (see
            :func:`lightness_is_monotone`), so the shades read in grayscale.
        xlabel: Label of the columns.
        ylabel: Label of the rows.
        ax: Axes to draw into; a new figure when ``None``.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: The matrix is not square with one row per class, or ``cmap`` does not
            read in grayscale.
    """
    _check_cmap(cmap)
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
    title: str | None,
    axes: Sequence[Axes] | np.ndarray | None,
) -> Figure:
    """Draw 2-D float arrays in a grid, each titled with its index."""
    count = len(arrays)
    axes = _grid_axes(
        count,
        columns,
        axes,
        what="maps",
        cell_size=(1.2, 1.2),
        title_room=0.15,
        figure_title=title is not None,
    )
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
        ax.set_title(str(index), fontsize=MIN_FONT_PT)
    return _finish_grid(axes[0].figure, title)


def plot_filters(
    kernel: np.ndarray,
    *,
    columns: int = 8,
    title: str | None = "Filters (own scale each): bright = positive weight, dark = negative",
    axes: Sequence[Axes] | np.ndarray | None = None,
) -> Figure:
    """Draw the filters of a convolution layer with one input channel.

    Taught in notebook 02. Bright weights respond to the garment (high pixel values), dark
    ones to the background; each filter has its own scale, centred on zero (the middle
    shade). The ``cividis`` map gets steadily lighter, so this reads in grayscale too.

    Args:
        kernel: The layer's kernel, ``(height, width, 1, filters)`` (``layer.get_weights()[0]``).
        columns: Filters per row when a new figure is made.
        title: Title of the whole figure; it says how to read the shades.
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
    return _plot_array_grid(filters, cmap="cividis", symmetric=True, columns=columns, title=title, axes=axes)


def plot_feature_maps(
    maps: np.ndarray,
    *,
    max_maps: int | None = None,
    columns: int = 8,
    title: str | None = "Feature maps: bright = strong response",
    axes: Sequence[Axes] | np.ndarray | None = None,
) -> Figure:
    """Draw the channels of one layer's output for one image (see ``models.feature_maps``).

    Taught in notebook 02. Bright pixels are where a filter responds strongly.

    Args:
        maps: ``(height, width, channels)``.
        max_maps: Draw only the first channels.
        columns: Maps per row when a new figure is made.
        title: Title of the whole figure.
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
    return _plot_array_grid(
        channels, cmap="viridis", symmetric=False, columns=columns, title=title, axes=axes
    )


def plot_learning_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]] | Mapping[str, Sequence[float]],
    *,
    metrics: Sequence[str] = ("loss", "accuracy"),
    ylims: Mapping[str, tuple[float | None, float | None]] | None = None,
    axes: Sequence[Axes] | np.ndarray | None = None,
) -> Figure:
    """Learning curves: each metric per epoch, training against validation.

    Taught in notebook 03. Training is a solid line with filled markers, validation a
    dashed line with open ones; each run has its own colour *and* marker shape, so the
    curves read in grayscale too.

    Args:
        histories: One ``history.history`` dict, or several keyed by a label, to compare runs.
        metrics: Metrics to draw, one panel each; ``val_<metric>`` is drawn with each.
        ylims: ``{metric: (low, high)}`` to zoom a panel in (``None``: no limit on that
            side). Points outside are not hidden: a triangle at the edge marks each one,
            and the title says so.
        axes: One axes per metric; a new figure when ``None``.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: A history without one of the metrics, too few axes, or ``ylims``
            for a metric not drawn or with ``low >= high``.
    """
    runs = _runs(histories, metrics)
    ylims = _checked_ylims(ylims or {}, metrics)
    axes = _grid_axes(len(metrics), len(metrics), axes, what="metrics", cell_size=(5.0, 3.6))
    palette = sns.color_palette(PALETTE, n_colors=max(len(runs), 1))
    for ax, metric in zip(axes, metrics, strict=False):
        for run, (label, history) in enumerate(runs.items()):
            style = {
                "color": palette[run],
                "marker": _RUN_MARKERS[run % len(_RUN_MARKERS)],
                "markersize": 4,
            }
            prefix = f"{label}, " if label else ""
            values = history[metric]
            epochs = np.arange(1, len(values) + 1)
            ax.plot(epochs, values, linestyle="-", label=f"{prefix}training", **style)
            if f"val_{metric}" in history:
                ax.plot(
                    epochs,
                    history[f"val_{metric}"],
                    linestyle="--",
                    fillstyle="none",
                    label=f"{prefix}validation",
                    **style,
                )
        title = metric
        if metric in ylims:
            title += _zoom(ax, ylims[metric])
        ax.set(xlabel="epoch", ylabel=_METRIC_LABELS.get(metric, metric), title=title)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=MIN_FONT_PT)
    figure = axes[0].figure
    figure.tight_layout()
    return figure


def _runs(
    histories: Mapping[str, Mapping[str, Sequence[float]]] | Mapping[str, Sequence[float]],
    metrics: Sequence[str],
) -> dict[str, Mapping[str, Sequence[float]]]:
    """The histories keyed by run label (``""`` for a single history), each checked."""
    if histories and all(isinstance(value, Mapping) for value in histories.values()):
        runs = dict(histories)
    else:
        runs = {"": histories}
    for label, history in runs.items():
        for metric in metrics:
            if metric not in history:
                name = f"history {label!r}" if label else "history"
                raise ValueError(f"{name} has no {metric!r}; it has {sorted(history)}.")
    return runs


def _checked_ylims(
    ylims: Mapping[str, tuple[float | None, float | None]], metrics: Sequence[str]
) -> dict[str, tuple[float | None, float | None]]:
    """``ylims`` as a dict, after checking each names a drawn metric and a non-empty range."""
    for metric, (low, high) in ylims.items():
        if metric not in metrics:
            raise ValueError(f"ylims names {metric!r}, which is not drawn; metrics are {list(metrics)}.")
        if low is not None and high is not None and low >= high:
            raise ValueError(f"ylims[{metric!r}] must be (low, high) with low < high, got {(low, high)}.")
    return dict(ylims)


def _zoom(ax: Axes, limits: tuple[float | None, float | None]) -> str:
    """Zoom ``ax`` to ``limits``, mark each point outside at the edge; return the title note."""
    low, high = limits
    outside = 0
    for line in [line for line in ax.lines if not line.get_label().startswith("_")]:
        epochs, values = np.asarray(line.get_xdata()), np.asarray(line.get_ydata(), dtype=float)
        for limit, below, marker in ((low, True, "v"), (high, False, "^")):
            if limit is None:
                continue
            beyond = values < limit if below else values > limit
            outside += int(beyond.sum())
            if not beyond.any():
                continue
            ax.plot(
                epochs[beyond],
                np.full(int(beyond.sum()), limit),
                linestyle="none",
                marker=marker,
                color=line.get_color(),
                clip_on=False,
                label="_outside",
            )
    ax.set_ylim(low, high)
    return f"\n(zoomed in: {outside} points outside, ▼▲ at the edge)" if outside else " (zoomed in)"


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
    colour = sns.color_palette(PALETTE)[0]
    ax.barh([class_names[index] for index in order], accuracies[order], color=colour)
    for position, index in enumerate(order):
        ax.text(accuracies[index], position, f" {accuracies[index]:.1%}", va="center", fontsize=MIN_FONT_PT)
    ax.set(xlim=(0, 1.1), xlabel="accuracy (fraction)", ylabel="class", title="Accuracy per class")
    ax.figure.tight_layout()
    return ax.figure


def plot_calibration(
    bins: CalibrationBins, confidence: np.ndarray, correct: np.ndarray, *, axes: Sequence[Axes] | None = None
) -> Figure:
    """Confidence histogram (right and wrong predictions) and reliability diagram.

    Taught in notebook 04. Wrong predictions are hatched as well as coloured.

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
    right_colour, wrong_colour = sns.color_palette(PALETTE)[:2]
    _, _, (_, wrong_bars) = hist_ax.hist(
        [confidence[correct], confidence[~correct]],
        bins=bins.edges,
        stacked=True,
        color=[right_colour, wrong_colour],
        label=["right", "wrong"],
    )
    for patch in wrong_bars:  # Hatched: right and wrong differ by more than their colour.
        patch.set_hatch("///")
    hist_ax.set(
        yscale="log",
        xlabel="confidence (largest probability)",
        ylabel="count (predictions, log scale)",
        title="Confidence",
    )
    hist_ax.legend(fontsize=MIN_FONT_PT)
    centres = (bins.edges[:-1] + bins.edges[1:]) / 2
    filled = bins.counts > 0
    width = bins.edges[1] - bins.edges[0]
    reliability_ax.bar(
        centres[filled],
        bins.accuracy[filled],
        width=width * 0.9,
        color=right_colour,
        label="accuracy in the bin",
    )
    reliability_ax.plot([0, 1], [0, 1], color="gray", linestyle="--", label="perfect calibration")
    reliability_ax.plot(
        centres[filled], bins.confidence[filled], "o", color="black", markersize=3, label="mean confidence"
    )
    reliability_ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="confidence (largest probability)",
        ylabel="accuracy (fraction)",
        title=f"Reliability (ECE = {bins.expected_calibration_error:.3f})",
    )
    reliability_ax.legend(fontsize=MIN_FONT_PT, loc="upper left")
    figure = axes[0].figure
    figure.tight_layout()
    return figure


def plot_grad_cam(
    image: np.ndarray,
    heatmap: np.ndarray,
    *,
    title: str | None = None,
    colorbar: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Draw a Grad-CAM heatmap over its image.

    Taught in notebook 04. The heatmap's ``inferno`` map gets steadily brighter from 0
    (black) to 1 (pale yellow), so it reads in grayscale and for colour-blind readers.

    Args:
        image: The ``uint8`` image, ``(28, 28)`` or ``(28, 28, 1)``.
        heatmap: ``(28, 28)`` values in [0, 1] from :func:`fmnist_utils.evaluation.grad_cam`.
        title: Title above the plot.
        colorbar: Draw the scale of the heatmap beside the image.
        ax: Axes to draw into; a new figure when ``None``.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``heatmap`` is not ``(28, 28)``.
    """
    heatmap = np.asarray(heatmap)
    if heatmap.shape != (28, 28):
        raise ValueError(f"heatmap must have shape (28, 28), got {heatmap.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(2.6, 2.2))
    figure = plot_image(image, title=title, ax=ax)
    overlay = ax.imshow(heatmap, cmap="inferno", alpha=0.45, vmin=0, vmax=1)
    if colorbar:
        scale = figure.colorbar(overlay, ax=ax, fraction=0.046, pad=0.04, ticks=[0, 0.5, 1])
        scale.set_label("importance (0-1)", fontsize=MIN_FONT_PT)
        scale.ax.tick_params(labelsize=MIN_FONT_PT)
    return figure
