"""Compiling and training models, from one recipe, with the callbacks a practitioner uses.

Taught in notebook 03, which explains each callback and trains the baseline with
:data:`BASELINE_RECIPE`; notebook 05 adds the schedule, label smoothing and
:data:`IMPROVED_RECIPE`. Notebook 04, the search and the benchmarks train through
:func:`train_model` instead of repeating it.

A training run lives in one folder (``run_dir``)::

    runs/baseline/
        best.keras          the best model so far (ModelCheckpoint)
        training_log.csv    one row per epoch (CSVLogger)
        logs/               TensorBoard's event files
        backup/             BackupAndRestore's state while a run is under way
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from fmnist_utils import _runtime
from fmnist_utils._checks import fraction, positive_int, positive_number
from fmnist_utils.config import get_config, shown_path
from fmnist_utils.data import (
    NUM_CLASSES,
    make_dataset,
    train_validation_split,
    validate_images,
    validate_labels,
)
from fmnist_utils.models import augmentation_layers, build_baseline_cnn, build_improved_cnn

__all__ = [
    "BASELINE_QUICK_TRAIN_SIZE",
    "BASELINE_RECIPE",
    "IMPROVED_RECIPE",
    "Recipe",
    "SmoothedSparseCrossentropy",
    "compile_model",
    "cosine_schedule",
    "current_learning_rate",
    "fit_model",
    "load_model",
    "load_or_train_baseline",
    "standard_callbacks",
    "train_model",
]

SCHEDULES = ("plateau", "constant", "cosine")


@dataclass(frozen=True)
class Recipe:
    """How a model is built and trained: one value that notebooks, search and benchmarks share.

    Taught in notebook 03 (the baseline's recipe) and 05 (the improved CNN's). It is frozen:
    change a copy with ``recipe.replace(epochs=3)``.

    Attributes:
        model: ``"baseline"`` (:func:`fmnist_utils.models.build_baseline_cnn`) or
            ``"improved"`` (:func:`fmnist_utils.models.build_improved_cnn`).
        filters: Width of each convolution block.
        convs_per_block: Convolutions in each block (the improved CNN; the baseline has one).
        dense_units: Units of the hidden dense layer (the baseline; the improved CNN has none).
        dropout_rate: Dropout before the dense layers (the improved CNN: before its output layer).
        horizontal_flip: Mirror training images left-right at random (augmentation).
        translation: Largest random shift, as a fraction of the image (0: none).
        epochs: Epochs to train.
        batch_size: Examples per training step.
        learning_rate: Adam's learning rate (the peak of a cosine schedule).
        schedule: ``"plateau"``: halve the rate after ``reduce_lr_patience`` epochs without
            progress; ``"constant"``; ``"cosine"``: :func:`cosine_schedule`.
        reduce_lr_patience: Epochs without progress before the plateau rule halves the rate.
        warmup_epochs: Epochs of linear warm-up of the cosine schedule.
        label_smoothing: 0 for the ordinary loss, else :class:`SmoothedSparseCrossentropy`'s.
        patience: Epochs without progress before early stopping; ``None``: train every epoch.
        monitor: The validation metric that decides the best epoch.
        validation_size: Share of the training images held out for validation.
    """

    model: str = "baseline"
    filters: tuple[int, ...] = (32, 64)
    convs_per_block: tuple[int, ...] = (1, 1)
    dense_units: int = 128
    dropout_rate: float = 0.3
    horizontal_flip: bool = False
    translation: float = 0.0
    epochs: int = 15
    batch_size: int = 128
    learning_rate: float = 1e-3
    schedule: str = "plateau"
    reduce_lr_patience: int = 2
    warmup_epochs: int = 1
    label_smoothing: float = 0.0
    patience: int | None = 4
    monitor: str = "val_loss"
    validation_size: float = 0.1

    def __post_init__(self) -> None:
        if self.model not in ("baseline", "improved"):
            raise ValueError(f"model must be 'baseline' or 'improved', got {self.model!r}.")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}.")
        if self.model == "baseline" and set(self.convs_per_block) != {1}:
            raise ValueError("the baseline CNN has one convolution per block: convs_per_block must be all 1.")
        positive_int(self.epochs, "epochs")
        positive_int(self.batch_size, "batch_size")
        positive_number(self.learning_rate, "learning_rate")
        fraction(self.label_smoothing, "label_smoothing")
        if self.patience is not None:
            positive_int(self.patience, "patience")

    def replace(self, **changes: object) -> Recipe:
        """A copy with some fields changed: ``BASELINE_RECIPE.replace(epochs=3)``."""
        return dataclasses.replace(self, **changes)

    def build_model(self, seed: int | None = 42) -> keras.Model:
        """The recipe's model, uncompiled; ``seed`` seeds its augmentation layers."""
        augmentation = None
        if self.horizontal_flip or self.translation:
            augmentation = augmentation_layers(
                translation=self.translation, zoom=0.0, horizontal_flip=self.horizontal_flip, seed=seed
            )
        if self.model == "baseline":
            return build_baseline_cnn(
                filters=self.filters,
                dense_units=self.dense_units,
                dropout_rate=self.dropout_rate,
                augmentation=augmentation,
            )
        return build_improved_cnn(
            filters=self.filters,
            convs_per_block=self.convs_per_block,
            dropout_rate=self.dropout_rate,
            augmentation=augmentation,
        )


