"""Use a trained model outside the notebook: export it, shrink it, run it and time it.

Taught in notebook 06. Every runtime here is driven through a *predictor*: a function from
``uint8`` images ``(N, 28, 28)`` or ``(N, 28, 28, 1)`` to class probabilities
``(N, num_classes)``, so that the formats can be compared side by side. ONNX, LiteRT and
the demo need the optional ``deploy`` extra (``pip install -e ".[deploy]"``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from fmnist_utils import _runtime
from fmnist_utils._tensorflow_log import quiet_tensorflow
from fmnist_utils.data import add_channel_axis, validate_images

__all__ = [
    "agreement",
    "check_extras",
    "convert_to_litert",
    "export_onnx",
    "export_saved_model",
    "file_size",
    "keras_predictor",
    "litert_predictor",
    "measure_speed",
    "onnx_predictor",
    "saved_model_predictor",
]

Predictor = Callable[[np.ndarray], np.ndarray]  # uint8 images -> probabilities (N, num_classes).
QUANTIZATIONS = (None, "dynamic", "int8")  # What convert_to_litert knows.
EXTRAS = ("tf2onnx", "onnx", "onnxruntime", "ai_edge_litert", "gradio")  # The deploy extra's imports.
_INSTALL_HINT = 'pip install -e ".[deploy]" (or: pip install -r requirements-deploy.txt)'


def check_extras() -> None:
    """Notebook 06's Setup: ``ModuleNotFoundError`` naming the deploy extra's missing packages, if any."""
    missing = [name for name in EXTRAS if importlib.util.find_spec(name) is None]
    if missing:
        raise ModuleNotFoundError(
            f"Notebook 06 needs the deploy extra; not installed: {', '.join(missing)}. From the course's "
            f"folder run `make deploy` or `{_INSTALL_HINT}`, then restart the kernel."
        )


def _optional(module: str):
    """Import an optional package of the ``deploy`` extra, or say how to install it."""
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as error:
        raise ImportError(
            f"{module} is not installed; it comes with the deploy extra: {_INSTALL_HINT}"
        ) from error


# --- Formats ----------------------------------------------------------------------------


def _inference_signature(model: keras.Model) -> list[tf.TensorSpec]:
    """The exported models' input: float32 images ``(N, 28, 28, 1)``, pixels 0..255, named ``image``."""
    return [tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32, name="image")]


def export_saved_model(model: keras.Model, path: str | os.PathLike[str]) -> Path:
    """Export ``model`` as a TensorFlow SavedModel (the format TensorFlow Serving loads); return the folder.

    Its ``serve`` endpoint calls the model with ``training=False``: plain ``model.export``
    leaves augmentation layers on, and notebook 05's model would flip half the images it serves.
    """
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serve", lambda image: model(image, training=False), input_signature=_inference_signature(model)
    )
    logger, level = tf.get_logger(), tf.get_logger().level
    logger.setLevel("WARNING")  # Not "INFO: Assets written to ..."
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Keras lists the endpoints.
            archive.write_out(str(path))
    finally:
        logger.setLevel(level)
    _runtime.release_free_memory()  # Tracing and writing leave freed memory in the process.
    return Path(path)


def export_onnx(model: keras.Model, path: str | os.PathLike[str]) -> Path:
    """Export ``model`` to ONNX with tf2onnx, called with ``training=False``; return the file."""
    # Not model.export(format="onnx"): it needs Keras 3.6 and leaves augmentation layers on.
    tf2onnx = _optional("tf2onnx")
    function = tf.function(lambda image: model(image, training=False))
    tf2onnx.convert.from_function(
        function, input_signature=_inference_signature(model), output_path=str(path)
    )
    _runtime.release_free_memory()
    return Path(path)


def convert_to_litert(
    saved_model: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    quantization: str | None = None,
    representative_images: np.ndarray | None = None,
    samples: int = 500,
) -> Path:
    """Convert a SavedModel into a LiteRT (TensorFlow Lite) ``.tflite`` file; return the file.

    ``quantization``: ``None`` keeps float32; ``"dynamic"`` stores int8 weights (layers
    quantize their inputs on the fly from each batch's range); ``"int8"`` makes weights and
    activations int8 with ``uint8`` input and output, the activations' ranges measured on
    the first ``samples`` of ``representative_images`` (training images, never test images).

    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}.")
    if quantization == "int8" and representative_images is None:
        raise ValueError("int8 quantization needs representative_images: a few hundred training images.")
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if quantization is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "int8":
        validate_images(representative_images, name="representative_images")
        _full_integer(converter, representative_images[:samples])
    with quiet_tensorflow():  # The quantizer writes its settings below Python.
        Path(path).write_bytes(converter.convert())
    _runtime.release_free_memory()
    return Path(path)


def _full_integer(converter: tf.lite.TFLiteConverter, images: np.ndarray) -> None:
    """Make ``converter`` quantize everything to int8, measuring ranges on ``images``, uint8 in and out."""
    calibration = add_channel_axis(images).astype(np.float32)
    converter.representative_dataset = lambda: ([image[np.newaxis]] for image in calibration)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.uint8


# --- Predictors -------------------------------------------------------------------------

# Images per call to a runtime: 10,000 at once would need more memory than Binder has.
BATCH_SIZE = 256


def _predictor(run: Callable[[np.ndarray], np.ndarray], batch_size: int = BATCH_SIZE) -> Predictor:
    """A predictor from ``run``, which classifies one batch of ``uint8`` images ``(n, 28, 28, 1)``."""

    def predict(images: np.ndarray) -> np.ndarray:
        validate_images(images)
        images = add_channel_axis(images)
        return np.concatenate(
            [run(images[start : start + batch_size]) for start in range(0, len(images), batch_size)]
        )

    return predict


def keras_predictor(model: keras.Model, *, batch_size: int = BATCH_SIZE) -> Predictor:
    """A predictor running the Keras model itself (the reference)."""

    def run(batch: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():  # Keras 3.10: a reloaded model expects a list of inputs.
            warnings.filterwarnings("ignore", message="The structure of `inputs` doesn't match")
            return np.asarray(model(batch.astype(np.float32), training=False))

    return _predictor(run, batch_size)


def saved_model_predictor(path: str | os.PathLike[str]) -> Predictor:
    """A predictor running a SavedModel's ``serve`` endpoint, as TensorFlow Serving would."""
    loaded = tf.saved_model.load(str(path))  # Keep it: its endpoints refer to its variables.
    return _predictor(lambda batch: np.asarray(loaded.serve(tf.constant(batch, tf.float32))))


