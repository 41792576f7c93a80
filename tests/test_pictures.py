"""Any picture: 16-bit, float, palette, transparent, EXIF-rotated and huge files all load.

Each awkward file is made with Pillow and must give what the plain 8-bit picture of the
same garment gives: a 28x28 ``uint8`` image, garment bright on a dark background as in
Fashion-MNIST. Every error names the file by its absolute path and says how to fix it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from helpers import BLOCK_RESULT, block_picture
from PIL import Image

from fmnist_utils.data import load_image_file, picture_to_fashion_mnist

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
TOLERANCE = 2  # Of 255: rounding differences between equivalent pictures.


def garment(height: int = 120, width: int = 90) -> np.ndarray:
    """A dark T-shirt on a light background, 8-bit gray; every flip or rotation changes it.

    The sleeves are at the top, and the left one is longer than the right one.
    """
    picture = np.full((height, width), 235, dtype=np.uint8)
    picture[height // 5 : height // 3, width // 8 : width - width // 8] = 40  # Sleeves.
    picture[height // 5 : height * 2 // 5, width // 8 : width // 3] = 40  # The longer left sleeve.
    picture[height // 5 : height - height // 8, width // 3 : width - width // 3] = 40  # Body.
    return picture


def garment_mask(height: int = 120, width: int = 90) -> np.ndarray:
    return garment(height, width) < 128


def reference(tmp_path: Path) -> np.ndarray:
    """What the plain 8-bit grayscale PNG of the garment gives."""
    path = tmp_path / "reference.png"
    Image.fromarray(garment()).save(path)
    return load_image_file(path)


def transparent_background(color: int, background_color: int) -> Image.Image:
    """The garment in ``color``, opaque, on a fully transparent background of ``background_color``."""
    rgba = np.full((*garment().shape, 4), background_color, dtype=np.uint8)
    rgba[..., 3] = 0
    rgba[garment_mask()] = (color, color, color, 255)
    return Image.fromarray(rgba)


def palette_with_transparency() -> Image.Image:
    """A white garment on a transparent background, palette mode (as GIFs and small PNGs are)."""
    picture = Image.fromarray(np.where(garment_mask(), 1, 0).astype(np.uint8), mode="L").convert("P")
    picture.putpalette([0, 0, 0, 255, 255, 255])
    picture.info["transparency"] = 0
    return picture


WRITERS: dict[str, Callable[[], Image.Image]] = {
    "16-bit full range": lambda: Image.fromarray(garment().astype(np.uint16) * 257),
    "16-bit dim (12 bits used)": lambda: Image.fromarray(garment().astype(np.uint16) * 16),
    "float32 0..1 (mode F)": lambda: Image.fromarray(garment().astype(np.float32) / 255),
    "float32 any range (mode F)": lambda: Image.fromarray((garment().astype(np.float32) - 300) * 0.01),
    "palette": lambda: Image.fromarray(garment()).convert("P"),
    "palette, transparent background": palette_with_transparency,
    "white on transparent black": lambda: transparent_background(255, 0),
    "white on transparent white": lambda: transparent_background(255, 255),
    "black on transparent black": lambda: transparent_background(0, 0),
    "gray and alpha (LA)": lambda: transparent_background(255, 0).convert("LA"),
}


@pytest.mark.parametrize("kind", list(WRITERS))
def test_awkward_pictures_load_like_the_8_bit_picture(tmp_path, kind):
    picture = WRITERS[kind]()
    path = tmp_path / ("picture.tif" if picture.mode == "F" else "picture.png")
    picture.save(path)
    image = load_image_file(path)
    assert image.shape == (28, 28)
    assert image.dtype == np.uint8
    assert image[14, 14] > 200  # The garment: bright, centred.
    assert image[-1, 0] == 0  # Beside the body, under a sleeve: black background.
    assert np.abs(image.astype(int) - reference(tmp_path)).max() <= TOLERANCE


# Orientation tag -> how the camera stored an upright picture (the inverse of what a viewer does).
STORED = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("size", [(90, 120), (2400, 3200)], ids=["small", "large"])
@pytest.mark.parametrize("orientation", list(STORED))
def test_exif_rotated_jpeg_gives_the_upright_result(tmp_path, orientation, size):
    width, height = size
    upright = Image.fromarray(garment(height, width)).convert("RGB")
    upright.save(tmp_path / "upright.jpg", quality=95)
    stored = upright.transpose(STORED[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation.
    stored.save(tmp_path / "rotated.jpg", quality=95, exif=exif)
    stored.save(tmp_path / "ignored.jpg", quality=95)  # The same pixels, without the tag.
    expected = load_image_file(tmp_path / "upright.jpg")
    np.testing.assert_allclose(load_image_file(tmp_path / "rotated.jpg"), expected, atol=TOLERANCE)
    assert np.abs(load_image_file(tmp_path / "ignored.jpg").astype(int) - expected).max() > 100


def write_tiny(path: Path) -> None:
    Image.new("L", (1, 1), 200).save(path)


def write_blank(path: Path) -> None:
    Image.new("RGB", (60, 40), (128, 128, 128)).save(path)


def write_transparent(path: Path) -> None:
    Image.new("RGBA", (60, 40), (255, 255, 255, 0)).save(path)


def write_text(path: Path) -> None:
    path.write_text("not a picture")


def write_truncated(path: Path) -> None:
    Image.fromarray(garment()).save(path)
    path.write_bytes(path.read_bytes()[:-40])  # Part of the pixel data and the end are lost.


ERRORS = {
    "1x1": (write_tiny, ValueError, r"the picture is too small to classify: 1x1 pixels\. Use a photo"),
    "blank": (write_blank, ValueError, r"the picture is blank: .* Use a photo of one garment"),
    "fully transparent": (write_transparent, ValueError, r"fully transparent: .* Use a photo"),
    "text": (write_text, ValueError, r"not an image file that can be read .* Check that it is a picture"),
    "truncated": (write_truncated, ValueError, r"corrupt or truncated .* Save or download it again"),
    "empty": (lambda path: path.write_bytes(b""), ValueError, r"the file is empty"),
    "folder": (lambda path: path.mkdir(), IsADirectoryError, r"a folder, not an image file\. Pass the path"),
    "missing": (lambda path: None, FileNotFoundError, r"no such file\. Check the name and the folder"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_every_error_names_the_file_by_its_absolute_path(tmp_path, monkeypatch, case):
    write, error_type, message = ERRORS[case]
    (tmp_path / "photos").mkdir()
    write(tmp_path / "photos" / "folder.png")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error_type, match=message) as info:
        load_image_file(Path("photos") / "folder.png")  # Relative: from the working folder.
    assert str(info.value).startswith(f"{tmp_path / 'photos' / 'folder.png'}: ")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_says_permission_denied(tmp_path):
    path = tmp_path / "locked.png"
    Image.fromarray(garment()).save(path)
    path.chmod(0)
    with pytest.raises(PermissionError, match=rf"^{path}: permission denied"):
        load_image_file(path)


def load_benchmark():
    spec = importlib.util.spec_from_file_location("picture_memory", BENCHMARKS / "picture_memory.py")
    module = sys.modules["picture_memory"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="measures Linux's VmHWM")
def test_large_jpeg_loads_in_little_memory(tmp_path):
    """A 12-megapixel JPEG within its share (a quarter) of the 48-megapixel goal of 300 MB."""
    benchmark = load_benchmark()
    photo = benchmark.make_photo(tmp_path / "photo.jpg", 4000, 3000)
    figures = benchmark.measure(photo)
    assert figures["extra"] < benchmark.goal_bytes(12), figures
    image = load_image_file(photo)
    assert image[14, 14] > 200  # The T-shirt's body, light on black.
    assert image[-1, 0] == 0


def test_a_decoder_value_error_names_the_file(tmp_path, monkeypatch):
    """Pillow raises ValueError for some broken files (bad EXIF, odd modes): name the file too."""
    from fmnist_utils import _pictures

    path = tmp_path / "odd.png"
    Image.new("L", (40, 40), 200).save(path)

    def broken(opened):
        raise ValueError("unrecognized data stream contents")

    monkeypatch.setattr(_pictures, "decode_small", broken)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: the image data is corrupt"):
        load_image_file(path)


@pytest.mark.parametrize("mode", ["L", "RGB", "P", "1"])
@pytest.mark.parametrize("factor", [37, 40])
def test_a_large_picture_gives_what_its_small_version_gives(tmp_path, mode, factor):
    """Reduced to 1,024 pixels first (by area average; palettes by picking pixels), then as any picture."""
    path = tmp_path / f"block-{mode}.png"
    Image.fromarray(block_picture(factor)).convert(mode).save(path)
    np.testing.assert_array_equal(load_image_file(path), BLOCK_RESULT)


def test_fine_stripes_are_averaged_when_a_large_picture_is_reduced(tmp_path):
    """One-pixel stripes in a 2,240-pixel picture average to a grey garment; picking pixels
    instead would keep stripes, and a garment with holes."""
    picture = block_picture(40)
    garment = picture == 0
    picture[garment & (np.arange(picture.shape[1]) % 2 == 0)] = 255 - 40  # Stripes: 0 and 215.
    Image.fromarray(picture).save(tmp_path / "striped.png")
    image = load_image_file(tmp_path / "striped.png").astype(int)
    assert np.abs(image - BLOCK_RESULT).max() < 40


@pytest.mark.parametrize("vertical", [True, False])
def test_a_line_one_pixel_thin_stays_one_pixel_thin(vertical):
    picture = np.zeros((200, 200), dtype=np.uint8)
    if vertical:
        picture[:, 100] = 255
    else:
        picture[100, :] = 255
    image = picture_to_fashion_mnist(picture)
    assert np.count_nonzero(image.any(axis=0 if vertical else 1)) == 1
    assert np.count_nonzero(image) == 28


def test_a_large_jpeg_is_decoded_at_a_reduced_size(tmp_path, monkeypatch):
    """JPEG can decode at 1/2, 1/4 or 1/8 of its size: load_image_file asks for 1,024 pixels."""
    from PIL import JpegImagePlugin

    Image.fromarray(block_picture(40)[:, :1680]).convert("RGB").save(
        tmp_path / "big.jpg"
    )  # 1680 wide, 2240 tall
    requests = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def draft(self, mode, size):
        requests.append((mode, size))
        return real_draft(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    load_image_file(tmp_path / "big.jpg")
    assert requests == [("RGB", (768, 1024))]


def test_a_32_bit_integer_picture_keeps_its_values(tmp_path):
    deep = block_picture(1).astype(np.int32) * 190 + 1000  # 1,000 to 49,450: beyond 8 bits.
    Image.fromarray(deep, mode="I").save(tmp_path / "deep.tif")
    np.testing.assert_array_equal(load_image_file(tmp_path / "deep.tif"), BLOCK_RESULT)


@pytest.mark.parametrize("kind", ["LA", "P with a transparent colour"])
def test_a_cut_out_garment_is_laid_on_a_background(tmp_path, kind):
    """Black garment, everything else transparent (and black underneath): read as the block."""
    garment = block_picture(1) == 0
    if kind == "LA":
        picture = Image.fromarray(
            np.dstack([np.zeros((56, 56), np.uint8), np.where(garment, 255, 0).astype(np.uint8)]), mode="LA"
        )
        picture.save(tmp_path / "cut.png")
    else:
        picture = Image.fromarray(np.where(garment, 0, 1).astype(np.uint8), mode="P")
        picture.putpalette([0, 0, 0, 0, 0, 0])  # Both colours black; colour 1 is transparent.
        picture.save(tmp_path / "cut.png", transparency=1)
    np.testing.assert_array_equal(load_image_file(tmp_path / "cut.png"), BLOCK_RESULT)


def test_the_garment_is_centred_with_the_odd_pixel_on_the_right():
    """A 28 x 13 garment: 15 columns of margin, 7 on the left and 8 on the right."""
    picture = np.full((56, 56), 255, dtype=np.uint8)
    picture[14:42, 21:34] = 0
    result = picture_to_fashion_mnist(picture)
    np.testing.assert_array_equal(np.flatnonzero(result.any(axis=0)), np.arange(7, 20))
    np.testing.assert_array_equal(np.flatnonzero(result.any(axis=1)), np.arange(28))


def test_resizing_ripples_below_black_stay_black():
    """Lanczos overshoots below 0 beside sharp edges: those pixels are clipped to black, not
    wrapped round to white (a hollow square outline: its inside stays dark)."""
    picture = np.full((100, 100), 255, dtype=np.uint8)
    picture[20:80, 20:80] = 0
    picture[24:76, 24:76] = 255
    result = picture_to_fashion_mnist(picture)
    assert result.max() == 255
    assert result[2:26, 2:26].max() < 16


# The levels rule of picture_to_fashion_mnist's docstring, step by step (_pictures.as_0_255): the
# later steps stretch the result, so only the step itself shows a wrong scale.
@pytest.mark.parametrize(
    ("picture", "expected"),
    [
        (np.array([[50, 255]], np.uint8), [[50, 255]]),  # 8-bit levels, taken as they are.
        (np.array([[0.2, 1.0]], np.float32), [[51, 255]]),  # Floats within 0..1: times 255.
        (np.array([[0.0, 1.5]]), [[0, 255]]),  # Floats beyond 1: stretched.
        (np.array([[0.0, 100.0]]), [[0, 255]]),
        (np.array([[0, 256]], np.uint16), [[0, 255]]),  # Beyond 255: stretched ...
        (np.array([[1000, 2000, 3000]], np.uint16), [[0, 127.5, 255]]),  # ... from darkest to lightest.
        (np.array([[np.nan, 0.2, 0.6]]), [[51, 51, 153]]),  # NaN: the darkest value.
        (np.array([[np.nan, np.inf]]), [[0, 0]]),  # Nothing finite: black (then "blank").
    ],
)
def test_the_levels_of_a_picture_are_read_as_documented(picture, expected):
    from fmnist_utils._pictures import as_0_255

    np.testing.assert_allclose(as_0_255(picture), expected, rtol=1e-6)


# How transparent pixels are laid on a background (_pictures.gray): on white, a shop's background,
# blended by alpha, whatever the garment's brightness (before issue 30 a garment lighter than 127
# on average was laid on black, which turned its darker details darker instead of lighter);
# on black only when the garment would vanish on white.
@pytest.mark.parametrize(
    ("rgba", "expected"),
    [
        ([(30, 60, 90, 255), (30, 60, 90, 255)], [60, 60]),  # Opaque: the mean of R, G and B.
        ([(40, 40, 40, 255), (0, 0, 0, 51)], [40, 204]),  # Dark garment: 20% black on white.
        ([(200, 200, 200, 255), (100, 100, 100, 51)], [200, 224]),  # Light garment: on white too.
        ([(128, 128, 128, 255), (0, 0, 0, 0)], [128, 255]),  # Mid-grey: on white.
        ([(250, 250, 250, 255), (0, 0, 0, 0)], [250, 0]),  # Would vanish on white: on black.
        ([(239, 239, 239, 255), (0, 0, 0, 0)], [239, 255]),  # 16 below white: stands out enough.
        ([(240, 240, 240, 255), (0, 0, 0, 0)], [240, 0]),  # 15 below: too little, on black.
    ],
)
def test_transparent_pixels_are_laid_on_white(rgba, expected):
    from fmnist_utils._pictures import gray

    np.testing.assert_allclose(gray(np.array([rgba], dtype=np.float64)), [expected], rtol=1e-9)


#: Cut-out garments as shops publish them: (body colour, detail colour), RGB.
CUT_OUTS = {
    "light": ((225, 225, 225), (150, 150, 150)),
    "mid-grey": ((140, 140, 140), (90, 90, 90)),
    "dark": ((40, 40, 40), (15, 15, 15)),
    "coloured": ((230, 150, 60), (40, 40, 160)),  # Orange, a blue stripe.
}


def cut_out(body: tuple[int, ...], detail: tuple[int, ...], under: int, alpha: np.ndarray) -> np.ndarray:
    """The T-shirt of :func:`garment` in ``body`` colour with a ``detail`` stripe, RGBA.

    ``under`` is the colour the file stores under transparent pixels (invisible: a PNG
    may hold any); ``alpha`` the garment's opacity, 0..255.
    """
    mask = garment_mask()
    rgba = np.full((*mask.shape, 4), under, dtype=np.uint8)
    rgba[mask, :3] = body
    rgba[60:70][mask[60:70], :3] = detail  # A darker stripe across the body.
    rgba[..., 3] = alpha
    return rgba


def on_white(rgba: np.ndarray) -> np.ndarray:
    """The same garment photographed on white: floats in 0..1, exactly, no rounding."""
    alpha = rgba[..., 3:] / 255.0
    return (rgba[..., :3] / 255.0) * alpha + (1.0 - alpha)


def anti_aliased_alpha() -> np.ndarray:
    """The garment's opacity with soft edges: 0 outside, 255 inside, ramps at the border."""
    from scipy import ndimage

    soft = ndimage.uniform_filter(garment_mask().astype(np.float64), size=5)
    return np.round(soft * 255).astype(np.uint8)


