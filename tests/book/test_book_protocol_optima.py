"""fpt_core.book.protocol_optima: table, ranking, findings and the reset's optimum claim."""

import doctest

import numpy as np
import pandas as pd
import pytest

from fpt_core.book import protocol_optima as po
from fpt_core.stats.fpt import FirstPassage
from fpt_core.stats.optimum import protocol_optimum


def test_docstring_examples_run():
    res = doctest.testmod(po, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_table_of_a_known_restart_optimum_and_a_protocol_without_prediction():
    # sharp restart of T ∈ {2 (0.4), 3 (0.2), ∞ (0.4)}: τ* = 3, speedup 13.4/(2.6/0.6) = 3.09
    t = np.array([2.0] * 40 + [3.0] * 20 + [30.0] * 40)
    r = protocol_optimum(FirstPassage(t, t < 30, 30.0), n_resamples=100)
    none = r.__class__(r.taus, r.mean, r.low, r.high, r.allowed, None, None)
    table = po.protocol_table({"reset": r, "warm_restart": none},
                              {"reset": "weights (restart)", "warm_restart": "lr"}, 10)  # fmt: skip
    reset, warm = table.iloc[0], table.iloc[1]
    assert reset["tau_star"] == 3.0 and reset["tau_star_interior"] and pd.isna(reset["edge"])
    assert reset["speedup"] == pytest.approx(3.09, abs=0.01)
    assert reset["restricted_mean"] == pytest.approx(2.6 / 0.6, rel=0.01)
    assert warm["prediction"] == "renewal, once at τ0 = 10" and pd.isna(warm["speedup"])
    findings = po.protocol_findings(table, {}, None)
    assert "**warm_restart**: fewer than three allowed periods" in findings
    assert "an **interior optimum**" in findings and "faster than no perturbation" in findings


def row(**kw):
    base = dict(protocol="a", effect="weights", tau_star=40.0, tau_low=35.0, tau_high=45.0,
                tau_star_interior=False, edge="lower", grid_low=40.0, grid_high=90.0,
                speedup=1.2, speedup_low=1.1, speedup_high=1.3, restricted_mean=10.0,
                restricted_low=9.0, restricted_high=11.0)  # fmt: skip
    return {**base, **kw}


def test_ranking_needs_separated_intervals():
    t = pd.DataFrame([row(protocol="a"), row(protocol="b", restricted_mean=10.5,
                      restricted_low=9.5, restricted_high=11.5)])  # fmt: skip
    beats, best = po.rank_protocols(t)
    assert beats == {"a": [], "b": []} and best is None and t["better_than"].tolist() == ["", ""]
    t = pd.DataFrame([row(protocol="a"), row(protocol="b", restricted_mean=20.0,
                      restricted_low=19.0, restricted_high=21.0, effect="learning-rate schedule",
                      speedup_low=0.5, speedup_high=0.9)])  # fmt: skip
    beats, best = po.rank_protocols(t)
    assert beats == {"a": ["b"], "b": []} and best == "a"
    text = po.protocol_findings(t, beats, best)
    assert "lower edge" in text and "might do better still" in text
    assert "slower than no perturbation — a **learning-rate schedule effect**" in text


def test_optimum_text_and_reset_claim():
    r = row(tau_star_interior=True, edge=None)
    assert po.optimum_text(r).startswith("τ* = 40 (CI 35–45), interior; speedup 1.20×")
    assert po.restart_optimum_claim(r)["verdict"] == "reproduced"
    assert po.restart_optimum_claim(row(edge=None))["verdict"] == "not tested at this preset"
    assert po.restart_optimum_claim(row(speedup_high=0.9))["verdict"] == "not reproduced"
