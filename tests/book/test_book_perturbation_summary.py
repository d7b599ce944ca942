"""fpt_core.book.perturbation_summary: every key the tests and the ledger read."""

import doctest
import json
from types import SimpleNamespace as NS

import numpy as np
import pandas as pd

from fpt_core.book import perturbation_summary as ps
from fpt_core.stats.optimum import MeasuredOptimum


def test_docstring_examples_run():
    res = doctest.testmod(ps, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_keys_and_values():
    m0 = NS(mean=20.0, low=19.0, high=21.0, estimable=True, n=4, n_censored=1)
    sf = NS(t_relax=12.0, premise=False, reasons=["x"], unperturbed=m0)
    table = pd.DataFrame({"protocol": ["reset", "warm_restart"], "speedup": [1.5, np.nan]})
    s = ps.perturbation_summary(
        "03_optimal_perturbation", "tiny", {"target": 0.5, "tau0": 10}, sf=sf, horizon=120.0,
        table=table, ranking={"reset": []}, best=None, reset_check={"tau": 40.0},
        criterion=pd.DataFrame({"tau": [30.0]}), warm_share=0.5, sweep=pd.DataFrame(),
        brute_force=pd.DataFrame({"tau": [10.0]}),
        brute_force_optimum=MeasuredOptimum(10.0, [], [], False), brute_force_horizon=60.0,
        specs={"reset": {}}, claims=[{"verdict": "reproduced"}],
        counts={"n_runs": 4, "n_trained": 1, "n_reused": 3, "n_diverged": 0}, device="cpu",
        wall_time_s=2.0,
    )  # fmt: skip
    assert s["protocols"][1] == {"protocol": "warm_restart", "speedup": None}
    assert s["unperturbed_censored"] == 0.25 and s["premise_failures"] == ["x"]
    assert s["brute_force_optimum"] == {"tau": 10.0, "above_left": [], "above_right": [],
                                        "interior": False}  # fmt: skip
    assert s["n_reused"] == 3 and s["criterion"] == [{"tau": 30.0}]
    assert s["speedup_basis"] == "E[min(T, 120)] / predicted E[min(T_tau*, 120)]"
    assert s["provenance"]["device"] == "cpu" and s["target"] == 0.5 and s["tau0"] == 10
    json.dumps({k: v for k, v in s.items() if k != "provenance"})  # JSON-ready
