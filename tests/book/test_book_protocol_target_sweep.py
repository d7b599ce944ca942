"""fpt_core.book.protocol_target_sweep: the cells of the sweep and one synthetic sweep."""

import doctest
from types import SimpleNamespace as NS

import numpy as np

from fpt_core.book import protocol_target_sweep as ts


def test_docstring_examples_run():
    res = doctest.testmod(ts, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_cells():
    sp = NS(speedup=2.0, low=1.5, high=2.5)
    assert ts.optimum_cell(NS(tau=3.0, interior=True, edge=None), sp) == (
        "τ* 3 (interior), 2.00× (1.50–2.50)"
    )
    assert ts.optimum_cell(NS(tau=3.0, interior=False, edge=None), sp).startswith(
        "τ* 3 (not separated)"
    )


def test_a_sweep_over_two_targets_sorted_and_deduplicated():
    rng = np.random.default_rng(0)
    times = np.arange(1.0, 31.0)
    first = rng.integers(2, 40, size=(3, 40)).astype(float)  # unperturbed, once, periodic
    acc = [(times[None, :] >= f[:, None]).astype(float) * 0.9 for f in first]
    out = ts.target_sweep(acc[0], {"shrink_perturb": acc[1]}, {10.0: acc[2], 16.0: acc[2]}, times,
                          [0.8, 0.5, 0.8], ["shrink_perturb", "reset"], tau0=10,
                          n_resamples=20)  # fmt: skip
    assert out["target"].tolist() == [0.5, 0.8]
    assert {"t_relax", "premise", "unperturbed censored", "reset", "reset_interior",
            "shrink_perturb_interior"} <= set(out.columns)  # fmt: skip
    assert out["unperturbed censored"].iloc[0] == np.mean(first[0] > 30)
    assert all(c == "no prediction" or c.startswith("τ* ") for c in out["reset"])
