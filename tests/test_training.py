"""Training helpers: callbacks write their files, results are measured, runs resume."""

from __future__ import annotations

import csv
import dataclasses
import gc
import itertools
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import custom_gradients

from fmnist_utils import _runtime, config
from fmnist_utils.models import build_baseline_cnn
from fmnist_utils.training import (
    BASELINE_RECIPE,
    IMPROVED_RECIPE,
    Recipe,
    SmoothedSparseCrossentropy,
    compile_model,
    cosine_schedule,
    current_learning_rate,
    fit_model,
    load_model,
    standard_callbacks,
    train_model,
)


def recipe(**changes) -> Recipe:
    """The baseline recipe with some fields changed."""
    return BASELINE_RECIPE.replace(**changes)


def small_model():
    return compile_model(
        build_baseline_cnn(filters=(4,), dense_units=8, dropout_rate=0.0), recipe(learning_rate=1e-2)
    )


#: A small improved-style recipe that trains in a second on tiny_data.
SMALL_IMPROVED = IMPROVED_RECIPE.replace(filters=(4,), convs_per_block=(1,))


class Interrupt(keras.callbacks.Callback):
    """Stops training at the start of an epoch, the way a kernel restart would."""

    def __init__(self, at_epoch: int):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise RuntimeError("interrupted")


def test_compile_model_sets_loss_and_metric():
    model = small_model()
    assert model.compiled
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert current_learning_rate(model) == pytest.approx(1e-2)
    with pytest.raises(ValueError, match=r"learning_rate must be a positive number"):
        recipe(learning_rate=0)


class _NoFloatVariable:
    """A learning rate as Keras before 3.5 holds it: convertible by NumPy, not by ``float()``."""

    def __init__(self, value):
        self.value = value

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)


def test_current_learning_rate_of_a_model_an_optimizer_and_a_schedule():
    model = small_model()
    assert current_learning_rate(model) == pytest.approx(1e-2)
    assert isinstance(current_learning_rate(model), float)
    assert current_learning_rate(keras.optimizers.SGD(learning_rate=0.25)) == 0.25
    schedule = cosine_schedule(learning_rate=1e-2, epochs=3, steps_per_epoch=10, warmup_epochs=1)
    optimizer = keras.optimizers.Adam(learning_rate=schedule)
    assert current_learning_rate(optimizer) == pytest.approx(0.0)  # Step 0 of the warm-up.
    optimizer.iterations.assign(10)
    assert current_learning_rate(optimizer) == pytest.approx(1e-2)  # Its end: the peak.
    with pytest.raises(ValueError, match=r"not compiled"):
        current_learning_rate(build_baseline_cnn(filters=(4,), dense_units=8))


def test_current_learning_rate_of_an_uncompiled_model_says_to_compile_it():
    with pytest.raises(
        ValueError, match=r"^the model is not compiled, so it has no learning rate yet: compile it first\.$"
    ):
        current_learning_rate(build_baseline_cnn())


def test_current_learning_rate_does_not_need_float_on_a_variable():
    """Keras 3.0 to 3.4 variables have no ``__float__``: ``float(optimizer.learning_rate)`` fails."""
    rate = _NoFloatVariable(np.float32(0.5))
    with pytest.raises(TypeError):
        float(rate)
    optimizer = type("Optimizer", (), {"learning_rate": rate})()
    assert current_learning_rate(optimizer) == 0.5


def test_standard_callbacks(tmp_path):
    callbacks = standard_callbacks(tmp_path / "run", patience=2)
    kinds = [type(callback).__name__ for callback in callbacks]
    assert kinds == [
        "BackupAndRestore",
        "ModelCheckpoint",
        "CSVLogger",
        "ReduceLROnPlateau",
        "EarlyStopping",
        "TensorBoard",
    ]
    assert callbacks[3].patience == 2
    assert callbacks[3].factor == 0.5
    early = callbacks[4]
    assert early.restore_best_weights
    assert early.patience == 2
    assert [
        type(c).__name__
        for c in standard_callbacks(
            tmp_path / "r2", patience=None, reduce_lr_patience=None, tensorboard=False
        )
    ] == [
        "BackupAndRestore",
        "ModelCheckpoint",
        "CSVLogger",
    ]


def test_standard_callbacks_default_to_notebook_03s_choices(tmp_path):
    """Notebook 03 calls standard_callbacks(run_dir, patience=...) and relies on the rest."""
    checkpoint, plateau, early = (standard_callbacks(tmp_path / "run")[i] for i in (1, 3, 4))
    assert (checkpoint.monitor, plateau.monitor, early.monitor) == ("val_loss",) * 3
    assert (plateau.patience, early.patience) == (2, 4)


def test_the_improved_models_flips_follow_the_seed(tiny_data):
    """Same seed, same flips (a notebook run twice trains the same way); the default is 42."""
    images = tiny_data[0][0][:16, :, :, None]

    def flipped(model):
        return np.asarray(model.get_layer("augmentation")(images.astype("float32"), training=True))

    np.testing.assert_array_equal(
        flipped(IMPROVED_RECIPE.build_model(seed=7)), flipped(IMPROVED_RECIPE.build_model(seed=7))
    )
    np.testing.assert_array_equal(
        flipped(IMPROVED_RECIPE.build_model()), flipped(IMPROVED_RECIPE.build_model(seed=42))
    )


