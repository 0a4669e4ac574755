"""Input checks shared by the library: every error names the field and what is allowed."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def check_choice(field: str, value: Any, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``.

    Raises:
        ValueError: naming ``field`` and listing the allowed values.
    """
    options = list(allowed)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{field} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def check_positive_int(field: str, value: Any) -> int:
    """Return ``value`` as an ``int`` if it is a whole number >= 1.

    Raises:
        ValueError: naming ``field`` when it is not a positive integer.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field} must be a positive integer; got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{field} must be a positive integer; got {value!r}")
    if int(value) < 1:
        raise ValueError(f"{field} must be a positive integer (>= 1); got {value!r}")
    return int(value)


def check_positive_float(field: str, value: Any) -> float:
    """Return ``value`` as a finite ``float`` > 0.

    Raises:
        ValueError: naming ``field`` when it is not a finite positive number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field} must be a positive number; got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{field} must be a finite number > 0; got {value!r}")
    return float(value)
