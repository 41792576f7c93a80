"""Helpers shared by the notebooks of the Fashion-MNIST CNN course.

Modules, in the order the notebooks teach them: data, models, training, evaluation and
plots, tuning, deploy and demo; config (quick mode) and :func:`setup`, which every
notebook's Setup cell calls. Each helper's docstring says which notebook teaches it.
"""

from fmnist_utils.environment import setup

__version__ = "0.1.0"

__all__ = ["setup"]