def _drive(callbacks, values, monitor="val_accuracy"):
    """Run callbacks over epochs whose monitored metric takes these values; return the model."""
    model = small_model()
    for callback in callbacks:
        callback.set_model(model)
        callback.on_train_begin()
    for epoch, value in enumerate(values):
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        for callback in callbacks:
            callback.on_epoch_end(epoch, {monitor: value, "learning_rate": current_learning_rate(model)})
        if model.stop_training:
            break
    for callback in callbacks:
        callback.on_train_end()
    return model


@pytest.mark.parametrize(
    ("monitor", "values"), [("val_accuracy", [0.5, 0.7, 0.6, 0.6]), ("val_loss", [0.5, 0.3, 0.4, 0.4])]
)
def test_standard_callbacks_keep_the_best_epoch_of_the_metric_they_watch(
    tmp_path, monkeypatch, capsys, monitor, values
):
    """Accuracy improves upwards, loss downwards: the checkpoint saves only improvements, the
    plateau rule halves the rate after 2 epochs without one (down to at most 1e-5), early
    stopping stops after 2, and both say so in the log (notebook 03 reads it)."""
    saved = []
    monkeypatch.setattr(keras.Model, "save", lambda self, path, *a, **k: saved.append(str(path)))
    callbacks = standard_callbacks(tmp_path / "run", monitor=monitor, patience=2, tensorboard=False)
    model = _drive(callbacks, values, monitor)
    assert len(saved) == 2  # Epochs 1 and 2: the first value, then the improvement.
    assert current_learning_rate(model) == pytest.approx(0.5e-2)
    assert model.stop_training
    log = capsys.readouterr().out
    assert "ReduceLROnPlateau reducing learning rate to 0.004999" in log
    assert "early stopping" in log
    floor = standard_callbacks(
        tmp_path / "floor", monitor=monitor, patience=None, reduce_lr_patience=1, tensorboard=False
    )
    model = _drive(floor, [values[0]] * 12, monitor)
    assert current_learning_rate(model) == pytest.approx(1e-5)


def test_cosine_schedule_checks_name_their_argument():
    options = {"learning_rate": 1e-3, "epochs": 3, "steps_per_epoch": 10}
    assert float(cosine_schedule(**options)(10)) == pytest.approx(1e-3)  # One epoch of warm-up by default.
    for key, bad, message in [
        ("learning_rate", 0, r"^learning_rate must be a positive number"),  # CosineDecay accepts 0.
        ("epochs", 0, r"^epochs must be a positive integer, got 0\."),
        ("final_fraction", 1.0, r"^final_fraction must lie in \[0, 1\)"),  # CosineDecay accepts any alpha.
        (
            "steps_per_epoch",
            0,
            r"^steps_per_epoch must be a positive integer, got 0\.",
        ),  # Keras: decay_steps.
        ("warmup_epochs", 1.5, r"^warmup_epochs must be an integer in 0\.\.epochs-1 \(2\), got 1\.5"),
        ("warmup_epochs", None, r"^warmup_epochs must be an integer .*got None"),
    ]:
        with pytest.raises(ValueError, match=message):
            cosine_schedule(**{**options, key: bad})
    assert float(cosine_schedule(**options, final_fraction=0.0)(30)) == pytest.approx(0.0, abs=1e-12)


def test_fit_model_follows_notebook_03s_recipe_by_default(tmp_path, tiny_data, monkeypatch):
    from fmnist_utils import training

    seen = {}
    original_callbacks, original_dataset = training.standard_callbacks, training.make_dataset
    monkeypatch.setattr(
        training,
        "standard_callbacks",
        lambda run_dir, **o: seen.update(o) or original_callbacks(run_dir, **o),
    )
    monkeypatch.setattr(
        training, "make_dataset", lambda *a, **o: seen.setdefault("dataset", o) and original_dataset(*a, **o)
    )
    model = small_model()
    fit = model.fit
    monkeypatch.setattr(
        model, "fit", lambda *a, **o: seen.update(verbose=o["verbose"], epochs=o["epochs"]) or fit(*a, **o)
    )
    fit_model(model, *tiny_data, recipe(epochs=1), run_dir=tmp_path / "run")
    assert (seen["patience"], seen["reduce_lr_patience"], seen["monitor"]) == (4, 2, "val_loss")
    assert (seen["dataset"]["batch_size"], seen["dataset"]["seed"], seen["verbose"]) == (128, 42, 2)
    assert (seen["dataset"]["shuffle"], seen["tensorboard"], seen["epochs"]) == (True, True, 1)
    seen.clear()
    changed = recipe(epochs=1, monitor="val_accuracy", schedule="constant")
    fit_model(model, *tiny_data, changed, run_dir=tmp_path / "other", tensorboard=False, seed=3, verbose=0)
    assert {key: seen[key] for key in ("monitor", "reduce_lr_patience", "tensorboard")} == {
        "monitor": "val_accuracy",
        "reduce_lr_patience": None,
        "tensorboard": False,
    }
    assert (seen["dataset"]["seed"], seen["verbose"]) == (3, 0)
    (images, labels), _ = tiny_data
    with pytest.raises(ValueError, match=r"^train images must have dtype uint8"):
        fit_model(model, (images / 255.0, labels), None, recipe(epochs=1), run_dir=tmp_path / "bad")


