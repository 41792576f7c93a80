"""Static plots shared by the notebooks.

Every helper draws into ``ax=`` (``axes=`` for grids) or a new figure, and returns the figure.
Figures every student can read (``tests/test_plots.py`` checks each rule on every helper):
at most :data:`DISPLAY_WIDTH_IN` wide (JupyterLab scales wider ones down, text included);
text at least :data:`MIN_FONT_PT` points as shown; colour maps that get steadily darker or
lighter (never ``jet``, rainbows or red-green maps); category colours from seaborn's
``"colorblind"`` palette, and series that also differ by line style, marker or hatch;
a title on every panel (or the figure), axis labels with their unit (image panels: a title).
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
#: Each kind of grid: the size of a cell and the room above it for its title, in inches.
_CELLS = {
    "images": ((1.3, 1.3), 0.2),
    "maps": ((1.2, 1.2), 0.15),
    "metrics": ((5.0, 3.6), 0.0),
    "panels": ((5.0, 4.0), 0.0),
}
#: One marker per run in a comparison of runs: the runs differ by more than their colour.
_RUN_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: Axis labels of the usual metrics, with their unit.
_METRIC_LABELS = {"accuracy": "accuracy (fraction)", "loss": "loss (cross-entropy)"}

#: Axes to draw a grid into (at least one per panel), or ``None`` for a new figure.
_AxesGrid = Sequence[Axes] | np.ndarray | None


def plot_image(image: np.ndarray, *, title: str | None = None, ax: Axes | None = None) -> Figure:
    """Draw one ``uint8`` image, ``(28, 28)`` or ``(28, 28, 1)``: dark pixels are the garment."""
    image = np.asarray(image)
    validate_images(image[np.newaxis], name="image")
    if ax is None:
        _, ax = plt.subplots(figsize=(2, 2))
    _draw_image(ax, image, title)
    return ax.figure


def _draw_image(ax: Axes, image: np.ndarray, title: str | None) -> None:
    """Show a checked image on a fixed 0..255 scale, without ticks."""
    ax.imshow(image.reshape(28, 28), cmap="gray_r", vmin=0, vmax=255)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title is not None:
        ax.set_title(title, fontsize=9)


def plot_examples_per_class(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    examples_per_class: int = 1,
    class_names: Sequence[str] = CLASS_NAMES,
    seed: int | None = None,
    title: str | None = "Examples of each class",
    axes: _AxesGrid = None,
) -> Figure:
    """Draw a grid of ``uint8`` images: one column per class, ``examples_per_class`` rows.

    Taught in notebook 00. ``seed`` picks random examples; ``None`` takes the first ones.
    """
    validate_images(images)
    validate_labels(labels, num_classes=len(class_names))
    if len(images) != len(labels):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels.")
    if examples_per_class < 1:
        raise ValueError(f"examples_per_class must be at least 1, got {examples_per_class}.")
    chosen = _pick_examples(labels, examples_per_class, class_names, seed)
    titles = [name if row == 0 else "" for row in range(examples_per_class) for name in class_names]
    return _image_grid(images[chosen.ravel()], titles, len(class_names), title, axes)


def _pick_examples(labels, examples_per_class: int, class_names, seed: int | None) -> np.ndarray:
    """Indices of the examples to draw, ``(examples_per_class, classes)``."""
    rng = None if seed is None else np.random.default_rng(seed)
    chosen = np.empty((examples_per_class, len(class_names)), dtype=np.int64)
    for label, name in enumerate(class_names):
        indices = np.flatnonzero(labels == label)
        if len(indices) < examples_per_class:
            raise ValueError(
                f"class {label} ({name}) has {len(indices)} examples, {examples_per_class} requested."
            )
        if rng is not None:
            indices = rng.choice(indices, size=examples_per_class, replace=False)
        chosen[:, label] = indices[:examples_per_class]
    return chosen


def plot_image_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    columns: int = 10,
    title: str | None = None,
    axes: _AxesGrid = None,
) -> Figure:
    """Draw ``uint8`` images in a grid, ``columns`` per row, each under its title if given."""
    validate_images(images)
    if len(images) == 0:
        raise ValueError("images is empty: there is nothing to plot.")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} images but {len(titles)} titles.")
    return _image_grid(images, titles, columns, title, axes)


def _image_grid(images, titles, columns: int, title: str | None, axes: _AxesGrid) -> Figure:
    """:func:`plot_image_grid` for checked images."""
    axes = _grid_axes(len(images), columns, axes, "images", titled=title is not None)
    for index, image in enumerate(images):
        _draw_image(axes[index], image, None if titles is None else titles[index])
    for ax in axes[len(images) :]:  # The grid's empty cells.
        ax.axis("off")
    return _finish_grid(axes[0].figure, title)


def _grid_axes(count: int, columns: int, axes: _AxesGrid, what: str, titled: bool = False) -> np.ndarray:
    """The axes given (at least ``count``), or a new grid at most :data:`DISPLAY_WIDTH_IN` wide.

    The cells of a new grid (see :data:`_CELLS`) shrink to fit; the room for titles does not.
    """
    if axes is None:
        columns = min(columns, count)
        rows = -(-count // columns)
        (width, height), title_room = _CELLS[what]
        shrink = min(1.0, DISPLAY_WIDTH_IN / (width * columns))  # Smaller cells, not a wider figure.
        extra = _FIGURE_TITLE_ROOM_IN if titled else 0.0
        figsize = (width * shrink * columns, (height * shrink + title_room) * rows + extra)
        _, grid = plt.subplots(rows, columns, figsize=figsize, squeeze=False)
        return grid.ravel()
    axes = np.asarray(axes, dtype=object).ravel()
    if len(axes) < count:  # Else the last ones would be left out without a word.
        raise ValueError(f"got {count} {what} but only {len(axes)} axes.")
    return axes


def _finish_grid(figure: Figure, title: str | None) -> Figure:
    """Give a grid figure its title, if any, and lay it out."""
    if title is not None:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_class_distribution(
    train_labels: np.ndarray,
    test_labels: np.ndarray | None = None,
    *,
    class_names: Sequence[str] = CLASS_NAMES,
    ax: Axes | None = None,
) -> Figure:
    """Bar chart of the number of examples per class, training and test side by side.

    Taught in notebook 01.
    """
    frames = []
    for split, labels in (("train", train_labels), ("test", test_labels)):
        if labels is not None:
            validate_labels(labels, num_classes=len(class_names), name=f"{split}_labels")
            counts = np.bincount(labels, minlength=len(class_names))
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

    Taught in notebook 01; notebook 04 draws its confusion matrix with it. ``fmt`` formats
    the numbers; ``cmap`` must get steadily lighter or darker, to read in grayscale.
    """
    _check_cmap(cmap)
    # np.asarray: a DataFrame with its own labels would be re-indexed to NaN, not relabelled.
    cells = pd.DataFrame(np.asarray(matrix), index=class_names, columns=class_names)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 6.5))
    sns.heatmap(
        cells, annot=True, fmt=fmt, cmap=cmap, square=True, cbar=False, annot_kws={"fontsize": 8}, ax=ax
    )
    ax.tick_params(axis="x", labelrotation=45)
    ax.tick_params(axis="y", labelrotation=0)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title is not None:
        ax.set_title(title)
    ax.figure.tight_layout()
    return ax.figure


