"""fmnist_utils.demo: the Gradio page answers good pictures, explains bad ones, and survives a burst.

The app serves the ``tiny_classifier`` fixture on 127.0.0.1; requests go through
``gradio_client`` (what a browser's page calls) and, in the last test, through headless
Chromium, which uploads a real test image and a bad file by hand.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

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

    scores, seen, note, message = Client(served, verbose=False).predict(
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
    assert message == ""


@pytest.mark.parametrize("name", ["sixteen_bit.png", "transparent.png"])
def test_sixteen_bit_and_transparent_pictures_are_classified(served, pictures, name):
    scores, _, _, message = Client(served, verbose=False).predict(
        handle_file(str(pictures / name)), api_name="/classify_picture"
    )
    assert _top_class(scores) in CLASS_NAMES
    assert message == ""


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
    """The message is an output of the page (it stays until the next answer), not a pop-up
    that vanishes; the scores and the picture are emptied, so no earlier answer stays beside it."""
    client = Client(served, verbose=False)
    client.predict(handle_file(str(pictures / "ankle_boot.png")), api_name="/classify_picture")
    scores, seen, note, shown = client.predict(
        handle_file(str(pictures / name)), api_name="/classify_picture"
    )
    assert shown.startswith("**Not classified.** ")
    assert re.search(message, _unescaped(shown.removeprefix("**Not classified.** ")))
    assert not scores  # The label emptied (the client reads it as {}) ...
    assert (seen, note) == ("", "")  # ... and the picture too.


def _unescaped(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def test_a_message_keeps_a_file_name_as_it_is(tiny_classifier, tmp_path):
    """Markdown would read my_shirt_2_.png's underscores as italics: they are escaped."""
    (tmp_path / "my_*shirt*_2_.png").write_text("not a picture")
    scores, seen, note, message = demo.page_answer(
        lambda: (*demo.classify_upload(tiny_classifier, tmp_path / "my_*shirt*_2_.png"), "")
    )
    assert message.startswith("**Not classified.** my\\_\\*shirt\\*\\_2\\_.png: not an image file")
    assert not scores
    assert (seen, note) == ("", "")


def test_no_file_chosen_is_explained_in_the_message_line(served):
    scores, seen, note, message = Client(served, verbose=False).predict(None, api_name="/classify_picture")
    assert message == "**Not classified.** Choose a picture file first (PNG, JPEG, ...)."
    assert not scores
    assert (seen, note) == ("", "")


def test_a_test_image_is_classified_with_its_true_class(served):
    scores, _, note, _ = Client(served, verbose=False).predict(3, api_name="/classify_test_image")
    assert _top_class(scores) in CLASS_NAMES
    assert note.startswith("True class: **")
    assert note.removeprefix("True class: **").rstrip("*") in CLASS_NAMES


def test_a_test_image_index_out_of_range_is_explained(served):
    scores, _, _, message = Client(served, verbose=False).predict(50, api_name="/classify_test_image")
    assert "index must lie in 0..49, got 50" in message
    assert not scores


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
    assert result.answers == {"ankle_boot.png": {"error": 2}}


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
    assert picture[0, 0, 0] > picture[0, 0, 2]  # Hot: yellow in the inferno colour map ...
    assert (picture[2, 2] < 10).all()  # ... cold: black.


def test_the_overlay_reads_in_grayscale():
    """Hot must be lighter than cold for a reader without colour (jet's ends are both dark)."""
    image = np.full((28, 28), 128, np.uint8)
    heatmap = np.tile(np.linspace(0.0, 1.0, 28), (28, 1))
    picture = demo.overlay(image, heatmap, scale=1).astype(float)
    lightness = picture @ np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 luma.
    assert np.all(np.diff(lightness[0]) >= 0)
    assert lightness[0, -1] - lightness[0, 0] > 60


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


def test_make_demo_names_the_models_it_looks_for_and_how_to_make_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FMNIST_WORK_DIR", str(tmp_path))
    with pytest.raises(SystemExit):
        demo.main([])
    error = capsys.readouterr().err
    for name in [
        "improved_cnn.keras",
        "baseline_cnn.keras",
        "improved_cnn_quick.keras",
        "baseline_cnn_quick.keras",
    ]:
        assert name in error
    assert "Run notebook 03" in error
    assert "FMNIST_QUICK=1" in error
    assert "Or pass --model FILE.keras" in error
    with pytest.raises(SystemExit):
        demo.main(["--model", str(tmp_path / "mine.keras")])
    assert "mine.keras not found: check the path." in capsys.readouterr().err


