"""Exercise self-checks: each passes on a right answer, and on the stub (None) and on a
typical wrong answer it fails with a hint that does not give the answer away."""

from __future__ import annotations

import csv
import re

import keras
import nbformat
import numpy as np
import pandas as pd
import pytest
from helpers import NOTEBOOKS_DIR

from fmnist_utils import checks, data
from fmnist_utils.checks import CheckResult


def assert_correct(result: CheckResult) -> None:
    assert result.passed is True, result.message
    assert bool(result)
    assert repr(result).endswith("correct.")


def assert_hint(result: CheckResult, *fragments: str) -> None:
    assert result.passed is False, result.message
    assert not bool(result)
    assert result.message.startswith(f"Exercise {result.exercise}: ")
    for fragment in fragments:
        assert fragment in result.message, result.message


@pytest.fixture(scope="module")
def images_and_labels():
    rng = np.random.default_rng(0)
    labels = np.arange(200) % 10
    images = (rng.integers(0, 3, size=(200, 28, 28)) * (labels[:, None, None] + 1)).astype(np.uint8)
    return images, labels


def test_every_exercise_has_a_check():
    expected = ["00.1", "00.2", "00.3"]
    expected += [f"0{notebook}.{number}" for notebook in range(1, 6) for number in range(1, 5)]
    assert list(checks.EXERCISES) == expected
    for name, check in checks.EXERCISES.items():
        assert check.__name__ == f"exercise_{name.replace('.', '_')}"


@pytest.mark.parametrize(
    "exercise", ["00.2", "01.4", "02.3", "02.4", "03.2", "03.3", "03.4", "04.3", "04.4", "05.4"]
)
def test_open_ended_exercises_list_what_a_good_answer_shows(exercise):
    result = checks.EXERCISES[exercise]()
    assert result.passed is None
    assert not bool(result)
    assert result.message.startswith(f"Exercise {exercise} is open-ended")
    assert result.message.count("\n- ") >= 3


def test_exercise_00_1():
    labels = np.repeat(np.arange(10), np.arange(1, 11))  # Label k appears k + 1 times.
    sneakers = data.CLASS_NAMES.index("Sneaker")
    assert_correct(checks.exercise_00_1(sneakers + 1, labels))
    assert_correct(checks.exercise_00_1(np.int64(sneakers + 1), labels))
    assert_hint(checks.exercise_00_1(None, labels), "no answer yet", "sneaker_count")
    assert_hint(checks.exercise_00_1(3, labels), "another class")
    assert_hint(checks.exercise_00_1((sneakers + 1) / len(labels), labels), "a share")
    assert_hint(checks.exercise_00_1(99, labels), "data.CLASS_NAMES.index")


def test_exercise_00_3(images_and_labels):
    images, labels = images_and_labels  # Class k's pixels average about k + 1.
    most, least = data.CLASS_NAMES[9], data.CLASS_NAMES[0]
    assert_correct(checks.exercise_00_3(most, least, images, labels))
    assert_hint(checks.exercise_00_3(None, least, images, labels), "no answer yet", "most_ink_class")
    assert_hint(checks.exercise_00_3(least, most, images, labels), "swapped")
    assert_hint(checks.exercise_00_3(9, 0, images, labels), "not numbers")
    assert_hint(checks.exercise_00_3(most, "Sock", images, labels), "not a class name")
    assert_hint(
        checks.exercise_00_3(most, data.CLASS_NAMES[1], images, labels), "least_ink_class is not right"
    )


def test_exercise_01_1(images_and_labels):
    images, labels = images_and_labels
    train, validation = (images[:150], labels[:150]), (images[150:], labels[150:])
    shares = np.array([np.mean(images[labels == label] == 0) for label in range(10)])
    train_shares = np.array([np.mean(train[0][train[1] == label] == 0) for label in range(10)])
    assert_correct(checks.exercise_01_1(shares, *train, *validation))
    assert_correct(checks.exercise_01_1(train_shares, *train, *validation))  # The training part alone.
    assert_correct(checks.exercise_01_1(list(train_shares), *train))
    assert_hint(checks.exercise_01_1(None, *train), "no answer yet", "background_share")
    assert_hint(checks.exercise_01_1(1 - shares, *train, *validation), "*not* background")
    assert_hint(checks.exercise_01_1(100 * shares, *train, *validation), "not a percentage")
    assert_hint(checks.exercise_01_1(shares[:5], *train), "shape (10,)")
    assert_hint(checks.exercise_01_1(np.full(10, shares.mean()), *train), "labels == label")
    dark = np.array([np.mean(images[labels == label] < 2) for label in range(10)])
    assert_hint(checks.exercise_01_1(dark, *train, *validation), "exactly 0")