#: How notebook 03 trains the baseline CNN; notebook 04 and the benchmarks reuse it.
BASELINE_RECIPE = Recipe()
#: Quick mode trains notebook 03's baseline on this many images, for all its epochs, so that
#: the notebook's curves still show the plateau rule and overfitting.
BASELINE_QUICK_TRAIN_SIZE = 4_000
#: How notebook 05 trains the improved CNN; the benchmarks reuse it. Every epoch runs (no
#: early stopping): the cosine schedule aims at the last one.
IMPROVED_RECIPE = Recipe(
    model="improved",
    filters=(32, 64, 128),
    convs_per_block=(1, 2, 2),
    dropout_rate=0.0,
    horizontal_flip=True,
    translation=0.08,
    epochs=24,
    batch_size=256,
    learning_rate=4e-3,
    schedule="cosine",
    label_smoothing=0.1,
    patience=None,
    monitor="val_accuracy",
)


def compile_model(
    model: keras.Model, recipe: Recipe = BASELINE_RECIPE, *, steps_per_epoch: int | None = None
) -> keras.Model:
    """Compile a softmax classifier for integer labels (Adam, sparse cross-entropy, accuracy); return it.

    Taught in notebook 03; notebook 05 adds the recipe's schedule and label smoothing. A cosine
    schedule needs ``steps_per_epoch`` (training batches per epoch).
    """
    learning_rate = recipe.learning_rate
    if recipe.schedule == "cosine":
        if steps_per_epoch is None:
            raise ValueError("a cosine schedule needs steps_per_epoch (training batches per epoch).")
        learning_rate = cosine_schedule(
            learning_rate=learning_rate,
            epochs=recipe.epochs,
            steps_per_epoch=steps_per_epoch,
            warmup_epochs=min(recipe.warmup_epochs, recipe.epochs - 1),
        )
    loss = (
        SmoothedSparseCrossentropy(recipe.label_smoothing, num_classes=model.output_shape[-1])
        if recipe.label_smoothing
        else keras.losses.SparseCategoricalCrossentropy()
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])
    return model