@pytest.mark.parametrize("under", [0, 255], ids=["black under", "white under"])
@pytest.mark.parametrize("edges", ["sharp", "anti-aliased"])
@pytest.mark.parametrize("kind", list(CUT_OUTS))
def test_a_cut_out_gives_what_the_same_garment_on_white_gives(kind, edges, under):
    """A product cut-out (transparent background) is the same photo as on a shop's white."""
    alpha = np.where(garment_mask(), 255, 0).astype(np.uint8) if edges == "sharp" else anti_aliased_alpha()
    rgba = cut_out(*CUT_OUTS[kind], under=under, alpha=alpha)
    result = picture_to_fashion_mnist(rgba)
    expected = picture_to_fashion_mnist(on_white(rgba))
    assert np.abs(result.astype(int) - expected).max() <= 1
    # Fashion-MNIST's polarity: black background, light garment, its darker stripe lighter still.
    assert result[-1, 0] == 0
    assert result[0, -1] == 0
    body, stripe = result[20, 14], result[15, 14]  # Rows 60:70 of 120 land near row 15 of 28.
    assert 0 < body < stripe, (body, stripe)


def _cut_out_file(path: Path, mode: str) -> None:
    """The mid-grey cut-out (sharp edges) saved as an RGBA, LA or palette PNG."""
    rgba = cut_out(*CUT_OUTS["mid-grey"], under=0, alpha=np.where(garment_mask(), 255, 0).astype(np.uint8))
    picture = Image.fromarray(rgba, "RGBA")
    if mode == "LA":
        picture = picture.convert("LA")
    elif mode == "P with alpha (tRNS)":
        picture = picture.quantize(colors=8)  # A palette with a transparent entry (PNG's tRNS).
    picture.save(path)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P with alpha (tRNS)"])
