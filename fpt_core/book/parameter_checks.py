"""Checks of a notebook's parameters, run before any training, with messages that name the knob.

A notebook checks what its ``parameters`` cell received right after resolving the preset, so a
wrong value stops the page in that cell, before anything is trained. Each function takes the
values as keyword arguments (the keyword is the name shown in the error) and raises
``ValueError`` at the first value out of range.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_fractions", "check_integers", "check_periods"]


def check_fractions(*, closed: bool = False, **values: Any) -> None:
    """Require every value to be a number in the open interval (0, 1), or in [0, 1] if ``closed``.

    Parameters
    ----------
    closed : bool
        Allow the end points 0 and 1 (e.g. a target accuracy) instead of excluding them (e.g. a
        significance level).
    **values : float or list of float
        The values, keyed by the name the error message shows; each element of a list is
        checked and named ``<name>[<i>]``.

    Raises
    ------
    ValueError
        ``"<name>=<value> must lie in (0, 1)"`` (or ``[0, 1]``) for the first value outside.

    Examples
    --------
    >>> check_fractions(alpha=0.05, tail_quantile=0.8)
    >>> check_fractions(alpha=1.5)
    Traceback (most recent call last):
    ...
    ValueError: alpha=1.5 must lie in (0, 1)
    >>> check_fractions(closed=True, target=1.0)
    >>> check_fractions(closed=True, sweep_targets=[0.5, 1.5])
    Traceback (most recent call last):
    ...
    ValueError: sweep_targets[1]=1.5 must lie in [0, 1]
    """
    for name, value in values.items():
        many = isinstance(value, (list, tuple))
        for i, v in enumerate(value if many else [value]):
            _check_fraction(f"{name}[{i}]" if many else name, v, closed)


def _check_fraction(name: str, v: Any, closed: bool) -> None:
    number = isinstance(v, (int, float)) and not isinstance(v, bool)
    if closed and not (number and 0.0 <= v <= 1.0):
        raise ValueError(f"{name}={v!r} must lie in [0, 1]")
    if not closed and not (number and 0.0 < v < 1.0):
        raise ValueError(f"{name}={v!r} must lie in (0, 1)")


def check_integers(minimum: int, **values: Any) -> None:
    """Require every value to be an integer at least ``minimum``.

    Parameters
    ----------
    minimum : int
        The smallest allowed value.
    **values : int
        The values, keyed by the name the error message shows.

    Raises
    ------
    ValueError
        ``"<name>=<value> must be an integer ≥ <minimum>"`` for the first value that is not.

    Examples
    --------
    >>> check_integers(2, n_perturbed=256, min_survivors=10)
    >>> check_integers(1, n_references=0)
    Traceback (most recent call last):
    ...
    ValueError: n_references=0 must be an integer ≥ 1
    """
    for name, v in values.items():
        if not isinstance(v, int) or v < minimum:
            raise ValueError(f"{name}={v!r} must be an integer ≥ {minimum}")


def check_periods(epochs: float, tau0: float, taus: list[float]) -> None:
    """Require a single period ``tau0`` and distinct held-out periods ``taus``, all in (0, epochs).

    Parameters
    ----------
    epochs : float
        The horizon of every ensemble.
    tau0 : float
        The period the prediction is built from.
    taus : list of float
        The held-out periods: non-empty, distinct, without ``tau0``.

    Raises
    ------
    ValueError
        Naming the first period outside (0, epochs), or the list ``taus`` if it is empty, has
        duplicates or contains ``tau0``.

    Examples
    --------
    >>> check_periods(120, 30, [35, 45])
    >>> check_periods(120, 30, [30, 45])
    Traceback (most recent call last):
    ...
    ValueError: taus=[30, 45] must be distinct, non-empty and must not contain tau0
    >>> check_periods(120, 30, [35, 120])
    Traceback (most recent call last):
    ...
    ValueError: taus[1]=120 must be a number of epochs in (0, epochs=120)
    """
    named = [("tau0", tau0)] + [(f"taus[{i}]", t) for i, t in enumerate(taus)]
    for name, value in named:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (number and 0 < value < epochs):
            raise ValueError(f"{name}={value!r} must be a number of epochs in (0, epochs={epochs})")
    if not taus or len(set(taus)) != len(taus) or tau0 in taus:
        raise ValueError(f"taus={taus} must be distinct, non-empty and must not contain tau0")
