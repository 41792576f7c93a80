"""Use a trained model outside the notebook: export it, shrink it, run it and time it.

Taught in notebook 06. Every runtime here is driven through one interface, a *predictor*:
a function from ``uint8`` images ``(N, 28, 28)`` or ``(N, 28, 28, 1)`` to class
probabilities ``(N, num_classes)``, so that the formats can be compared side by side.

ONNX and LiteRT need the optional packages of the ``deploy`` extra
(``pip install -e ".[deploy]"``: tf2onnx, onnx, onnxruntime, ai-edge-litert); the core
course does not install them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from fmnist_utils import _runtime
from fmnist_utils._tensorflow_log import quiet_tensorflow
from fmnist_utils.data import add_channel_axis, validate_images

#: A function from ``uint8`` images to class probabilities, ``(N, num_classes)``.
Predictor = Callable[[np.ndarray], np.ndarray]

#: The post-training quantizations :func:`convert_to_litert` knows.
QUANTIZATIONS = (None, "dynamic", "int8")

_INSTALL_HINT = 'pip install -e ".[deploy]" (or: pip install -r requirements-deploy.txt)'


#: The import names of the deploy extra's packages.
EXTRAS = ("tf2onnx", "onnx", "onnxruntime", "ai_edge_litert", "gradio")


def check_extras() -> None:
    """Stop with a clear message when a package of the deploy extra is missing (notebook 06's Setup).

    Raises:
        ModuleNotFoundError: Names the missing packages and how to install them.
    """
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


def _threads() -> int:
    """The CPU cores this process may use (the container's quota, if it has one)."""
    return _runtime.cpu_limit() or os.cpu_count() or 1


# --- Formats ----------------------------------------------------------------------------


def _inference_signature(model: keras.Model) -> list[tf.TensorSpec]:
    """The exported models' input: float32 images ``(N, 28, 28, 1)``, pixels 0..255, named ``image``."""
    return [tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32, name="image")]


def export_saved_model(model: keras.Model, path: str | os.PathLike[str]) -> Path:
    """Export ``model`` as a TensorFlow SavedModel (the format TensorFlow Serving loads).

    The folder holds the inference graph only: no optimizer, no training. Its ``serve``
    endpoint calls the model with ``training=False``. Keras' ``ExportArchive`` stores each
    weight twice (in the model's variables and in a flat list of all of them), so the folder
    is about twice the size of the ONNX or LiteRT file. Plain ``model.export(path)`` does
    not say so, and Keras' augmentation layers are *on* by default: the improved model
    of notebook 05 would flip a random half of the images it serves.

    Returns:
        The SavedModel folder.
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
    """Export ``model`` to ONNX with tf2onnx (what ``model.export(format="onnx")`` uses).

    The ONNX graph takes float32 images ``(N, 28, 28, 1)`` with pixels 0..255, named
    ``image``, and returns the probabilities of the model called with ``training=False``.
    Called directly rather than through ``model.export(format="onnx")``, which exists only
    from Keras 3.6 on and, like ``model.export``, leaves augmentation layers on.

    Returns:
        The ``.onnx`` file.
    """
    tf2onnx = _optional("tf2onnx")
    function = tf.function(lambda image: model(image, training=False))
    tf2onnx.convert.from_function(
        function, input_signature=_inference_signature(model), output_path=str(path)
    )
    _runtime.release_free_memory()
    return Path(path)


def _representative(images: np.ndarray, samples: int) -> Callable[[], Iterator[list[np.ndarray]]]:
    """The calibration images of full-integer quantization, one at a time, as float32."""
    chosen = add_channel_axis(images[:samples]).astype(np.float32)
    return lambda: ([image[np.newaxis]] for image in chosen)


def convert_to_litert(
    saved_model: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    quantization: str | None = None,
    representative_images: np.ndarray | None = None,
    samples: int = 500,
) -> Path:
    """Convert a SavedModel into a LiteRT (TensorFlow Lite) ``.tflite`` file.

    Quantization stores the weights in 8 bits instead of 32:

    - ``None``: float32, the same numbers as Keras.
    - ``"dynamic"`` (dynamic range): int8 weights. At run time the convolutions and dense
      layers quantize their input activations to int8 on the fly, from each batch's own
      range (hence "dynamic"), compute in 8 bits and write float outputs; no data needed.
    - ``"int8"``: int8 weights and activations, ``uint8`` input and output. The range of
      each activation is measured on ``representative_images`` (training images, never
      test images).

    Args:
        saved_model: A folder written by :func:`export_saved_model`.
        path: The ``.tflite`` file to write.
        quantization: One of :data:`QUANTIZATIONS`.
        representative_images: ``uint8`` images for ``"int8"``.
        samples: How many of them calibrate the ranges.

    Returns:
        The ``.tflite`` file.

    Raises:
        ValueError: An unknown quantization, or ``"int8"`` without images.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}.")
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if quantization is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "int8":
        if representative_images is None:
            raise ValueError("int8 quantization needs representative_images: a few hundred training images.")
        validate_images(representative_images, name="representative_images")
        converter.representative_dataset = _representative(representative_images, samples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    with quiet_tensorflow():  # The quantizer writes its settings below Python.
        Path(path).write_bytes(converter.convert())
    _runtime.release_free_memory()
    return Path(path)


# --- Predictors -------------------------------------------------------------------------


#: Images per call to a runtime: what predicting 10,000 images at once would need in memory
#: (a gigabyte of feature maps for the first layer alone) is more than Binder has.
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

    Quantized inputs and outputs are converted with the scale and zero point stored in the
    file, so a full-integer model takes the same ``uint8`` images and returns probabilities.
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


def load_predictor(path: str | os.PathLike[str]) -> Predictor:
    """The predictor for a saved model, chosen by its format.

    ``.keras`` (loaded in safe mode), a SavedModel folder, ``.onnx`` or ``.tflite``.

    Raises:
        FileNotFoundError: No such file or folder.
        ValueError: A format this module does not know.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no model at {path}: export one first (notebook 06).")
    if path.is_dir():
        return saved_model_predictor(path)
    loaders = {".keras": lambda: keras_predictor(keras.saving.load_model(path, safe_mode=True))}
    loaders |= {".onnx": lambda: onnx_predictor(path), ".tflite": lambda: litert_predictor(path)}
    if path.suffix not in loaders:
        raise ValueError(
            f"{path.name}: unknown model format; expected .keras, .onnx, .tflite or a SavedModel folder."
        )
    return loaders[path.suffix]()


# --- Measure ----------------------------------------------------------------------------


def agreement(reference: np.ndarray, probabilities: np.ndarray) -> tuple[float, float]:
    """How closely two predictors agree on the same images.

    Returns:
        ``(agreement, max_difference)``: the share of images given the same class, and the
        largest absolute difference between any two probabilities.

    Raises:
        ValueError: The two arrays differ in shape.
    """
    reference, probabilities = np.asarray(reference), np.asarray(probabilities)
    if reference.shape != probabilities.shape:
        raise ValueError(f"shapes differ: {reference.shape} and {probabilities.shape}.")
    same = reference.argmax(axis=1) == probabilities.argmax(axis=1)
    return float(same.mean()), float(np.abs(reference - probabilities).max())


@dataclass(frozen=True)
class Speed:
    """How fast a predictor runs on this CPU.

    Attributes:
        latency_ms: Median time for one image, in milliseconds (what a user waits).
        throughput: Images per second in batches (what a server handles).
    """

    latency_ms: float
    throughput: float


def measure_speed(
    predict: Predictor, images: np.ndarray, *, batch_size: int = BATCH_SIZE, repeats: int = 50
) -> Speed:
    """Time ``predict`` on one image at a time and on batches, after a warm-up call.

    Args:
        predict: A predictor.
        images: ``uint8`` images; at least ``batch_size`` of them for the batch figure.
        batch_size: Images per batch for the throughput.
        repeats: How many single images to time (their median is reported).
    """
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