def test_cut_out_files_of_every_transparent_mode_give_the_picture_on_white(tmp_path, mode):
    _cut_out_file(tmp_path / "cut.png", mode)
    with Image.open(tmp_path / "cut.png") as opened:
        assert opened.mode == mode.split(" ")[0]
        # What Pillow 10.1+ calls has_transparency_data (the lowest stack has Pillow 10.0).
        assert opened.mode in ("RGBA", "LA") or "transparency" in opened.info
        rgba = np.asarray(opened.convert("RGBA"))
    Image.fromarray(np.round(on_white(rgba) * 255).astype(np.uint8)).save(tmp_path / "white.png")
    expected = load_image_file(tmp_path / "white.png")
    np.testing.assert_array_equal(load_image_file(tmp_path / "cut.png"), expected)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "PA"])
def test_a_fully_transparent_picture_is_refused_clearly(mode):
    from fmnist_utils._pictures import decode_small

    if mode == "PA":  # Pillow before 12 drops the alpha when converting RGBA to PA.
        picture = Image.new("PA", (60, 40), 90)
        picture.putalpha(0)
    else:
        picture = Image.new("RGBA", (60, 40), (90, 90, 90, 0)).convert(mode)
    with pytest.raises(ValueError, match=r"fully transparent: there is nothing to see\. Use a photo"):
        picture_to_fashion_mnist(decode_small(picture))