def test_compile_model_defaults_to_adams_rate_and_names_a_bad_one():
    assert current_learning_rate(compile_model(build_baseline_cnn())) == pytest.approx(1e-3)
    for bad in (0, "1e-3"):
        with pytest.raises(ValueError, match=rf"^learning_rate must be a positive number, got {bad!r}\.$"):
            recipe(learning_rate=bad)
    with pytest.raises(ValueError, match=r"^learning_rate must be a positive number, got 0\.$"):
        cosine_schedule(learning_rate=0, epochs=3, steps_per_epoch=10)


def test_fit_model_writes_every_artifact_and_measures(tmp_path, tiny_data):
    keras.utils.set_random_seed(0)
    run_dir = tmp_path / "run"
    model = small_model()
    start = time.perf_counter()
    result = fit_model(
        model, *tiny_data, recipe(epochs=3, batch_size=16, patience=None), run_dir=run_dir, verbose=0
    )
    wall_seconds = time.perf_counter() - start
    assert result.epochs_run == 3
    assert set(result.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(result.history["val_loss"]) == 3
    # The time of fit() itself: at least its three epochs, at most the whole call.
    assert result.elapsed[-1] <= result.seconds <= wall_seconds
    assert result.images_per_second == pytest.approx(3 * 48 / result.seconds)
    assert result.best_epoch == int(np.argmin(result.history["val_loss"])) + 1
    assert result.checkpoint_path == run_dir / "best.keras"
    assert result.checkpoint_path.is_file()
    with open(run_dir / "training_log.csv") as file:
        assert [row["epoch"] for row in csv.DictReader(file)] == ["0", "1", "2"]
    assert any((run_dir / "logs").rglob("events.out.tfevents.*"))
    assert not (run_dir / "backup").exists() or not any((run_dir / "backup").iterdir())  # Deleted when done.
    reloaded = load_model(result.checkpoint_path)
    assert reloaded.count_params() == model.count_params()


def test_fit_model_without_a_run_dir_writes_to_the_work_folder_not_the_working_folder(
    tmp_path, tiny_data, monkeypatch
):
    """A student's own fit_model call, from a notebook started elsewhere (exercise 03.4)."""
    monkeypatch.setenv("FMNIST_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.delenv("FMNIST_QUICK", raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = fit_model(small_model(), *tiny_data, recipe(epochs=1, batch_size=16, patience=None), verbose=0)
    assert result.run_dir == tmp_path / "work/runs/model"
    assert (result.run_dir / "training_log.csv").is_file()
    assert list(elsewhere.iterdir()) == []


def test_early_stopping_restores_best_weights(tmp_path, tiny_data):
    keras.utils.set_random_seed(0)
    model = compile_model(
        build_baseline_cnn(filters=(4,), dense_units=8), recipe(learning_rate=0.5)
    )  # Diverges.
    result = fit_model(
        model, *tiny_data, recipe(epochs=8, batch_size=16, patience=1), run_dir=tmp_path / "r", verbose=0
    )
    assert result.epochs_run < 8
    best = min(result.history["val_loss"])
    restored = model.evaluate(*_with_channel(tiny_data[1]), verbose=0)[0]
    assert restored == pytest.approx(best, rel=1e-4)


def _with_channel(pair):
    images, labels = pair
    return images[..., None], labels


def test_interrupted_run_resumes_from_its_last_epoch(tmp_path, tiny_data):
    run_dir = tmp_path / "run"
    keras.utils.set_random_seed(0)
    model = small_model()
    with pytest.raises(RuntimeError, match="interrupted"):
        fit_model(
            model,
            *tiny_data,
            recipe(epochs=5, batch_size=16, patience=None),
            run_dir=run_dir,
            tensorboard=False,
            extra_callbacks=[Interrupt(at_epoch=3)],
            verbose=0,
        )
    assert any((run_dir / "backup").iterdir())  # The state of epoch 3 is on disk.
    weights_at_interruption = model.get_weights()
    step_at_interruption = int(np.asarray(model.optimizer.iterations))
    optimizer_at_interruption = [np.array(variable) for variable in model.optimizer.variables]

    # A kernel restart: a fresh model object, the same run folder.
    keras.utils.set_random_seed(1)
    fresh = small_model()
    seen_at_start = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if not seen_at_start:
                optimizer = self.model.optimizer
                state = [np.array(variable) for variable in optimizer.variables]
                weights = [w.copy() for w in self.model.get_weights()]
                seen_at_start.append((epoch, weights, int(np.asarray(optimizer.iterations)), state))

    result = fit_model(
        fresh,
        *tiny_data,
        recipe(epochs=5, batch_size=16, patience=None),
        run_dir=run_dir,
        tensorboard=False,
        extra_callbacks=[Spy()],
        verbose=0,
    )
    first_epoch, restored_weights, restored_step, restored_optimizer = seen_at_start[0]
    assert first_epoch == 3  # Epochs 0-2 are not repeated.
    assert result.epochs_run == 2
    # Counted like the log and TensorBoard count: epochs 4 and 5 of the run, not 1 and 2.
    assert result.best_epoch == 4 + int(np.argmin(result.history["val_loss"]))
    for restored, saved in zip(restored_weights, weights_at_interruption, strict=True):
        np.testing.assert_allclose(restored, saved)
    # Adam's state too: its step count (which a schedule follows) and its moments.
    assert restored_step == step_at_interruption > 0
    for restored, saved in zip(restored_optimizer, optimizer_at_interruption, strict=True):
        np.testing.assert_allclose(restored, saved)
    with open(run_dir / "training_log.csv") as file:
        assert [row["epoch"] for row in csv.DictReader(file)] == ["0", "1", "2", "3", "4"]


def test_a_new_run_in_the_same_folder_starts_a_new_log(tmp_path, tiny_data):
    run_dir = tmp_path / "run"
    for epochs in (3, 2):
        keras.utils.set_random_seed(0)
        fit_model(
            small_model(),
            *tiny_data,
            recipe(epochs=epochs, batch_size=16, patience=None),
            run_dir=run_dir,
            tensorboard=False,
            verbose=0,
        )
    with open(run_dir / "training_log.csv") as file:
        assert [row["epoch"] for row in csv.DictReader(file)] == ["0", "1"]


def test_fit_model_refuses_uncompiled_model_and_bad_input(tmp_path, tiny_data):
    with pytest.raises(ValueError, match=r"the model is not compiled"):
        fit_model(build_baseline_cnn(), *tiny_data, recipe(epochs=1), run_dir=tmp_path)
    (images, labels), validation = tiny_data
    with pytest.raises(ValueError, match=r"train images must have dtype uint8"):
        fit_model(small_model(), (images / 255.0, labels), validation, recipe(epochs=1), run_dir=tmp_path)
    with pytest.raises(ValueError, match=r"validation labels must lie in 0\.\.9"):
        fit_model(
            small_model(),
            (images, labels),
            (validation[0], validation[1] + 10),
            recipe(epochs=1),
            run_dir=tmp_path,
        )
    with pytest.raises(ValueError, match=r"epochs must be a positive integer"):
        fit_model(small_model(), (images, labels), validation, recipe(epochs=0), run_dir=tmp_path)


def test_train_model_trains_the_baseline_recipe(tmp_path, tiny_data):
    keras.utils.set_random_seed(0)
    model, result = train_model(recipe(epochs=1), *tiny_data, run_dir=tmp_path / "baseline", verbose=0)
    assert model.name == "baseline_cnn"
    assert current_learning_rate(model) == pytest.approx(BASELINE_RECIPE.learning_rate)
    assert result.epochs_run == 1


def test_recipes_are_frozen_checked_and_changed_by_copy():
    with pytest.raises(dataclasses.FrozenInstanceError):
        BASELINE_RECIPE.epochs = 3
    assert BASELINE_RECIPE.replace(epochs=3).epochs == 3
    assert BASELINE_RECIPE.epochs == 15
    for changes, message in [
        ({"model": "resnet"}, r"model must be 'baseline' or 'improved'"),
        ({"schedule": "linear"}, r"schedule must be one of \('plateau', 'constant', 'cosine'\)"),
        ({"convs_per_block": (1, 2)}, r"the baseline CNN has one convolution per block"),
        ({"epochs": 0}, r"^epochs must be a positive integer"),
        ({"batch_size": 0}, r"^batch_size must be a positive integer"),
        ({"label_smoothing": 1.0}, r"label_smoothing must be a number in \[0, 1\)"),
        ({"patience": 0}, r"patience must be a positive integer"),
    ]:
        with pytest.raises(ValueError, match=message):
            recipe(**changes)
    with pytest.raises(TypeError, match="epoch"):
        recipe(epoch=3)


def test_the_recipes_are_notebook_03s_and_05s():
    assert (BASELINE_RECIPE.epochs, BASELINE_RECIPE.batch_size, BASELINE_RECIPE.learning_rate) == (
        15,
        128,
        1e-3,
    )
    assert (BASELINE_RECIPE.patience, BASELINE_RECIPE.schedule, BASELINE_RECIPE.monitor) == (
        4,
        "plateau",
        "val_loss",
    )
    assert (IMPROVED_RECIPE.epochs, IMPROVED_RECIPE.learning_rate, IMPROVED_RECIPE.schedule) == (
        24,
        4e-3,
        "cosine",
    )
    assert (IMPROVED_RECIPE.patience, IMPROVED_RECIPE.monitor, IMPROVED_RECIPE.label_smoothing) == (
        None,
        "val_accuracy",
        0.1,
    )
    assert BASELINE_RECIPE.build_model().count_params() == 421_642  # Notebook 02's baseline.
    assert IMPROVED_RECIPE.build_model().count_params() == 289_962
    assert (IMPROVED_RECIPE.horizontal_flip, IMPROVED_RECIPE.translation) == (True, 0.08)


def test_load_model_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Notebook 03 trains and saves it"):
        load_model(tmp_path / "missing.keras")
    with pytest.raises(ValueError, match=r"expected a \.keras file"):
        load_model(tmp_path / "model.h5")


def test_cosine_schedule_warms_up_then_decays():
    schedule = cosine_schedule(learning_rate=1e-3, epochs=10, steps_per_epoch=100, warmup_epochs=1)
    at = lambda step: float(schedule(step))  # noqa: E731
    assert at(0) == pytest.approx(0.0, abs=1e-12)
    assert at(50) == pytest.approx(0.5e-3, rel=1e-3)  # Linear warm-up.
    assert at(100) == pytest.approx(1e-3, rel=1e-3)  # The peak.
    assert at(550) == pytest.approx(1e-3 * (0.01 + 0.99 * 0.5), rel=1e-3)  # Half-way down the cosine.
    assert at(1000) == pytest.approx(1e-5, rel=1e-2)  # The floor: 1% of the peak.
    values = [at(step) for step in range(100, 1001, 50)]
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_cosine_schedule_without_warmup_and_errors():
    schedule = cosine_schedule(learning_rate=2e-3, epochs=4, steps_per_epoch=10, warmup_epochs=0)
    assert float(schedule(0)) == pytest.approx(2e-3)
    with pytest.raises(ValueError, match=r"warmup_epochs must be an integer in 0\.\.epochs-1"):
        cosine_schedule(learning_rate=1e-3, epochs=3, steps_per_epoch=10, warmup_epochs=3)


def test_compile_model_follows_a_cosine_recipe(tmp_path, tiny_data):
    model = build_baseline_cnn(filters=(4,), dense_units=8)
    compile_model(
        model, recipe(learning_rate=1e-2, schedule="cosine", epochs=2, warmup_epochs=0), steps_per_epoch=3
    )
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(1e-2)
    with pytest.raises(ValueError, match="a cosine schedule needs steps_per_epoch"):
        compile_model(build_baseline_cnn(), recipe(schedule="cosine"))
    result = fit_model(
        model,
        *tiny_data,
        recipe(epochs=2, batch_size=16, patience=None, schedule="constant"),
        run_dir=tmp_path / "r",
        tensorboard=False,
        verbose=0,
    )
    assert result.epochs_run == 2


def test_smoothed_loss_matches_keras_on_one_hot_labels():
    labels = np.array([0, 3, 9, 3])
    probabilities = keras.ops.softmax(np.random.default_rng(0).normal(size=(4, 10)).astype("float32"))
    ours = SmoothedSparseCrossentropy(0.1)(labels, probabilities)
    reference = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)(np.eye(10)[labels], probabilities)
    assert float(ours) == pytest.approx(float(reference), rel=1e-6)
    plain = keras.losses.SparseCategoricalCrossentropy()(labels, probabilities)
    assert float(SmoothedSparseCrossentropy(0.0)(labels, probabilities)) == pytest.approx(
        float(plain), rel=1e-6
    )
    # Smoothing penalises a confident correct answer: the loss of a perfect one-hot guess is > 0.
    assert float(SmoothedSparseCrossentropy(0.1)(labels, np.eye(10, dtype="float32")[labels])) > 0.1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"label_smoothing": 1.5}, r"label_smoothing must be a number in \[0, 1\), got 1\.5"),
        ({"label_smoothing": -0.5}, r"label_smoothing must be a number in \[0, 1\), got -0\.5"),
        ({"num_classes": 0}, r"num_classes must be a positive integer, got 0"),
    ],
)
def test_smoothed_loss_rejects_what_keras_would_compute(options, message):
    """Notebook 05 calls the loss directly; Keras checks nothing of our own loss (1.5 gave 12.29)."""
    with pytest.raises(ValueError, match=message):
        SmoothedSparseCrossentropy(**options)


