"""Compiling and training models with the callbacks a practitioner uses.

Taught in notebook 03, which explains each callback; notebooks 04 and 05 and the
benchmarks call :func:`fit_model` and :func:`train_baseline` instead of repeating it.

A training run lives in one folder (``run_dir``)::

    runs/baseline/
        best.keras          the best model so far (ModelCheckpoint)
        training_log.csv    one row per epoch (CSVLogger)
        logs/               TensorBoard's event files
        backup/             BackupAndRestore's state while a run is under way
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from fmnist_utils import _runtime
from fmnist_utils._checks import fraction, positive_int, positive_number
from fmnist_utils.config import get_config
from fmnist_utils.data import NUM_CLASSES, make_dataset, validate_images, validate_labels
from fmnist_utils.models import augmentation_layers, build_baseline_cnn, build_improved_cnn

__all__ = [
    "BASELINE_RECIPE",
    "IMPROVED_RECIPE",
    "SmoothedSparseCrossentropy",
    "TrainingResult",
    "build_improved_model",
    "compile_model",
    "compile_with_recipe",
    "cosine_schedule",
    "current_learning_rate",
    "fit_model",
    "load_model",
    "standard_callbacks",
    "train_baseline",
    "train_improved",
    "train_with_recipe",
]

#: How notebook 03 trains the baseline CNN; notebook 04 and the benchmark reuse it.
BASELINE_RECIPE = {
    "epochs": 15,
    "batch_size": 128,
    "learning_rate": 1e-3,
    "patience": 4,
    "reduce_lr_patience": 2,
    "validation_size": 0.1,
}

#: How notebook 05 trains the improved CNN; the benchmark reuses it. The model keys go to
#: :func:`build_improved_model`, the others to :func:`train_with_recipe`.
IMPROVED_RECIPE = {
    # Model: models.build_improved_cnn with in-model augmentation.
    "filters": (32, 64, 128),
    "dense_units": 256,
    "block_dropout": 0.1,
    "dropout_rate": 0.3,
    "horizontal_flip": True,
    "translation": 0.0,
    # Training.
    "epochs": 30,
    "batch_size": 128,
    "learning_rate": 2e-3,  # Notebook 05's search; its step comparison runs at 1e-3.
    "schedule": "cosine",
    "warmup_epochs": 1,
    "label_smoothing": 0.1,
    "validation_size": 0.1,
}

_SCHEDULES = ("constant", "plateau", "cosine")


@dataclass
class TrainingResult:
    """What :func:`fit_model` measured.

    Attributes:
        history: Per-epoch metrics (``loss``, ``accuracy``, ``val_loss``, ...),
            for the epochs run by this call.
        seconds: Wall-clock time of ``fit``, validation included.
        images_per_second: Training images processed per second of ``fit``.
        epochs_run: Epochs run by this call (fewer than asked after early stopping,
            or after resuming an interrupted run).
        best_epoch: 1-based epoch with the best monitored value in this call.
        run_dir: The run's folder.
        elapsed: Seconds from the start of ``fit`` to the end of each epoch
            (validation included), one entry per epoch of ``history``.
    """

    history: dict[str, list[float]]
    seconds: float
    images_per_second: float
    epochs_run: int
    best_epoch: int
    run_dir: Path
    elapsed: list[float] = field(default_factory=list)
    checkpoint_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.checkpoint_path = self.run_dir / "best.keras"

    def seconds_to_reach(self, value: float, metric: str = "val_accuracy") -> float | None:
        """Seconds of training until ``metric`` first reached ``value`` (``None``: never).

        Counts from the start of ``fit`` to the end of the first epoch whose ``metric``
        is at least ``value`` (for a loss, use a metric that grows, such as accuracy).

        Raises:
            KeyError: The history has no such metric.
        """
        if metric not in self.history:
            raise KeyError(f"no metric {metric!r} in the history; it has {sorted(self.history)}.")
        for reached, seconds in zip(self.history[metric], self.elapsed, strict=False):
            if reached >= value:
                return seconds
        return None


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


@keras.saving.register_keras_serializable(package="fmnist_utils")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy with label smoothing for integer labels.

    Taught in notebook 05. Keras' ``CategoricalCrossentropy(label_smoothing=...)``
    needs one-hot labels; this loss one-hot encodes the integer labels itself, so the
    data pipeline and the ``accuracy`` metric stay as they are. With smoothing ``s``
    the target of the true class is ``1 - s + s / K`` and every other class gets
    ``s / K`` (``K`` classes), which discourages over-confident predictions.

    Args:
        label_smoothing: ``s``, in [0, 1); 0 is the ordinary cross-entropy.
        num_classes: ``K``.
        name: Name of the loss.
    """

    def __init__(
        self,
        label_smoothing: float = 0.1,
        num_classes: int = NUM_CLASSES,
        name: str = "smoothed_sparse_crossentropy",
        **kwargs: object,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.label_smoothing = fraction(label_smoothing, "label_smoothing")
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
    """A learning rate that warms up linearly, then follows a cosine down to a small value.

    For notebook 05. Pass it to an optimizer instead of a fixed learning rate; it
    changes every step, so do not combine it with ``ReduceLROnPlateau``
    (``fit_model(reduce_lr_patience=None)``).

    Args:
        learning_rate: The peak learning rate, reached at the end of the warm-up.
        epochs: Length of the whole run, in epochs.
        steps_per_epoch: Training batches per epoch (``ceil(examples / batch_size)``).
        warmup_epochs: Epochs of linear warm-up from 0 (0 for none).
        final_fraction: The last learning rate, as a fraction of the peak.

    Returns:
        A Keras ``CosineDecay`` schedule.

    Raises:
        ValueError: A non-positive learning rate or length, or a warm-up as long as the run.
    """
    learning_rate = positive_number(learning_rate, "learning_rate")
    epochs = positive_int(epochs, "epochs")
    steps_per_epoch = positive_int(steps_per_epoch, "steps_per_epoch")
    if (
        isinstance(warmup_epochs, bool)
        or not isinstance(warmup_epochs, int)
        or not 0 <= warmup_epochs < epochs
    ):
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


def compile_model(
    model: keras.Model,
    *,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
    label_smoothing: float = 0.0,
) -> keras.Model:
    """Compile a classifier for integer labels: Adam, sparse cross-entropy, accuracy.

    Taught in notebook 03; notebook 05 adds the schedule and label smoothing.

    Args:
        model: A model whose output is a softmax over the classes.
        learning_rate: Adam's learning rate, or a schedule (see :func:`cosine_schedule`).
        label_smoothing: 0 for the ordinary loss; otherwise the smoothing of
            :class:`SmoothedSparseCrossentropy`.

    Returns:
        The same model, compiled.

    Raises:
        ValueError: ``learning_rate`` is not a positive number, or ``label_smoothing``
            is not in [0, 1).
    """
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = positive_number(learning_rate, "learning_rate", alternative=" or a schedule")
    label_smoothing = fraction(label_smoothing, "label_smoothing")
    loss = (
        SmoothedSparseCrossentropy(label_smoothing, num_classes=model.output_shape[-1])
        if label_smoothing
        else keras.losses.SparseCategoricalCrossentropy()
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=loss, metrics=["accuracy"]
    )
    return model


def current_learning_rate(model_or_optimizer: keras.Model | keras.optimizers.Optimizer) -> float:
    """The learning rate an optimizer uses now, as a Python number.

    For a model, its optimizer's; with a schedule (see :func:`cosine_schedule`), the
    schedule's value at the optimizer's current step. Use it in a callback to print the
    rate: ``float(optimizer.learning_rate)`` fails on Keras before 3.5, whose variables
    cannot be converted with ``float()`` (``TypeError: ... not 'Variable'``).

    Raises:
        ValueError: A model that is not compiled (it has no optimizer yet).
    """
    optimizer = model_or_optimizer
    if isinstance(model_or_optimizer, keras.Model):
        optimizer = getattr(model_or_optimizer, "optimizer", None)  # Set by compile().
    if optimizer is None:
        raise ValueError("the model is not compiled, so it has no learning rate yet: compile it first.")
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def standard_callbacks(
    run_dir: str | os.PathLike[str],
    *,
    monitor: str = "val_loss",
    patience: int | None = 4,
    reduce_lr_patience: int | None = 2,
    tensorboard: bool = True,
) -> list[keras.callbacks.Callback]:
    """The callbacks of every training run in the course.

    Taught in notebook 03:

    - ``EarlyStopping``: stop after ``patience`` epochs without improvement of
      ``monitor`` and restore the best weights (``patience=None`` leaves it out).
    - ``ReduceLROnPlateau``: halve the learning rate after ``reduce_lr_patience`` epochs
      without improvement, so the model can settle into a minimum (``None`` leaves it out).
    - ``ModelCheckpoint``: keep the best model in ``run_dir/best.keras``.
    - ``CSVLogger``: append one row per epoch to ``run_dir/training_log.csv``.
    - ``TensorBoard``: event files in ``run_dir/logs`` (``%tensorboard --logdir ...``).
    - ``BackupAndRestore``: save the state after every epoch in ``run_dir/backup``, so a
      run interrupted by a kernel restart resumes where it stopped when started again.

    Args:
        run_dir: The run's folder; created if needed.
        monitor: The validation metric that decides "best".
        patience: Epochs without improvement before stopping.
        reduce_lr_patience: Epochs without improvement before halving the learning rate.
        tensorboard: Include the TensorBoard callback.

    Returns:
        The callbacks, to pass to ``model.fit(callbacks=...)``.
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


def fit_model(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray] | None,
    *,
    epochs: int,
    batch_size: int = 128,
    run_dir: str | os.PathLike[str] | None = None,
    monitor: str = "val_loss",
    patience: int | None = 4,
    reduce_lr_patience: int | None = 2,
    tensorboard: bool = True,
    seed: int = 42,
    extra_callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | str = 2,
) -> TrainingResult:
    """Train a compiled model on ``uint8`` images with the standard callbacks.

    Taught in notebook 03. Builds shuffled ``tf.data`` pipelines (see
    :func:`fmnist_utils.data.make_dataset`), calls :func:`standard_callbacks` and
    ``model.fit``, and measures the time. The model ends with the best weights
    (early stopping restores them) and the best model is also saved in
    ``run_dir/best.keras``. A run interrupted by a kernel restart resumes from its last
    completed epoch when this is called again with the same ``run_dir``, and appends to
    its log; a new run in the same folder starts a new log.

    Args:
        model: A compiled model (see :func:`compile_model`).
        train: ``(images, labels)`` to train on: ``uint8`` images, integer labels.
        validation: ``(images, labels)`` to monitor, taken from the training data;
            ``None`` trains without one (the final fit on all the training data), and
            then ``monitor`` is its training counterpart (``val_loss`` becomes ``loss``).
        epochs: The most epochs to train.
        batch_size: Examples per training step.
        run_dir: The run's folder (see the module docstring); ``None``: ``runs/model`` in the
            course's work folder (:func:`fmnist_utils.config.default_work_dir`), whatever the
            working folder.
        monitor: The validation metric for early stopping and the checkpoint.
        patience: Epochs without improvement before stopping; ``None``: never stop early.
        reduce_lr_patience: Epochs without improvement before halving the learning rate;
            ``None``: keep it constant.
        tensorboard: Write TensorBoard logs.
        seed: Seed of the shuffling.
        extra_callbacks: More callbacks, run after the standard ones.
        verbose: ``model.fit``'s verbosity (2: one line per epoch).

    Returns:
        The history and timings of this call.

    Raises:
        ValueError: The model is not compiled, or bad images, labels or options.
    """
    if not getattr(model, "compiled", False) or model.optimizer is None:
        raise ValueError(
            "the model is not compiled: call fmnist_utils.training.compile_model(model) "
            "or model.compile(...) first."
        )
    epochs = positive_int(epochs, "epochs")
    pairs = [("train", train)] if validation is None else [("train", train), ("validation", validation)]
    for name, (images, labels) in pairs:
        validate_images(images, name=f"{name} images")
        validate_labels(labels, name=f"{name} labels")
    if validation is None:
        monitor = monitor.removeprefix("val_")
    machine = get_config()  # A small machine (Binder) gets smaller buffers and batches.
    run_dir = machine.run_dir("model") if run_dir is None else Path(run_dir)
    backup = run_dir / "backup"
    if not (backup.is_dir() and any(backup.iterdir())):
        # A fresh run (not the resumption of an interrupted one) starts a fresh log.
        (run_dir / "training_log.csv").unlink(missing_ok=True)
    train_dataset = make_dataset(
        *train,
        batch_size=batch_size,
        shuffle=True,
        seed=seed,
        shuffle_buffer=machine.shuffle_buffer(len(train[1])),
    )
    validation_dataset = (
        None
        if validation is None
        else make_dataset(*validation, batch_size=machine.eval_batch_size(max(batch_size, 512)))
    )
    callbacks = standard_callbacks(
        run_dir,
        monitor=monitor,
        patience=patience,
        reduce_lr_patience=reduce_lr_patience,
        tensorboard=tensorboard,
    )
    clock = _EpochClock()
    callbacks += [clock, *(extra_callbacks or []), *_runtime.training_callbacks(machine.small_machine)]

    start = time.perf_counter()
    history = model.fit(
        train_dataset,
        validation_data=validation_dataset,
        epochs=epochs,
        callbacks=callbacks,
        shuffle=False,  # The tf.data pipeline shuffles every epoch already.
        verbose=verbose,
    )
    seconds = time.perf_counter() - start

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
        images_per_second=epochs_run * len(train[1]) / seconds if seconds > 0 else float("nan"),
        epochs_run=epochs_run,
        best_epoch=history.epoch[best_index] + 1 if history.epoch else 0,
        run_dir=run_dir,
        elapsed=list(clock.elapsed),
    )


def train_baseline(
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    *,
    epochs: int | None = None,
    run_dir: str | os.PathLike[str] | None = None,
    tensorboard: bool = False,
    verbose: int | str = 2,
) -> tuple[keras.Model, TrainingResult]:
    """Build, compile and train the baseline CNN with notebook 03's recipe.

    Used by notebook 04 (when notebook 03's saved model is missing) and by the
    benchmarks, so that they train exactly what notebook 03 trains.

    Args:
        train: Training ``(images, labels)``.
        validation: Validation ``(images, labels)``.
        epochs: Epochs (default: :data:`BASELINE_RECIPE`'s).
        run_dir: The run's folder.
        tensorboard: Write TensorBoard logs.
        verbose: ``model.fit``'s verbosity.

    Returns:
        The trained model (best weights) and what training measured.
    """
    model = compile_model(build_baseline_cnn(), learning_rate=BASELINE_RECIPE["learning_rate"])
    result = fit_model(
        model,
        train,
        validation,
        epochs=BASELINE_RECIPE["epochs"] if epochs is None else epochs,
        batch_size=BASELINE_RECIPE["batch_size"],
        patience=BASELINE_RECIPE["patience"],
        reduce_lr_patience=BASELINE_RECIPE["reduce_lr_patience"],
        run_dir=get_config().run_dir("baseline") if run_dir is None else run_dir,
        tensorboard=tensorboard,
        verbose=verbose,
    )
    return model, result


def build_improved_model(recipe: dict | None = None, *, seed: int | None = 42) -> keras.Model:
    """Build the improved CNN (uncompiled) from the model keys of a recipe.

    Args:
        recipe: Keys of :data:`IMPROVED_RECIPE` to change (the others keep its values).
        seed: Seed of the augmentation layers.

    Returns:
        :func:`fmnist_utils.models.build_improved_cnn`'s model, with
        :func:`fmnist_utils.models.augmentation_layers` when the recipe asks for any.

    Raises:
        ValueError: An unknown key, or a bad value (the message names it).
    """
    recipe = _full_recipe(recipe)
    augmentation = None
    if recipe["horizontal_flip"] or recipe["translation"]:
        augmentation = augmentation_layers(
            translation=recipe["translation"], zoom=0.0, horizontal_flip=recipe["horizontal_flip"], seed=seed
        )
    return build_improved_cnn(
        filters=recipe["filters"],
        dense_units=recipe["dense_units"],
        block_dropout=recipe["block_dropout"],
        dropout_rate=recipe["dropout_rate"],
        augmentation=augmentation,
    )


def _full_recipe(recipe: dict | None) -> dict:
    recipe = dict(recipe or {})
    unknown = sorted(set(recipe) - set(IMPROVED_RECIPE))
    if unknown:
        raise ValueError(f"unknown recipe keys {unknown}; the keys are {sorted(IMPROVED_RECIPE)}.")
    return {**IMPROVED_RECIPE, **recipe}


def compile_with_recipe(
    model: keras.Model, recipe: dict | None, *, epochs: int, steps_per_epoch: int
) -> keras.Model:
    """Compile a model with the learning rate, schedule and label smoothing of a recipe.

    Used by :func:`train_with_recipe` and by the KerasTuner search
    (:mod:`fmnist_utils.tuning`), so both compile the same way. ``"cosine"`` builds
    :func:`cosine_schedule` over ``epochs``; ``"constant"`` and ``"plateau"`` start
    from a fixed rate (the plateau rule is a callback, added by :func:`fit_model`).

    Args:
        model: The model to compile.
        recipe: Keys of :data:`IMPROVED_RECIPE` to change.
        epochs: Length of the run the schedule spans.
        steps_per_epoch: Training batches per epoch.

    Returns:
        The same model, compiled.

    Raises:
        ValueError: An unknown key or schedule, or a bad value.
    """
    recipe = _full_recipe(recipe)
    schedule = recipe["schedule"]
    if schedule not in _SCHEDULES:
        raise ValueError(f"schedule must be one of {_SCHEDULES}, got {schedule!r}.")
    learning_rate = recipe["learning_rate"]
    if schedule == "cosine":
        learning_rate = cosine_schedule(
            learning_rate=learning_rate,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            warmup_epochs=min(recipe["warmup_epochs"], epochs - 1),
        )
    return compile_model(model, learning_rate=learning_rate, label_smoothing=recipe["label_smoothing"])


def train_with_recipe(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray] | None,
    *,
    recipe: dict | None = None,
    epochs: int | None = None,
    run_dir: str | os.PathLike[str] | None = None,
    tensorboard: bool = False,
    verbose: int | str = 2,
) -> TrainingResult:
    """Compile an uncompiled model and train it with the training keys of a recipe.

    Taught in notebook 05, whose comparison trains every step through it. The schedule
    is one of:

    - ``"constant"``: ``learning_rate`` all along;
    - ``"plateau"``: halve it after 2 epochs without progress (notebook 03's recipe);
    - ``"cosine"``: :func:`cosine_schedule` with ``warmup_epochs`` over all the epochs.

    No early stopping: every run trains for all its epochs, so runs compare at the same
    budget, and with the cosine schedule the last epoch is the one the schedule aims at.
    ``run_dir/best.keras`` still keeps the epoch with the best validation accuracy
    (training accuracy when there is no validation set).

    Args:
        model: The model to train (compiled here, so any earlier compile is replaced).
        train: Training ``(images, labels)``.
        validation: Validation ``(images, labels)``, taken from the training data;
            ``None`` for a final fit on all the training data (see :func:`fit_model`).
        recipe: Keys of :data:`IMPROVED_RECIPE` to change; only the training keys
            (``batch_size``, ``learning_rate``, ``schedule``, ``warmup_epochs``,
            ``label_smoothing``, ``epochs``) are used here.
        epochs: Overrides the recipe's epochs (quick mode passes a smaller number).
        run_dir: The run's folder.
        tensorboard: Write TensorBoard logs.
        verbose: ``model.fit``'s verbosity.

    Returns:
        What training measured; the model keeps its last epoch's weights.

    Raises:
        ValueError: An unknown key or schedule, or a bad value.
    """
    recipe = _full_recipe(recipe)
    epochs = positive_int(recipe["epochs"] if epochs is None else epochs, "epochs")
    batch_size = positive_int(recipe["batch_size"], "batch_size")
    compile_with_recipe(model, recipe, epochs=epochs, steps_per_epoch=-(-len(train[1]) // batch_size))
    return fit_model(
        model,
        train,
        validation,
        epochs=epochs,
        batch_size=batch_size,
        run_dir=run_dir,
        monitor="val_accuracy",
        patience=None,
        reduce_lr_patience=2 if recipe["schedule"] == "plateau" else None,
        tensorboard=tensorboard,
        verbose=verbose,
    )


def train_improved(
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray] | None,
    *,
    recipe: dict | None = None,
    epochs: int | None = None,
    run_dir: str | os.PathLike[str] | None = None,
    tensorboard: bool = False,
    verbose: int | str = 2,
) -> tuple[keras.Model, TrainingResult]:
    """Build and train the improved CNN with notebook 05's recipe.

    Used by notebook 05 and by the benchmark, so that they train the same model.

    Args:
        train: Training ``(images, labels)``.
        validation: Validation ``(images, labels)``; ``None`` for the final fit on all
            the training data, once every choice is made.
        recipe: Keys of :data:`IMPROVED_RECIPE` to change.
        epochs: Overrides the recipe's epochs.
        run_dir: The run's folder.
        tensorboard: Write TensorBoard logs.
        verbose: ``model.fit``'s verbosity.

    Returns:
        The trained model (last epoch's weights) and what training measured.
    """
    model = build_improved_model(recipe)
    result = train_with_recipe(
        model,
        train,
        validation,
        recipe=recipe,
        epochs=epochs,
        run_dir=get_config().run_dir("improved") if run_dir is None else run_dir,
        tensorboard=tensorboard,
        verbose=verbose,
    )
    return model, result


def load_model(path: str | os.PathLike[str]) -> keras.Model:
    """Load a model saved as a ``.keras`` file, with Keras' safe mode on.

    Safe mode refuses files that would run arbitrary code (lambda layers) when loaded.

    Raises:
        FileNotFoundError: No such file; the message says which notebook makes it.
        ValueError: Not a ``.keras`` file.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path}: expected a .keras file saved with model.save(...).")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file. Notebook 03 trains and saves it.")
    return keras.models.load_model(path, safe_mode=True)
