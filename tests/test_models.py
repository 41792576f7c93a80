"""Model builders: output shapes, parameter counts, a training step, clear errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fmnist_utils.models import (
    augmentation_layers,
    build_baseline_cnn,
    build_improved_cnn,
    feature_maps,
    first_conv_layer,
)


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (16, 28, 28, 1), dtype=np.uint8), rng.integers(0, 10, 16)


def conv_params(kernel: int, channels_in: int, filters: int, bias: bool = True) -> int:
    return kernel * kernel * channels_in * filters + (filters if bias else 0)


def test_default_shapes_and_parameter_count():
    model = build_baseline_cnn()
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 10)
    assert model.get_layer("pool2").output.shape == (None, 7, 7, 64)
    expected = conv_params(3, 1, 32) + conv_params(3, 32, 64) + (7 * 7 * 64 * 128 + 128) + (128 * 10 + 10)
    assert expected == 421_642
    assert model.count_params() == expected


def test_three_blocks_and_other_kernel():
    model = build_baseline_cnn(filters=(16, 32, 64), kernel_size=5, dense_units=64)
    assert model.get_layer("pool3").output.shape == (None, 3, 3, 64)
    expected = (
        conv_params(5, 1, 16)
        + conv_params(5, 16, 32)
        + conv_params(5, 32, 64)
        + (3 * 3 * 64 * 64 + 64)
        + (64 * 10 + 10)
    )
    assert model.count_params() == expected


def test_batch_norm_adds_layers_and_drops_conv_bias():
    model = build_baseline_cnn(batch_norm=True)
    names = [layer.name for layer in model.layers]
    assert names[:5] == ["rescaling", "conv1", "batch_norm1", "relu1", "pool1"]
    assert model.get_layer("conv1").count_params() == conv_params(3, 1, 32, bias=False)
    # Each BatchNormalization layer has 4 parameters per channel, 2 of them trainable.
    assert model.get_layer("batch_norm2").count_params() == 4 * 64
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert non_trainable == 2 * (32 + 64)


def test_predictions_are_probabilities(batch):
    images, _ = batch
    probabilities = build_baseline_cnn()(images, training=False).numpy()
    assert probabilities.shape == (16, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_trains_a_step_and_loss_decreases(batch, batch_norm):
    keras.utils.set_random_seed(0)
    images, labels = batch
    model = build_baseline_cnn(batch_norm=batch_norm, dropout_rate=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    # Twenty steps on the same 16 examples: the model starts to memorise them.
    losses = [float(model.train_on_batch(images, labels)) for _ in range(20)]
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"filters": ()}, r"filters must be a non-empty sequence"),
        ({"filters": 32}, r"filters must be a non-empty sequence"),
        ({"filters": (8,) * 5}, r"5 blocks would pool a 28x28 image below 1x1"),
        ({"kernel_size": 4}, r"kernel_size must be odd"),
        ({"batch_norm": "no"}, r"batch_norm must be True or False"),
        # Keras 3.10, the floor, builds Dense layers of 0 or -1 units without a word:
        ({"dense_units": -1}, r"dense_units must be a positive integer, got -1\."),
        ({"num_classes": 0}, r"num_classes must be a positive integer, got 0\."),
        # Left to Keras, whose messages name the value too:
        ({"kernel_size": (3, 3)}, r"kernel_size must be a positive integer, got \(3, 3\)"),  # Keras' way.
        ({"kernel_size": True}, r"kernel_size must be a positive integer, got True"),
        ({"filters": (32, 0)}, r"filters.*Received filters=0"),
        ({"dropout_rate": 1.5}, r"rate.*1\.5"),
        ({"activation": "relux"}, r"Could not interpret activation function identifier: relux"),
        ({"augmentation": "flip"}, r"augmentation must be Keras layers"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        build_baseline_cnn(**options)


def test_unknown_option_is_refused():
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'batchnorm'"):
        build_baseline_cnn(batchnorm=True)


def test_augmentation_keeps_shape_and_is_identity_at_inference(batch):
    images, _ = batch
    augment = augmentation_layers(seed=1)
    assert [type(layer).__name__ for layer in augment.layers] == [
        "RandomTranslation",
        "RandomZoom",
        "RandomFlip",
    ]
    as_float = images.astype("float32")
    np.testing.assert_array_equal(np.asarray(augment(as_float, training=False)), as_float)
    changed = np.asarray(augment(as_float, training=True))
    assert changed.shape == images.shape
    assert not np.array_equal(changed, as_float)


def test_augmentation_flips_left_to_right_only():
    """Flip averaging at test time (predict_probabilities) assumes mirrored, never upside-down, garments."""
    image = np.arange(28 * 28, dtype="float32").reshape(1, 28, 28, 1)
    flip = augmentation_layers(translation=0.0, zoom=0.0, seed=1)
    outputs = [np.asarray(flip(image, training=True)) for _ in range(12)]
    mirrored = [output for output in outputs if not np.array_equal(output, image)]
    assert 0 < len(mirrored) < len(outputs)  # Some flipped, some not.
    for output in mirrored:
        np.testing.assert_array_equal(output, image[:, :, ::-1])


def test_augmentation_options():
    assert [type(layer).__name__ for layer in augmentation_layers(translation=0, zoom=0).layers] == [
        "RandomFlip"
    ]
    # Keras takes True as a shift of up to 100%, and a negative shift as a positive one.
    for options in ({"translation": True}, {"translation": -0.1}, {"zoom": True}, {"zoom": 1.5}):
        with pytest.raises(ValueError, match=rf"{next(iter(options))} must be a number in \[0, 1\)"):
            augmentation_layers(**options)


def test_feature_maps_and_first_conv_layer(batch):
    images, _ = batch
    model = build_baseline_cnn()
    maps = feature_maps(model, images[0], "conv1")
    assert maps.shape == (28, 28, 32)
    assert feature_maps(model, images[0][..., 0], "pool2").shape == (7, 7, 64)
    assert first_conv_layer(model).name == "conv1"
    kernel, _ = first_conv_layer(model).get_weights()
    assert kernel.shape == (3, 3, 1, 32)


def test_feature_maps_errors(batch):
    images, _ = batch
    model = build_baseline_cnn()
    with pytest.raises(
        ValueError, match=r"No such layer: conv9\. Existing layers are: \['rescaling', 'conv1'"
    ):
        feature_maps(model, images[0], "conv9")
    with pytest.raises(ValueError, match=r"image must have dtype uint8"):
        feature_maps(model, images[0].astype("float32"), "conv1")
    with pytest.raises(ValueError, match=r"image must have shape"):
        feature_maps(model, images[:2], "conv1")
    dense_only = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match=r"has no Conv2D layer"):
        first_conv_layer(dense_only)


# --------------------------------------------------------------------------- improved CNN


def test_improved_cnn_shapes_and_parameters():
    model = build_improved_cnn()  # The defaults: notebook 05's recipe's model.
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 10)
    assert model.get_layer("batch_norm2_1").output.shape == (None, 7, 7, 64)
    assert model.get_layer("relu3_2").output.shape == (None, 3, 3, 128)
    convs = (
        conv_params(3, 1, 32, bias=False)
        + conv_params(3, 32, 64, bias=False)
        + conv_params(3, 64, 64, bias=False)
        + conv_params(3, 64, 128, bias=False)
        + conv_params(3, 128, 128, bias=False)
    )
    norms = 4 * (32 + 2 * 64 + 2 * 128)  # gamma, beta, moving mean, moving variance per channel.
    dense = 3 * 3 * 128 * 10 + 10
    assert model.count_params() == convs + norms + dense == 289_962
    wider = build_improved_cnn(filters=(32, 96, 192))
    assert wider.get_layer("relu3_2").output.shape == (None, 3, 3, 192)


def test_improved_cnn_normalizes_after_pooling():
    """Each block's first convolution is pooled before batch normalization, a quarter of the work."""
    model = build_improved_cnn(filters=(8, 16), convs_per_block=(2, 1))
    names = [layer.name for layer in model.layers]
    block1 = ["conv1_1", "pool1", "batch_norm1_1", "relu1_1", "conv1_2", "batch_norm1_2", "relu1_2"]
    start = names.index("conv1_1")
    assert names[start : start + len(block1)] == block1
    assert model.get_layer("batch_norm1_1").input.shape == (None, 14, 14, 8)
    assert model.get_layer("batch_norm1_1").momentum == 0.9  # Settles within a short run.
    assert "dense" not in names  # No hidden dense layer.