def test_smoothed_loss_defaults_and_options_survive_a_save():
    loss = SmoothedSparseCrossentropy()
    assert (loss.label_smoothing, loss.num_classes, loss.name) == (0.1, 10, "smoothed_sparse_crossentropy")
    summed = SmoothedSparseCrossentropy(0.1, reduction="sum")
    labels = np.array([0, 3])
    probabilities = np.full((2, 10), 0.1, dtype="float32")
    assert float(summed(labels, probabilities)) == pytest.approx(
        2 * float(loss(labels, probabilities)), rel=1e-6
    )
    copy = SmoothedSparseCrossentropy.from_config(summed.get_config())
    assert float(copy(labels, probabilities)) == pytest.approx(float(summed(labels, probabilities)), rel=1e-6)


@pytest.mark.parametrize(("step", "expected"), [(0.0, "nan"), (0.01, "number")])
def test_a_fit_too_fast_to_time_reports_no_throughput(tmp_path, tiny_data, monkeypatch, step, expected):
    """A clock that does not move (or moves in hundredths): no division by zero, and a
    sub-second fit still gets its images per second."""
    from fmnist_utils import training

    monkeypatch.setattr(
        training.time, "perf_counter", itertools.count(0.0, step).__next__ if step else lambda: 0.0
    )
    result = fit_model(
        small_model(), *tiny_data, recipe(epochs=1, batch_size=16), run_dir=tmp_path / "run", verbose=0
    )
    if expected == "nan":
        assert result.seconds == 0
        assert np.isnan(result.images_per_second)
    else:
        assert 0 < result.seconds < 1
        assert result.images_per_second == pytest.approx(48 / result.seconds)


