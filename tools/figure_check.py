"""Figure check: every committed figure as a grayscale print and a colour-blind reader show it.

Usage (from the repository root)::

    .venv/bin/python tools/figure_check.py                      # solutions/*.ipynb
    .venv/bin/python tools/figure_check.py solutions/04_*.ipynb --out figure_check
    xdg-open figure_check/index.html                            # or open it in a browser

For each PNG output saved in the notebooks it writes ``OUT/<notebook>-<cell id>-<n>.png``:
the figure as saved, in grayscale, and as a person with deuteranopia (no green cones, the
commonest colour blindness) sees it, side by side; and ``OUT/index.html`` listing them
with the flags below. It prints one line per figure.

What is automated is deliberately simple, and is no verdict: a reviewer looks at the
pictures. The flags:

- ``wide``: the PNG is wider than :data:`DISPLAY_PX` (900 px), so JupyterLab scales it
  down and its text shrinks by the factor printed (the rules are in ``fmnist_utils.plots``).
- ``gray``: two of the figure's dominant colours (saturated colours covering at least
  :data:`MIN_SHARE` of the picture each, such as the series or classes of a chart) that
  differ clearly in colour have nearly the same lightness (CAM02-UCS J' within
  :data:`MIN_LIGHTNESS_STEP`): in grayscale they merge.
- ``deutan``: two dominant colours that differ clearly in colour are within
  :data:`MIN_DELTA_E` of each other (CAM02-UCS ΔE) once deuteranopia is simulated
  (Machado et al. 2009, through ``colorspacious``).

A colour map drawn large (a heatmap, filters) shows up as many dominant colours: a flag then
says that the map itself merges colours (the red and blue ends of ``RdBu`` in grayscale, the
middle of ``jet``); a small one falls below the share and is only shown. Grey pixels (the
garments, axes, text) are never counted. A flagged figure may be fine (two colours that
merge may be told apart by a label or a hatch): look at it.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import itertools
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from colorspacious import cspace_convert
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
#: The widest figure JupyterLab shows unscaled, in pixels (plots.DISPLAY_WIDTH_IN at 100 dpi).
DISPLAY_PX = 900
#: A dominant colour covers at least this share of the picture's pixels.
MIN_SHARE = 0.005
#: Colours closer than this (CAM02-UCS ΔE, normal vision) are shades of one colour: not compared.
SAME_COLOUR_DELTA_E = 20.0
#: Two dominant colours this close in lightness (J', 0-100) merge in grayscale.
MIN_LIGHTNESS_STEP = 8.0
#: Two dominant colours this close (ΔE) after the deuteranopia simulation look alike.
MIN_DELTA_E = 10.0
#: A pixel whose RGB channels span less than this (0-1) is grey: never a dominant colour.
MIN_CHROMA = 0.15
_DEUTERANOPIA = {"name": "sRGB1+CVD", "cvd_type": "deuteranomaly", "severity": 100}


@dataclass
class Figure:
    """One PNG output of a notebook cell, and what the check found."""

    notebook: str
    cell_id: str
    index: int
    picture: Image.Image
    colours: list[tuple[float, float, float]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """File name of the side-by-side picture."""
        return f"{self.notebook}-{self.cell_id}-{self.index}.png"


def notebook_figures(path: Path) -> Iterator[Figure]:
    """Every ``image/png`` output of a notebook, in cell order."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for position, cell in enumerate(notebook.get("cells", [])):
        pngs = [
            output["data"]["image/png"]
            for output in cell.get("outputs", [])
            if "image/png" in output.get("data", {})
        ]
        for index, data in enumerate(pngs):
            picture = Image.open(io.BytesIO(base64.b64decode(data)))
            yield Figure(path.stem, str(cell.get("id", position)), index, picture)


def on_white(picture: Image.Image) -> np.ndarray:
    """The picture's RGB values in [0, 1], transparent parts shown white as in JupyterLab."""
    rgba = np.asarray(picture.convert("RGBA"), dtype=float) / 255
    alpha = rgba[..., 3:]
    return rgba[..., :3] * alpha + (1 - alpha)


def grayscale(rgb: np.ndarray) -> np.ndarray:
    """A grayscale copy, by CAM02-UCS lightness J' (what a grayscale print keeps)."""
    lightness = cspace_convert(rgb, "sRGB1", "CAM02-UCS")[..., 0] / 100
    return np.repeat(lightness[..., np.newaxis], 3, axis=-1).clip(0, 1)


def deuteranopia(rgb: np.ndarray) -> np.ndarray:
    """How a person without green cones sees the colours (full severity)."""
    return cspace_convert(rgb, _DEUTERANOPIA, "sRGB1").clip(0, 1)


def dominant_colours(rgb: np.ndarray) -> list[tuple[float, float, float]]:
    """Saturated colours covering at least :data:`MIN_SHARE` of the picture, most common first.

    Colours are binned to 16 levels a channel, so anti-aliased edges fall in other bins.
    """
    pixels = rgb.reshape(-1, 3)
    chroma = pixels.max(axis=1) - pixels.min(axis=1)
    binned = np.round(pixels[chroma >= MIN_CHROMA] * 15).astype(int)
    if not len(binned):
        return []
    values, counts = np.unique(binned, axis=0, return_counts=True)
    keep = counts >= MIN_SHARE * len(pixels)
    order = np.argsort(-counts[keep])
    return [tuple(value / 15) for value in values[keep][order]]