def test_improved_cnn_augmentation_only_in_training(batch):
    images, _ = batch
    keras.utils.set_random_seed(0)
    model = build_improved_cnn(filters=(8,), convs_per_block=(1,), augmentation=augmentation_layers(seed=3))
    assert "augmentation" in [layer.name for layer in model.layers]
    np.testing.assert_allclose(model(images, training=False), model(images, training=False))


def test_improved_cnn_trains_a_step(batch):
    keras.utils.set_random_seed(0)
    images, labels = batch
    model = build_improved_cnn(filters=(8, 16), convs_per_block=(1, 1))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    losses = [float(model.train_on_batch(images, labels)) for _ in range(20)]
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"filters": ()}, r"filters must be a non-empty sequence"),
        ({"filters": (8,) * 5, "convs_per_block": (1,) * 5}, r"5 blocks would pool"),
        ({"convs_per_block": 2}, r"convs_per_block must give one count per block \(3\), got 2"),
        ({"convs_per_block": (1, 2)}, r"one count per block \(3\), got \(1, 2\)"),
        ({"convs_per_block": (1, 0, 2)}, r"convs_per_block must be a positive integer"),
        ({"dropout_rate": -0.1}, r"rate.*-0\.1"),
        ({"augmentation": "flip"}, r"augmentation must be Keras layers"),
        ({"num_classes": 0}, r"num_classes must be a positive integer, got 0\."),
    ],
)
def test_improved_cnn_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        build_improved_cnn(**options)


def test_baseline_takes_augmentation_layers(batch):
    images, _ = batch
    model = build_baseline_cnn(augmentation=augmentation_layers(translation=0.0, zoom=0.0, seed=1))
    names = [layer.name for layer in model.layers]
    assert names[:2] == ["rescaling", "augmentation"]
    assert model.count_params() == build_baseline_cnn().count_params()  # Augmentation has no weights.
    np.testing.assert_allclose(
        np.asarray(model(images, training=False)), np.asarray(model(images, training=False))
    )