def _check_cmap(cmap: str | Colormap) -> None:
    """Refuse a colour map that hides information from colour-blind readers or in grayscale."""
    name = cmap if isinstance(cmap, str) else cmap.name
    if name.removesuffix("_r") in _UNREADABLE_CMAPS or not lightness_is_monotone(cmap):
        raise ValueError(
            f"cmap {name!r} does not read in grayscale or for colour-blind readers (its colours do "
            "not get steadily lighter); use a sequential map such as 'Blues', 'viridis' or 'cividis'."
        )


def lightness_is_monotone(cmap: str | Colormap) -> bool:
    """Whether a colour map only gets lighter, or only darker, from one end to the other."""
    rgb = plt.get_cmap(cmap)(np.linspace(0, 1, 256))[:, :3]
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    steps = np.diff(linear @ np.array([0.2126, 0.7152, 0.0722]))  # Relative luminance: grayscale.
    return bool(np.all(steps >= -1e-3) or np.all(steps <= 1e-3))


def plot_filters(
    kernel: np.ndarray,
    *,
    columns: int = 8,
    title: str | None = "Filters (own scale each): bright = positive weight, dark = negative",
    axes: _AxesGrid = None,
) -> Figure:
    """Draw the filters of the first convolution, its kernel ``(height, width, 1, filters)``.

    Taught in notebook 02. Each filter has its own scale, centred on zero (the middle shade).
    """
    kernel = np.asarray(kernel)
    if kernel.ndim != 4 or kernel.shape[2] != 1:  # A later layer's: only its first channel would show.
        raise ValueError(
            "kernel must have shape (height, width, 1, filters), the first convolution's, "
            f"got {kernel.shape}."
        )
    filters = np.moveaxis(kernel[:, :, 0, :], -1, 0)
    return _plot_array_grid(filters, "cividis", True, columns, title, axes)


