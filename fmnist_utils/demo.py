"""A web page for the trained model: upload a photo, see what the model sees and what it says.

Taught in notebook 06. Built with Gradio (the ``deploy`` extra). Start it from a notebook
with :func:`launch`, or from a terminal with ``make demo`` (``python -m fmnist_utils.demo``).
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import io
import os
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib
import numpy as np

from fmnist_utils._files import absolute_path
from fmnist_utils._tensorflow_log import quiet_tensorflow
from fmnist_utils.config import get_config, shown_path
from fmnist_utils.data import CLASS_NAMES, load_image_file

with quiet_tensorflow():  # ``make demo``: TensorFlow starts here, without its C++ log lines.
    import keras

    from fmnist_utils.deploy import _optional, keras_predictor
    from fmnist_utils.evaluation import grad_cam

__all__ = ["build_demo", "classify_upload", "launch", "load_test"]

MAX_UPLOAD = "20mb"  # Gradio refuses a larger file with its own message (its default: no limit).
MIN_CAM_SIDE = 7  # Grad-CAM's maps for the page are at least this many pixels on a side.
_UPLOAD_ERRORS = (ValueError, OSError)  # What load_image_file raises for a bad upload.


def overlay(image: np.ndarray, heatmap: np.ndarray, *, scale: int = 8) -> np.ndarray:
    """The ``uint8`` image with its Grad-CAM heatmap on top, as RGB, each pixel ``scale`` x ``scale``."""
    gray = np.repeat(image[..., np.newaxis] / 255.0, 3, axis=-1)
    heat = matplotlib.colormaps["inferno"](heatmap)[..., :3]  # Lighter where hotter: reads in grayscale.
    blended = np.uint8(255 * (0.6 * gray + 0.4 * heat))
    return np.kron(blended, np.ones((scale, scale, 1), dtype=np.uint8))


def picture_html(picture: np.ndarray) -> str:
    """An ``<img>`` element holding the picture itself, as a PNG in a data URL."""
    # Not Gradio's Image output: under load, it rewrites a cache file users share while sending it.
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    height, width = picture.shape[:2]
    source = f"data:image/png;base64,{data}"
    return f'<img alt="the image the model sees" width="{width}" height="{height}" src="{source}">'


def _applies_a_nonlinearity(layer: keras.layers.Layer) -> bool:
    """Whether ``layer`` is an activation (ReLU...) or a layer with a non-linear activation."""
    if isinstance(layer, (keras.layers.Activation, keras.layers.ReLU, keras.layers.LeakyReLU)):
        return True
    activation = getattr(layer, "activation", None)
    return activation is not None and activation is not keras.activations.linear


def cam_layer(model: keras.Model) -> str | None:
    """The layer whose maps the page's Grad-CAM uses: the last activated maps at least 7x7.

    Grad-CAM is as coarse as its maps: the improved CNN's last ones are 3x3 (one blob), so
    the page takes its 7x7 ``relu2_2``. ``None``: no such layer (Grad-CAM's default, the last).
    """
    for layer in reversed(model.layers):
        shape = getattr(layer.output, "shape", ())
        if len(shape) == 4 and min(shape[1:3]) >= MIN_CAM_SIDE and _applies_a_nonlinearity(layer):
            return layer.name
    return None


def explain(model: keras.Model, image: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
    """Return ``({class name: probability}, overlay picture)`` for one ``uint8`` image ``(28, 28)``."""
    probabilities = keras_predictor(model)(image[np.newaxis])[0]
    scores = {name: float(probability) for name, probability in zip(CLASS_NAMES, probabilities, strict=True)}
    return scores, overlay(image, grad_cam(model, image, layer_name=cam_layer(model)))


def classify_upload(
    model: keras.Model, path: str | os.PathLike[str] | None
) -> tuple[dict[str, float], np.ndarray]:
    """:func:`explain` for a picture file; ``gradio.Error`` with ``load_image_file``'s message if unusable."""
    gradio = _optional("gradio")
    if path is None:
        raise gradio.Error("Choose a picture file first (PNG, JPEG, ...).", print_exception=False)
    try:
        image = load_image_file(path)
    except _UPLOAD_ERRORS as error:  # The message names the server's temporary copy: shorten it.
        message = str(error).replace(str(absolute_path(path)), Path(path).name)
        raise gradio.Error(message, print_exception=False) from None  # A message, not a server error.
    return explain(model, image)


def build_demo(
    model: keras.Model, test_images: np.ndarray | None = None, test_labels: np.ndarray | None = None
) -> object:
    """The demo page (a ``gradio.Blocks`` app for :func:`launch`): an upload, a test-image picker, the answer.

    A bad file or index empties the answer (see :func:`page_answer`), so the previous one is not
    read as the answer for the bad file.
    """
    gradio = _optional("gradio")
    with gradio.Blocks(title="Fashion-MNIST classifier") as app:
        gradio.Markdown("# Fashion-MNIST classifier\nUpload a photo of one garment on a plain background.")
        with gradio.Row():
            with gradio.Column():
                upload = gradio.File(label="Picture file", type="filepath")
                classify = gradio.Button("Classify the picture", variant="primary")
                if test_images is not None:
                    index = gradio.Number(label="or a test image (index)", value=0, precision=0)
                    pick = gradio.Button("Classify the test image")
            outputs = _answer_column(gradio)

        def classify_picture(path):
            return page_answer(lambda: (*classify_upload(model, path), ""))

        classify.click(classify_picture, upload, outputs, api_name="classify_picture")
        if test_images is not None:

            def classify_test_image(number):
                return page_answer(lambda: _classify_test(model, test_images, test_labels, number))

            pick.click(classify_test_image, index, outputs, api_name="classify_test_image")
    return app


def _answer_column(gradio) -> list:
    """The page's right column; returns its outputs: scores, picture, true class, message."""
    with gradio.Column():
        message = gradio.Markdown(elem_id="message")
        scores = gradio.Label(label="What the model says", num_top_classes=3)
        gradio.Markdown("**What the model sees** (Grad-CAM: where it looked)")
        seen = gradio.HTML()
        truth = gradio.Markdown(label="True class")
    return [scores, seen, truth, message]


def page_answer(
    answer: Callable[[], tuple[dict[str, float], np.ndarray, str]],
) -> tuple[dict[str, float] | None, str, str, str]:
    """The page's four outputs, ``(scores, picture HTML, true class, message)``, from ``answer()``'s three.

    When ``answer`` raises ``gradio.Error``, the outputs are empty but for the error's message.
    """
    gradio = _optional("gradio")
    try:
        scores, picture, truth = answer()
    except gradio.Error as error:
        return None, "", "", f"**Not classified.** {_markdown_text(error.message)}"
    return scores, picture_html(picture), truth, ""


def _markdown_text(text: str) -> str:
    """``text`` with Markdown's marks escaped: a file named ``my_shirt_2.png`` stays as it is."""
    return "".join(f"\\{char}" if char in "\\`*_[]<>#|~" else char for char in text)


def _classify_test(model, test_images, test_labels, number) -> tuple[dict[str, float], np.ndarray, str]:
    gradio = _optional("gradio")
    if number is None or not 0 <= int(number) < len(test_images):
        message = f"The test image index must lie in 0..{len(test_images) - 1}, got {number}."
        raise gradio.Error(message, print_exception=False)
    scores, picture = explain(model, test_images[int(number)])
    truth = "" if test_labels is None else f"True class: **{CLASS_NAMES[int(test_labels[int(number)])]}**"
    return scores, picture, truth


REQUEST_TIMEOUT = 60.0  # The seconds a load-test request may wait before it counts as a failure.


@dataclass(frozen=True)
class LoadTest:
    """What a burst of concurrent requests to the demo got back."""

    requests: int
    # Per file name, the requests that got a "prediction", a "message" (what is wrong with the
    # file), an "error" (the page's function crashed) or a "failure" (no answer: see errors).
    answers: dict[str, dict[str, int]]
    p50_ms: float  # Median time to an answer.
    p95_ms: float
    seconds: float
    errors: tuple[str, ...] = ()

    def count(self, outcome: str) -> int:
        """How many requests got ``outcome`` (``"prediction"``, ``"message"``, ``"error"``, ``"failure"``)."""
        return sum(outcomes.get(outcome, 0) for outcomes in self.answers.values())


def load_test(
    url: str, files: Sequence[str | os.PathLike[str]], *, requests: int = 200, clients: int = 8
) -> LoadTest:
    """Send ``requests`` uploads of ``files`` (in turn) from ``clients`` parallel clients to a running demo.

    Each client calls the page's ``classify_picture`` as a browser does (``gradio_client``).
    """
    client_module = _optional("gradio_client")

    def client_requests(client_index: int) -> list[tuple[str, str, float]]:
        share = [files[index % len(files)] for index in range(client_index, requests, clients)]
        return _send_all(client_module, url, share)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = [result for batch in pool.map(client_requests, range(clients)) for result in batch]
    return _load_test_result(requests, files, results, time.perf_counter() - start)


def _send_all(client_module, url: str, paths: list) -> list[tuple[str, str, float]]:
    """One client's requests: ``(file name, outcome, seconds)`` for each."""
    try:
        client = client_module.Client(url, verbose=False)
    except Exception as error:  # No page at that address: each of this client's requests fails.
        return [(Path(path).name, f"failure: {type(error).__name__}: {error}", 0.0) for path in paths]
    return [_send(client_module, client, path) for path in paths]


def _send(client_module, client, path) -> tuple[str, str, float]:
    start = time.perf_counter()
    try:
        job = client.submit(client_module.handle_file(str(path)), api_name="/classify_picture")
        *_, message = job.result(timeout=REQUEST_TIMEOUT)
        outcome = "message" if message else "prediction"
    except client_module.exceptions.AppError:  # The page's function crashed.
        outcome = "error"
    except Exception as error:  # Anything else: the request got no answer.
        outcome = f"failure: {type(error).__name__}: {error}"
    return Path(path).name, outcome, time.perf_counter() - start


def _load_test_result(requests: int, files: Sequence, results: list, seconds: float) -> LoadTest:
    answers: dict[str, dict[str, int]] = {Path(path).name: {} for path in files}
    for name, outcome, _ in results:
        kind = outcome.split(":", 1)[0]
        answers[name][kind] = answers[name].get(kind, 0) + 1
    errors = tuple(
        dict.fromkeys(outcome.removeprefix("failure: ") for _, outcome, _ in results if ":" in outcome)
    )
    latencies = 1000 * np.array([latency for _, _, latency in results])
    p50, p95 = (float(value) for value in np.percentile(latencies, [50, 95]))
    return LoadTest(requests, answers, p50, p95, seconds, errors)


def _first_free_port(start: int) -> int:
    """The first port from ``start`` that nothing listens on (on 127.0.0.1)."""
    for port in range(start, start + 100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise OSError(f"no free port in {start}..{start + 99}: stop the other servers, or pass port=.")


def _binder_root(port: int) -> str | None:
    """On Binder (or another JupyterHub with jupyter-server-proxy), where the proxy forwards ``port``."""
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if not prefix or importlib.util.find_spec("jupyter_server_proxy") is None:
        return None
    return f"{prefix.rstrip('/')}/proxy/{port}"


def launch(app: object, *, port: int | None = None, block: bool = False, **options: object) -> object:
    """Start the demo on ``http://127.0.0.1:<port>``, shown inline in a notebook; return the app.

    On Colab, Gradio makes a public link itself; on Binder the page is reached through
    JupyterHub's proxy (``<your Binder address>/proxy/<port>/``). Demos this process started
    before are stopped first, so running the cell again does not pile up servers.

    Args:
        port: The local port (``None``: the first free one from 7860).
        block: Serve until interrupted (the command line), rather than return at once.
        **options: More ``gradio.Blocks.launch`` options, e.g. ``share=True``.
    """
    gradio = _optional("gradio")
    gradio.close_all()
    port = port or _first_free_port(7860)
    root = _binder_root(port)
    if root:
        options.setdefault("root_path", root)
        print(f"On JupyterHub (Binder): open {root}/ in a new browser tab, on the same site as JupyterLab.")
    app.launch(
        server_name="127.0.0.1",
        server_port=port,
        max_file_size=MAX_UPLOAD,
        show_error=True,  # A crash's message in a pop-up, not just "Error" (bad files: the message line).
        height=760,  # The page inline in a notebook, picture included, without scrolling.
        prevent_thread_lock=not block,
        **options,
    )
    return app


MODEL_NAMES = ("improved_cnn", "baseline_cnn")


def find_model() -> Path:
    """The best model ``make demo`` finds: notebook 05's, then 03's; full runs', then quick mode's."""
    config = get_config()
    full = [replace(config, quick=False).model_path(name) for name in MODEL_NAMES]
    quick = [replace(config, quick=True).model_path(name) for name in MODEL_NAMES]
    for path in full + quick:
        if path.exists():
            return path
    raise FileNotFoundError(
        f"no trained model in {shown_path(full[0].parent)}: looked for "
        f"{' and '.join(path.name for path in full)} (full runs), then "
        f"{' and '.join(path.name for path in quick)} (quick mode). Run notebook 03 (the baseline, "
        "a few minutes on a laptop's CPU) or 05 (the improved model) to save one; with "
        "FMNIST_QUICK=1 they save a quick, weaker model in seconds. Or pass --model FILE.keras."
    )


def _describe(path: Path) -> str:
    """What ``make demo`` says about the model it serves."""
    if not path.stem.endswith("_quick"):
        return f"Serving {shown_path(path)}"
    return (
        f"Serving {shown_path(path)}: a quick-mode model (a few thousand images, a few epochs), "
        "weaker than a full run's. Run notebook 05 or 03 without FMNIST_QUICK for the real one."
    )


def main(argv: Sequence[str] | None = None) -> None:
    """``make demo``: serve the trained model's demo page until Ctrl+C."""
    from fmnist_utils import _runtime
    from fmnist_utils.data import load_test_set
    from fmnist_utils.training import load_model

    parser = argparse.ArgumentParser(prog="python -m fmnist_utils.demo", description=main.__doc__)
    parser.add_argument(
        "--model", type=Path, default=None, help="a .keras file (default: the course's best saved model)"
    )
    parser.add_argument("--port", type=int, default=None, help="default: the first free port from 7860")
    parser.add_argument("--share", action="store_true", help="also make a public gradio.live link")
    arguments = parser.parse_args(argv)
    if arguments.model is not None and not arguments.model.exists():
        parser.error(f"{shown_path(arguments.model)} not found: check the path.")
    try:
        path = arguments.model or find_model()
    except FileNotFoundError as error:
        parser.error(str(error))
    _runtime.start_tensorflow(get_config().small_machine)  # Lists the devices quietly (cuInit).
    test_images, test_labels = load_test_set()
    print(_describe(path), flush=True)
    launch(
        build_demo(load_model(path), test_images, test_labels),
        port=arguments.port,
        block=True,
        share=arguments.share,
    )


if __name__ == "__main__":
    main()
