"""Helpers shared by the notebooks of the Fashion-MNIST CNN course.

Modules:
    data: load and verify the dataset, split and preprocess it.
    models: the CNN builders (baseline, improved, tutorial comparisons), augmentation
        layers, feature maps.
    training: compiling, schedules, label smoothing, the standard callbacks, fit with
        timing, the baseline and improved recipes.
    tuning: the KerasTuner search over the improved recipe.
    evaluation: predictions, per-class accuracy, calibration, Grad-CAM, new pictures.
    config: quick mode (``FMNIST_QUICK=1``), the one place that sizes a run.
    environment: :func:`setup`, called by every notebook's Setup cell.
    plots: static plots that take ``ax=`` and return the figure.

Each helper's docstring says which notebook teaches it.
"""

from fmnist_utils.config import RunConfig, get_config, quick_mode
from fmnist_utils.data import CLASS_NAMES, NUM_CLASSES, DatasetError, load_fashion_mnist
from fmnist_utils.environment import in_colab, setup

__version__ = "0.1.0"

__all__ = [
    "CLASS_NAMES",
    "NUM_CLASSES",
    "DatasetError",
    "RunConfig",
    "__version__",
    "get_config",
    "in_colab",
    "load_fashion_mnist",
    "quick_mode",
    "setup",
]