def test_the_best_epoch_by_accuracy_is_the_highest(tmp_path, tiny_data):
    keras.utils.set_random_seed(0)
    model = compile_model(
        build_baseline_cnn(filters=(4,), dense_units=8, dropout_rate=0.0), recipe(learning_rate=3e-3)
    )
    result = fit_model(
        model,
        *tiny_data,
        recipe(epochs=4, batch_size=16, monitor="val_accuracy", patience=None),
        run_dir=tmp_path,
        verbose=0,
    )
    accuracy = result.history["val_accuracy"]
    assert np.argmax(accuracy) > 0, accuracy  # The test needs a best epoch after the first.
    assert result.best_epoch == int(np.argmax(accuracy)) + 1


def test_compile_model_with_label_smoothing_saves_and_loads(tmp_path, tiny_data):
    model = compile_model(build_baseline_cnn(filters=(4,), dense_units=8), recipe(label_smoothing=0.2))
    assert isinstance(model.loss, SmoothedSparseCrossentropy)
    assert model.loss.label_smoothing == pytest.approx(0.2)
    assert isinstance(small_model().loss, keras.losses.SparseCategoricalCrossentropy)
    fit_model(model, *tiny_data, recipe(epochs=1), run_dir=tmp_path / "run", tensorboard=False, verbose=0)
    model.save(tmp_path / "smoothed.keras")
    loaded = load_model(tmp_path / "smoothed.keras")
    assert loaded.loss.label_smoothing == pytest.approx(0.2)