def standard_callbacks(
    run_dir: str | os.PathLike[str],
    *,
    monitor: str = "val_loss",
    patience: int | None = 4,
    reduce_lr_patience: int | None = 2,
    tensorboard: bool = True,
) -> list[keras.callbacks.Callback]:
    """The callbacks of every training run in the course, each explained in notebook 03.

    Their files go in ``run_dir`` (see the module's docstring). ``patience=None``: no early
    stopping; ``reduce_lr_patience=None``: no ``ReduceLROnPlateau`` (which halves the rate).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    mode = "max" if "acc" in monitor else "min"
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.BackupAndRestore(backup_dir=str(run_dir / "backup")),
        keras.callbacks.ModelCheckpoint(
            run_dir / "best.keras", monitor=monitor, mode=mode, save_best_only=True
        ),
        keras.callbacks.CSVLogger(str(run_dir / "training_log.csv"), append=True),
    ]
    if reduce_lr_patience is not None:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor, mode=mode, factor=0.5, patience=reduce_lr_patience, min_lr=1e-5, verbose=1
            )
        )
    if patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, mode=mode, patience=patience, restore_best_weights=True, verbose=1
            )
        )
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs")))
    return callbacks


def current_learning_rate(model_or_optimizer: keras.Model | keras.optimizers.Optimizer) -> float:
    """The learning rate a model's optimizer (or an optimizer) uses now: a schedule's current value."""
    optimizer = model_or_optimizer
    if isinstance(model_or_optimizer, keras.Model):
        optimizer = getattr(model_or_optimizer, "optimizer", None)  # Set by compile().
    if optimizer is None:
        raise ValueError("the model is not compiled, so it has no learning rate yet: compile it first.")
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))  # Keras < 3.5: no float(variable).


def fit_model(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray] | None,
    recipe: Recipe = BASELINE_RECIPE,
    *,
    run_dir: str | os.PathLike[str] | None = None,
    tensorboard: bool = True,
    extra_callbacks: list[keras.callbacks.Callback] | None = None,
    seed: int = 42,
    verbose: int | str = 2,
) -> TrainingResult:
    """Train a compiled model on ``(images, labels)`` as a recipe says, with the standard callbacks.

    Taught in notebook 03. With ``validation=None`` (the final fit) the monitor is ``loss``.
    The best model goes to ``run_dir/best.keras`` (default: ``runs/model`` in the work folder);
    called again with the same ``run_dir``, an interrupted run resumes from its last epoch.
    """
    if not getattr(model, "compiled", False):  # Checked before anything is written to run_dir.
        raise ValueError("the model is not compiled: call training.compile_model(model) first.")
    monitor = recipe.monitor if validation is not None else recipe.monitor.removeprefix("val_")
    machine = get_config()
    run_dir = machine.run_dir("model") if run_dir is None else Path(run_dir)
    train_dataset, validation_dataset = _datasets(train, validation, recipe.batch_size, seed)
    _start_log(run_dir)
    clock = _EpochClock()
    callbacks = [
        *_recipe_callbacks(run_dir, recipe, monitor, tensorboard),
        clock,
        *(extra_callbacks or []),
        *_runtime.training_callbacks(machine.small_machine),
    ]
    start = time.perf_counter()
    history = model.fit(
        train_dataset,
        validation_data=validation_dataset,
        epochs=recipe.epochs,
        callbacks=callbacks,
        shuffle=False,  # The tf.data pipeline shuffles every epoch already.
        verbose=verbose,
    )
    return _result(history, time.perf_counter() - start, len(train[1]), monitor, run_dir, clock)


def _recipe_callbacks(run_dir: Path, recipe: Recipe, monitor: str, tensorboard: bool) -> list:
    """:func:`standard_callbacks` with the recipe's patience; the plateau rule for its schedule only."""
    plateau = recipe.reduce_lr_patience if recipe.schedule == "plateau" else None
    return standard_callbacks(
        run_dir,
        monitor=monitor,
        patience=recipe.patience,
        reduce_lr_patience=plateau,
        tensorboard=tensorboard,
    )


