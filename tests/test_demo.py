"""fmnist_utils.demo: the Gradio page answers good pictures, explains bad ones, and survives a burst.

The app serves the ``tiny_classifier`` fixture on 127.0.0.1; requests go through
``gradio_client`` (what a browser's page calls) and, in the last test, through headless
Chromium, which uploads a real test image and a bad file by hand.
"""

from __future__ import annotations

import socket

import numpy as np
import pytest
from PIL import Image

from fmnist_utils import deploy

gradio = pytest.importorskip("gradio", reason="the deploy extra is not installed: pip install -e '.[deploy]'")
from gradio_client import Client, handle_file  # noqa: E402  (after the skip)

from fmnist_utils import demo  # noqa: E402
from fmnist_utils.data import CLASS_NAMES  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def test_set(real_data):
    _, (test_images, test_labels) = real_data
    return test_images[:50], test_labels[:50]


@pytest.fixture(scope="module")
def pictures(tmp_path_factory, test_set):
    """Upload files: a real test image as a photo would be (dark on light), and bad ones."""
    folder = tmp_path_factory.mktemp("uploads")
    Image.fromarray(255 - test_set[0][0]).resize((280, 280)).save(folder / "ankle_boot.png")
    Image.fromarray(test_set[0][1].astype(np.uint16) * 257).save(folder / "sixteen_bit.png")
    garment = np.zeros((28, 28, 4), np.uint8)
    garment[..., 3] = test_set[0][2]  # Only the garment is opaque.
    Image.fromarray(garment, "RGBA").save(folder / "transparent.png")
    (folder / "notes.png").write_text("this is text, not a picture")
    (folder / "empty.jpg").write_bytes(b"")
    Image.new("1", (20_000, 20_000)).save(folder / "huge.png")  # 400 megapixels, a small file.
    Image.new("RGBA", (60, 40), (255, 255, 255, 0)).save(folder / "blank.png")
    return folder


@pytest.fixture(scope="module")
def served(tiny_classifier, test_set):
    """The demo app running on a free local port: yields its address."""
    app = demo.build_demo(tiny_classifier, *test_set)
    port = _free_port()
    demo.launch(app, port=port, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()


def _picture(html: str) -> Image.Image:
    """The picture inside the page's ``<img src="data:image/png;base64,...">``."""
    import base64
    import io
    import re

    (data,) = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    return Image.open(io.BytesIO(base64.b64decode(data)))


def _top_class(scores: dict) -> str:
    return scores["label"]


def test_a_picture_gets_the_models_probabilities_and_what_it_saw(served, tiny_classifier, pictures):
    from fmnist_utils.data import load_image_file

    scores, seen, note = Client(served, verbose=False).predict(
        handle_file(str(pictures / "ankle_boot.png")), api_name="/classify_picture"
    )
    expected = deploy.keras_predictor(tiny_classifier)(
        load_image_file(pictures / "ankle_boot.png")[np.newaxis]
    )[0]
    assert _top_class(scores) == CLASS_NAMES[int(expected.argmax())]
    confidences = {item["label"]: item["confidence"] for item in scores["confidences"]}
    assert confidences[_top_class(scores)] == pytest.approx(float(expected.max()), abs=1e-5)
    assert np.asarray(_picture(seen)).shape == (224, 224, 3)
    assert note == ""


@pytest.mark.parametrize("name", ["sixteen_bit.png", "transparent.png"])
def test_sixteen_bit_and_transparent_pictures_are_classified(served, pictures, name):
    scores, _, _ = Client(served, verbose=False).predict(
        handle_file(str(pictures / name)), api_name="/classify_picture"
    )
    assert _top_class(scores) in CLASS_NAMES


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("notes.png", r"^notes\.png: not an image file that can be read"),
        ("empty.jpg", r"^empty\.jpg: the file is empty"),
        ("huge.png", r"^huge\.png: the picture is too large to open safely"),
        ("blank.png", r"^blank\.png: .*fully transparent"),
    ],
)
def test_a_bad_upload_gets_the_same_clear_message_as_classify_image(served, pictures, name, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        Client(served, verbose=False).predict(handle_file(str(pictures / name)), api_name="/classify_picture")


def test_a_test_image_is_classified_with_its_true_class(served):
    scores, _, note = Client(served, verbose=False).predict(3, api_name="/classify_test_image")
    assert _top_class(scores) in CLASS_NAMES
    assert note.startswith("True class: **")
    assert note.removeprefix("True class: **").rstrip("*") in CLASS_NAMES


def test_a_test_image_index_out_of_range_is_explained(served):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=r"index must lie in 0\.\.49, got 50"):
        Client(served, verbose=False).predict(50, api_name="/classify_test_image")


def test_uploads_over_the_limit_are_refused_before_the_model(served, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (21 * 2**20))
    with pytest.raises(Exception, match=r"(?i)file.*(large|size)|exceed"):
        Client(served, verbose=False).predict(handle_file(str(big)), api_name="/classify_picture")


