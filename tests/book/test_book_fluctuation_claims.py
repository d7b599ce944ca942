"""fpt_core.book.fluctuation_claims: the verdicts on Adhikari et al. from synthetic tables.

``synthetic()`` is the complete input of a page at a small preset; the tests of
fpt_core.book.fluctuation_results and fluctuation_words use it too."""

from types import SimpleNamespace

import pandas as pd

from fpt_core.book.claims import VERDICTS
from fpt_core.book.fluctuation_claims import fluctuation_claims

WR, WOR = "with replacement", "without replacement"


def synthetic(paper_in_scan=False, rel_s=0.03):
    ck = pd.DataFrame(
        [(p, q, z, rel, 0.5, ratio) for p in (WR, WOR)
         for q, z, rel, ratio in (("Σ", 2.0, rel_s, 40.0), ("C", 1.5, 0.05, 11.0))],
        columns=["policy", "quantity", "max |z|", "rel. error (Frobenius)",
                 "continuum rel. error", "‖theory‖ / noise"],
    ).set_index(["policy", "quantity"])  # fmt: skip
    ep = pd.DataFrame([dict(policy=p, k=k, **{"⟨σ⟩": 0.02 * k, "SE": 0.0002 * k,
                       "theory": 0.021 * k, "theory (chain)": 0.0205 * k,
                       "SE(theory)": 0.0 if p == WR else 0.001, "⟨e^−σ⟩": 1.01**k,
                       "SE(IFT)": 0.001, "DFT slope": 0.6, "SE(slope)": 0.02})
                       for p in (WR, WOR) for k in (1, 2, 3)])  # fmt: skip
    etas = [1e-7, 1e-6, 2e-6] if paper_in_scan else [1e-6, 2e-6, 1e-5]
    eps = [1e-6 * (v / 1e-6) ** 2 * 1e-2 for v in etas]
    scan = pd.DataFrame({"η": etas, "ηλ_max": [v * 2.75e4 for v in etas], "ε measured": eps,
                         "SE": [e / 10 for e in eps], "ε predicted": eps,
                         "SE(pred.)": [e / 100 for e in eps], "DFT slope": [0.9, 0.8, 0.55],
                         "SE(slope)": [0.01, 0.01, 0.01], "DFT slope predicted": [0.9, 0.8, 0.56],
                         "z(slope)": [0.0, 0.0, -1.0], "z(ε)": [0.0, 0.0, 0.0],
                         "⟨σ⟩ / theory (chain)": [0.99, 0.97, 0.8]})  # fmt: skip
    resolved = scan[scan["ηλ_max"] <= 0.1]
    sur = pd.DataFrame({"policy": [WR, WR, WOR], "η": [1e-5] * 3,
                        "functional": ["exact", "continuum", "exact"], "k": [1, 1, 1],
                        "⟨e^−σ⟩": [1.0, 1.0, 1.0], "SE(IFT)": [0.001] * 3, "z(IFT)": [0.5, -1.0, 2.0],
                        "max |eig K| per record": [0.3, 0.3, 0.9], "DFT slope": [1.0, 1.01, 0.99],
                        "SE(slope)": [0.01] * 3})  # fmt: skip
    toy = pd.DataFrame({"z": [1.2, 0.1], "sim./pred.": [1.3, 1.02]})
    return dict(lr=1e-5, paper_lr=1e-7, ck=ck, wr=ep[ep["policy"] == WR], scan=scan, sur=sur,
                resolved=resolved, resolved_all=scan, fit={"slope": 2.0, "slope_se": 0.1},
                fit_all={"slope": 2.2, "slope_se": 0.05}, toy_tab=toy,
                dft_share=pd.Series([95.0, 105.0]), dft_chi2=0.5, dft_p=0.78, ep=ep,
                pr_main=SimpleNamespace(eps=0.01, even=0.003, skew=0.007, even_se=1e-4,
                                        windows=lambda: {k: 1.01**k for k in (1, 2, 3)}))  # fmt: skip


def _claims(**over):
    d = {**synthetic(), **over}
    keys = ("lr", "paper_lr", "ck", "wr", "scan", "sur", "resolved", "resolved_all", "fit",
            "fit_all", "toy_tab", "dft_share", "dft_chi2", "dft_p")  # fmt: skip
    return fluctuation_claims(**{k: d[k] for k in keys})


def test_verdicts_on_a_consistent_build():
    c = _claims()
    assert all(r["verdict"] in VERDICTS and r["paper"] == "Adhikari et al. 2023" for r in c)
    v = {r["claim"][:40]: r["verdict"] for r in c}
    assert len(c) == 8 and list(v.values()) == [
        "reproduced", "reproduced", "reproduced", "not tested at this preset", "reproduced",
        "reproduced", "reproduced", "reproduced"]  # fmt: skip
    assert c[0]["measured"].startswith("η = 1e-05, with replacement: predicted C is 11× the noise")
    assert "Frobenius rel. error Σ 3.0 %, C 5.0 %" in c[1]["measured"]
    assert c[2]["measured"].startswith("⟨σ⟩ = 0.02 ± 0.0002 per step against 0.021")
    assert c[4]["measured"].endswith(": 2.0")  # surrogate: the largest |z|


def test_failures_are_called():
    c = _claims(ck=synthetic(rel_s=0.2)["ck"], dft_p=0.001, sur=synthetic()["sur"].assign(
        **{"z(IFT)": [0.5, -1.0, 4.0]}))  # fmt: skip
    v = [r["verdict"] for r in c]
    assert v[1] == "not reproduced" and v[4] == "not reproduced" and v[-1] == "not reproduced"
    no_fit = _claims(fit=None)
    assert len(no_fit) == 7 and no_fit[5]["verdict"] == "not tested at this preset"
    assert no_fit[5]["measured"] == "fewer than two learning rates with ηλ_max ≤ 0.1 resolve ε"


def test_the_paper_learning_rate_tests_both_theorems():
    d = synthetic(paper_in_scan=True)
    c = _claims(scan=d["scan"], resolved=d["resolved"], resolved_all=d["scan"])
    assert len(c) == 9
    assert c[3]["claim"].startswith("The integral fluctuation theorem")
    assert c[3]["verdict"] == "not reproduced"  # ε = 1e-10 ± 1e-11 at η = 1e-7: 10 SE from 0
    assert (
        c[3]["measured"] == "⟨e^{−σ}⟩ − 1 = 1e-10 ± 1e-11 (predicted bias 1e-10, below resolution)"
    )
    assert c[4]["claim"].startswith("The detailed fluctuation theorem")
    assert c[4]["verdict"] == "not reproduced"  # slope 0.9 ± 0.01: 10 SE from 1
    assert c[4]["measured"] == "slope 0.900 ± 0.01 (predicted 0.900)"
    wide = d["scan"].assign(**{"SE(slope)": 0.05})
    assert _claims(scan=wide, resolved=d["resolved"], resolved_all=wide)[4]["verdict"] == (
        "not tested at this preset"
    )
