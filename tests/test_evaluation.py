"""Evaluation helpers: per-class accuracy, confused pairs, calibration, Grad-CAM, new pictures."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from helpers import BLOCK_RESULT, block_picture
from PIL import Image

from fmnist_utils.data import CLASS_NAMES, load_image_file, picture_to_fashion_mnist
from fmnist_utils.evaluation import (
    calibration_bins,
    classify_image,
    grad_cam,
    most_confused_pairs,
    per_class_accuracy,
    predict_probabilities,
)
from fmnist_utils.models import build_baseline_cnn


def test_per_class_accuracy():
    labels = np.array([0, 0, 1, 1, 1, 2])
    predictions = np.array([0, 1, 1, 1, 0, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # No RuntimeWarning for the class without examples.
        accuracy = per_class_accuracy(labels, predictions, num_classes=4)
    np.testing.assert_allclose(accuracy[:3], [0.5, 2 / 3, 1.0])
    assert np.isnan(accuracy[3])  # No example of class 3.
    with pytest.raises(ValueError, match=r"got 6 labels but 5 predictions"):
        per_class_accuracy(labels, predictions[:5])
    assert per_class_accuracy(np.array([11, 11]), np.array([11, 0]), num_classes=12)[11] == 0.5
    with pytest.raises(ValueError, match=r"^labels must lie in 0\.\.3"):
        per_class_accuracy(np.array([4, 0]), np.array([0, 0]), num_classes=4)
    with pytest.raises(ValueError, match=r"^predictions must lie in 0\.\.3, found values from 0 to 4"):
        per_class_accuracy(np.array([0, 0]), np.array([4, 0]), num_classes=4)


def test_most_confused_pairs():
    confusion = np.diag([50] * 10)
    confusion[6, 0] = 30  # Shirt predicted as T-shirt/top.
    confusion[4, 2] = 12  # Coat predicted as Pullover.
    confusion[2, 4] = 12
    confusion[7, 5] = 1  # One sneaker taken for a sandal: a mistake too.
    pairs = most_confused_pairs(confusion, top=5)
    assert pairs[0] == ("Shirt", "T-shirt/top", 30)
    assert pairs[1:3] == [("Coat", "Pullover", 12), ("Pullover", "Coat", 12)]  # Ties: a fixed order.
    assert pairs[3] == ("Sneaker", "Sandal", 1)
    assert len(pairs) == 4  # Only actual mistakes.
    many = np.diag([50] * 10) + np.arange(100).reshape(10, 10) % 7  # Mistakes everywhere.
    assert len(most_confused_pairs(many)) == 5  # Five by default.
    # Ties: the pair further down the matrix (row by row) comes first, every time.
    sixes = [(true, predicted) for true in range(10) for predicted in range(10) if many[true, predicted] == 6]
    expected = [(CLASS_NAMES[true], CLASS_NAMES[predicted], 6) for true, predicted in reversed(sixes[-12:])]
    assert most_confused_pairs(many, top=12) == expected
    with pytest.raises(ValueError, match=r"confusion must have shape \(10, 10\)"):
        most_confused_pairs(np.zeros((3, 3)))


def test_calibration_of_a_known_case():
    # 4 predictions at 0.9 confidence, 3 right; 2 at 0.6 confidence, 1 right.
    probabilities = np.array([[0.9, 0.1]] * 4 + [[0.6, 0.4]] * 2)
    labels = np.array([0, 0, 0, 1, 0, 1])
    bins = calibration_bins(probabilities, labels, bins=10)
    assert bins.counts.sum() == 6
    assert bins.counts[8] == 4 and bins.counts[5] == 2  # noqa: PT018
    assert bins.accuracy[8] == pytest.approx(0.75)
    assert bins.confidence[8] == pytest.approx(0.9)
    assert bins.accuracy[5] == pytest.approx(0.5)
    expected = 4 / 6 * abs(0.75 - 0.9) + 2 / 6 * abs(0.5 - 0.6)
    assert bins.expected_calibration_error == pytest.approx(expected)
    assert np.isnan(bins.accuracy[0])


def test_calibration_bins_the_extremes_and_says_nothing_about_empty_bins():
    uniform = np.full((3, 10), 0.1)  # Confidence 0.1: the first bin's upper edge.
    sure = np.eye(10)[[4, 5]] * 0.96 + 0.004  # Confidence 0.964: the last bin.
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # No RuntimeWarning for the empty bins' 0 / 0.
        bins = calibration_bins(np.concatenate([uniform, sure]), np.array([0, 1, 2, 4, 0]))
    assert len(bins.edges) == 11  # Ten bins by default.
    assert bins.counts.tolist() == [3, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    assert bins.accuracy[0] == pytest.approx(1 / 3)
    assert bins.accuracy[9] == pytest.approx(0.5)
    expected = 3 / 5 * abs(1 / 3 - 0.1) + 2 / 5 * abs(0.5 - 0.964)
    assert bins.expected_calibration_error == pytest.approx(expected)


def test_calibration_bins_confidences_at_the_edges():
    probabilities = np.array([[0.5, 0.5], [0.55, 0.45], [0.6, 0.4], [1.0, 0.0]])
    bins = calibration_bins(probabilities, np.array([0, 0, 0, 0]))
    # A confidence on an edge belongs to the bin below it; 1.0 to the last bin.
    assert bins.counts.tolist() == [0, 0, 0, 0, 1, 2, 0, 0, 0, 1]


def test_calibration_of_one_prediction():
    bins = calibration_bins(np.array([[0.3, 0.7]], dtype=np.float32), np.array([0]))
    assert bins.counts.tolist() == [0] * 6 + [1, 0, 0, 0]
    assert bins.expected_calibration_error == pytest.approx(0.7)  # Wrong at 70% confidence.


def test_perfect_calibration_has_zero_error():
    probabilities = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert calibration_bins(probabilities, np.array([0, 1])).expected_calibration_error == 0.0


def test_calibration_errors():
    with pytest.raises(ValueError, match=r"probabilities must be \(N, num_classes\)"):
        calibration_bins(np.zeros((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"bins must be a positive integer"):
        calibration_bins(np.ones((2, 2)) / 2, np.array([0, 1]), bins=0)
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.2, found values from 0 to 5"):
        calibration_bins(np.ones((2, 3)) / 3, np.array([0, 5]))


@pytest.fixture(scope="module")
def trained_model():
    """A small CNN that learned: class 0 = a bright square left, class 1 = right."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 30, size=(200, 28, 28), dtype=np.uint8)
    labels = np.arange(200) % 2
    images[labels == 0, 10:18, 2:10] = 255
    images[labels == 1, 10:18, 18:26] = 255
    model = build_baseline_cnn(filters=(8, 8), dense_units=16, dropout_rate=0.0, num_classes=2)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(images[..., None], labels, epochs=8, batch_size=32, verbose=0)
    return model, images, labels