def test_elapsed_times(tmp_path, tiny_data):
    result = fit_model(
        small_model(),
        *tiny_data,
        recipe(epochs=3, patience=None),
        run_dir=tmp_path / "run",
        tensorboard=False,
        verbose=0,
    )
    assert len(result.elapsed) == 3
    assert result.elapsed == sorted(result.elapsed)
    assert 0 < result.elapsed[-1] <= result.seconds


@pytest.mark.parametrize(
    ("schedule", "rate_is_a_schedule"), [("constant", False), ("plateau", False), ("cosine", True)]
)
def test_train_model_schedules(tmp_path, tiny_data, schedule, rate_is_a_schedule):
    model = build_baseline_cnn(filters=(4,), dense_units=8, dropout_rate=0.0)
    changes = {"schedule": schedule, "epochs": 2, "batch_size": 16, "label_smoothing": 0.0}
    model, result = train_model(
        IMPROVED_RECIPE.replace(**changes), *tiny_data, model=model, run_dir=tmp_path / "run", verbose=0
    )
    assert result.epochs_run == 2  # No early stopping: every run trains for all its epochs.
    is_schedule = isinstance(model.optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule)
    assert is_schedule is rate_is_a_schedule
    if schedule == "cosine":
        # Two epochs of 3 steps, one of warm-up: the rate ends at 1% of the peak.
        peak = IMPROVED_RECIPE.learning_rate
        assert current_learning_rate(model) == pytest.approx(0.01 * peak, rel=1e-3)
    else:
        assert current_learning_rate(model) == pytest.approx(IMPROVED_RECIPE.learning_rate)
    assert (tmp_path / "run" / "best.keras").is_file()


def test_train_model_plateau_halves_the_rate(tmp_path, tiny_data):
    # A rate of 1e-9 makes no progress, so the plateau rule halves it after 2 epochs.
    changes = {"schedule": "plateau", "epochs": 4, "batch_size": 16, "learning_rate": 1e-9}
    _, result = train_model(
        SMALL_IMPROVED.replace(**changes), *tiny_data, run_dir=tmp_path / "run", verbose=0
    )
    assert result.history["learning_rate"][0] == pytest.approx(1e-9)
    assert result.history["learning_rate"][-1] < 1e-9


def test_build_model_follows_the_recipe():
    model = IMPROVED_RECIPE.build_model()
    assert [type(layer).__name__ for layer in model.get_layer("augmentation").layers] == [
        "RandomTranslation",
        "RandomFlip",
    ]  # The recipe's shifts and flips.
    assert model.get_layer("dropout").rate == IMPROVED_RECIPE.dropout_rate
    assert model.get_layer("conv3_1").filters == IMPROVED_RECIPE.filters[2]
    assert "conv3_2" in [layer.name for layer in model.layers]  # convs_per_block (1, 2, 2).
    plain = IMPROVED_RECIPE.replace(
        horizontal_flip=False, translation=0.0, filters=(8, 16), convs_per_block=(2, 1)
    ).build_model()
    assert "augmentation" not in [layer.name for layer in plain.layers]
    assert [layer.name for layer in plain.layers if layer.name.startswith("conv")] == [
        "conv1_1",
        "conv1_2",
        "conv2_1",
    ]
    shifted = IMPROVED_RECIPE.replace(horizontal_flip=False, translation=0.1).build_model()
    assert [type(layer).__name__ for layer in shifted.get_layer("augmentation").layers] == [
        "RandomTranslation"
    ]
    baseline = recipe(filters=(8,), dense_units=16, dropout_rate=0.1, horizontal_flip=True).build_model()
    assert baseline.name == "baseline_cnn"
    assert (baseline.get_layer("conv1").filters, baseline.get_layer("dense").units) == (8, 16)
    assert baseline.get_layer("dropout1").rate == 0.1
    assert type(baseline.get_layer("augmentation").layers[0]).__name__ == "RandomFlip"


def test_train_model_trains_the_improved_recipe(tmp_path, tiny_data):
    model, result = train_model(
        SMALL_IMPROVED.replace(epochs=1), *tiny_data, run_dir=tmp_path / "improved", verbose=0
    )
    assert model.name == "improved_cnn"
    assert isinstance(model.loss, SmoothedSparseCrossentropy)
    assert model.loss.label_smoothing == IMPROVED_RECIPE.label_smoothing
    assert result.epochs_run == 1
    assert (tmp_path / "improved" / "best.keras").is_file()


