"""Hyperparameter search: a tiny real KerasTuner search, its table, reloading, errors."""

from __future__ import annotations

import keras_tuner
import pandas as pd
import pytest
from helpers import custom_gradients

from fmnist_utils.training import IMPROVED_RECIPE, SmoothedSparseCrossentropy
from fmnist_utils.tuning import SEARCH_SPACE, ImprovedCNNHyperModel, run_search, search_results


def test_the_recipe_values_are_in_the_search_space():
    for key, values in SEARCH_SPACE.items():
        assert getattr(IMPROVED_RECIPE, key) in values, key


def test_hypermodel_builds_the_chosen_settings():
    hypermodel = ImprovedCNNHyperModel(epochs=3, steps_per_epoch=5)
    hp = keras_tuner.HyperParameters()
    hp.Fixed("translation", 0.1)
    hp.Fixed("dropout_rate", 0.25)
    hp.Fixed("learning_rate", 2e-3)
    hp.Fixed("label_smoothing", 0.1)
    model = hypermodel.build(hp)
    assert model.compiled
    shifts = model.get_layer("augmentation").layers[0]
    assert type(shifts).__name__ == "RandomTranslation"
    assert model.get_layer("dropout").rate == 0.25
    assert isinstance(model.loss, SmoothedSparseCrossentropy)
    # The cosine schedule peaks at the chosen rate after one epoch (5 steps) of warm-up.
    assert float(model.optimizer._learning_rate(5)) == pytest.approx(2e-3)
    hp.Fixed("label_smoothing", 0.0)
    unsmoothed = ImprovedCNNHyperModel(epochs=1, steps_per_epoch=5, search_space={"label_smoothing": (0.0,)})
    assert not isinstance(unsmoothed.build(keras_tuner.HyperParameters()).loss, SmoothedSparseCrossentropy)


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"width": (1, 2)}, r"unknown search keys \['width'\]"),
        ({"epochs": (1, 2)}, r"unknown search keys \['epochs'\]"),  # The search's own, not a trial's.
        ({"dropout_rate": ()}, "non-empty tuple"),
    ],
)
def test_hypermodel_errors(space, message):
    with pytest.raises(ValueError, match=message):
        ImprovedCNNHyperModel(epochs=1, steps_per_epoch=1, search_space=space)


def test_search_runs_ranks_and_reloads(tmp_path, tiny_data):
    space = {"dropout_rate": (0.0, 0.25), "learning_rate": (2e-3, 4e-3)}
    gradients = custom_gradients()
    tuner = run_search(*tiny_data, directory=tmp_path / "search", max_trials=3, epochs=1, search_space=space)
    assert custom_gradients() == gradients  # Each trial's traced graphs were released.
    table = search_results(tuner)
    assert len(table) == 3
    assert list(table.columns) == ["trial", "chosen", "dropout_rate", "learning_rate", "val_accuracy"]
    assert table["val_accuracy"].is_monotonic_decreasing
    assert table["dropout_rate"].isin(space["dropout_rate"]).all()
    assert table["learning_rate"].isin(space["learning_rate"]).all()
    best = tuner.get_best_hyperparameters()[0].values
    assert best == {key: table.loc[0, key] for key in space}
    assert (tmp_path / "search" / "oracle.json").is_file()

    # Same folder: the finished search is reloaded, not run again.
    again = run_search(*tiny_data, directory=tmp_path / "search", max_trials=3, epochs=1, search_space=space)
    # The same trials and scores (trials tied on val_accuracy may be ranked in another order).
    by_trial = [frame.sort_values("trial").reset_index(drop=True) for frame in (search_results(again), table)]
    pd.testing.assert_frame_equal(*by_trial)
    fresh = run_search(
        *tiny_data, directory=tmp_path / "search", max_trials=1, epochs=1, search_space=space, overwrite=True
    )
    assert len(search_results(fresh)) == 1


def test_half_the_trials_are_chosen_by_the_model_not_at_random(tmp_path, tiny_data, monkeypatch):
    """KerasTuner's default draws 3 random trials per hyperparameter: a short search would be random (E1)."""
    from keras_tuner.src.tuners.bayesian import BayesianOptimizationOracle

    drawn = []
    random_draw = BayesianOptimizationOracle._random_populate_space
    monkeypatch.setattr(
        BayesianOptimizationOracle,
        "_random_populate_space",
        lambda self: drawn.append(1) or random_draw(self),
    )
    space = {"dropout_rate": (0.0, 0.1, 0.25), "learning_rate": (1e-3, 2e-3, 4e-3)}
    tuner = run_search(*tiny_data, directory=tmp_path / "search", max_trials=4, epochs=1, search_space=space)
    assert tuner.oracle.num_initial_points == 2
    assert len(drawn) == 2  # Trials 3 and 4 came from the Gaussian process.
    table = search_results(tuner).sort_values("trial")
    assert list(table["chosen"]) == ["at random", "at random", "by the model", "by the model"]


def test_search_hands_free_memory_back_on_a_small_machine(tmp_path, tiny_data, monkeypatch, machine_memory):
    from fmnist_utils import _runtime

    releases = []
    monkeypatch.setattr(_runtime, "release_free_memory", lambda: releases.append(1) or True)
    space = {"dropout_rate": (0.0,), "learning_rate": (1e-3,)}
    machine_memory(16 * 2**30)
    run_search(*tiny_data, directory=tmp_path / "big", max_trials=1, epochs=2, search_space=space)
    assert releases == []
    monkeypatch.setenv("MEM_LIMIT", str(2 * 2**30))  # Binder.
    run_search(*tiny_data, directory=tmp_path / "small", max_trials=1, epochs=2, search_space=space)
    assert len(releases) == 3  # After each of the 2 epochs and at the end of the trial.


def test_search_refuses_bad_input(tmp_path, tiny_data):
    (images, labels), validation = tiny_data
    with pytest.raises(ValueError, match="uint8"):
        run_search((images.astype("float32"), labels), validation, directory=tmp_path, max_trials=1, epochs=1)
    with pytest.raises(ValueError, match="max_trials must be a positive integer"):
        run_search(*tiny_data, directory=tmp_path, max_trials=0, epochs=1)


def test_the_search_trains_with_the_recipes_batch_size():
    """Trials train as the final model will: a learning rate chosen for batches of 256 is
    only worth something when the trials use batches of 256 too."""
    import inspect

    assert inspect.signature(run_search).parameters["batch_size"].default == IMPROVED_RECIPE.batch_size == 256
