"""Benchmark: candidate recipes for a faster model, measured on the validation set only.

Each candidate trains on the usual 54,000 / 6,000 split (seed 42) and prints, per epoch,
the seconds since the start and the validation accuracy, then the final validation
accuracy plain and with flip averaging. The test set is never read. It is how the fast
recipe of notebook 05 was chosen: the log of the runs is in ``benchmarks/README.md``.

    FMNIST_DATA_DIR=../shared/data/fashion-mnist python benchmarks/recipe_exploration.py NAME [NAME ...]
    python benchmarks/recipe_exploration.py --list

Candidates are defined in ``CANDIDATES`` below: an architecture (``arch``) and training
settings. Run them one at a time on a quiet machine: the timings are what is compared.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Architectures: a list of stages; each stage is (filters, convs, pool_after_first_conv).
ARCHS = {
    # The improved CNN of IMPROVED_RECIPE, for reference (built by the package).
    "improved": None,
    # conv -> pool -> BN -> ReLU (airbench's order: normalise the pooled, 4x smaller map).
    "pool_first_32_64_128": [(32, 1), (64, 1), (128, 1)],
    "pool_first_32_64x2_128x2": [(32, 1), (64, 2), (128, 2)],
    "pool_first_32_96_192": [(32, 1), (96, 1), (192, 1)],
    "pool_first_32_64_128_256": [(32, 1), (64, 1), (128, 1), (256, 1)],
    "pool_first_32_96x2_192x2": [(32, 1), (96, 2), (192, 2)],
    "pool_first_48_96x2_192x2": [(48, 1), (96, 2), (192, 2)],
    "pool_first_16_64x2_128x2": [(16, 1), (64, 2), (128, 2)],
    "pool_first_16_96x2_192x2": [(16, 1), (96, 2), (192, 2)],
}

BASE = {
    "arch": "pool_first_32_64_128",
    "epochs": 10,
    "batch_size": 128,
    "learning_rate": 2e-3,
    "optimizer": "adam",
    "label_smoothing": 0.1,
    "flip": True,
    "translation": 0.0,
    "ema": False,
    "momentum": 0.9,
    "head": "flatten",
    "dropout": 0.0,
    "weight_decay": 0.0,
}

#: The recipe of notebook 05 since issue 20 (``training.IMPROVED_RECIPE``), as a candidate.
R12 = {"arch": "pool_first_32_64x2_128x2", "batch_size": 256, "learning_rate": 4e-3, "epochs": 12}

CANDIDATES = {
    "improved10": {"arch": "improved", "epochs": 10},
    "pf": {},
    "pf_ema": {"ema": True},
    "pf_b256": {"batch_size": 256, "learning_rate": 4e-3},
    "pf_drop": {"dropout": 0.3},
    "pf_wide": {"arch": "pool_first_32_96_192"},
    "pf_deep": {"arch": "pool_first_32_64x2_128x2"},
    "pf_4": {"arch": "pool_first_32_64_128_256"},
    "pf_wide_deep": {"arch": "pool_first_32_96x2_192x2"},
    "pf_wide_deep_drop": {"arch": "pool_first_32_96x2_192x2", "dropout": 0.3},
    "pf_wide_deep_shift": {"arch": "pool_first_32_96x2_192x2", "translation": 0.1},
    "pf_gap": {"head": "global_max"},
    "pf_deep_b256": {"arch": "pool_first_32_64x2_128x2", "batch_size": 256, "learning_rate": 4e-3},
    "pf_deep_s16": {"arch": "pool_first_16_64x2_128x2"},
    "pf_deep20": {"arch": "pool_first_32_64x2_128x2", "epochs": 20},
    "pfwd_b256": {"arch": "pool_first_32_96x2_192x2", "batch_size": 256, "learning_rate": 4e-3},
    "pfwd_s16": {"arch": "pool_first_16_96x2_192x2"},
    "pfwd15": {"arch": "pool_first_32_96x2_192x2", "epochs": 15},
    "pf_deep_b256_e15": {
        "arch": "pool_first_32_64x2_128x2",
        "batch_size": 256,
        "learning_rate": 4e-3,
        "epochs": 15,
    },
    "pf_deep_b512": {"arch": "pool_first_32_64x2_128x2", "batch_size": 512, "learning_rate": 8e-3},
    "pfwd_b256_e15": {
        "arch": "pool_first_32_96x2_192x2",
        "batch_size": 256,
        "learning_rate": 4e-3,
        "epochs": 15,
    },
    "r12": {"arch": "pool_first_32_64x2_128x2", "batch_size": 256, "learning_rate": 4e-3, "epochs": 12},
    "r12_drop": {
        "arch": "pool_first_32_64x2_128x2",
        "batch_size": 256,
        "learning_rate": 4e-3,
        "epochs": 12,
        "dropout": 0.25,
    },
    "r12_shift_drop": {
        "arch": "pool_first_32_64x2_128x2",
        "batch_size": 256,
        "learning_rate": 4e-3,
        "epochs": 12,
        "dropout": 0.25,
        "translation": 0.1,
    },
    # Issue 31: more epochs, wider blocks, shifts, for a 10-minute budget.
    "deep_shift24": {**R12, "epochs": 24, "translation": 0.08},
    "wd16": {**R12, "arch": "pool_first_32_96x2_192x2", "epochs": 16},
    "wd_shift16": {**R12, "arch": "pool_first_32_96x2_192x2", "epochs": 16, "translation": 0.08},
    "wd_shift20": {**R12, "arch": "pool_first_32_96x2_192x2", "epochs": 20, "translation": 0.08},
    "pf_sgd": {"optimizer": "sgd", "learning_rate": 0.1},
    "pf_adamw": {"optimizer": "adamw", "weight_decay": 5e-4},
}


def build(settings: dict, seed: int):
    import keras
    from keras import layers

    from fmnist_utils.models import INPUT_SHAPE, augmentation_layers, rescaling_layer
    from fmnist_utils.training import IMPROVED_RECIPE

    flip, translation = settings["flip"], settings["translation"]
    if settings["arch"] == "improved":
        return IMPROVED_RECIPE.replace(horizontal_flip=flip, translation=translation).build_model(seed)
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = rescaling_layer()(inputs)
    if flip or translation:
        x = augmentation_layers(translation=translation, zoom=0.0, horizontal_flip=flip, seed=seed)(x)
    momentum = settings["momentum"]
    for stage, (filters, convs) in enumerate(ARCHS[settings["arch"]], start=1):
        for conv in range(convs):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{stage}_{conv}")(x)
            if conv == 0:
                x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)
            x = layers.BatchNormalization(momentum=momentum, name=f"norm{stage}_{conv}")(x)
            x = layers.Activation("relu", name=f"relu{stage}_{conv}")(x)
    x = layers.GlobalMaxPooling2D()(x) if settings["head"] == "global_max" else layers.Flatten()(x)
    if settings["dropout"]:
        x = layers.Dropout(settings["dropout"])(x)
    outputs = layers.Dense(10, activation="softmax", name="class_probabilities")(x)
    return keras.Model(inputs, outputs)


def optimizer(settings: dict, schedule):
    import keras

    ema = {"use_ema": True, "ema_momentum": 0.99} if settings["ema"] else {}
    if settings["optimizer"] == "sgd":
        return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, **ema)
    if settings["optimizer"] == "adamw":
        return keras.optimizers.AdamW(schedule, weight_decay=settings["weight_decay"], **ema)
    return keras.optimizers.Adam(schedule, **ema)


def run(name: str, seed: int = 42, save: str | None = None) -> None:
    import keras
    import numpy as np

    from fmnist_utils import data, training
    from fmnist_utils.evaluation import predict_probabilities

    settings = {**BASE, **CANDIDATES[name]}
    (images, labels), _ = data.load_fashion_mnist()
    (train_images, train_labels), (validation_images, validation_labels) = data.train_validation_split(
        images, labels, validation_size=0.1, seed=42
    )
    keras.utils.set_random_seed(seed)
    model = build(settings, seed)
    steps = -(-len(train_labels) // settings["batch_size"])
    schedule = training.cosine_schedule(
        learning_rate=settings["learning_rate"], epochs=settings["epochs"], steps_per_epoch=steps
    )
    loss = training.SmoothedSparseCrossentropy(settings["label_smoothing"])
    model.compile(optimizer=optimizer(settings, schedule), loss=loss, metrics=["accuracy"])
    train = data.make_dataset(
        train_images, train_labels, batch_size=settings["batch_size"], shuffle=True, seed=seed
    )
    validation = data.make_dataset(validation_images, validation_labels, batch_size=512)
    start = time.perf_counter()
    epoch_ends = []
    clock = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda *_: epoch_ends.append(time.perf_counter() - start)
    )
    history = model.fit(
        train, validation_data=validation, epochs=settings["epochs"], verbose=0, callbacks=[clock]
    )
    seconds = time.perf_counter() - start
    plain = predict_probabilities(model, validation_images)
    flipped = predict_probabilities(model, validation_images, flip_average=True)
    if save:  # For ensembles: average the saved probabilities of several runs.
        os.makedirs(save, exist_ok=True)
        np.save(os.path.join(save, f"{name}_seed{seed}.npy"), flipped)
    curve = " ".join(
        f"{t:.0f}s:{a:.4f}" for t, a in zip(epoch_ends, history.history["val_accuracy"], strict=True)
    )
    print(
        f"{name}: {model.count_params():,} params, {settings}\n  {curve}\n"
        f"  {seconds:.0f} s, {len(train_labels) * settings['epochs'] / seconds:,.0f} img/s; final val "
        f"{np.mean(plain.argmax(1) == validation_labels):.4f} plain, "
        f"{np.mean(flipped.argmax(1) == validation_labels):.4f} flip-averaged",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--save", metavar="DIR", help="save the flip-averaged validation probabilities")
    args = parser.parse_args(argv)
    if args.list or not args.names:
        for name, changes in CANDIDATES.items():
            print(f"{name:22} {changes}")
        return
    unknown = [name for name in args.names if name not in CANDIDATES]
    if unknown:
        sys.exit(f"unknown candidates {unknown}: see --list")
    for name in args.names:
        run(name, args.seed, args.save)


if __name__ == "__main__":
    main()