def test_predict_probabilities(trained_model):
    model, images, labels = trained_model
    probabilities = predict_probabilities(model, images[:20])
    assert probabilities.shape == (20, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    assert np.mean(probabilities.argmax(axis=1) == labels[:20]) >= 0.95
    with pytest.raises(ValueError, match=r"dtype uint8"):
        predict_probabilities(model, images[:2].astype("float32"))


@pytest.fixture(scope="module")
def left_right_model():
    """A hand-set CNN: class 0's logit sums the left half of the image, class 1's the right half."""
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1), dtype="uint8"),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(1, 1, name="conv1"),
            keras.layers.Activation("relu", name="relu1"),
            keras.layers.MaxPooling2D(2, name="pool1"),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.get_layer("conv1").set_weights([np.ones((1, 1, 1, 1)), np.zeros(1)])
    left = (np.arange(14 * 14) % 14 < 7).astype("float32")
    model.layers[-1].set_weights([np.stack([left, 1 - left], axis=1) * 10, np.zeros(2)])
    return model


def square(column: int) -> np.ndarray:
    image = np.zeros((28, 28), dtype=np.uint8)
    image[10:18, column : column + 8] = 255
    return image


def test_grad_cam_points_at_the_evidence(left_right_model):
    left, right = square(2), square(18)
    assert left_right_model.predict(np.stack([left, right])[..., None], verbose=0).argmax(
        axis=1
    ).tolist() == [0, 1]
    for image, evidence in ((left, slice(2, 10)), (right[..., None], slice(18, 26))):
        heatmap = grad_cam(left_right_model, image)  # The predicted class; confident (p ~ 1).
        assert heatmap.shape == (28, 28)
        assert heatmap.min() >= 0.0
        assert heatmap.max() == pytest.approx(1.0)
        outside = np.ones((28, 28), dtype=bool)
        outside[10:18, evidence] = False
        assert heatmap[10:18, evidence].mean() > 0.9
        assert heatmap[outside].max() < 0.1


