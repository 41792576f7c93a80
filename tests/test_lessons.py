"""What a student meets around the lessons: a cell run twice, the course table, the quick-mode lessons."""

from __future__ import annotations

import re
import shutil

import keras
import nbformat
import numpy as np
import pytest
from helpers import SOLUTIONS_DIR

from fmnist_utils import config, models, training

NOTEBOOKS = sorted(SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb"))


def _cells(name: str) -> dict[str, str]:
    notebook = nbformat.read(SOLUTIONS_DIR / name, as_version=4)
    return {cell.id: cell.source for cell in notebook.cells}


def test_running_the_resume_cell_again_says_how_to_recover(tmp_path, monkeypatch):
    """Notebook 03: a second Shift+Enter on the run-once cell used to end in a bare assert (issue 30)."""
    monkeypatch.setenv("FMNIST_WORK_DIR", str(tmp_path))
    monkeypatch.setenv("FMNIST_QUICK", "1")
    cells = _cells("03_training.ipynb")
    rng = np.random.default_rng(0)
    namespace = {
        "keras": keras,
        "shutil": shutil,
        "config": config.get_config(),
        "training": training,
        "models": models,
        "recipe": training.BASELINE_RECIPE,
        "train_images": rng.integers(0, 256, (200, 28, 28), dtype=np.uint8),
        "train_labels": np.arange(200) % 10,
        "validation_images": rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
        "validation_labels": np.arange(50) % 10,
    }
    interrupt, resume, check = cells["5eaa1293"], cells["e19f98e2"], cells["0a7f4df7"]
    exec(interrupt, namespace)
    exec(resume, namespace)
    exec(check, namespace)
    with pytest.raises(RuntimeError, match=r"already resumed it.*Run the cell above again"):
        exec(resume, namespace)
    exec(interrupt, namespace)  # What the message says to do works.
    exec(resume, namespace)
    exec(check, namespace)


def test_getting_started_lists_every_notebook():
    """Notebook 00's course table and summary count the notebooks there are (issue 30: it said six)."""
    text = "\n".join(
        cell.source
        for cell in nbformat.read(SOLUTIONS_DIR / "00_getting_started.ipynb", as_version=4).cells
        if cell.cell_type == "markdown"
    )
    for path in NOTEBOOKS:
        assert re.search(rf"\|\s*(\*\*)?{path.name[:2]} ", text), f"00's table lacks notebook {path.name[:2]}"
    numbers = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
    assert f"{numbers[len(NOTEBOOKS)]} notebooks" in text
    wrong = [
        word for count, word in numbers.items() if count != len(NOTEBOOKS) and f"{word} notebooks" in text
    ]
    assert wrong == []


def _asserted_lessons(name: str) -> str:
    return "\n".join(
        cell.source
        for cell in nbformat.read(SOLUTIONS_DIR / name, as_version=4).cells
        if cell.cell_type == "code" and "assert" in cell.source
    )


@pytest.mark.parametrize(
    ("name", "lesson"),
    [
        ("03_training.ipynb", 'without["val_loss"][-1] > min(without["val_loss"])'),  # Overfitting.
        ("03_training.ipynb", "assert np.allclose(rates, [1e-3] * 4 + [5e-4] * 3 + [2.5e-4])"),  # Plateau.
        ("03_training.ipynb", "assert short.epochs_run < result.epochs_run"),  # Patience.
        (
            "05_tuning_and_improvements.ipynb",
            "assert not np.allclose(validation_plain, last_step)",
        ),  # Ensemble.
        ("05_tuning_and_improvements.ipynb", 'accuracy["wider, deeper, batch norm"] > accuracy["baseline"]'),
        (
            "05_tuning_and_improvements.ipynb",
            'gap["+ flips, label smoothing"] < gap["wider, deeper, batch norm"]',
        ),
        ("05_tuning_and_improvements.ipynb", '["by the model"] * (max_trials - max_trials // 2)'),  # Search.
        ("05_tuning_and_improvements.ipynb", 'final.history["val_accuracy"][-1] > last_step_accuracy'),
    ],
)
def test_each_lesson_is_asserted_in_both_modes(name, lesson):
    """The point a section makes is checked by an assert that does not depend on the mode (nbval
    runs the notebooks in quick mode, make execute in full mode)."""
    source = _asserted_lessons(name)
    assert lesson in source
    statement = next(line for line in source.splitlines() if lesson in line)
    assert "config.quick" not in statement


#: Folders that are one machine's own: a checkout, a home folder, a Windows drive.
MACHINE_FOLDER = re.compile(r"(/home/|/Users/|/work/|/root/|/content/|[A-Z]:\\)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem[:2])
def test_committed_outputs_show_no_machine_folder(path):
    """Saved outputs read the same on every machine: no author's checkout path (issue 30)."""
    checkout = str(SOLUTIONS_DIR.parent)
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            found += [line for line in text.splitlines() if checkout in line or MACHINE_FOLDER.search(line)]
    assert found == []
