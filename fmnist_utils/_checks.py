"""Argument checks shared by the package, so every module words its errors the same way."""

from __future__ import annotations

import numpy as np


def positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int; raise ``ValueError`` unless it is an integer >= 1 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def positive_number(value: object, name: str, *, alternative: str = "") -> float:
    """Return ``value`` as a float; raise ``ValueError`` unless it is a number > 0 (not a bool).

    ``alternative`` names what else is accepted, for the message (e.g. " or a schedule").
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or value <= 0:
        raise ValueError(f"{name} must be a positive number{alternative}, got {value!r}.")
    return float(value)


def fraction(value: object, name: str) -> float:
    """Return ``value`` as a float; raise ``ValueError`` unless it lies in [0, 1) (not a bool)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not 0 <= value < 1
    ):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}.")
    return float(value)
