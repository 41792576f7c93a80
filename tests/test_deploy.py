"""fmnist_utils.deploy: every format round-trips, quantization stays accurate, bad input is refused.

On a tiny CNN trained for one epoch (the ``tiny_classifier`` fixture), so the whole file
runs in well under a minute on 2 cores. Notebook 06 does the same with the course's model.
"""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from fmnist_utils import deploy

pytest.importorskip("onnxruntime", reason="the deploy extra is not installed: pip install -e '.[deploy]'")


@pytest.fixture(scope="module")
def formats(tiny_classifier, real_data, tmp_path_factory):
    """Every format of the tiny model, written once: name -> path."""
    (train_images, _), _ = real_data
    folder = tmp_path_factory.mktemp("formats")
    saved_model = deploy.export_saved_model(tiny_classifier, folder / "saved_model")
    paths = {"keras": folder / "tiny.keras", "saved_model": saved_model}
    tiny_classifier.save(paths["keras"])
    paths["onnx"] = deploy.export_onnx(tiny_classifier, folder / "tiny.onnx")
    paths["litert"] = deploy.convert_to_litert(saved_model, folder / "float.tflite")
    paths["dynamic"] = deploy.convert_to_litert(
        saved_model, folder / "dynamic.tflite", quantization="dynamic"
    )
    paths["int8"] = deploy.convert_to_litert(
        saved_model, folder / "int8.tflite", quantization="int8", representative_images=train_images[:300]
    )
    return paths


def predictor(path):
    """The predictor for a saved model, chosen by its format (as notebook 06 picks them)."""
    import keras

    if path.is_dir():
        return deploy.saved_model_predictor(path)
    if path.suffix == ".keras":
        return deploy.keras_predictor(keras.saving.load_model(path))
    return deploy.onnx_predictor(path) if path.suffix == ".onnx" else deploy.litert_predictor(path)


@pytest.fixture(scope="module")
def test_part(real_data):
    _, (test_images, test_labels) = real_data
    return test_images[:1000], test_labels[:1000]


@pytest.fixture(scope="module")
def reference(tiny_classifier, test_part):
    return deploy.keras_predictor(tiny_classifier)(test_part[0])


@pytest.mark.parametrize("name", ["keras", "saved_model", "onnx", "litert"])
def test_float_formats_give_the_keras_probabilities(formats, test_part, reference, name):
    probabilities = predictor(formats[name])(test_part[0])
    same, difference = deploy.agreement(reference, probabilities)
    assert same == 1.0
    assert difference < 1e-4, f"{name}: probabilities differ by {difference}"


@pytest.mark.parametrize("name", ["dynamic", "int8"])
def test_quantized_models_keep_the_accuracy_at_a_third_of_the_size(formats, test_part, reference, name):
    test_images, test_labels = test_part
    probabilities = predictor(formats[name])(test_images)
    same, difference = deploy.agreement(reference, probabilities)
    accuracy = np.mean(probabilities.argmax(axis=1) == test_labels)
    float_accuracy = np.mean(reference.argmax(axis=1) == test_labels)
    assert accuracy > 0.6, f"the tiny model should be well above chance, got {accuracy:.3f}"
    assert same >= 0.95, f"{name} agrees with the float model on only {same:.1%} of the images"
    assert abs(accuracy - float_accuracy) <= 0.02
    assert 0 < difference < 0.2  # Quantized: close, but not the same numbers.
    # 8-bit weights instead of 32: a quarter, plus the graph and the small tensors kept in float.
    assert deploy.file_size(formats[name]) < 0.4 * deploy.file_size(formats["litert"])