def test_the_server_answers_every_request_of_a_concurrent_burst(served, pictures):
    files = [pictures / "ankle_boot.png", pictures / "notes.png", pictures / "empty.jpg"]
    result = demo.load_test(served, files, requests=24, clients=4)
    assert result.count("failure") == 0, result.errors
    assert result.answers == {
        "ankle_boot.png": {"prediction": 8},
        "notes.png": {"message": 8},
        "empty.jpg": {"message": 8},
    }
    assert (result.count("prediction"), result.count("message"), result.requests) == (8, 16, 24)
    assert 0 < result.p50_ms <= result.p95_ms
    # ... and it still works afterwards.
    assert (
        _top_class(Client(served, verbose=False).predict(1, api_name="/classify_test_image")[0])
        in CLASS_NAMES
    )


def test_a_crash_in_the_page_is_not_mistaken_for_a_prediction(
    tiny_classifier, test_set, pictures, monkeypatch
):
    """A good file whose handling crashes is answered with an error: not a prediction."""
    app = demo.build_demo(tiny_classifier, *test_set)
    monkeypatch.setattr(demo, "explain", lambda model, image: 1 / 0)
    app.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True)
    try:
        result = demo.load_test(app.local_url, [pictures / "ankle_boot.png"], requests=2, clients=1)
    finally:
        app.close()
    assert result.answers == {"ankle_boot.png": {"message": 2}}


def test_a_request_that_gets_no_answer_is_a_failure_with_its_reason(tmp_path, pictures):
    result = demo.load_test(
        f"http://127.0.0.1:{_free_port()}/", [pictures / "ankle_boot.png"], requests=2, clients=1
    )
    assert result.answers == {"ankle_boot.png": {"failure": 2}}
    assert result.count("failure") == 2
    (error,) = result.errors
    assert "ConnectError" in error


def test_overlay_is_the_image_blown_up_with_the_heatmap_on_top():
    image = np.zeros((28, 28), np.uint8)
    heatmap = np.zeros((28, 28))
    heatmap[0, 0] = 1.0
    picture = demo.overlay(image, heatmap, scale=2)
    assert picture.shape == (56, 56, 3)
    assert picture.dtype == np.uint8
    assert (picture[:2, :2] == picture[0, 0]).all()  # One pixel, one 2x2 block.
    assert picture[0, 0, 0] > picture[0, 0, 2]  # Hot: red in the jet colour map.
    assert picture[2, 2, 2] > picture[2, 2, 0]  # Cold: blue.


def test_on_binder_the_page_is_served_under_jupyterhubs_proxy(monkeypatch):
    import importlib.util

    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/someone-abc/")
    assert demo._binder_root(7860) == "/user/someone-abc/proxy/7860"
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name: None if name == "jupyter_server_proxy" else real_find_spec(name),
    )
    assert demo._binder_root(7860) is None  # A JupyterHub without the proxy: nothing to point at.
    monkeypatch.undo()
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert demo._binder_root(7860) is None


def test_make_demo_says_which_notebook_to_run_when_no_model_was_saved(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FMNIST_WORK_DIR", str(tmp_path))
    with pytest.raises(SystemExit):
        demo.main([])
    assert "run notebook 03 (or 05) first, or pass --model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        demo.main(["--model", str(tmp_path / "mine.keras")])
    assert f"{tmp_path / 'mine.keras'} not found: check the path." in capsys.readouterr().err


def test_the_page_in_chromium_shows_a_prediction_and_a_bad_files_message(
    served, tiny_classifier, pictures, tmp_path
):
    """A student's round trip in a real browser: upload a test image, then a text file."""
    from helpers import chromium_binary

    from fmnist_utils.data import load_image_file

    executable = chromium_binary()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt")
    probabilities = deploy.keras_predictor(tiny_classifier)(
        load_image_file(pictures / "ankle_boot.png")[np.newaxis]
    )
    expected = CLASS_NAMES[int(probabilities.argmax())]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(served)
            page.locator("input[type=file]").set_input_files(str(pictures / "ankle_boot.png"))
            page.get_by_role("button", name="Classify the picture").click()
            answer = page.get_by_test_id("label-output-value")
            sync_api.expect(answer).to_have_text(expected)
            sync_api.expect(page.locator(".pending")).to_have_count(0)  # Outputs no longer faded.
            picture = page.get_by_alt_text("the image the model sees")
            sync_api.expect(picture).to_be_visible()
            assert picture.evaluate("image => image.naturalWidth") == 224  # Decoded, not a broken image.
            page.screenshot(path=str(tmp_path / "demo-prediction.png"))

            page.get_by_role("button", name="Clear").first.click()
            page.locator("input[type=file]").set_input_files(str(pictures / "notes.png"))
            page.get_by_role("button", name="Classify the picture").click()
            message = page.get_by_text("notes.png: not an image file that can be read")
            sync_api.expect(message).to_be_visible()
            page.screenshot(path=str(tmp_path / "demo-error.png"))
        finally:
            browser.close()