def plot_feature_maps(
    maps: np.ndarray,
    *,
    max_maps: int | None = None,
    columns: int = 8,
    title: str | None = "Feature maps: bright = strong response",
    axes: _AxesGrid = None,
) -> Figure:
    """Draw the first ``max_maps`` channels of one image's feature maps, ``(height, width, channels)``.

    Taught in notebook 02 (see ``models.feature_maps``).
    """
    channels = np.moveaxis(np.asarray(maps), -1, 0)[:max_maps]
    return _plot_array_grid(channels, "viridis", False, columns, title, axes)


def _plot_array_grid(arrays, cmap: str, symmetric: bool, columns: int, title, axes: _AxesGrid) -> Figure:
    """Draw 2-D float arrays in a grid, each titled with its index (``symmetric``: centred on 0)."""
    axes = _grid_axes(len(arrays), columns, axes, "maps", titled=title is not None)
    for index, ax in enumerate(axes):
        ax.axis("off")
        if index >= len(arrays):
            continue
        limit = float(np.abs(arrays[index]).max()) or 1.0
        ax.imshow(arrays[index], cmap=cmap, **({"vmin": -limit, "vmax": limit} if symmetric else {}))
        ax.set_title(str(index), fontsize=MIN_FONT_PT)
    return _finish_grid(axes[0].figure, title)


def plot_learning_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]] | Mapping[str, Sequence[float]],
    *,
    metrics: Sequence[str] = ("loss", "accuracy"),
    ylims: Mapping[str, tuple[float | None, float | None]] | None = None,
    axes: _AxesGrid = None,
) -> Figure:
    """Each metric per epoch, one panel each: training solid, validation (``val_<metric>``) dashed.

    Taught in notebook 03. ``histories``: one ``history.history`` dict, or several keyed by a
    label to compare runs. ``ylims`` zooms panels in, ``{metric: (low, high)}`` (``None``: no
    limit on that side); a triangle at the edge marks each point outside.
    """
    runs, ylims = _checked(histories, metrics, ylims or {})
    axes = _grid_axes(len(metrics), len(metrics), axes, "metrics")
    palette = sns.color_palette(PALETTE, n_colors=max(len(runs), 1))
    for ax, metric in zip(axes, metrics, strict=False):
        for run, (label, history) in enumerate(runs.items()):
            style = {"color": palette[run], "marker": _RUN_MARKERS[run % len(_RUN_MARKERS)], "markersize": 4}
            _draw_run(ax, f"{label}, " if label else "", history, metric, style)
        title = metric + (_zoom(ax, ylims[metric]) if metric in ylims else "")
        ax.set(xlabel="epoch", ylabel=_METRIC_LABELS.get(metric, metric), title=title)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=MIN_FONT_PT)
    figure = axes[0].figure
    figure.tight_layout()
    return figure


def _draw_run(ax: Axes, prefix: str, history: Mapping, metric: str, style: dict) -> None:
    """One run's training curve (solid) and validation curve (dashed, open markers)."""
    epochs = np.arange(1, len(history[metric]) + 1)
    ax.plot(epochs, history[metric], linestyle="-", label=f"{prefix}training", **style)
    if f"val_{metric}" in history:
        validation = history[f"val_{metric}"]
        ax.plot(epochs, validation, linestyle="--", fillstyle="none", label=f"{prefix}validation", **style)


