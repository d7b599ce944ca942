"""fpt_core.book.parameter_checks: every out-of-range value is named in the error; in-range
values pass."""

import doctest

import pytest

from fpt_core.book import parameter_checks
from fpt_core.book.parameter_checks import check_fractions, check_integers, check_periods


def test_docstring_examples():
    res = doctest.testmod(parameter_checks, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


@pytest.mark.parametrize("value", [0.0, 1.0, -0.1, 1.5, "0.5", True, None])
def test_open_interval_rejects_ends_and_non_numbers(value):
    with pytest.raises(ValueError, match=r"^alpha=.* must lie in \(0, 1\)$"):
        check_fractions(alpha=value)


def test_closed_interval_allows_the_ends_and_names_list_elements():
    check_fractions(closed=True, target=0.0, other=1.0, sweep_targets=[0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match=r"^target=1.5 must lie in \[0, 1\]$"):
        check_fractions(closed=True, target=1.5)
    with pytest.raises(ValueError, match=r"^sweep_targets\[2\]=-0.1 must lie in \[0, 1\]$"):
        check_fractions(closed=True, sweep_targets=[0.2, 0.3, -0.1])


def test_the_first_bad_value_is_reported():
    with pytest.raises(ValueError, match="^b=2"):
        check_fractions(a=0.5, b=2, c=3)


def test_integers():
    check_integers(2, n=2, m=1000)
    for bad in (1, 2.0, "3", None):
        with pytest.raises(ValueError, match=r"must be an integer ≥ 2"):
            check_integers(2, n=bad)


def test_periods():
    check_periods(120, 30, [35, 45, 60, 75])
    for tau0, taus, needle in (
        (0, [35], "tau0=0 must be a number of epochs in (0, epochs=120)"),
        (30, [35, 120], "taus[1]=120 must be"),
        (30, [], "taus=[] must be distinct"),
        (30, [35, 35], "taus=[35, 35] must be distinct"),
        (30, [30, 35], "must not contain tau0"),
    ):
        with pytest.raises(ValueError) as err:
            check_periods(120, tau0, taus)
        assert needle in str(err.value)
