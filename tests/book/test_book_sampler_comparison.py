"""fpt_core.book.sampler_comparison: known answers on synthetic scans."""

import doctest

import numpy as np
import pandas as pd
import pytest

from fpt_core.book import sampler_comparison
from fpt_core.book.sampler_comparison import (
    SamplerComparison,
    compare_samplers,
    comparison_texts,
    errors_per_lr,
    label_methods,
    orders_faster_claim,
    orders_faster_verdict,
)
from fpt_core.langevin import linreg


def test_docstring_examples_run():
    res = doctest.testmod(
        sampler_comparison, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert res.attempted > 0 and res.failed == 0


def scan(sgld_kl, sgworld_kl, se=0.01, lrs=(1e-3, 1e-2, 1e-1)) -> pd.DataFrame:
    """A labelled scan with power-law KLs and covariance errors 10 % above the theory."""
    rows = []
    for method, kl in (("SGLD", sgld_kl), ("SGWORLD", sgworld_kl)):
        for lr, k in zip(lrs, kl, strict=True):
            rows.append(dict(method=method, lr=lr, kl_coupled=k, kl_coupled_se=se * k,
                             kl_theory=k, kl_ula=k / 4, kl_plain=k, kl_continuum=k,
                             cov_rel_coupled=1.1 * lr, cov_rel_coupled_se=0.05 * lr,
                             cov_rel_theory=lr, mean_rel_coupled=lr,
                             mean_rel_coupled_se=0.1 * lr))  # fmt: skip
    return pd.DataFrame(rows)


def test_slopes_ratio_and_theory_gaps_are_the_known_ones():
    df = scan([2e-3, 2e-2, 2e-1], [1e-6, 1e-4, 1e-2])  # slopes 1 and 2
    c = compare_samplers(df)
    assert c.fits["SGLD"]["kl"] == pytest.approx((1.0, 0.0), abs=1e-9)
    assert c.fits["SGWORLD"]["kl"][0] == pytest.approx(2.0)
    assert c.fits["SGLD"]["cov_rel"][0] == pytest.approx(1.0)
    assert c.ratio == pytest.approx(2000) and c.ratio_largest == pytest.approx(20)
    assert c.ratio_se == pytest.approx(2000 * np.hypot(0.01, 0.01))
    assert c.excess == pytest.approx(4.0) and c.excess_theory == pytest.approx(4.0)
    assert c.dev_theory == pytest.approx({"SGLD": 0.1, "SGWORLD": 0.1})
    assert c.z_theory == pytest.approx({"SGLD": 2.0, "SGWORLD": 2.0})
    assert orders_faster_verdict(c) == "reproduced"


def test_nonpositive_kl_is_left_out_of_the_slope():
    df = scan([2e-3, -1.0, 2e-1, 2.0], [1e-6, 1e-4, 1e-2, 1.0], lrs=(1e-3, 1e-2, 1e-1, 1.0))
    assert compare_samplers(df).fits["SGLD"]["kl"][0] == pytest.approx(1.0)


def test_verdict_needs_both_a_steeper_slope_and_a_ratio_above_ten():
    same = compare_samplers(scan([1e-3, 1e-2, 1e-1], [1e-3, 1e-2, 1e-1]))
    assert orders_faster_verdict(same) == "not tested at this preset"
    flat = compare_samplers(scan([1e-3, 1e-3 * 1.01, 1e-3 * 0.99], [1e-6, 1e-4, 1e-2]))
    assert orders_faster_verdict(flat) == "reproduced"
    worse = compare_samplers(scan([1e-6, 1e-4, 1e-2], [2e-3, 2e-2, 2e-1]))
    assert orders_faster_verdict(worse) == "not reproduced"
    close = SamplerComparison(
        {"SGLD": {"kl": (1.0, 0.01)}, "SGWORLD": {"kl": (2.0, 0.01)}}, 11.0, 1.0, 1, 1, 1, {}, {}
    )
    assert orders_faster_verdict(close) == "not tested at this preset"  # 11 − 1.96 < 10


def test_texts_claim_and_per_lr_summary():
    df = scan([2e-3, 2e-2, 2e-1], [1e-6, 1e-4, 1e-2])
    c = compare_samplers(df)
    t = comparison_texts(c, df["lr"])
    assert t["lr_lo"] == "0.001" and t["lr_hi"] == "0.1" and t["ratio_big"] == "20"
    assert t["ratio"] == "2e+03 ± 28" and t["dev_sgld"] == "10.0" and t["z_sgworld"] == "2"
    r = orders_faster_claim(c, 1e-3)
    assert r["verdict"] == t["verdict"] == "reproduced" and "η·λmax = 0.001: 2e+03" in r["measured"]
    per = errors_per_lr(df)
    assert set(per) == {"SGLD", "SGWORLD"} and list(per["SGLD"]) == ["0.001", "0.01", "0.1"]
    assert per["SGWORLD"]["0.01"]["kl_coupled"] == pytest.approx(1e-4)
    assert set(per["SGLD"]["0.1"]) == set(sampler_comparison.PER_LR_KEYS)


def test_label_methods_adds_the_full_batch_floor():
    m = linreg.make_regression(40, 2, 1.0, 1.0, seed=1)
    lam_max = float(np.linalg.eigvalsh(m.hessian())[-1])
    df = pd.DataFrame({"policy": ["with_replacement", "without_replacement"],
                       "lr": [0.1 / lam_max, 0.01 / lam_max]})  # fmt: skip
    out = label_methods(df, m)
    assert out["method"].tolist() == ["SGLD", "SGWORLD"]
    mu, cov = m.posterior()
    want = linreg.gaussian_kl(mu, linreg.ula_covariance(m, 0.1 / lam_max), mu, cov)
    assert (
        out["kl_ula"].iloc[0] == pytest.approx(want)
        and out["kl_ula"].iloc[0] > out["kl_ula"].iloc[1]
    )