def test_final_fit_without_a_validation_set(tmp_path, tiny_data):
    train, _ = tiny_data
    keras.utils.set_random_seed(0)
    _model, result = train_model(
        SMALL_IMPROVED.replace(epochs=2), train, None, run_dir=tmp_path / "refit", verbose=0
    )
    assert "accuracy" in result.history
    assert not any(key.startswith("val_") for key in result.history)
    assert result.epochs_run == 2
    assert len(result.elapsed) == 2
    assert result.best_epoch == int(np.argmax(result.history["accuracy"])) + 1  # Monitors "accuracy".
    assert (tmp_path / "refit" / "best.keras").is_file()
    # fit_model's monitor falls back to the training metric: val_loss -> loss.
    result = fit_model(
        small_model(), train, None, recipe(epochs=2, batch_size=16), run_dir=tmp_path / "r2", verbose=0
    )
    assert result.best_epoch == int(np.argmin(result.history["loss"])) + 1


def test_fit_model_uses_small_settings_on_a_small_machine(tmp_path, tiny_data, monkeypatch, machine_memory):
    """With MEM_LIMIT under 3 GiB (Binder), validation batches and the shuffle buffer shrink,
    and free memory goes back to the system after every epoch (_runtime.training_callbacks)."""
    from fmnist_utils import training

    calls = []
    original = training.make_dataset

    def spy(*arrays, **options):
        calls.append(options)
        return original(*arrays, **options)

    releases = []
    monkeypatch.setattr(training, "make_dataset", spy)
    monkeypatch.setattr(_runtime, "release_free_memory", lambda: releases.append(1) or True)
    train = (np.repeat(tiny_data[0][0], 250, axis=0), np.repeat(tiny_data[0][1], 250))  # 12,000 images.
    for limit, expected, released in [(None, (12_000, 512), 0), (str(2 * 2**30), (10_000, 128), 3)]:
        calls.clear()
        releases.clear()
        machine_memory(16 * 2**30)
        if limit is not None:
            monkeypatch.setenv("MEM_LIMIT", limit)
        fit_model(
            small_model(),
            train,
            tiny_data[1],
            recipe(epochs=2, batch_size=512, patience=None),
            run_dir=tmp_path / str(limit),
            verbose=0,
        )
        assert (calls[0]["shuffle_buffer"], calls[1]["batch_size"]) == expected
        assert len(releases) == released  # Small machine: after each epoch and at the end.


def traced_graphs() -> int:
    """Traced TensorFlow graphs still alive in this process."""
    gc.collect()
    return sum(type(thing).__name__ == "FuncGraph" for thing in gc.get_objects())


def test_models_trained_in_a_loop_are_freed_with_their_graphs(tiny_data):
    """The TensorFlow leak _runtime.TracedGraphRelease works around: without it, graphs pile up."""
    keras.utils.set_random_seed(0)
    x, y = tiny_data[0]

    def train(release: bool) -> None:
        model = small_model()
        callbacks = _runtime.training_callbacks(small_machine=False) if release else []
        model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=callbacks)
        model.predict(x[:4], verbose=0)

    train(True)  # Warm-up: anything created once per process.
    graphs, gradients = traced_graphs(), custom_gradients()
    train(False)  # The leak itself, so that this test fails if the release stops doing its job ...
    leaks = traced_graphs() > graphs and len(custom_gradients()) > len(gradients)
    # ... or when a TensorFlow past LEAKS_UP_TO still leaks (or one before it no longer does).
    assert leaks == _runtime.leaks_traced_graphs(tf.__version__), (
        f"TensorFlow {tf.__version__} {'leaks' if leaks else 'does not leak'}: update _runtime.LEAKS_UP_TO"
    )
    graphs, gradients = traced_graphs(), custom_gradients()
    for _ in range(3):
        train(True)
    assert traced_graphs() == graphs
    assert custom_gradients() == gradients


@pytest.mark.parametrize(
    ("version", "leaks"),
    [
        ("2.16.1", True),
        ("2.21.0", True),
        ("2.21.0rc1", True),
        ("2.22.0", False),
        ("2.22.0rc0", False),
        ("3.0", False),
    ],
)
def test_the_traced_graph_release_ends_with_the_releases_that_leak(version, leaks):
    assert _runtime.leaks_traced_graphs(version) is leaks


def test_fit_model_releases_graphs_and_the_model_still_works(tmp_path, tiny_data):
    keras.utils.set_random_seed(0)
    before = custom_gradients()
    model = small_model()
    options = {"verbose": 0}
    first = fit_model(
        model,
        *tiny_data,
        recipe(epochs=2, batch_size=16, patience=None),
        **options,
        run_dir=tmp_path / "first",
    )
    assert custom_gradients() == before
    # Trains on (the step traced already), predicts, saves and loads as before.
    second = fit_model(
        model,
        *tiny_data,
        recipe(epochs=2, batch_size=16, patience=None),
        **options,
        run_dir=tmp_path / "second",
    )
    assert second.history["loss"][-1] < first.history["loss"][0]
    probabilities = model.predict(tiny_data[1][0], verbose=0)
    model.save(tmp_path / "model.keras")
    reloaded = load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(reloaded.predict(tiny_data[1][0], verbose=0), probabilities, atol=1e-6)
    assert custom_gradients() == before


