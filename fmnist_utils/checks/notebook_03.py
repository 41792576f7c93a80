"""The checks of notebook 03 (Training): 03.1 the best epoch of the log, 03.2-03.4 open-ended."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from fmnist_utils.checks._core import _check, _count, _NotYet, _number, _open_ended

__all__ = ["exercise_03_1", "exercise_03_2", "exercise_03_3", "exercise_03_4"]


def _read_log(log_path: str | os.PathLike[str]) -> dict[str, list[float]]:
    """The columns of a Keras ``CSVLogger`` file."""
    path = Path(log_path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no training log; run the training cell of notebook 03 first.")
    with open(path) as file:
        rows = list(csv.DictReader(file))
    if not rows or "val_accuracy" not in rows[0] or "epoch" not in rows[0]:
        raise ValueError(
            f"{path} has no epoch and val_accuracy columns: pass notebook 03's training_log.csv."
        )
    return {column: [float(row[column]) for row in rows] for column in rows[0]}


@_check("03.1", "best_accuracy_epoch")
def exercise_03_1(best_accuracy_epoch: object, log_path: str | os.PathLike[str]) -> bool:
    """Exercise 03.1: the epoch (from 1) with the highest validation accuracy in the log.

    Args:
        best_accuracy_epoch: The answer, an int.
        log_path: The run's ``training_log.csv`` (``exercise_data.log_path``).
    """
    log = _read_log(log_path)
    epochs = [int(epoch) for epoch in log["epoch"]]
    accuracy = np.asarray(log["val_accuracy"])
    best = {epoch + 1 for epoch, value in zip(epochs, accuracy, strict=True) if value == accuracy.max()}
    number = _number(best_accuracy_epoch, "best_accuracy_epoch")
    if 0 < number < 1 and number in log["val_accuracy"]:
        raise _NotYet("that is an accuracy; store the number of the epoch that reached it.")
    answer = _count(best_accuracy_epoch, "best_accuracy_epoch")
    if answer in best:  # Epochs tied for the highest accuracy are all right.
        return True
    if answer + 1 in best:
        raise _NotYet("the log counts epochs from 0; the exercise counts from 1.")
    if "val_loss" in log and answer in (
        epochs[int(np.argmin(log["val_loss"]))],
        epochs[int(np.argmin(log["val_loss"]))] + 1,
    ):
        raise _NotYet("that is the epoch of the lowest validation loss; the exercise asks about accuracy.")
    if "accuracy" in log and answer in (
        epochs[int(np.argmax(log["accuracy"]))],
        epochs[int(np.argmax(log["accuracy"]))] + 1,
    ):
        raise _NotYet("that is the best *training* accuracy; the exercise asks about val_accuracy.")
    if answer in (epochs[-1], epochs[-1] + 1):
        raise _NotYet("that is the last epoch; the best one can come earlier.")
    if answer == 0 or answer > epochs[-1] + 1:
        raise _NotYet(f"the run has epochs 1 to {epochs[-1] + 1}, counting from 1.")
    raise _NotYet("look for the largest value in the val_accuracy column.")


exercise_03_2 = _open_ended(
    "03.2",
    "early stopping with patience 1",
    [
        "reports how many epochs ran and the validation accuracy kept, next to the patience-4 run;",
        "explains that one noisy epoch without improvement ends the run;",
        "names the risk: stopping before the model has finished learning, at a worse accuracy.",
    ],
)


exercise_03_3 = _open_ended(
    "03.3",
    "three learning rates",
    [
        "trains the three rates from the same seed and plots them on one figure;",
        "says which learns fastest at first and which ends best, reading the curves;",
        "explains both with step size: large steps move fast but overshoot, small ones are slow.",
    ],
)


exercise_03_4 = _open_ended(
    "03.4",
    "a callback of your own",
    [
        "subclasses keras.callbacks.Callback and overrides on_epoch_begin and on_epoch_end;",
        "reads the learning rate from self.model.optimizer, so schedule changes show;",
        "prints one line per epoch and passes the callback through fit_model(extra_callbacks=...).",
    ],
)
