"""fpt_core.book.sharp_restart_check: the sharp-restart formula against brute force."""

import doctest

import numpy as np
import pytest

from fpt_core.book import sharp_restart_check as src
from fpt_core.stats.fpt import FirstPassage


def test_docstring_examples_run():
    res = doctest.testmod(src, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def fp(times, horizon=30.0):
    t = np.asarray(times, float)
    return FirstPassage(np.minimum(t, horizon), t <= horizon, horizon)


def test_restart_at_tau_matches_the_known_formula():
    # T = 2 w.p. 0.4, 3 w.p. 0.2, never (censored at 30) w.p. 0.4; restart every τ = 3:
    # E[min(T, 3)] = 0.8 + 0.6 + 1.2 = 2.6, 1 − S(3) = 0.6, ⟨T_τ⟩ = 4.33; restricted to h = 30
    # the law is geometric-like and its restricted mean is 13/3 up to the truncation (tiny)
    unpert = fp([2.0] * 40 + [3.0] * 20 + [99.0] * 40)
    c = src.sharp_restart_check(unpert, fp([4.0] * 100), 3.0, 30.0, n_resamples=50)
    assert c["predicted"] == pytest.approx(2.6 / 0.6, rel=1e-3)
    assert c["measured"] == pytest.approx(4.0) and c["measured_censored"] == 0.0
    assert c["rel_error"] == pytest.approx(c["predicted"] / c["measured"] - 1)
    assert c["tau"] == 3.0 and set(c) >= {"z", "consistent", "resolution", "pred_low"}


def test_verdict_and_texts():
    c = dict(tau=40.0, predicted=10.0, pred_low=9.0, pred_high=11.0, measured=10.5,
             meas_low=9.5, meas_high=11.5, measured_censored=0.0, rel_error=-0.047,
             consistent=False, resolution=0.1)  # fmt: skip
    assert src.sharp_restart_verdict(c) == "not reproduced"
    assert src.sharp_restart_verdict({**c, "resolution": 0}) == "not tested at this preset"
    assert src.sharp_restart_verdict(None) == "not tested at this preset"
    t = src.sharp_restart_texts(c, 256, 0.9)
    assert t["reset_agree"] == "they differ" and t["reset_level"] == "90%"
    assert t["reset_censored"] == "0 of 256" and t["reset_caveat"] == ""
    assert t["reset_resolution"] == "±10.0%"
    assert set(src.sharp_restart_texts(None, 8).values()) == {"—"}
    assert src.sharp_restart_claim(c)["verdict"] == "not reproduced"