@pytest.mark.parametrize("quick", ["0", "1"], ids=["full mode", "quick mode set"])
def test_make_demo_takes_a_full_runs_model_first_then_a_quick_one(tmp_path, monkeypatch, quick):
    monkeypatch.setenv("FMNIST_WORK_DIR", str(tmp_path))
    monkeypatch.setenv("FMNIST_QUICK", quick)
    models = tmp_path / "models"
    models.mkdir()
    order = [
        "improved_cnn.keras",
        "baseline_cnn.keras",
        "improved_cnn_quick.keras",
        "baseline_cnn_quick.keras",
    ]
    for name in reversed(order):  # The worst first: each better one then takes over.
        (models / name).touch()
        assert demo.find_model() == models / name
    assert "quick-mode model" in demo._describe(models / "baseline_cnn_quick.keras")
    assert "weaker" in demo._describe(models / "baseline_cnn_quick.keras")
    assert "quick" not in demo._describe(models / "improved_cnn.keras")


def test_make_demo_starts_without_tensorflows_log_lines(tiny_classifier, real_data_dir, tmp_path):
    """``python -m fmnist_utils.demo`` in a fresh process: its standard error stays empty."""
    (tmp_path / "models").mkdir()
    tiny_classifier.save(tmp_path / "models" / "baseline_cnn_quick.keras")
    env = {**os.environ, "FMNIST_WORK_DIR": str(tmp_path), "FMNIST_DATA_DIR": str(real_data_dir)}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # As in a student's terminal.
    env["PYTHONUNBUFFERED"] = "1"  # Each line as it is printed.
    command = [sys.executable, "-m", "fmnist_utils.demo", "--port", str(_free_port())]
    with subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            lines = []
            for line in process.stdout:  # Until the page is up.
                lines.append(line)
                if "Running on local URL" in line:
                    break
        finally:
            process.terminate()
            _, error = process.communicate(timeout=60)
    assert any(
        line.startswith("Serving models/baseline_cnn_quick.keras: a quick-mode model") for line in lines
    )
    assert any("Running on local URL" in line for line in lines), (lines, error)
    for noise in ["oneDNN", "cuInit", "cuda", "absl::InitializeLog", "cpu_feature_guard"]:
        assert noise not in error, error


def test_the_page_uses_grad_cam_maps_of_at_least_7x7(monkeypatch):
    """The improved CNN's last maps are 3x3: the page takes its 7x7 ones (relu2_2)."""
    from fmnist_utils import models

    improved = models.build_improved_cnn()
    assert demo.cam_layer(improved) == "relu2_2"
    assert demo.cam_layer(models.build_baseline_cnn()) == "relu2"  # Already 14x14.
    used = []
    monkeypatch.setattr(
        demo, "grad_cam", lambda model, image, layer_name: used.append(layer_name) or np.zeros((28, 28))
    )
    demo.explain(improved, np.zeros((28, 28), np.uint8))
    assert used == ["relu2_2"]


def test_notebook_06_leaves_its_demo_running_after_run_all():
    """After Run All the page shown inline still answers: no later cell stops its server
    (``app.close()``, ``gradio.close_all()``, or another ``demo.launch``, which stops it first)."""
    import json

    from helpers import SOLUTIONS_DIR

    cells = json.loads((SOLUTIONS_DIR / "06_from_notebook_to_app.ipynb").read_text())["cells"]
    code = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    (launched,) = [index for index, source in enumerate(code) if "demo.launch(" in source]
    for source in code[launched + 1 :]:
        assert not re.search(r"\.close\(|close_all\(|demo\.launch\(", source), source


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
            sync_api.expect(picture).to_have_count(0)  # The previous answer is gone ...
            sync_api.expect(answer).to_have_count(0)
            page.wait_for_timeout(12_000)  # ... and the message stays (a pop-up goes after 10 s).
            sync_api.expect(message).to_be_visible()
            page.screenshot(path=str(tmp_path / "demo-error.png"))
        finally:
            browser.close()
