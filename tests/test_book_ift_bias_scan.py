"""fpt_core.book.ift_bias_scan: toy table, learning-rate scan table and the fits of ε ∝ η^s."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from fpt_core.book import ift_bias_scan as bs
from fpt_core.langevin import ift_bias


def test_toy_table():
    t = bs.toy_table([{"ε predicted": 0.01, "SE(pred.)": 0.0003, "ε simulated": 0.0096,
                       "SE(sim.)": 0.0004}])  # fmt: skip
    assert t["z"].iloc[0] == pytest.approx(-0.8) and t["sim./pred."].iloc[0] == pytest.approx(0.96)


def test_scan_table_columns():
    e1 = dict(count=400, mean=0.05, ift=1.002, ift_se=5e-4, dft_slope=0.97, dft_slope_se=0.01)
    runs = {
        v: (SimpleNamespace(ep=[e1]), SimpleNamespace(ep_mean_chain=0.04)) for v in (1e-6, 2e-6)
    }
    pred = {v: SimpleNamespace(eps=0.001, even_se=0.0, skew=0.0004) for v in runs}
    s = bs.scan_table(runs, pred, 2e4)
    assert s["ηλ_max"].tolist() == pytest.approx([0.02, 0.04])
    assert s["ε measured"].iloc[0] == pytest.approx(0.002) and s["z(ε)"].iloc[0] == pytest.approx(2)
    assert s["⟨σ⟩ / theory (chain)"].iloc[0] == pytest.approx(1.25)
    assert s["chain-steps to resolve"].iloc[0] == pytest.approx(9 * 1e-4 / 1e-6)
    assert s["DFT slope predicted"].iloc[0] == pytest.approx(
        ift_bias.dft_slope_from_bias(0.05, 0.001)
    )


def test_premise_fits_select_resolved_points_within_the_premise():
    eta = np.array([1e-4, 2e-4, 4e-4, 4e-3, 1e-5])
    eps = 1e6 * eta**2
    se = np.where(eta < 5e-5, eps, eps / 10)  # the smallest η is not resolved
    scan = pd.DataFrame({"η": eta, "ηλ_max": 100 * eta, "ε measured": eps, "SE": se,
                         "ε predicted": eps, "SE(pred.)": eps / 10})  # fmt: skip
    f = bs.premise_fits(scan)
    assert sorted(f["resolved"]["η"]) == [1e-4, 2e-4, 4e-4]  # ηλ_max = 0.4 is outside
    assert len(f["resolved_all"]) == 4
    assert f["fit"]["slope"] == pytest.approx(2.0) and f["fit_pred"]["slope"] == pytest.approx(2.0)
    assert bs.premise_fits(scan.iloc[[0, 3, 4]])["fit"] is None  # one point within the premise


def test_docstring_examples():
    import doctest

    import fpt_core.book.ift_bias_scan as module

    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