def test_release_traced_graphs_counts_and_leaves_tensorflow_alone_where_it_can(tiny_data, monkeypatch):
    x, y = tiny_data[0]

    def released() -> int:
        release = _runtime.TracedGraphRelease()
        small_model().fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[release.callback()])
        return release.released

    assert released() >= 1  # The training step's gradients (see the class docstring).
    monkeypatch.setattr(_runtime, "_gradient_registry", lambda: None)  # A TensorFlow that changed it.
    assert released() == 0

    def private_access():
        raise AssertionError("TensorFlow's private table touched on a release that does not leak")

    monkeypatch.setattr(_runtime, "_gradient_registry", private_access)
    monkeypatch.setattr(_runtime, "leaks_traced_graphs", lambda version: False)
    assert released() == 0


def spy_on_fit(monkeypatch) -> list[dict]:
    """Replace ``fit_model`` by a recorder: what train_model asks of it, without training."""
    from fmnist_utils import training

    calls = []

    def record(model, train, validation, recipe, **options):
        calls.append({"model": model, "train": train, "validation": validation, "recipe": recipe, **options})
        return "result"

    monkeypatch.setattr(training, "fit_model", record)
    return calls


@pytest.mark.parametrize(
    ("chosen", "run_folder"), [(BASELINE_RECIPE, "baseline"), (IMPROVED_RECIPE, "improved")]
)
def test_train_model_passes_the_whole_recipe(tiny_data, monkeypatch, chosen, run_folder):
    from fmnist_utils.config import get_config

    calls = spy_on_fit(monkeypatch)
    model, result = train_model(chosen, *tiny_data)
    [call] = calls
    assert result == "result"
    assert call["model"] is model
    assert (call["train"], call["validation"], call["recipe"]) == (*tiny_data, chosen)
    assert call["run_dir"] == get_config().run_dir(run_folder)  # The work folder's runs/.
    assert (call["tensorboard"], call["seed"], call["verbose"]) == (False, 42, 2)
    assert current_learning_rate(model) == pytest.approx(
        chosen.learning_rate if chosen.schedule != "cosine" else 0.0
    )  # A cosine schedule starts its warm-up at 0.
    given = build_baseline_cnn(filters=(4,), dense_units=8)
    again, _ = train_model(
        chosen, *tiny_data, model=given, run_dir="elsewhere", seed=3, tensorboard=True, verbose=0
    )
    assert again is given
    assert {key: calls[1][key] for key in ("run_dir", "seed", "tensorboard", "verbose")} == {
        "run_dir": "elsewhere",
        "seed": 3,
        "tensorboard": True,
        "verbose": 0,
    }


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        *(
            (SMALL_IMPROVED.replace(schedule=schedule), ("val_accuracy", None, reduce_lr_patience))
            for schedule, reduce_lr_patience in [("plateau", 2), ("constant", None), ("cosine", None)]
        ),
        (recipe(filters=(4,), dense_units=8), ("val_loss", 4, 2)),  # Notebook 03's callbacks.
    ],
)
def test_fit_model_follows_the_recipe(tmp_path, tiny_data, monkeypatch, chosen, expected):
    from fmnist_utils import training

    asked = {}
    original = training.standard_callbacks

    def spy(run_dir, **options):
        asked.update(options)
        return original(run_dir, **options)

    monkeypatch.setattr(training, "standard_callbacks", spy)
    _, result = train_model(
        chosen.replace(epochs=3, batch_size=16), *tiny_data, run_dir=tmp_path / "run", verbose=0
    )
    assert result.epochs_run == 3
    assert (asked["monitor"], asked["patience"], asked["reduce_lr_patience"]) == expected
    assert asked["tensorboard"] is False
    pick = np.argmax if "acc" in expected[0] else np.argmin
    assert result.best_epoch == int(pick(result.history[expected[0]])) + 1


def test_load_model_refuses_a_model_that_would_run_code(tmp_path):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match=r"safe_mode"):
        load_model(tmp_path / "lambda.keras")


def test_load_or_train_baseline_trains_notebook_03s_recipe_once_then_loads(tmp_path, monkeypatch, capsys):
    """Notebooks 04 and 06 without notebook 03's model: trained (quick mode's size) and saved, then loaded."""
    from fmnist_utils import training

    monkeypatch.setenv("FMNIST_WORK_DIR", str(tmp_path))
    monkeypatch.setenv("FMNIST_QUICK", "1")
    calls = []

    def fake_train_model(recipe, train, validation, *, run_dir):
        calls.append((recipe, len(train[1]), len(validation[1]), run_dir))
        return build_baseline_cnn(), None

    monkeypatch.setattr(training, "train_model", fake_train_model)
    labels = np.repeat(np.arange(10), 1_000)
    images = np.zeros((10_000, 28, 28), dtype=np.uint8)
    first = training.load_or_train_baseline(images, labels)
    ((trained_recipe, train_count, validation_count, run_dir),) = calls
    assert trained_recipe == BASELINE_RECIPE  # Notebook 03's quick mode: all 15 epochs ...
    assert (train_count, validation_count) == (
        training.BASELINE_QUICK_TRAIN_SIZE,
        1_000,
    )  # ... on fewer images.
    assert run_dir == tmp_path / "runs" / "baseline_quick"
    assert "not found: training the baseline with notebook 03's recipe" in capsys.readouterr().out
    second = training.load_or_train_baseline(images, labels)
    assert len(calls) == 1  # Loaded, not trained again.
    assert (
        f"loaded {config.shown_path(tmp_path / 'models' / 'baseline_cnn_quick.keras')}"
        in capsys.readouterr().out
    )
    assert [w.shape for w in second.get_weights()] == [w.shape for w in first.get_weights()]
