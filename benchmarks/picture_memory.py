"""Benchmark: the peak memory of ``data.load_image_file`` on large phone photos.

Binder gives a notebook 1 to 2 GB; classifying a student's own photo must not take a
large share of it. The goal: a 48-megapixel JPEG (8000x6000, a recent phone's full
resolution) classifies with under 300 MB of extra peak memory.

The script draws a garment on a light background at each size and saves it twice in a
temporary folder: as a baseline JPEG (as phones save them) and as a progressive one (as
many web pictures are). For each file it starts a fresh Python process that imports the
package and loads a small picture once (so that Pillow's plugins are imported too), then
reads its resident memory, resets the peak (Linux: ``/proc/self/clear_refs``) and calls
``load_image_file``. The extra peak is the process's peak resident memory (``VmHWM``)
minus the resident memory before the call. (``tracemalloc`` does not see Pillow's C
allocations.) Where the peak cannot be reset (not Linux), the peak since the process
started is used: the figure can only be too high, never too low.

    python benchmarks/picture_memory.py                   # 12 and 48 megapixels
    python benchmarks/picture_memory.py --megapixels 48
    git show 018d313:fmnist_utils/data.py > /tmp/old_data.py   # before issue 17
    python benchmarks/picture_memory.py --module /tmp/old_data.py

``--module`` measures the ``load_image_file`` of another copy of ``fmnist_utils/data.py``
(for before/after figures on the same machine).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

#: The goal for a 48-megapixel photo; smaller photos get a proportional share.
GOAL_BYTES = 300e6
GOAL_MEGAPIXELS = 48

_CHILD = r"""
import importlib.util, json, re, resource, sys
from pathlib import Path

picture, module_path, warm_up = sys.argv[1:4]
if module_path:
    spec = importlib.util.spec_from_file_location("data_under_test", module_path)
    data = sys.modules["data_under_test"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(data)
else:
    from fmnist_utils import data


def status(field):
    found = re.search(rf"^{field}:\s+(\d+) kB$", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(found.group(1)) * 1024


data.load_image_file(warm_up)
try:
    baseline = status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # Reset the peak (VmHWM) to the current size.
    method = "VmHWM after reset"
except OSError:
    baseline, method = None, "ru_maxrss since start"
data.load_image_file(picture)
if baseline is None:
    scale = 1 if sys.platform == "darwin" else 1024  # Bytes on macOS, kilobytes on Linux.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    baseline = 0
else:
    peak = status("VmHWM")
print(json.dumps({"baseline": baseline, "peak": peak, "extra": peak - baseline, "method": method}))
"""


def make_photo(path: Path, width: int, height: int, *, progressive: bool = False) -> Path:
    """Save a JPEG of a dark T-shirt on a light background, ``width`` x ``height`` pixels.

    Phones save baseline JPEGs; ``progressive`` ones (common on the web) need more memory
    to decode, as the decoder keeps every DCT coefficient of the picture.
    """
    from PIL import Image, ImageDraw

    photo = Image.new("RGB", (width, height), (236, 232, 225))
    scale_x, scale_y = width / 300, height / 260
    outline = [(90, 20), (210, 20), (290, 80), (250, 120), (220, 95), (220, 250), (80, 250), (80, 95)]
    outline += [(50, 120), (10, 80)]
    ImageDraw.Draw(photo).polygon([(x * scale_x, y * scale_y) for x, y in outline], fill=(40, 60, 120))
    photo.save(path, quality=90, progressive=progressive)
    return path


def measure(picture: Path, module: Path | None = None) -> dict:
    """Measure ``load_image_file(picture)``'s extra peak memory in a fresh process.

    Args:
        picture: The image file to load.
        module: Another copy of ``fmnist_utils/data.py`` to measure; ``None``: the package's.

    Returns:
        ``{"baseline", "peak", "extra"}`` in bytes, and the ``"method"`` used.
    """
    with tempfile.TemporaryDirectory() as folder:
        warm_up = make_photo(Path(folder) / "small.jpg", 300, 260)
        completed = subprocess.run(
            [sys.executable, "-c", _CHILD, str(picture), str(module or ""), str(warm_up)],
            capture_output=True,
            text=True,
            check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(f"measuring {picture} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.splitlines()[-1])


def goal_bytes(megapixels: float) -> float:
    """The goal for a photo of ``megapixels``: 300 MB for 48 megapixels, proportionally less below."""
    return GOAL_BYTES * min(1.0, megapixels / GOAL_MEGAPIXELS)


def main(argv: list[str] | None = None) -> int:
    """Measure each size and print a table; return 1 if a size misses its goal."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--megapixels", type=float, nargs="+", default=[12, 48], help="photo sizes (4:3)")
    parser.add_argument("--module", type=Path, help="another copy of fmnist_utils/data.py to measure")
    arguments = parser.parse_args(argv)
    print(f"load_image_file of {arguments.module or 'fmnist_utils.data'}")
    print("| photo | file MB | extra peak MB | goal MB | verdict |")
    print("|---|---|---|---|---|")
    missed = 0
    with tempfile.TemporaryDirectory() as folder:
        for megapixels in arguments.megapixels:
            for progressive in (False, True):
                missed += _row(Path(folder), megapixels, progressive, arguments.module)
    print("(extra peak = peak resident memory during the call minus before it)")
    return 1 if missed else 0


def _row(folder: Path, megapixels: float, progressive: bool, module: Path | None) -> bool:
    """Measure one photo and print its table row; return whether it missed its goal."""
    width = round(math.sqrt(megapixels * 1e6 * 4 / 3))
    height = round(width * 3 / 4)
    kind = "progressive" if progressive else "baseline"
    photo = make_photo(folder / f"{kind}_{width}x{height}.jpg", width, height, progressive=progressive)
    figures = measure(photo, module)
    goal = goal_bytes(megapixels)
    verdict = "ok" if figures["extra"] < goal else "over"
    print(
        f"| {megapixels:g} MP {kind} JPEG ({width}x{height}) | {photo.stat().st_size / 1e6:.1f} "
        f"| {figures['extra'] / 1e6:,.0f} | {goal / 1e6:.0f} | {verdict} ({figures['method']}) |"
    )
    photo.unlink()
    return verdict == "over"


if __name__ == "__main__":
    sys.exit(main())