def test_a_faint_speck_at_the_threshold_is_background():
    """Pixels up to 15% of the garment's contrast above the background are background: a
    speck exactly at that level does not widen the garment's box."""
    picture = np.zeros((56, 56), dtype=np.uint8)
    picture[14:42, 21:35] = 200
    alone = picture_to_fashion_mnist(picture)
    picture[2, 2] = 30  # 15% of 200.
    np.testing.assert_array_equal(picture_to_fashion_mnist(picture), alone)
    picture[2, 2] = 31
    assert not np.array_equal(picture_to_fashion_mnist(picture), alone)


def test_parts_darker_than_the_background_look_like_the_background():
    """A hole darker than the background inside the garment's box is read as background."""
    picture = np.full((100, 100), 100, dtype=np.uint8)
    picture[20:80, 20:80] = 220
    picture[40:60, 40:60] = 100  # A hole at the background's level ...
    at_background = picture_to_fashion_mnist(picture)
    picture[40:60, 40:60] = 0  # ... or darker than the background: the same picture.
    np.testing.assert_array_equal(picture_to_fashion_mnist(picture), at_background)


def test_the_background_is_read_from_the_pictures_frame():
    from fmnist_utils._pictures import border

    picture = np.arange(20).reshape(4, 5)
    assert sorted(border(picture).tolist()) == sorted(
        [0, 1, 2, 3, 4, 15, 16, 17, 18, 19, 0, 5, 10, 15, 4, 9, 14, 19]
    )
