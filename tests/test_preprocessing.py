"""Preprocessing helpers: correct results, and a clear ValueError on bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest

from fmnist_utils.data import (
    add_channel_axis,
    make_dataset,
    one_hot,
    rescaling_layer,
    scale_images,
    train_validation_split,
    validate_images,
    validate_labels,
)


@pytest.fixture
def batch():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(200, 28, 28), dtype=np.uint8)
    labels = np.repeat(np.arange(10, dtype=np.uint8), 20)
    return images, labels


def test_split_is_stratified_disjoint_and_seeded(batch):
    images, labels = batch
    images = images.copy()
    images[:, 0, 0] = np.arange(200) % 256  # Tag each image so we can follow it.
    images[:, 0, 1] = np.arange(200) // 256
    (train_images, train_labels), (val_images, val_labels) = train_validation_split(
        images, labels, validation_size=0.2, seed=3
    )
    assert len(train_labels) == 160
    assert len(val_labels) == 40
    assert np.bincount(val_labels, minlength=10).tolist() == [4] * 10
    assert np.bincount(train_labels, minlength=10).tolist() == [16] * 10

    def tag(x):
        return x[:, 0, 0].astype(int) + 256 * x[:, 0, 1].astype(int)

    assert set(tag(train_images)).isdisjoint(tag(val_images))
    assert set(tag(train_images)) | set(tag(val_images)) == set(range(200))
    # Pairs stay together.
    np.testing.assert_array_equal(labels[tag(val_images)], val_labels)
    again = train_validation_split(images, labels, validation_size=0.2, seed=3)
    np.testing.assert_array_equal(again[1][0], val_images)
    other = train_validation_split(images, labels, validation_size=0.2, seed=4)
    assert not np.array_equal(other[1][0], val_images)
    assert train_images.dtype == np.uint8


def test_split_accepts_a_count(batch):
    (_, train_labels), (_, val_labels) = train_validation_split(*batch, validation_size=50)
    assert (len(train_labels), len(val_labels)) == (150, 50)
    (_, train_labels), (_, val_labels) = train_validation_split(*batch, validation_size=10)
    assert (len(train_labels), len(val_labels)) == (190, 10)


def test_split_accepts_a_validation_set_of_one(batch):
    images, _ = batch
    one_class = np.zeros(len(images), dtype=np.uint8)  # Stratified: one example of one class.
    (_, train_labels), (_, val_labels) = train_validation_split(images, one_class, validation_size=1)
    assert (len(train_labels), len(val_labels)) == (199, 1)


def test_split_defaults_to_a_tenth_with_seed_42(batch):
    (train_images, _), (validation_images, validation_labels) = train_validation_split(*batch)
    assert (len(train_images), len(validation_labels)) == (180, 20)
    seeded = train_validation_split(*batch, validation_size=0.1, seed=42)
    np.testing.assert_array_equal(seeded[1][0], validation_images)


@pytest.mark.parametrize("size", [1.5, 1.0, 0.0, 0, 200, "10%", True])
def test_split_rejects_bad_sizes(batch, size):
    """Checked here: scikit-learn's own message names its test_size, not the student's argument."""
    with pytest.raises(
        ValueError,
        match=r"validation_size must be a fraction in \(0, 1\) or a number of "
        rf"examples from 1 to 199, got {size!r}\.",
    ):
        train_validation_split(*batch, validation_size=size)


def test_split_rejects_length_mismatch(batch):
    images, labels = batch
    with pytest.raises(ValueError, match=r"same length, got 200 images and 199 labels"):
        train_validation_split(images, labels[:-1])


def test_add_channel_axis(batch):
    images, _ = batch
    with_channel = add_channel_axis(images)
    assert with_channel.shape == (200, 28, 28, 1)
    assert with_channel.dtype == np.uint8
    assert np.shares_memory(with_channel, images)  # A view, no copy.
    assert add_channel_axis(with_channel) is with_channel


def test_scale_images(batch):
    images, _ = batch
    scaled = scale_images(images)
    assert scaled.dtype == np.float32
    assert scaled.min() >= 0.0
    assert scaled.max() <= 1.0
    np.testing.assert_allclose(scaled * 255, images, atol=1e-4)


def test_scaling_twice_is_caught(batch):
    with pytest.raises(ValueError, match=r"dtype uint8.*already scaled"):
        scale_images(scale_images(batch[0]))


def test_rescaling_layer_maps_to_unit_interval():
    layer = rescaling_layer()
    out = np.asarray(layer(np.array([[0, 255, 51]], dtype=np.uint8)))
    np.testing.assert_allclose(out, [[0.0, 1.0, 0.2]], atol=1e-6)


def test_one_hot():
    encoded = one_hot(np.array([0, 3, 9]))
    assert encoded.shape == (3, 10)
    assert encoded.dtype == np.float32
    assert encoded.argmax(axis=1).tolist() == [0, 3, 9]
    assert encoded.sum(axis=1).tolist() == [1.0, 1.0, 1.0]
    assert one_hot(np.array([0, 1])).shape == (2, 10)  # Ten classes, even when few appear.
    wider = one_hot(np.array([0, 11]), num_classes=12)
    assert wider.shape == (2, 12)
    assert wider[1, 11] == 1.0
    with pytest.raises(ValueError, match=r"must lie in 0\.\.4, found values from 0 to 7"):
        one_hot(np.array([0, 7]), num_classes=5)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.array([0, 10]), r"must lie in 0\.\.9, found values from 0 to 10"),
        (np.array([-1, 2]), r"must lie in 0\.\.9"),
        (np.array([0.0, 1.0]), r"integer dtype, got float64"),
        (np.eye(10, dtype=np.int64), r"look one-hot encoded"),
        ([0, 1], r"NumPy array, got list"),
    ],
)
def test_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        validate_labels(labels)
    with pytest.raises(ValueError, match=message):
        one_hot(labels)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((2, 28, 28), np.float32), r"dtype uint8 .*got float32.*already scaled"),
        (np.zeros((2, 32, 32), np.uint8), r"shape \(N, 28, 28\) or \(N, 28, 28, 1\), got \(2, 32, 32\)"),
        (np.zeros((28, 28), np.uint8), r"single image, add the batch axis"),
        (np.zeros((2, 784), np.uint8), r"Flattened images\? Reshape"),
        (np.zeros((2, 28, 28, 3), np.uint8), r"got \(2, 28, 28, 3\)"),
        ("image.png", r"NumPy array, got str"),
    ],
)
def test_bad_images(images, message):
    with pytest.raises(ValueError, match=message):
        validate_images(images)
    with pytest.raises(ValueError, match=message):
        add_channel_axis(images)


def test_make_dataset_batches_uint8_with_channel(batch):
    images, labels = batch
    dataset = make_dataset(images, labels, batch_size=64)
    batches = list(dataset.as_numpy_iterator())
    assert [len(y) for _, y in batches] == [64, 64, 64, 8]
    first_images, first_labels = batches[0]
    assert first_images.shape == (64, 28, 28, 1)
    assert first_images.dtype == np.uint8
    np.testing.assert_array_equal(first_labels, labels[:64])  # No shuffle: original order.


def test_make_dataset_shuffles_reproducibly_and_each_epoch(batch):
    images, labels = batch
    dataset = make_dataset(images, labels, batch_size=200, shuffle=True, seed=5)
    epoch_one = next(iter(dataset))[1].numpy()
    epoch_two = next(iter(dataset))[1].numpy()
    assert sorted(epoch_one.tolist()) == sorted(labels.tolist())  # Same examples...
    assert not np.array_equal(epoch_one, epoch_two)  # ...in a new order each epoch.
    replay = next(iter(make_dataset(images, labels, batch_size=200, shuffle=True, seed=5)))[1].numpy()
    np.testing.assert_array_equal(epoch_one, replay)


def test_make_dataset_one_hot(batch):
    _, targets = next(iter(make_dataset(*batch, batch_size=8, one_hot_labels=True)))
    assert targets.shape == (8, 10)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_make_dataset_rejects_bad_batch_size(batch, batch_size):
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer"):
        make_dataset(*batch, batch_size=batch_size)


def test_make_dataset_rejects_bad_labels(batch):
    images, labels = batch
    with pytest.raises(ValueError, match=r"must lie in 0\.\.9"):
        make_dataset(images, labels + 1)


def test_make_dataset_small_shuffle_buffer_keeps_every_example(batch):
    images, labels = batch
    dataset = make_dataset(images, labels, batch_size=200, shuffle=True, seed=5, shuffle_buffer=10)
    shuffled = next(iter(dataset))[1].numpy()
    assert sorted(shuffled.tolist()) == sorted(labels.tolist())
    assert not np.array_equal(shuffled, labels)
    with pytest.raises(ValueError, match=r"shuffle_buffer must be a positive integer"):
        make_dataset(images, labels, shuffle=True, shuffle_buffer=0)


def test_make_dataset_cache_is_optional_and_changes_nothing(batch):
    images, labels = batch
    plain = make_dataset(images, labels, batch_size=50, shuffle=True, seed=1)
    cached = make_dataset(images, labels, batch_size=50, shuffle=True, seed=1, cache=True)
    for (_, first), (_, second) in zip(plain, cached, strict=True):
        np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize(
    ("shape", "dtype", "options", "message"),
    [
        (
            (28, 28),
            np.uint8,
            {},
            "images must have shape (N, 28, 28) or (N, 28, 28, 1), got (28, 28). "
            "For a single image, add the batch axis: image[None].",
        ),
        (
            (5, 784),
            np.uint8,
            {},
            "images must have shape (N, 28, 28) or (N, 28, 28, 1), got (5, 784). "
            "Flattened images? Reshape them: images.reshape(-1, 28, 28).",
        ),
        ((5, 10, 10), np.uint8, {}, "images must have shape (N, 28, 28) or (N, 28, 28, 1), got (5, 10, 10)."),
        (
            (5, 10, 10),
            np.uint8,
            {"allow_channel": False},
            "images must have shape (N, 28, 28), got (5, 10, 10).",
        ),
        (
            (5, 28, 28),
            np.float32,
            {},
            "images must have dtype uint8 (pixel values 0..255), got float32. These look "
            "already scaled: keep the uint8 arrays from load_fashion_mnist() and let the model rescale them.",
        ),
        ((5, 28, 28), np.int16, {}, "images must have dtype uint8 (pixel values 0..255), got int16."),
    ],
)
def test_bad_images_get_the_whole_message(shape, dtype, options, message):
    """The exact message a student reads, hint included (and no hint where none fits)."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        validate_images(np.zeros(shape, dtype), **options)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (
            (5, 10),
            "labels must be 1-D integer class indices, got shape (5, 10). "
            "These look one-hot encoded: pass integer labels (labels.argmax(axis=1)).",
        ),
        ((5, 3), "labels must be 1-D integer class indices, got shape (5, 3)."),
    ],
)
def test_bad_labels_get_the_whole_message(shape, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        validate_labels(np.zeros(shape, np.int64))


def test_make_dataset_shuffles_with_seed_42_by_default():
    images = np.arange(50, dtype=np.uint8).reshape(50, 1, 1).repeat(28, axis=1).repeat(28, axis=2)
    labels = np.arange(50) % 10

    def order(**options):
        return [
            int(batch[0][0, 0, 0, 0])
            for batch in make_dataset(images, labels, batch_size=1, shuffle=True, **options)
        ]

    assert order() == order(seed=42)
    assert order() != order(seed=43)