def _threads() -> int:
    """The CPU cores this process may use (the container's quota, if it has one)."""
    return _runtime.cpu_limit() or os.cpu_count() or 1


def onnx_predictor(path: str | os.PathLike[str]) -> Predictor:
    """A predictor running an ``.onnx`` file with ONNX Runtime on the CPU."""
    onnxruntime = _optional("onnxruntime")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = _threads()
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return _predictor(lambda batch: session.run(None, {name: batch.astype(np.float32)})[0])


def litert_predictor(path: str | os.PathLike[str]) -> Predictor:
    """A predictor running a ``.tflite`` file with the LiteRT interpreter (``ai-edge-litert``).

    A full-integer model's input and output are converted with the file's scale and zero point.
    """
    litert = _optional("ai_edge_litert.interpreter")
    with quiet_tensorflow():  # LiteRT announces its CPU delegate below Python.
        interpreter = litert.Interpreter(model_path=str(path), num_threads=_threads())
        interpreter.allocate_tensors()
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]

    def run(batch: np.ndarray) -> np.ndarray:
        if tuple(interpreter.get_input_details()[0]["shape"]) != batch.shape:
            interpreter.resize_tensor_input(source["index"], batch.shape)
            interpreter.allocate_tensors()
        interpreter.set_tensor(source["index"], _quantize(batch, source))
        interpreter.invoke()
        return _dequantize(interpreter.get_tensor(target["index"]), target)

    return _predictor(run)


def _quantize(images: np.ndarray, detail: dict) -> np.ndarray:
    """Images as a LiteRT input tensor wants them: float32, or integers with its scale."""
    if detail["dtype"] == np.float32:
        return images.astype(np.float32)
    scale, zero_point = detail["quantization"]
    limits = np.iinfo(detail["dtype"])
    return np.clip(np.round(images / scale + zero_point), limits.min, limits.max).astype(detail["dtype"])


def _dequantize(values: np.ndarray, detail: dict) -> np.ndarray:
    """A LiteRT output tensor as float32 probabilities."""
    if detail["dtype"] == np.float32:
        return values.copy()
    scale, zero_point = detail["quantization"]
    return (values.astype(np.float32) - zero_point) * scale


# --- Measure ----------------------------------------------------------------------------


def agreement(reference: np.ndarray, probabilities: np.ndarray) -> tuple[float, float]:
    """Return ``(agreement, max_difference)``: the share of images two predictors give the same
    class, and the largest absolute difference between their probabilities."""
    reference, probabilities = np.asarray(reference), np.asarray(probabilities)
    if reference.shape != probabilities.shape:  # NumPy would broadcast (N, 10) with (N, 1) silently.
        raise ValueError(f"shapes differ: {reference.shape} and {probabilities.shape}.")
    same = reference.argmax(axis=1) == probabilities.argmax(axis=1)
    return float(same.mean()), float(np.abs(reference - probabilities).max())


@dataclass(frozen=True)
class Speed:
    """How fast a predictor runs on this CPU."""

    latency_ms: float  # Median time for one image (what a user waits).
    throughput: float  # Images per second in batches (what a server handles).


def measure_speed(
    predict: Predictor, images: np.ndarray, *, batch_size: int = BATCH_SIZE, repeats: int = 50
) -> Speed:
    """Time ``predict`` on ``repeats`` single images and on batches of ``images``, after a warm-up."""
    predict(images[:1])  # Warm-up: the first call builds graphs and allocates tensors.
    single = []
    for index in range(repeats):
        start = time.perf_counter()
        predict(images[index % len(images)][np.newaxis])
        single.append(time.perf_counter() - start)
    batches = [images[start : start + batch_size] for start in range(0, len(images), batch_size)]
    predict(batches[0])
    start = time.perf_counter()
    for batch in batches:
        predict(batch)
    return Speed(1000 * float(np.median(single)), len(images) / (time.perf_counter() - start))


def file_size(path: str | os.PathLike[str]) -> int:
    """The size in bytes of a model file, or of a SavedModel folder with all its files."""
    path = Path(path)
    if path.is_dir():
        return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
    return path.stat().st_size