def test_exercise_01_2(images_and_labels):
    images, labels = images_and_labels
    images = images + np.arange(200, dtype=np.uint8)[:, None, None]  # 200 different images.
    (train_images, _), (validation_images, validation_labels) = data.train_validation_split(
        images, labels, validation_size=0.2, seed=7
    )
    assert_correct(checks.exercise_01_2(train_images, validation_images, validation_labels))
    assert_hint(checks.exercise_01_2(None, None, None), "no answer yet")
    assert_hint(
        checks.exercise_01_2(images[:180], images[180:], labels[180:]), "gives 40 validation images, not 20"
    )
    unstratified = np.argsort(labels, kind="stable")
    train_part, validation_part = unstratified[:160], unstratified[160:]
    assert_hint(
        checks.exercise_01_2(images[train_part], images[validation_part], labels[validation_part]),
        "not stratified",
    )
    overlapping = np.concatenate([train_images[:-1], validation_images[:1]])
    assert_hint(
        checks.exercise_01_2(overlapping, validation_images, validation_labels), "1 validation images"
    )


def test_exercise_01_3(images_and_labels):
    images, labels = images_and_labels
    right = data.make_dataset(images, labels, batch_size=256, one_hot_labels=True)
    assert_correct(checks.exercise_01_3(right, labels))
    assert_hint(checks.exercise_01_3(None, labels), "no answer yet")
    assert_hint(checks.exercise_01_3(data.make_dataset(images, labels, batch_size=256), labels), "one-hot")
    assert_hint(
        checks.exercise_01_3(data.make_dataset(images, labels, batch_size=64, one_hot_labels=True), labels),
        "hold 64 examples, not 256",
    )
    assert_hint(checks.exercise_01_3(right, labels[:100]), "holds 200 examples")


def test_exercise_02_1():
    layer = keras.layers.Conv2D(16, 5)
    layer.build((None, 28, 28, 1))
    output_shape = tuple(layer.compute_output_shape((None, 28, 28, 1))[1:])
    assert_correct(checks.exercise_02_1(output_shape, layer.count_params()))
    assert_correct(checks.exercise_02_1([24, 24, 16], np.int64(416)))
    assert_hint(checks.exercise_02_1(None, None), "no answer yet", "output_shape")
    assert_hint(checks.exercise_02_1((None, 24, 24, 16), 416), "batch axis")
    assert_hint(checks.exercise_02_1((28, 28, 16), 416), "no border")
    assert_hint(checks.exercise_02_1((26, 26, 16), 416), "positions")
    assert_hint(checks.exercise_02_1((24, 24, 16), 400), "bias")
    assert_hint(checks.exercise_02_1((24, 24, 1), 416), "one channel per filter")


def test_exercise_02_2():
    from fmnist_utils.models import build_baseline_cnn

    model = build_baseline_cnn(filters=(32, 64, 128))
    pool3_shape = tuple(model.get_layer("pool3").output.shape[1:])
    assert_correct(checks.exercise_02_2(pool3_shape, model.count_params()))
    assert_hint(checks.exercise_02_2(None, None), "no answer yet")
    assert_hint(checks.exercise_02_2((4, 4, 128), model.count_params()), "rounds down")
    assert_hint(checks.exercise_02_2((3, 3, 64), model.count_params()), "channels")
    without_biases = model.count_params() - (32 + 64 + 128 + 128 + 10)
    assert_hint(checks.exercise_02_2(pool3_shape, without_biases), "(k * k * input channels + 1)")


def test_exercise_03_1(tmp_path):
    log = tmp_path / "training_log.csv"
    rows = [(0, 0.80, 0.50), (1, 0.85, 0.40), (2, 0.87, 0.35), (3, 0.89, 0.38), (4, 0.88, 0.39)]
    with open(log, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["epoch", "val_accuracy", "val_loss"])
        writer.writerows(rows)
    assert_correct(checks.exercise_03_1(4, log))  # Epoch 3 counted from 0.
    assert_hint(checks.exercise_03_1(None, log), "no answer yet")
    assert_hint(checks.exercise_03_1(3, log), "counts epochs from 0")
    assert_hint(checks.exercise_03_1(2, log), "lowest validation loss")
    assert_hint(checks.exercise_03_1(1, log), "largest value")
    with pytest.raises(FileNotFoundError, match="run the training cell of notebook 03"):
        checks.exercise_03_1(4, tmp_path / "missing.csv")