def test_the_float_file_is_the_converters_own(formats):
    """Notebook 06 converts with TFLiteConverter in a cell of its own and asserts the same bytes."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(formats["saved_model"]))
    assert converter.convert() == formats["litert"].read_bytes()


def test_int8_model_takes_the_raw_uint8_pixels(formats):
    from ai_edge_litert.interpreter import Interpreter

    detail = Interpreter(model_path=str(formats["int8"])).get_input_details()[0]
    assert detail["dtype"] == np.uint8
    assert detail["quantization"] == (1.0, 0)  # Pixels 0..255 go in as they are.


def test_predictors_take_one_image_or_a_batch_with_a_channel_axis(formats, test_part, reference):
    predict = predictor(formats["int8"])
    one = predict(test_part[0][:1])
    batch = predict(test_part[0][:5, :, :, np.newaxis])
    assert one.shape == (1, 10)
    assert batch.shape == (5, 10)
    np.testing.assert_allclose(one[0], batch[0])  # Resizing the interpreter keeps the answer.
    assert np.allclose(predict(test_part[0][:5]).sum(axis=1), 1, atol=0.05)


@pytest.mark.parametrize("name", ["keras", "saved_model", "onnx", "litert", "int8"])
def test_predictors_refuse_images_that_are_not_uint8(formats, test_part, name):
    predict = predictor(formats[name])
    with pytest.raises(ValueError, match="uint8"):
        predict(test_part[0][:2].astype(np.float32) / 255)
    with pytest.raises(ValueError, match="28"):
        predict(np.zeros((2, 32, 32), np.uint8))


def test_convert_to_litert_refuses_an_unknown_quantization_and_int8_without_images(formats, tmp_path):
    with pytest.raises(ValueError, match=r"quantization must be one of .*'int4'"):
        deploy.convert_to_litert(formats["saved_model"], tmp_path / "x.tflite", quantization="int4")
    with pytest.raises(ValueError, match="representative_images"):
        deploy.convert_to_litert(formats["saved_model"], tmp_path / "x.tflite", quantization="int8")
    with pytest.raises(ValueError, match="uint8"):
        deploy.convert_to_litert(
            formats["saved_model"],
            tmp_path / "x.tflite",
            quantization="int8",
            representative_images=np.zeros((4, 28, 28), np.float32),
        )
    import tensorflow as tf  # TensorFlow's usual way to give representative data: not ours.

    dataset = tf.data.Dataset.from_tensor_slices(np.zeros((4, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="representative_images must be a NumPy array"):
        deploy.convert_to_litert(
            formats["saved_model"], tmp_path / "x.tflite", quantization="int8", representative_images=dataset
        )
    assert not (tmp_path / "x.tflite").exists()  # Nothing half-written.


def test_agreement_counts_same_classes_and_the_largest_difference():
    reference = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]])
    other = np.array([[0.7, 0.3], [0.6, 0.4], [0.2, 0.8]])
    same, difference = deploy.agreement(reference, other)
    assert same == pytest.approx(2 / 3)
    assert difference == pytest.approx(0.2)
    with pytest.raises(ValueError, match=r"shapes differ: \(3, 2\) and \(2, 2\)"):
        deploy.agreement(reference, other[:2])


def test_measure_speed_times_single_images_and_batches():
    calls = []

    def predict(images):
        calls.append(len(images))
        return np.zeros((len(images), 10))

    speed = deploy.measure_speed(predict, np.zeros((600, 28, 28), np.uint8), batch_size=256, repeats=7)
    assert calls == [1] + [1] * 7 + [256] + [256, 256, 88]  # Warm-ups, singles, batches.
    assert speed.latency_ms > 0
    assert speed.throughput > 0


def test_file_size_of_a_folder_counts_every_file(tmp_path):
    (tmp_path / "variables").mkdir()
    (tmp_path / "saved_model.pb").write_bytes(b"x" * 10)
    (tmp_path / "variables" / "data").write_bytes(b"x" * 32)
    assert deploy.file_size(tmp_path) == 42
    assert deploy.file_size(tmp_path / "saved_model.pb") == 10


def test_a_missing_optional_package_says_how_to_install_it(monkeypatch):
    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    with pytest.raises(ImportError, match=r"onnxruntime is not installed.*pip install -e \"\.\[deploy\]\""):
        deploy.onnx_predictor("model.onnx")


def test_exports_leave_the_augmentation_layers_off(real_data, tmp_path):
    """Keras' RandomFlip is on by default: a plain model.export would serve flipped images."""
    import keras
    from keras import layers

    _, (test_images, _) = real_data
    inputs = keras.Input((28, 28, 1))
    hidden = layers.RandomFlip("horizontal", seed=1)(layers.Rescaling(1 / 255)(inputs))
    outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(hidden))
    model = keras.Model(inputs, outputs)
    reference = deploy.keras_predictor(model)(test_images[:200])
    saved_model = deploy.export_saved_model(model, tmp_path / "saved_model")
    for path in [saved_model, deploy.export_onnx(model, tmp_path / "model.onnx")]:
        for _ in range(2):  # A random flip would show in one of two calls.
            same, difference = deploy.agreement(reference, predictor(path)(test_images[:200]))
            assert (same, difference < 1e-5) == (1.0, True), path.name


def test_notebook_06_setup_names_the_missing_packages_and_the_command(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    missing = {"gradio", "ai_edge_litert"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name in missing else real_find_spec(name)
    )
    with pytest.raises(ModuleNotFoundError, match=r"not installed: ai_edge_litert, gradio\..*`make deploy`"):
        deploy.check_extras()
    monkeypatch.undo()
    deploy.check_extras()  # All there: nothing to say.
