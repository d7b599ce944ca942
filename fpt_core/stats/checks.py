"""Argument checks, one place: each returns the value in its checked type or raises ``ValueError``
naming the parameter, the value and its allowed range — before any work starts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "check_flag",
    "check_int",
    "check_level",
    "check_number",
    "check_positive_array",
    "check_resamples",
    "check_times",
]


def check_number(
    value: Any,
    name: str,
    *,
    low: float,
    high: float | None = None,
    low_open: bool = True,
    high_open: bool = False,
) -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high`` (open or closed ends).

    Examples
    --------
    >>> check_number(0.5, "lam", low=0.0, high=1.0, low_open=False)
    0.5
    >>> try:
    ...     check_number(0, "tau", low=0.0)
    ... except ValueError as e:
    ...     print(e)
    tau=0 must be a finite number in (0, ∞)
    """
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    x = float(value) if ok else math.nan
    ok = ok and math.isfinite(x) and (x > low if low_open else x >= low)
    if high is not None:
        ok = ok and (x < high if high_open else x <= high)
    if not ok:
        lo = f"{'(' if low_open else '['}{low:g}"
        hi = "∞)" if high is None else f"{high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name}={value!r} must be a finite number in {lo}, {hi}")
    return x


def check_flag(value: Any, name: str) -> bool:
    """``value`` if it is ``True`` or ``False`` (not merely truthy)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name}={value!r} must be True or False")
    return value


def check_int(value: Any, name: str, minimum: int = 1, *, allow_none: bool = False) -> int | None:
    """``value`` as an ``int`` ≥ ``minimum`` (``None`` passes through with ``allow_none``).

    Examples
    --------
    >>> check_int(3, "n_steps"), check_int(None, "window", allow_none=True)
    (3, None)
    """
    if allow_none and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        alt = "None or " if allow_none else ""
        raise ValueError(f"{name}={value!r} must be {alt}an integer ≥ {minimum}")
    return int(value)


def check_positive_array(x: Any, name: str, increasing: bool = False) -> np.ndarray:
    """``x`` as a non-empty 1-D float array of finite values > 0 (strictly increasing if asked)."""
    a = np.atleast_1d(np.asarray(x, dtype=float))
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError(f"{name} must be a non-empty 1-D array of finite values > 0")
    if increasing and np.any(np.diff(a) <= 0):
        raise ValueError(f"{name} must be strictly increasing")
    return a


def check_times(times: np.ndarray | None, n_eval: int | None) -> np.ndarray:
    if times is None:
        return np.arange(1, n_eval + 1, dtype=float)
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or (n_eval is not None and t.size != n_eval):
        raise ValueError(f"times has shape {t.shape}, expected ({n_eval},)")
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) <= 0):
        raise ValueError("times must be finite, ≥ 0 and strictly increasing")
    return t


def check_level(confidence_level: float) -> float:
    if not 0.0 < confidence_level < 1.0:
        raise ValueError(f"confidence_level={confidence_level} must lie in (0, 1)")
    return float(confidence_level)


def check_resamples(n_resamples: int) -> int:
    if int(n_resamples) != n_resamples or n_resamples < 1:
        raise ValueError(f"n_resamples={n_resamples} must be an integer ≥ 1")
    return int(n_resamples)
