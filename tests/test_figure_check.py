"""tools/figure_check.py: flags colours that merge in grayscale or for deuteranopes, and wide figures."""

from __future__ import annotations

import base64
import io
import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

from tools import figure_check


def png(colours, width_in=4.0) -> str:
    """A bar chart with one bar per colour, as a notebook stores it (base64 PNG at 100 dpi)."""
    figure, ax = plt.subplots(figsize=(width_in, 3), dpi=100)
    ax.bar(range(len(colours)), [1] * len(colours), color=colours, width=1.0)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def write_notebook(path, pictures) -> None:
    cells = [
        {
            "cell_type": "code",
            "id": f"cell{index}",
            "metadata": {},
            "source": "",
            "execution_count": 1,
            "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": picture}}],
        }
        for index, picture in enumerate(pictures)
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


# Red and green of the same lightness: one grey in grayscale, alike for a deuteranope.
RED_GREEN = ["#d03030", "#4a8a2a"]
# seaborn's colour-blind blue and orange: apart in lightness and for a deuteranope.
BLUE_ORANGE = ["#0173b2", "#de8f05"]


def check_one(tmp_path, colours, width_in=4.0):
    path = tmp_path / "nb.ipynb"
    write_notebook(path, [png(colours, width_in)])
    (figure,) = figure_check.notebook_figures(path)
    return figure_check.check(figure)


def test_red_and_green_of_one_lightness_are_flagged(tmp_path):
    figure = check_one(tmp_path, RED_GREEN)
    assert len(figure.colours) == 2
    assert figure.flags == ["gray", "deutan"]
    assert "lightness step" in figure.notes[0]
    assert "with deuteranopia" in figure.notes[1]


def test_colour_blind_palette_passes(tmp_path):
    figure = check_one(tmp_path, BLUE_ORANGE)
    assert len(figure.colours) == 2
    assert figure.flags == []


def test_wide_figure_is_flagged_with_its_scale(tmp_path):
    figure = check_one(tmp_path, BLUE_ORANGE, width_in=12)
    assert figure.flags == ["wide"]
    assert figure.notes == ["1200 px wide: shown at 0.75 of its size"]


def test_grey_pictures_have_no_dominant_colour():
    grey = np.linspace(0, 1, 100)[:, None, None] * np.ones((100, 100, 3))
    assert figure_check.dominant_colours(grey) == []


def test_report_and_command_line(tmp_path, capsys):
    notebook = tmp_path / "07_demo.ipynb"
    write_notebook(notebook, [png(RED_GREEN), png(BLUE_ORANGE)])
    out = tmp_path / "report"
    assert figure_check.main([str(notebook), "--out", str(out)]) == 0
    assert figure_check.main([str(notebook), "--out", str(out), "--strict"]) == 1  # One is flagged.
    printed = capsys.readouterr().out
    assert "07_demo-cell0-0.png: 2 dominant colours, gray, deutan" in printed
    assert "07_demo-cell1-0.png: 2 dominant colours, ok" in printed
    assert "2 figures, 1 flagged" in printed
    index = (out / "index.html").read_text()
    assert 'src="07_demo-cell0-0.png"' in index
    assert "as saved | grayscale | deuteranopia" in index
    # Original, grayscale and deuteranopia side by side: three widths and two gaps.
    original = figure_check.Image.open(io.BytesIO(base64.b64decode(png(RED_GREEN))))
    sheet = figure_check.Image.open(out / "07_demo-cell0-0.png")
    assert sheet.size == (3 * original.width + 24, original.height)
    gray_panel = np.asarray(sheet)[:, original.width + 12 : 2 * original.width + 12]
    assert (gray_panel[..., 0] == gray_panel[..., 1]).all()


def test_missing_notebook_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        figure_check.main([str(tmp_path / "nope.ipynb")])
    assert "no such notebook" in capsys.readouterr().err
