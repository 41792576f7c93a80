"""Training helpers: callbacks write their files, results are measured, runs resume."""

from __future__ import annotations

import csv
import itertools

import keras
import numpy as np
import pytest

from fmnist_utils.models import build_baseline_cnn
from fmnist_utils.training import (
    BASELINE_RECIPE,
    compile_model,
    cosine_schedule,
    fit_model,
    load_model,
    standard_callbacks,
    train_baseline,
)


@pytest.fixture
def tiny_data():
    rng = np.random.default_rng(0)
    labels = np.arange(64) % 10
    # Learnable: each class is a bright square in its own place.
    images = rng.integers(0, 40, size=(64, 28, 28), dtype=np.uint8)
    for index, label in enumerate(labels):
        images[index, 2 * label : 2 * label + 6, 4:10] = 255
    return (images[:48], labels[:48]), (images[48:], labels[48:])


def small_model():
    return compile_model(
        build_baseline_cnn(filters=(4,), dense_units=8, dropout_rate=0.0), learning_rate=1e-2
    )


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
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-2)
    with pytest.raises(ValueError, match=r"learning_rate must be a positive number"):
        compile_model(build_baseline_cnn(), learning_rate=0)


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


def test_fit_model_writes_every_artifact_and_measures(tmp_path, tiny_data):
    keras.utils.set_random_seed(0)
    run_dir = tmp_path / "run"
    model = small_model()
    result = fit_model(model, *tiny_data, epochs=3, batch_size=16, run_dir=run_dir, patience=None, verbose=0)
    assert result.epochs_run == 3
    assert set(result.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(result.history["val_loss"]) == 3
    assert result.seconds > 0
    assert result.images_per_second == pytest.approx(3 * 48 / result.seconds)
    assert 1 <= result.best_epoch <= 3
    assert result.checkpoint_path == run_dir / "best.keras"
    assert result.checkpoint_path.is_file()
    with open(run_dir / "training_log.csv") as file:
        assert [row["epoch"] for row in csv.DictReader(file)] == ["0", "1", "2"]
    assert any((run_dir / "logs").rglob("events.out.tfevents.*"))
    assert not (run_dir / "backup").exists() or not any((run_dir / "backup").iterdir())  # Deleted when done.
    reloaded = load_model(result.checkpoint_path)
    assert reloaded.count_params() == model.count_params()


def test_early_stopping_restores_best_weights(tmp_path, tiny_data):
    keras.utils.set_random_seed(0)
    model = compile_model(build_baseline_cnn(filters=(4,), dense_units=8), learning_rate=0.5)  # Diverges.
    result = fit_model(
        model, *tiny_data, epochs=8, batch_size=16, run_dir=tmp_path / "r", patience=1, verbose=0
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
            epochs=5,
            batch_size=16,
            run_dir=run_dir,
            patience=None,
            tensorboard=False,
            extra_callbacks=[Interrupt(at_epoch=3)],
            verbose=0,
        )
    assert any((run_dir / "backup").iterdir())  # The state of epoch 3 is on disk.
    weights_at_interruption = model.get_weights()

    # A kernel restart: a fresh model object, the same run folder.
    keras.utils.set_random_seed(1)
    fresh = small_model()
    seen_at_start = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if not seen_at_start:
                seen_at_start.append((epoch, [w.copy() for w in self.model.get_weights()]))

    result = fit_model(
        fresh,
        *tiny_data,
        epochs=5,
        batch_size=16,
        run_dir=run_dir,
        patience=None,
        tensorboard=False,
        extra_callbacks=[Spy()],
        verbose=0,
    )
    first_epoch, restored_weights = seen_at_start[0]
    assert first_epoch == 3  # Epochs 0-2 are not repeated.
    assert result.epochs_run == 2
    for restored, saved in zip(restored_weights, weights_at_interruption, strict=True):
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
            epochs=epochs,
            batch_size=16,
            run_dir=run_dir,
            patience=None,
            tensorboard=False,
            verbose=0,
        )
    with open(run_dir / "training_log.csv") as file:
        assert [row["epoch"] for row in csv.DictReader(file)] == ["0", "1"]


def test_fit_model_refuses_uncompiled_model_and_bad_input(tmp_path, tiny_data):
    with pytest.raises(ValueError, match=r"the model is not compiled"):
        fit_model(build_baseline_cnn(), *tiny_data, epochs=1, run_dir=tmp_path)
    (images, labels), validation = tiny_data
    with pytest.raises(ValueError, match=r"train images must have dtype uint8"):
        fit_model(small_model(), (images / 255.0, labels), validation, epochs=1, run_dir=tmp_path)
    with pytest.raises(ValueError, match=r"validation labels must lie in 0\.\.9"):
        fit_model(
            small_model(), (images, labels), (validation[0], validation[1] + 10), epochs=1, run_dir=tmp_path
        )
    with pytest.raises(ValueError, match=r"epochs must be a positive integer"):
        fit_model(small_model(), (images, labels), validation, epochs=0, run_dir=tmp_path)


def test_train_baseline_uses_the_recipe(tmp_path, tiny_data):
    keras.utils.set_random_seed(0)
    model, result = train_baseline(*tiny_data, epochs=1, run_dir=tmp_path / "baseline", verbose=0)
    assert model.name == "baseline_cnn"
    assert float(model.optimizer.learning_rate) == pytest.approx(BASELINE_RECIPE["learning_rate"])
    assert result.epochs_run == 1


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
    with pytest.raises(ValueError, match=r"steps_per_epoch must be a positive integer"):
        cosine_schedule(learning_rate=1e-3, epochs=3, steps_per_epoch=0)


def test_compile_model_accepts_a_schedule(tmp_path, tiny_data):
    schedule = cosine_schedule(learning_rate=1e-2, epochs=2, steps_per_epoch=3, warmup_epochs=0)
    model = compile_model(build_baseline_cnn(filters=(4,), dense_units=8), learning_rate=schedule)
    result = fit_model(
        model,
        *tiny_data,
        epochs=2,
        batch_size=16,
        run_dir=tmp_path / "r",
        patience=None,
        reduce_lr_patience=None,
        tensorboard=False,
        verbose=0,
    )
    assert result.epochs_run == 2