def test_grad_cam_works_for_functional_models(left_right_model):
    inputs = keras.Input((28, 28, 1), dtype="uint8")
    outputs = inputs
    for layer in left_right_model.layers:  # New layers, same configuration...
        outputs = type(layer).from_config(layer.get_config())(outputs)
    functional = keras.Model(inputs, outputs)
    functional.set_weights(left_right_model.get_weights())  # ...and the same weights.
    np.testing.assert_allclose(
        grad_cam(functional, square(18)), grad_cam(left_right_model, square(18)), atol=1e-5
    )


@pytest.fixture(scope="module")
def worked_out_model():
    """A CNN whose Grad-CAM can be worked out by hand.

    Channel 0 of the feature maps is the image (scaled to 0..1), channel 1 its negative;
    the output layer averages each map. Class 7's logit is channel 0's mean + 10 (its bias
    makes it the predicted class), class 2's is channel 1's mean, the others are 0. So class
    7's heatmap is relu(image), scaled to a peak of 1; class 2's is relu(-image): nothing.
    Batch normalization, in inference, leaves the maps as they are; in training mode it
    would centre each map on its mean. Dropout, in inference, passes the averages through.
    """
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1), dtype="uint8"),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(2, 1, use_bias=False, name="conv"),
            keras.layers.BatchNormalization(epsilon=0.0, name="maps"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.get_layer("conv").set_weights([np.array([1.0, -1.0]).reshape(1, 1, 1, 2)])
    kernel, bias = np.zeros((2, 10)), np.zeros(10)
    kernel[0, 7], bias[7], kernel[1, 2] = 1.0, 10.0, 1.0
    model.layers[-1].set_weights([kernel, bias])
    return model


def test_grad_cam_matches_the_heatmap_worked_out_by_hand(worked_out_model):
    image = np.zeros((28, 28), dtype=np.uint8)
    image[4:20, 6:14] = np.arange(8, dtype=np.uint8) * 30 + 30  # Brighter to the right.
    image[22:26, 20:26] = 120
    expected = image / image.max()
    np.testing.assert_allclose(grad_cam(worked_out_model, image), expected, atol=1e-5)  # Class 7.
    np.testing.assert_allclose(grad_cam(worked_out_model, image, class_index=7), expected, atol=1e-5)
    np.testing.assert_array_equal(grad_cam(worked_out_model, image, class_index=2), np.zeros((28, 28)))
    np.testing.assert_array_equal(grad_cam(worked_out_model, image, class_index=0), np.zeros((28, 28)))
    np.testing.assert_allclose(grad_cam(worked_out_model, image, class_index=9), np.zeros((28, 28)))
    # The softmax as a layer of its own: the class score is then its probability.
    separate = keras.Sequential(
        [
            keras.Input((28, 28, 1), dtype="uint8"),
            *worked_out_model.layers[:-1],  # The same layers, shared...
            keras.layers.Dense(10),
            keras.layers.Activation("softmax"),
        ]
    )
    separate.layers[-2].set_weights(worked_out_model.layers[-1].get_weights())  # ...and weights.
    np.testing.assert_allclose(grad_cam(separate, image), expected, atol=1e-4)


def test_grad_cam_cuts_what_speaks_against_the_class_to_zero():
    """One map, the image minus a mid grey; class 0's logit is its mean, class 1's minus its mean."""
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1), dtype="uint8"),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(1, 1, name="maps"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.get_layer("maps").set_weights([np.ones((1, 1, 1, 1)), np.array([-0.5])])
    model.layers[-1].set_weights([np.array([[1.0, -1.0]]), np.zeros(2)])
    image = np.tile(np.arange(28, dtype=np.uint8) * 9, (28, 1))  # Dark on the left, light on the right.
    light, dark = np.maximum(image / 255 - 0.5, 0), np.maximum(0.5 - image / 255, 0)
    np.testing.assert_allclose(grad_cam(model, image, class_index=0), light / light.max(), atol=1e-5)
    np.testing.assert_allclose(grad_cam(model, image, class_index=1), dark / dark.max(), atol=1e-5)


def test_grad_cam_errors(trained_model):
    model, images, _ = trained_model
    for class_index in (5, 2, -1):
        with pytest.raises(ValueError, match=rf"class_index must lie in 0\.\.1, got {class_index}"):
            grad_cam(model, images[0], class_index=class_index)
    # Keras names the layers the model has (evaluation makes no check of its own).
    with pytest.raises(
        ValueError, match=r"No such layer: nope. Existing layers are: \['rescaling', 'conv1', "
    ):
        grad_cam(model, images[0], layer_name="nope")
    with pytest.raises(ValueError, match=r"^image must have shape \(N, 28, 28\) or \(N, 28, 28, 1\)"):
        grad_cam(model, images[:2])
    dense = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(2, "softmax")]
    )
    with pytest.raises(ValueError, match=r"no convolutional feature maps"):
        grad_cam(dense, images[0])