def _datasets(train, validation, batch_size: int, seed: int):
    """The shuffled training pipeline and the validation pipeline (``None`` without one)."""
    pairs = [("train", train)] if validation is None else [("train", train), ("validation", validation)]
    for name, (images, labels) in pairs:  # Where a student's data enters: the messages name it.
        validate_images(images, name=f"{name} images")
        validate_labels(labels, name=f"{name} labels")
    machine = get_config()  # A small machine (Binder) gets smaller buffers and batches.
    shuffle_buffer = machine.shuffle_buffer(len(train[1]))
    train_dataset = make_dataset(
        *train, batch_size=batch_size, shuffle=True, seed=seed, shuffle_buffer=shuffle_buffer
    )
    if validation is None:
        return train_dataset, None
    return train_dataset, make_dataset(*validation, batch_size=machine.eval_batch_size(max(batch_size, 512)))


def _start_log(run_dir: Path) -> None:
    """A fresh run (not the resumption of an interrupted one) starts a fresh log."""
    backup = run_dir / "backup"
    if not (backup.is_dir() and any(backup.iterdir())):
        (run_dir / "training_log.csv").unlink(missing_ok=True)


@dataclass
class TrainingResult:
    """What :func:`fit_model` measured, for the epochs this call ran (fewer after early stopping)."""

    history: dict[str, list[float]]  # Per-epoch metrics: loss, accuracy, val_loss, ...
    seconds: float  # Wall-clock time of fit, validation included.
    images_per_second: float  # Training images per second of fit.
    epochs_run: int
    best_epoch: int  # 1-based, the best monitored value.
    run_dir: Path
    elapsed: list[float] = field(default_factory=list)  # Seconds from the start to each epoch's end.
    checkpoint_path: Path = field(init=False)  # run_dir/best.keras

    def __post_init__(self) -> None:
        self.checkpoint_path = self.run_dir / "best.keras"


class _EpochClock(keras.callbacks.Callback):
    """Record the seconds since the start of training at the end of every epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.elapsed: list[float] = []
        self._start = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start = time.perf_counter()
        self.elapsed = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.elapsed.append(time.perf_counter() - self._start)


def _result(
    history, seconds: float, examples: int, monitor: str, run_dir: Path, clock: _EpochClock
) -> TrainingResult:
    values = history.history
    epochs_run = len(values.get("loss", []))
    monitored = values.get(monitor, [])
    if monitored:
        best_index = int(np.argmax(monitored) if "acc" in monitor else np.argmin(monitored))
    else:
        best_index = max(epochs_run - 1, 0)
    return TrainingResult(
        history={key: [float(value) for value in series] for key, series in values.items()},
        seconds=seconds,
        images_per_second=epochs_run * examples / seconds if seconds > 0 else float("nan"),
        epochs_run=epochs_run,
        best_epoch=history.epoch[best_index] + 1 if history.epoch else 0,
        run_dir=run_dir,
        elapsed=list(clock.elapsed),
    )


def load_model(path: str | os.PathLike[str]) -> keras.Model:
    """Load a model saved as a ``.keras`` file, with Keras' safe mode on.

    Safe mode refuses to run the Python code of ``Lambda`` layers. It reduces, but does not
    remove, the risk of loading an untrusted file: load only files you trust.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path}: expected a .keras file saved with model.save(...).")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file. Notebook 03 trains and saves it.")
    return keras.models.load_model(path, safe_mode=True)  # Keras' default, kept on explicitly.


# --- Notebook 05: a better recipe.