def colour_flags(colours: Sequence[tuple[float, float, float]]) -> tuple[list[str], list[str]]:
    """The ``gray`` and ``deutan`` flags for a figure's dominant colours, and the worst pair of each."""
    rgb = np.asarray(colours, dtype=float).reshape(-1, 3)
    seen = cspace_convert(rgb, "sRGB1", "CAM02-UCS")
    simulated = cspace_convert(deuteranopia(rgb), "sRGB1", "CAM02-UCS")
    found: dict[str, list[tuple[float, str]]] = {"gray": [], "deutan": []}
    for first, second in itertools.combinations(range(len(rgb)), 2):
        if np.linalg.norm(seen[first] - seen[second]) < SAME_COLOUR_DELTA_E:
            continue  # Two shades of one colour: nothing to tell apart.
        pair = f"{_hex(rgb[first])} and {_hex(rgb[second])}"
        step = float(abs(seen[first, 0] - seen[second, 0]))
        if step < MIN_LIGHTNESS_STEP:
            found["gray"].append((step, f"{pair}: lightness step {step:.1f} in grayscale"))
        distance = float(np.linalg.norm(simulated[first] - simulated[second]))
        if distance < MIN_DELTA_E:
            found["deutan"].append((distance, f"{pair}: ΔE {distance:.1f} with deuteranopia"))
    flags = [flag for flag, pairs in found.items() if pairs]
    notes = [f"{len(pairs)} pairs, worst {min(pairs)[1]}" for pairs in found.values() if pairs]
    return flags, notes


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in rgb)


def check(figure: Figure) -> Figure:
    """Fill in the figure's dominant colours, flags and notes."""
    width = figure.picture.width
    if width > DISPLAY_PX:
        figure.flags.append("wide")
        figure.notes.append(f"{width} px wide: shown at {DISPLAY_PX / width:.2f} of its size")
    figure.colours = dominant_colours(on_white(figure.picture))
    flags, notes = colour_flags(figure.colours)
    figure.flags += flags
    figure.notes += notes
    return figure


def side_by_side(picture: Image.Image, gap: int = 12) -> Image.Image:
    """The picture as saved, in grayscale and with deuteranopia, left to right."""
    rgb = on_white(picture)
    panels = [rgb, grayscale(rgb), deuteranopia(rgb)]
    height, width = rgb.shape[:2]
    sheet = np.ones((height, 3 * width + 2 * gap, 3))
    for position, panel in enumerate(panels):
        start = position * (width + gap)
        sheet[:, start : start + width] = panel
    return Image.fromarray(np.uint8(np.round(sheet * 255)))


def write_report(figures: Sequence[Figure], out: Path) -> Path:
    """Write each figure's side-by-side picture and ``index.html``; return the index's path."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for figure in figures:
        side_by_side(figure.picture).save(out / figure.name)
        flags = ", ".join(figure.flags) or "none"
        notes = "<br>".join(html.escape(note) for note in figure.notes)
        rows.append(
            f"<h2>{html.escape(figure.notebook)}, cell {html.escape(figure.cell_id)}, "
            f"figure {figure.index + 1}</h2>\n<p>flags: <b>{flags}</b><br>{notes}</p>\n"
            f'<img src="{html.escape(figure.name)}" alt="{html.escape(figure.name)}">'
        )
    index = out / "index.html"
    index.write_text(_PAGE.format(count=len(figures), rows="\n".join(rows)), encoding="utf-8")
    return index


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Figure check</title>
<style>body {{ font-family: sans-serif; margin: 1em; }}
img {{ max-width: 100%; border: 1px solid #ccc; }}</style>
</head><body>
<h1>Figure check: {count} figures</h1>
<p>Each picture: as saved | grayscale | deuteranopia (simulated). Look at every one: can each
series, class and label still be told apart and read? The flags are a simple automated measure
(tools/figure_check.py explains them), not a verdict; colour maps are shown, not measured.</p>
{rows}
</body></html>
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Check the notebooks' figures and write the report; 1 with ``--strict`` if any is flagged."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="notebooks to check (default: solutions/*.ipynb)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("figure_check"), help="output folder (default: %(default)s)"
    )
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when any figure is flagged")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "solutions").glob("*.ipynb"))
    missing = [str(path) for path in notebooks if not path.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}; give paths to .ipynb files.")
    figures = [check(figure) for path in notebooks for figure in notebook_figures(path)]
    if not figures:
        print("No PNG outputs in these notebooks: run them first (make execute).")
        return 0
    for figure in figures:
        verdict = ", ".join(figure.flags) or "ok"
        details = f" ({'; '.join(figure.notes)})" if figure.notes else ""
        print(f"{figure.name}: {len(figure.colours)} dominant colours, {verdict}{details}")
    index = write_report(figures, args.out)
    flagged = sum(1 for figure in figures if figure.flags)
    print(f"{len(figures)} figures, {flagged} flagged; look at each in {index}")
    return 1 if args.strict and flagged else 0


if __name__ == "__main__":
    sys.exit(main())
