"""Hyperparameter search with KerasTuner over the improved CNN's recipe.

Taught in notebook 05. Each hyperparameter is one field of
:data:`fmnist_utils.training.IMPROVED_RECIPE` with a few values to try; every other field
keeps the recipe's value. Validation data comes from the training set; the search never sees
the test set.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import pandas as pd

from fmnist_utils import _runtime
from fmnist_utils._checks import positive_int
from fmnist_utils.config import get_config
from fmnist_utils.training import IMPROVED_RECIPE, _datasets, compile_model

__all__ = ["SEARCH_SPACE", "ImprovedCNNHyperModel", "run_search", "search_results"]

#: The values notebook 05 searches; the recipe's own values are among them.
SEARCH_SPACE: dict[str, tuple] = {
    "learning_rate": (2e-3, 4e-3, 8e-3),
    "label_smoothing": (0.0, 0.1),
    "dropout_rate": (0.0, 0.25),
    "translation": (0.0, 0.08),
}


#: The recipe's fields that a trial's model and its compilation read (epochs and batches are the
#: search's own; patience, monitor and validation size play no part in a trial).
SEARCHABLE = (
    "filters",
    "convs_per_block",
    "dropout_rate",
    "horizontal_flip",
    "translation",
    "learning_rate",
    "schedule",
    "warmup_epochs",
    "label_smoothing",
)


class ImprovedCNNHyperModel(keras_tuner.HyperModel):
    """Builds one trial's model: the improved recipe with the hyperparameters chosen.

    ``search_space`` is ``{recipe key: values}`` (default :data:`SEARCH_SPACE`); ``epochs`` of one
    trial, which the cosine schedule spans, of ``steps_per_epoch`` training batches.
    """

    def __init__(
        self,
        *,
        epochs: int,
        steps_per_epoch: int,
        search_space: dict[str, tuple] | None = None,
        seed: int = 42,
    ) -> None:
        super().__init__(name="improved_cnn")
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.search_space = dict(SEARCH_SPACE if search_space is None else search_space)
        self.seed = seed
        # Checked here, not when the search's first trial fails: the space is the student's.
        unknown = sorted(set(self.search_space) - set(SEARCHABLE))
        if unknown:
            raise ValueError(
                f"unknown search keys {unknown}; the keys a trial uses are {sorted(SEARCHABLE)}."
            )
        for key, values in self.search_space.items():
            if isinstance(values, (str, bytes)) or len(values) == 0:
                raise ValueError(
                    f"search_space[{key!r}] must be a non-empty tuple of values, got {values!r}."
                )

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """Build and compile the trial's model."""
        chosen = {key: hp.Choice(key, list(values)) for key, values in self.search_space.items()}
        recipe = IMPROVED_RECIPE.replace(epochs=self.epochs, **chosen)
        return compile_model(recipe.build_model(self.seed), recipe, steps_per_epoch=self.steps_per_epoch)


def run_search(
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    *,
    directory: str | os.PathLike[str],
    max_trials: int,
    epochs: int,
    search_space: dict[str, tuple] | None = None,
    batch_size: int = IMPROVED_RECIPE.batch_size,
    seed: int = 42,
    overwrite: bool = False,
    verbose: int = 0,
    num_initial_points: int | None = None,
) -> keras_tuner.Tuner:
    """Run a Bayesian-optimization search and return the tuner.

    Taught in notebook 05. The first ``num_initial_points`` trials (default: half of
    ``max_trials``, at least 1) are drawn at random; each later one is chosen by the
    Gaussian-process model of the trials so far.

    Args:
        train, validation: ``(images, labels)``, both from the training data.
        directory: Folder for the trials (see ``RunConfig.tuner_dir``). A finished search in
            the same folder is reloaded rather than run again, unless ``overwrite``.
        search_space: ``{recipe key: values}``; defaults to :data:`SEARCH_SPACE`.
    """
    max_trials = positive_int(max_trials, "max_trials")  # KerasTuner would run no trial at all.
    train_dataset, validation_dataset = _datasets(train, validation, batch_size, seed)
    hypermodel = ImprovedCNNHyperModel(
        epochs=epochs, steps_per_epoch=-(-len(train[1]) // batch_size), search_space=search_space, seed=seed
    )
    tuner = _bayesian_tuner(hypermodel, Path(directory), max_trials, num_initial_points, seed, overwrite)
    tuner.search(
        train_dataset,
        validation_data=validation_dataset,
        epochs=epochs,
        shuffle=False,
        callbacks=_runtime.training_callbacks(get_config().small_machine),  # Memory freed after each trial.
        verbose=verbose,
    )
    return tuner


def _bayesian_tuner(
    hypermodel: ImprovedCNNHyperModel,
    directory: Path,
    max_trials: int,
    num_initial_points: int | None,
    seed: int,
    overwrite: bool,
) -> keras_tuner.Tuner:
    """KerasTuner's Bayesian optimization, its trials in ``directory``."""
    # KerasTuner's default (3 per hyperparameter) would leave no trial to the model.
    if num_initial_points is None:
        num_initial_points = max(1, max_trials // 2)
    return keras_tuner.BayesianOptimization(
        hypermodel,
        objective="val_accuracy",
        max_trials=max_trials,
        num_initial_points=num_initial_points,
        seed=seed,
        directory=str(directory.parent),
        project_name=directory.name,
        overwrite=overwrite,
    )


def search_results(tuner: keras_tuner.Tuner) -> pd.DataFrame:
    """One row per completed trial, in the tuner's ranking: its hyperparameters and validation accuracy.

    The first row is ``tuner.get_best_hyperparameters()[0]``; ``val_accuracy`` is the trial's best
    epoch; ``chosen`` says whether the trial was drawn ``"at random"`` or ``"by the model"``.
    """
    trials = tuner.oracle.get_best_trials(num_trials=len(tuner.oracle.trials))
    random_trials = tuner.oracle.num_initial_points
    rows = [
        {
            "trial": trial.trial_id,
            "chosen": "at random" if int(trial.trial_id) < random_trials else "by the model",
            **trial.hyperparameters.values,
            "val_accuracy": trial.score,
        }
        for trial in trials
        if trial.status == keras_tuner.engine.trial.TrialStatus.COMPLETED
    ]
    return pd.DataFrame(rows)