def test_exercise_04_1():
    rng = np.random.default_rng(1)
    confusion = rng.integers(0, 50, size=(10, 10)) + np.diag(np.full(10, 500))
    shirt = data.CLASS_NAMES.index("Shirt")
    precision = confusion[shirt, shirt] / confusion[:, shirt].sum()
    recall = confusion[shirt, shirt] / confusion[shirt, :].sum()
    assert_correct(checks.exercise_04_1(precision, recall, confusion))
    assert_hint(checks.exercise_04_1(None, recall, confusion), "no answer yet", "shirt_precision")
    assert_hint(checks.exercise_04_1(recall, precision, confusion), "swapped")
    assert_hint(checks.exercise_04_1(100 * precision, 100 * recall, confusion), "not percentages")
    assert_hint(checks.exercise_04_1(precision, recall * 0.9, confusion), "recall is off")


def test_exercise_04_2():
    rng = np.random.default_rng(2)
    probabilities = rng.dirichlet(np.ones(10), size=300)
    labels = rng.integers(0, 10, size=300)
    top2 = np.argsort(probabilities, axis=1)[:, -2:]
    top2_accuracy = np.mean((top2 == labels[:, None]).any(axis=1))
    top1_accuracy = np.mean(probabilities.argmax(axis=1) == labels)
    assert_correct(checks.exercise_04_2(top2_accuracy, probabilities, labels))
    assert_hint(checks.exercise_04_2(None, probabilities, labels), "no answer yet")
    assert_hint(checks.exercise_04_2(top1_accuracy, probabilities, labels), "that is the top-1 accuracy")
    assert_hint(checks.exercise_04_2(top1_accuracy / 2, probabilities, labels), "cannot be below")
    assert_hint(checks.exercise_04_2(100 * top2_accuracy, probabilities, labels), "not a percentage")
    with pytest.raises(ValueError, match=r"probabilities of shape \(n, 10\)"):
        checks.exercise_04_2(0.5, probabilities.argmax(axis=1), labels)


def test_exercise_05_1():
    comparison = pd.DataFrame(
        {
            "step": ["baseline", "costly big gain", "free gain", "cheap gain"],
            "s/epoch": [10.0, 30.0, 29.0, 30.0],
            "val acc": [0.90, 0.93, 0.931, 0.935],
        }
    )
    comparison["gain"] = comparison["val acc"].diff()
    assert_correct(checks.exercise_05_1("free gain", comparison))
    assert_hint(checks.exercise_05_1(None, comparison), "no answer yet")
    assert_hint(checks.exercise_05_1("costly big gain", comparison), "gained the most")
    assert_hint(checks.exercise_05_1("baseline", comparison), "starting point")
    assert_hint(checks.exercise_05_1("cheap gain", comparison), "divide each step's gain")
    assert_hint(checks.exercise_05_1("no such step", comparison), "not a step")
    assert_hint(checks.exercise_05_1(2, comparison), "name")


def _probabilities(seed: int, labels: np.ndarray, accuracy: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.ones(10), size=len(labels))
    right = rng.random(len(labels)) < accuracy
    probabilities[right, labels[right]] += 1.0
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def test_exercise_05_2():
    labels = np.arange(400) % 10
    first, second = _probabilities(3, labels, 0.6), _probabilities(4, labels, 0.6)
    ensemble_accuracy = np.mean(((first + second) / 2).argmax(axis=1) == labels)
    images = np.zeros((400, 28, 28), dtype=np.uint8)
    assert_correct(checks.exercise_05_2(ensemble_accuracy, first, second, images, labels))
    assert_hint(checks.exercise_05_2(None, first, second, images, labels), "no answer yet")
    first_alone = np.mean(first.argmax(axis=1) == labels)
    assert_hint(
        checks.exercise_05_2(first_alone, first, second, images, labels), "one model's accuracy alone"
    )
    voted = np.mean(np.maximum(first.argmax(axis=1) == labels, second.argmax(axis=1) == labels))
    assert voted != ensemble_accuracy
    assert_hint(checks.exercise_05_2(voted, first, second, images, labels), "average the probabilities")


