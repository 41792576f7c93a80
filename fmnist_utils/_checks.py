"""Argument checks shared by the package, so every module words its errors the same way."""

from __future__ import annotations

import numpy as np


def positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int; raise ``ValueError`` unless it is an integer >= 1 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _is_number(value: object) -> bool:
    """Whether ``value`` is a Python or NumPy int or float (a bool is not)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def positive_number(value: object, name: str) -> float:
    """Return ``value`` as a float; raise ``ValueError`` unless it is a number > 0."""
    if not _is_number(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return float(value)


def fraction(value: object, name: str) -> float:
    """Return ``value`` as a float; raise ``ValueError`` unless it is a number in [0, 1)."""
    if not _is_number(value) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}.")
    return float(value)
