"""Verdicts on the claims of Meir et al. (2025) from the ensembles of their released runs.

Three claims: a quasi-steady state of test accuracy, the prediction of the mean first-passage
time at every period from one, and a speedup at an optimal period. The statistics come from
:mod:`fpt_core.stats.qss`, :mod:`fpt_core.book.heldout_prediction` and
:mod:`fpt_core.book.period_optimum`; this module only words the evidence and applies the
criteria.
"""

from __future__ import annotations

import pandas as pd

from fpt_core.book.claims import claim
from fpt_core.book.heldout_prediction import worst_error
from fpt_core.stats.qss import TailStationarity

__all__ = ["released_claims"]

PAPER = "Meir et al. 2025"


def released_claims(
    *,
    ref_text: str,
    tail: TailStationarity,
    qss_reached: bool,
    tau0: int,
    held: pd.DataFrame,
    outside: pd.DataFrame,
    t_relax_text: str,
    opt: pd.DataFrame,
) -> list[dict[str, str]]:
    """The three claim rows, with evidence and verdict.

    Parameters
    ----------
    ref_text : the KS relaxation time per reference epoch, as text.
    tail : the upper-tail stationarity test (its ``share`` and ``pvalue`` are quoted).
    qss_reached : whether every QSS test passed.
    tau0 : the period the prediction is built from.
    held, outside : held-out rows of the single-form prediction table at periods at least the
        relaxation time, and below it (``protocol``, ``rel_error``, ``consistent``).
    t_relax_text : the relaxation time, as text.
    opt : the table of :func:`fpt_core.book.period_optimum.best_period_table`.

    Returns
    -------
    list of dict
        Rows of :func:`fpt_core.book.claims.claim`. The prediction is reproduced when every held-out
        period in the QSS is consistent (and there is one); the speedup when every τ* is interior
        and its speedup's lower end exceeds 1, otherwise it is not tested.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> tail = SimpleNamespace(share=[0.44, 0.40], pvalue=1e-3)
    >>> rows = pd.DataFrame({"protocol": ["p"], "rel_error": [0.03], "consistent": [True]})
    >>> opt = pd.DataFrame([dict(protocol="p", tau_star=2, tau_star_interior=True, speedup=3.0,
    ...                          speedup_low=2.0, speedup_high=4.0, speedup_is="estimate")])
    >>> c = released_claims(ref_text="16 (reference 100)", tail=tail, qss_reached=False, tau0=20,
    ...                     held=rows, outside=rows.iloc[:0], t_relax_text="16", opt=opt)
    >>> [r["verdict"] for r in c]
    ['not reproduced', 'reproduced', 'reproduced']
    >>> c[2]["measured"]
    'p: τ* = 2, speedup 3.00 (2.00–4.00)'
    """
    sf_ok = bool(len(held)) and bool(held["consistent"].all())
    edge_or_tie = [r for r in opt.itertuples() if not r.tau_star_interior]
    return [
        claim(PAPER,
              "At the paper's scale (ResNet-18, CIFAR-10) the test accuracy of the unperturbed "
              "ensemble reaches a quasi-steady state.",
              f"released runs: KS relaxation time {ref_text}; upper tail {tail.share[0]:.3f} → "
              f"{tail.share[-1]:.3f} (p = {tail.pvalue:.2g})",
              "reproduced" if qss_reached else "not reproduced"),
        claim(PAPER,
              f"From the ensemble perturbed at one period (τ0 = {tau0}) the mean first-passage "
              "time at the other periods in the quasi-steady state is predicted (released runs).",
              f"{int(held['consistent'].sum())} of {len(held)} held-out periods τ ≥ "
              f"{t_relax_text} consistent (largest error {worst_error(held)}); below τ = "
              f"{t_relax_text}: largest error {worst_error(outside)}",
              "reproduced" if sf_ok else "not reproduced"),
        claim(PAPER,
              "Perturbing at an optimal period speeds up first passage (released runs).",
              "; ".join(f"{r.protocol}: τ* = {r.tau_star}"
                        f"{'' if r.tau_star_interior else ' (grid edge)'}, speedup "
                        f"{'≥ ' if r.speedup_is != 'estimate' else ''}{r.speedup:.2f} "
                        f"({r.speedup_low:.2f}–{r.speedup_high:.2f})" for r in opt.itertuples()),
              "reproduced" if not edge_or_tie and (opt["speedup_low"] > 1).all()
              else "not tested at this preset"),
    ]  # fmt: skip