def test_exercise_05_2_and_05_3_accept_models(tiny_data):
    (images, labels), _ = tiny_data
    keras.utils.set_random_seed(0)
    from fmnist_utils.models import build_tutorial_dense

    first, second = build_tutorial_dense(), build_tutorial_dense()
    from fmnist_utils.evaluation import predict_probabilities

    first_probabilities = predict_probabilities(first, images)
    second_probabilities = predict_probabilities(second, images)
    ensemble_accuracy = np.mean(((first_probabilities + second_probabilities) / 2).argmax(axis=1) == labels)
    assert_correct(checks.exercise_05_2(ensemble_accuracy, first, second, images, labels))
    gains = [
        np.mean(second_probabilities.argmax(axis=1)[labels == label] == label)
        - np.mean(first_probabilities.argmax(axis=1)[labels == label] == label)
        for label in range(10)
    ]
    expected = data.CLASS_NAMES[int(np.argmax(gains))]
    assert_correct(checks.exercise_05_3(expected, first, second, images, labels))


def test_exercise_05_3():
    labels = np.arange(500) % 10
    baseline = labels.copy()
    baseline[labels == 6] = 0  # The baseline never gets a shirt right ...
    improved = labels.copy()
    improved[(labels == 6) & (np.arange(500) % 20 < 10)] = 0  # ... the improved model half of them.
    improved[labels == 1] = 3  # And it loses every trouser.
    images = np.zeros((500, 28, 28), dtype=np.uint8)
    assert_correct(checks.exercise_05_3("Shirt", baseline, improved, images, labels))
    probabilities = np.eye(10)[improved]
    assert_correct(checks.exercise_05_3("Shirt", baseline, probabilities, images, labels))
    assert_hint(checks.exercise_05_3(None, baseline, improved, images, labels), "no answer yet")
    assert_hint(checks.exercise_05_3(6, baseline, improved, images, labels), "not its number")
    assert_hint(checks.exercise_05_3("Shirts", baseline, improved, images, labels), "not a class name")
    assert_hint(checks.exercise_05_3("T-shirt/top", baseline, improved, images, labels), "right most often")
    assert_hint(checks.exercise_05_3("Trouser", baseline, improved, images, labels), "subtract")


def test_hints_do_not_give_the_answer_away():
    hints = [
        checks.exercise_02_1((26, 26, 16), 416).message,
        checks.exercise_02_1((24, 24, 16), 400).message,
        checks.exercise_02_2((4, 4, 128), 1).message,
    ]
    for hint in hints:
        assert not re.search(r"\b(24|416|241,?546|3, 3, 128)\b", hint), hint


def test_every_solution_cell_is_followed_by_its_check():
    for path in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        cells = notebook.cells
        solutions = [index for index, cell in enumerate(cells) if "solution" in cell.metadata.get("tags", [])]
        assert len(solutions) >= 3, path.name
        for number, index in enumerate(solutions, start=1):
            check = cells[index + 1]
            assert "check" in check.metadata.get("tags", []), (path.name, number)
            assert f"checks.exercise_{path.name[:2]}_{number}(" in check.source, (path.name, number)
            assert check.source.startswith("# NBVAL_CHECK_OUTPUT"), (path.name, number)
            outputs = "".join(output.get("data", {}).get("text/plain", "") for output in check.outputs)
            assert outputs.startswith(f"Exercise {path.name[:2]}.{number}"), (path.name, number, outputs)
            assert "not yet" not in outputs, (path.name, number, outputs)


def test_instructors_guide_counts_the_exercises_right():
    """INSTRUCTORS.md's table: "4 (3 with a check)" per notebook, as the notebooks and checks have it."""
    import inspect

    guide = (NOTEBOOKS_DIR.parent / "INSTRUCTORS.md").read_text()
    assert "TBD" not in guide
    for path in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")):
        number = path.name[:2]
        notebook = nbformat.read(path, as_version=4)
        exercises = sum("solution" in cell.metadata.get("tags", []) for cell in notebook.cells)
        definite = sum(
            bool(inspect.signature(check).parameters)
            for name, check in checks.EXERCISES.items()
            if name.startswith(f"{number}.")
        )
        row = next(line for line in guide.splitlines() if line.startswith(f"| {number} "))
        assert row.endswith(f"| {exercises} ({definite} with a check) |"), row