def _checked(histories: Mapping, metrics: Sequence[str], ylims: Mapping) -> tuple[dict, dict]:
    """The histories keyed by run label (``""`` for a single history) and ``ylims``, checked."""
    runs = {"": histories}
    if histories and all(isinstance(value, Mapping) for value in histories.values()):
        runs = dict(histories)
    for label, history in runs.items():
        for metric in metrics:
            if metric not in history:
                name = f"history {label!r}" if label else "history"
                raise ValueError(f"{name} has no {metric!r}; it has {sorted(history)}.")
    for metric, (low, high) in ylims.items():
        if metric not in metrics:
            raise ValueError(f"ylims names {metric!r}, which is not drawn; metrics are {list(metrics)}.")
        if low is not None and high is not None and low >= high:
            raise ValueError(f"ylims[{metric!r}] must be (low, high) with low < high, got {(low, high)}.")
    return runs, dict(ylims)


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
            if beyond.any():
                edge = np.full(int(beyond.sum()), limit)
                style = {"color": line.get_color(), "clip_on": False, "label": "_outside"}
                ax.plot(epochs[beyond], edge, linestyle="none", marker=marker, **style)
    ax.set_ylim(low, high)
    return f"\n(zoomed in: {outside} points outside, ▼▲ at the edge)" if outside else " (zoomed in)"


def plot_per_class_accuracy(
    accuracies: np.ndarray, *, class_names: Sequence[str] = CLASS_NAMES, ax: Axes | None = None
) -> Figure:
    """Horizontal bar chart of the accuracy of each class, worst class first.

    Taught in notebook 04.
    """
    accuracies = np.asarray(accuracies, dtype=float)
    if accuracies.shape != (len(class_names),):  # Else bars would silently carry the wrong names.
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
    """Confidence histogram (right and wrong predictions) and reliability diagram, side by side.

    Taught in notebook 04. ``bins`` come from :func:`fmnist_utils.evaluation.calibration_bins`;
    ``confidence`` is each prediction's largest probability, ``correct`` whether it is right.
    """
    axes = _grid_axes(2, 2, axes, "panels")
    right_colour, wrong_colour = sns.color_palette(PALETTE)[:2]
    correct = np.asarray(correct, dtype=bool)
    _confidence_histogram(axes[0], bins.edges, np.asarray(confidence), correct, [right_colour, wrong_colour])
    _reliability_diagram(axes[1], bins, right_colour)
    figure = axes[0].figure
    figure.tight_layout()
    return figure


def _confidence_histogram(ax: Axes, edges, confidence, correct, colours) -> None:
    """Stacked histogram of the right predictions' confidence, then the wrong ones' (hatched)."""
    right_and_wrong = [confidence[correct], confidence[~correct]]
    bars = ax.hist(right_and_wrong, bins=edges, stacked=True, color=colours, label=["right", "wrong"])[2]
    for patch in bars[1]:  # Hatched: right and wrong differ by more than their colour.
        patch.set_hatch("///")
    ax.set(xlabel="confidence (largest probability)", ylabel="count (predictions, log scale)")
    ax.set(yscale="log", title="Confidence")
    ax.legend(fontsize=MIN_FONT_PT)


def _reliability_diagram(ax: Axes, bins: CalibrationBins, colour) -> None:
    """Accuracy against mean confidence per bin, beside the diagonal of perfect calibration."""
    centres = (bins.edges[:-1] + bins.edges[1:]) / 2
    filled = bins.counts > 0
    width = (bins.edges[1] - bins.edges[0]) * 0.9
    ax.bar(centres[filled], bins.accuracy[filled], width=width, color=colour, label="accuracy in the bin")
    ax.plot([0, 1], [0, 1], color="gray", linestyle="--", label="perfect calibration")
    ax.plot(
        centres[filled], bins.confidence[filled], "o", color="black", markersize=3, label="mean confidence"
    )
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (largest probability)", ylabel="accuracy (fraction)")
    ax.set_title(f"Reliability (ECE = {bins.expected_calibration_error:.3f})")
    ax.legend(fontsize=MIN_FONT_PT, loc="upper left")


def plot_grad_cam(
    image: np.ndarray,
    heatmap: np.ndarray,
    *,
    title: str | None = None,
    colorbar: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Draw a ``(28, 28)`` Grad-CAM heatmap (:func:`fmnist_utils.evaluation.grad_cam`) over its image.

    Taught in notebook 04. The ``inferno`` map gets steadily brighter from 0 (black) to 1;
    ``colorbar`` draws its scale beside the image.
    """
    heatmap = np.asarray(heatmap)
    if heatmap.shape != (28, 28):  # matplotlib would draw a smaller map in a corner of the image.
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