# --------------------------------------------------------------------------- new pictures


def shirt_picture(height=120, width=90, light_background=True, channels=3):
    """A synthetic 'garment': a dark T-shape on a light background (or the reverse)."""
    background, garment = (235, 40) if light_background else (10, 220)
    picture = np.full((height, width), background, dtype=np.uint8)
    picture[height // 5 : height // 3, width // 8 : width - width // 8] = garment  # Sleeves.
    picture[height // 5 : height - height // 8, width // 3 : width - width // 3] = garment  # Body.
    if channels == 1:
        return picture
    rgb = np.stack([picture] * 3, axis=-1)
    if channels == 4:
        alpha = np.full((height, width, 1), 255, dtype=np.uint8)
        return np.concatenate([rgb, alpha], axis=-1)
    return rgb


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("light_background", [True, False])
def test_picture_becomes_fashion_mnist_like(channels, light_background):
    image = picture_to_fashion_mnist(shirt_picture(light_background=light_background, channels=channels))
    assert image.shape == (28, 28)
    assert image.dtype == np.uint8
    assert image.max() == 255
    # Trimmed to the garment, as in the dataset: the sleeves touch the top, the body the bottom.
    assert image[0].max() > 200
    assert image[-1].max() > 200
    assert image[-1, 0] == 0  # Beside the body, under a sleeve: background, dark as in the dataset.
    assert image[14, 14] > 200  # The garment is light and centred.


def test_odd_sizes_and_float_pictures():
    tall = picture_to_fashion_mnist(shirt_picture(height=301, width=37))
    assert tall.shape == (28, 28)
    assert np.flatnonzero(tall.any(axis=0)).size < 28  # Aspect ratio kept: narrower than tall.
    as_float = picture_to_fashion_mnist(shirt_picture().astype("float32") / 255.0)
    np.testing.assert_array_equal(as_float, picture_to_fashion_mnist(shirt_picture()))


def test_transparent_background_counts_as_background():
    picture = shirt_picture(light_background=False, channels=4)
    picture[..., 3] = np.where(picture[..., 0] > 100, 255, 0)  # Only the garment is opaque.
    image = picture_to_fashion_mnist(picture)
    assert image[-1, 0] == 0
    assert image[14, 14] > 200


@pytest.mark.parametrize(
    ("picture", "message"),
    [
        (np.full((50, 50), 128, np.uint8), r"the picture is blank"),
        (np.zeros((50, 50, 2), np.uint8), r"picture must be \(height, width\) grayscale"),
        (np.zeros((1, 50), np.uint8), r"too small"),
    ],
)
def test_bad_pictures(picture, message):
    with pytest.raises(ValueError, match=message):
        picture_to_fashion_mnist(picture)


@pytest.mark.parametrize(
    ("mode", "suffix"), [("RGB", ".png"), ("RGBA", ".png"), ("L", ".jpg"), ("P", ".gif")]
)
def test_load_image_file_formats(tmp_path, mode, suffix):
    path = tmp_path / f"garment{suffix}"
    Image.fromarray(shirt_picture(channels=3)).convert(mode).save(path)
    image = load_image_file(path)
    assert image.shape == (28, 28)
    assert image[14, 14] > 150


def test_load_image_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no such file"):
        load_image_file(tmp_path / "missing.png")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"the file is empty"):
        load_image_file(empty)
    text = tmp_path / "notes.png"
    text.write_text("these are not pixels")
    with pytest.raises(ValueError, match=r"not an image file that can be read"):
        load_image_file(text)
    truncated = tmp_path / "truncated.png"
    Image.fromarray(shirt_picture()).save(tmp_path / "whole.png")
    truncated.write_bytes((tmp_path / "whole.png").read_bytes()[:200])
    with pytest.raises(ValueError, match=r"corrupt or truncated"):
        load_image_file(truncated)


def test_classify_image_returns_top_classes(tmp_path, trained_model):
    model, images, _ = trained_model
    path = tmp_path / "left.png"
    Image.fromarray(images[0]).save(path)  # A class-0 image saved to a file.
    top = classify_image(model, path, top=2, class_names=["left", "right"])
    assert [name for name, _ in top] == ["left", "right"]
    assert len(classify_image(model, path, top=1, class_names=["left", "right"])) == 1
    assert len(classify_image(model, path, top=0, class_names=["left", "right"])) == 1  # At least one.
    assert sum(probability for _, probability in top) == pytest.approx(1.0, rel=1e-5)
    assert top[0][1] >= top[1][1]


def test_classify_image_reads_a_white_garment_on_a_transparent_background(tmp_path, trained_model):
    """The awkward files of tests/test_pictures.py go through load_image_file; this one classifies."""
    model, images, _ = trained_model
    rgba = np.full((*images[0].shape, 4), 255, dtype=np.uint8)
    rgba[..., 3] = np.where(images[0] > 128, 255, 0)  # Class 0: a bright square on the left.
    Image.fromarray(rgba).save(tmp_path / "left.png")
    top = classify_image(model, tmp_path / "left.png", top=1, class_names=["left", "right"])
    assert [name for name, _ in top] == ["left"]


def test_flip_average_is_the_mean_of_an_image_and_its_mirror(left_right_model):
    images = np.stack([square(2), square(18), square(10)])
    plain = predict_probabilities(left_right_model, images)
    mirrored = predict_probabilities(left_right_model, images[:, :, ::-1])
    averaged = predict_probabilities(left_right_model, images, flip_average=True)
    np.testing.assert_allclose(averaged, (plain + mirrored) / 2, rtol=1e-6)
    np.testing.assert_allclose(averaged.sum(axis=1), 1.0, rtol=1e-6)
    # The left/right model is confident on one side; averaging with the mirror cancels it out.
    assert plain[0, 0] > 0.99
    assert mirrored[0, 1] > 0.99
    np.testing.assert_allclose(averaged[:2], 0.5, atol=1e-6)
    with pytest.raises(ValueError, match="uint8"):
        predict_probabilities(left_right_model, images.astype("float32"), flip_average=True)


def test_predict_probabilities_batches_are_smaller_on_a_small_machine(monkeypatch, machine_memory):
    class Recorder:
        def __init__(self) -> None:
            self.batch_sizes: list[int] = []

        def predict(self, images, batch_size, verbose):
            self.batch_sizes.append(batch_size)
            return np.full((len(images), 10), 0.1, dtype="float32")

    images = np.zeros((3, 28, 28), np.uint8)
    model = Recorder()
    releases = []
    monkeypatch.setattr(
        "fmnist_utils._runtime.release_free_memory", lambda: releases.append(len(model.batch_sizes))
    )
    machine_memory(16 * 2**30)
    predict_probabilities(model, images)
    assert releases == []  # Only a small machine hands free memory back.
    monkeypatch.setenv("MEM_LIMIT", str(2 * 2**30))
    predict_probabilities(model, images, flip_average=True)
    predict_probabilities(model, images, batch_size=32)
    assert model.batch_sizes == [512, 128, 128, 32]
    assert releases == [3, 4]  # After each call's predictions.


def test_predict_probabilities_prints_nothing(capsys):
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    predict_probabilities(build_baseline_cnn(filters=(4,), dense_units=8), images, flip_average=True)
    assert capsys.readouterr().out == ""  # No progress bar in the notebook.


def test_a_picture_whose_result_is_known_exactly():
    np.testing.assert_array_equal(picture_to_fashion_mnist(block_picture()), BLOCK_RESULT)
    np.testing.assert_array_equal(picture_to_fashion_mnist(block_picture(2)), BLOCK_RESULT)  # Scaled to 28.


def test_a_wide_garment_with_a_hole_is_centred_and_keeps_its_hole():
    picture = np.full((56, 56), 255, dtype=np.uint8)
    picture[21:34, 14:42] = 0  # 13 rows, 28 columns: as wide as the image, centred vertically.
    picture[24:30, 27:29] = 255  # A hole: background inside the garment's box.
    expected = np.zeros((28, 28), dtype=np.uint8)
    expected[7:20, :] = 255  # 15 rows to share: 7 above, 8 below.
    expected[10:16, 13:15] = 0
    np.testing.assert_array_equal(picture_to_fashion_mnist(picture), expected)


def test_a_picture_with_missing_pixels_reads_them_as_the_darkest():
    picture = block_picture().astype(np.float32) / 255
    picture[0, 0] = np.nan  # A float TIFF's missing pixel, in the white background.
    with_missing = picture_to_fashion_mnist(picture)
    picture[0, 0] = 0.0
    np.testing.assert_array_equal(with_missing, picture_to_fashion_mnist(picture))


@pytest.mark.parametrize(("speck", "part_of_the_garment"), [(230, False), (200, True)])
def test_faint_marks_are_background_up_to_15_percent_of_the_contrast(speck, part_of_the_garment):
    """A speck 25 grey levels off the white (10% of the garment's contrast) is background;
    55 levels off (22%) is part of what is trimmed to."""
    clean = picture_to_fashion_mnist(block_picture())
    picture = block_picture()
    picture[2, 2] = speck
    assert np.array_equal(picture_to_fashion_mnist(picture), clean) is not part_of_the_garment


@pytest.mark.parametrize("background", [100, 0])
@pytest.mark.parametrize(("difference", "blank"), [(15, True), (16, False)])
def test_a_picture_is_blank_below_16_grey_levels_of_contrast(difference, blank, background):
    """Grey levels as they are: a dark picture is not stretched to full contrast first."""
    picture = np.full((40, 40), background, dtype=np.uint8)
    picture[10:30, 15:25] = background + difference
    if blank:
        with pytest.raises(ValueError, match=r"the picture is blank: .* differs by 15 of 255"):
            picture_to_fashion_mnist(picture)
    else:
        assert picture_to_fashion_mnist(picture).max() == 255


@pytest.mark.parametrize(("background", "inverted"), [(127, False), (128, True)])
def test_a_background_lighter_than_mid_grey_is_inverted(background, inverted):
    picture = np.full((40, 40), background, dtype=np.uint8)
    picture[10:30, 15:25] = 0 if inverted else 255  # The garment contrasts either way.
    image = picture_to_fashion_mnist(picture)
    assert (image[14, 14], image[0, 0]) == (255, 0)  # Light garment on black, as in the dataset.


def test_classify_image_returns_the_three_likeliest_by_default(tmp_path, worked_out_model):
    Image.fromarray(block_picture()).save(tmp_path / "block.png")
    top = classify_image(worked_out_model, tmp_path / "block.png")
    assert [name for name, _ in top][:1] == [CLASS_NAMES[7]]  # The bias makes class 7 the likeliest.
    assert len(top) == 3


def test_one_channel_and_two_pixel_thin_pictures_are_read():
    block = block_picture()
    np.testing.assert_array_equal(
        picture_to_fashion_mnist(block[..., np.newaxis]), picture_to_fashion_mnist(block)
    )
    thin = np.zeros((2, 50), dtype=np.uint8)
    thin[:, 10:40] = 255
    assert picture_to_fashion_mnist(thin).max() == 255  # Two pixels is small, not too small.


def test_transparency_is_read_from_the_alpha_channel_only():
    block = block_picture()
    opaque = np.dstack([block, block, block, np.full_like(block, 255)])
    np.testing.assert_array_equal(picture_to_fashion_mnist(opaque), picture_to_fashion_mnist(block))
    # A black garment on a transparent background: laid on white, as the block picture.
    cut_out = np.zeros((56, 56, 4), dtype=np.uint8)
    cut_out[..., 3] = np.where(block == 0, 255, 0)
    np.testing.assert_array_equal(picture_to_fashion_mnist(cut_out), picture_to_fashion_mnist(block))