@keras.saving.register_keras_serializable(package="fmnist_utils")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy with label smoothing for integer labels.

    Taught in notebook 05. Keras' ``CategoricalCrossentropy(label_smoothing=s)`` needs one-hot
    labels; this loss one-hot encodes them itself. The true class's target is ``1 - s + s / K``,
    every other class's ``s / K`` (``K`` classes), which discourages over-confident predictions.
    """

    def __init__(
        self,
        label_smoothing: float = 0.1,
        num_classes: int = NUM_CLASSES,
        name: str = "smoothed_sparse_crossentropy",
        **kwargs: object,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.label_smoothing = fraction(label_smoothing, "label_smoothing")  # Our loss: Keras checks nothing.
        self.num_classes = positive_int(num_classes, "num_classes")

    def call(self, y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        targets = keras.ops.one_hot(labels, self.num_classes)
        return keras.losses.categorical_crossentropy(targets, y_pred, label_smoothing=self.label_smoothing)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "num_classes": self.num_classes,
        }


def cosine_schedule(
    *,
    learning_rate: float,
    epochs: int,
    steps_per_epoch: int,
    warmup_epochs: int = 1,
    final_fraction: float = 0.01,
) -> keras.optimizers.schedules.LearningRateSchedule:
    """A Keras ``CosineDecay`` rate that warms up linearly, then follows a cosine down to a small value.

    Taught in notebook 05; a recipe with ``schedule="cosine"`` uses it (and no plateau rule).

    Args:
        learning_rate: The peak learning rate, reached at the end of the warm-up.
        warmup_epochs: Epochs of linear warm-up from 0 (0 for none).
        final_fraction: The last learning rate, as a fraction of the peak.
    """
    # CosineDecay accepts a rate of 0 and any alpha, and words a bad length only as
    # "decay_steps must be > 0": those are checked here.
    learning_rate = positive_number(learning_rate, "learning_rate")
    positive_int(epochs, "epochs"), positive_int(steps_per_epoch, "steps_per_epoch")
    whole = isinstance(warmup_epochs, int) and not isinstance(warmup_epochs, bool)
    if not (whole and 0 <= warmup_epochs < epochs):
        raise ValueError(
            f"warmup_epochs must be an integer in 0..epochs-1 ({epochs - 1}), got {warmup_epochs!r}."
        )
    if not 0.0 <= final_fraction < 1.0:
        raise ValueError(f"final_fraction must lie in [0, 1), got {final_fraction!r}.")
    warmup_steps = warmup_epochs * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else learning_rate,
        decay_steps=(epochs - warmup_epochs) * steps_per_epoch,
        alpha=final_fraction,
        warmup_target=learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )


def train_model(
    recipe: Recipe,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray] | None,
    *,
    model: keras.Model | None = None,
    run_dir: str | os.PathLike[str] | None = None,
    seed: int = 42,
    tensorboard: bool = False,
    verbose: int | str = 2,
) -> tuple[keras.Model, TrainingResult]:
    """Build, compile and train a model as a recipe says; return it and :func:`fit_model`'s result.

    Used by notebook 05, notebooks 04 and 06 (through :func:`load_or_train_baseline`), the search
    and the benchmarks.

    Args:
        validation: ``(images, labels)``; ``None`` for the final fit on all the training data.
        model: Train (and compile) this model instead of building the recipe's.
        run_dir: The run's folder; ``None``: ``runs/<the recipe's model>`` in the work folder.
    """
    model = recipe.build_model(seed) if model is None else model
    compile_model(model, recipe, steps_per_epoch=-(-len(train[1]) // recipe.batch_size))
    run_dir = get_config().run_dir(recipe.model) if run_dir is None else run_dir
    return model, fit_model(
        model, train, validation, recipe, run_dir=run_dir, tensorboard=tensorboard, seed=seed, verbose=verbose
    )


def load_or_train_baseline(train_images: np.ndarray, train_labels: np.ndarray) -> keras.Model:
    """Notebook 03's baseline: loaded from where notebook 03 saved it, or trained and saved there.

    For notebooks 04 and 06 run before notebook 03 (or on Colab): it is then trained as notebook
    03 does, on its 90% / 10% split of the 60,000 training images, sized by quick mode.
    """
    config = get_config()
    path = config.model_path("baseline_cnn")
    if path.exists():
        print(f"loaded {shown_path(path)}")
        return load_model(path)
    print(f"{shown_path(path)} not found: training the baseline with notebook 03's recipe")
    train, validation = train_validation_split(train_images, train_labels, validation_size=0.1, seed=42)
    model, _ = train_model(
        BASELINE_RECIPE,
        config.subset(*train, "train", quick_size=BASELINE_QUICK_TRAIN_SIZE),
        config.subset(*validation, "validation"),
        run_dir=config.run_dir("baseline"),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return model
