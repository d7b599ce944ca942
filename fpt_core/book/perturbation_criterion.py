"""When does perturbing help? The criterion ⟨T_p⟩ < E[T − τ | T > τ] against brute force.

Perturbing every τ beats no perturbation iff the renewal mean time after a perturbation,
E[min(T_p, τ)]/Pr[T_p ≤ τ], is shorter than a survivor's mean remaining time. With censored
unperturbed runs only a lower bound of the latter is known,
(E[min(T, h)] − E[min(T, τ)])/S(τ), so the criterion can predict a gain but not a loss. Each
period's prediction is set against the measured restricted mean of an ensemble perturbed every
τ (:func:`fpt_core.stats.verdicts.agreement` with the unperturbed one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fpt_core.book.claims import claim
from fpt_core.stats.fpt import FirstPassage, MeanFPT
from fpt_core.stats.restart import predict_mean_fpt
from fpt_core.stats.verdicts import agreement


def criterion_table(
    unperturbed: FirstPassage,
    perturbed: FirstPassage,
    tau0: float,
    taus: Sequence[float],
    periods: Sequence[Any],
    restricted: MeanFPT,
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """Per period: the criterion's two sides, its call, and the measured effect.

    Parameters
    ----------
    unperturbed, perturbed : FirstPassage
        The unperturbed ensemble and the one perturbed once at ``tau0``.
    tau0 : float
        The single perturbation.
    taus : sequence of float
        The brute-force periods (sorted here).
    periods : sequence
        Per period, an object with ``tau``, ``in_qss`` and ``measured`` (a :class:`MeanFPT` of
        the ensemble perturbed every τ), as in
        :attr:`fpt_core.stats.single_frequency.SingleFrequencyTest.periods`; same periods as ``taus``.
    restricted : MeanFPT
        The unperturbed restricted mean E[min(T, h)].
    confidence_level : float
        Level of the agreement test.

    Returns
    -------
    pandas.DataFrame
        ``tau, in_qss, renewal_mean_tp, residual_lower_bound, criterion`` ("helps" or
        "undecided (bound)"), ``measured, meas_low, meas_high, measured_effect`` ("faster",
        "slower" or "indistinguishable").
    """
    pred = predict_mean_fpt(unperturbed, perturbed, tau0, np.array(sorted(taus), float),
                            form="renewal", schedule="once", n_resamples=1, rng=0)  # fmt: skip
    m0, rows = restricted, []
    for i, p in enumerate(sorted(periods, key=lambda q: q.tau)):
        residual = (m0.mean - pred.emin[i]) / pred.survival[i]
        helps = bool(pred.mean_tp[i] < residual)
        ag = agreement(p.measured.mean, p.measured.low, p.measured.high, m0.mean, m0.low,
                       m0.high, confidence_level=confidence_level)  # fmt: skip
        measured = ("faster" if not ag.consistent and ag.difference < 0 else
                    "slower" if not ag.consistent else "indistinguishable")  # fmt: skip
        rows.append(dict(tau=p.tau, in_qss=p.in_qss, renewal_mean_tp=float(pred.mean_tp[i]),
                         residual_lower_bound=float(residual),
                         criterion="helps" if helps else "undecided (bound)",
                         measured=p.measured.mean, meas_low=p.measured.low,
                         meas_high=p.measured.high, measured_effect=measured))  # fmt: skip
    return pd.DataFrame(rows)


def criterion_claim(crit: pd.DataFrame, restricted: MeanFPT, premise: bool) -> dict[str, str]:
    """The criterion's claim, decided where it predicts a gain.

    Reproduced if no such period is measured slower and at least one is measured faster beyond
    the intervals; not reproduced if one is slower; not tested outside the premise or where the
    criterion decides nothing.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> m0 = SimpleNamespace(mean=20.0, low=19.0, high=21.0)  # a MeanFPT's three fields
    >>> crit = pd.DataFrame([dict(tau=30.0, renewal_mean_tp=5.0, residual_lower_bound=9.0,
    ...     criterion="helps", measured=15.0, meas_low=14.0, meas_high=16.0,
    ...     measured_effect="faster")])
    >>> c = criterion_claim(crit, m0, premise=True)
    >>> c["verdict"], criterion_claim(crit, m0, premise=False)["verdict"]
    ('reproduced', 'not tested at this preset')
    >>> c["measured"][:60]
    'τ = 30: 5.0 < 9.0; measured (restricted means, 95 % CI) 15.0'
    """
    decided = crit[crit["criterion"] == "helps"]
    n_faster = int((decided["measured_effect"] == "faster").sum())
    contradict = bool((decided["measured_effect"] == "slower").any())
    verdict = ("not tested at this preset" if not premise or not len(decided)
               else "not reproduced" if contradict
               else "reproduced" if n_faster else "not tested at this preset")  # fmt: skip
    m0 = restricted
    return claim(
        "Meir et al. 2025",
        "A perturbation at τ helps iff the mean time after it is shorter than a survivor's mean "
        "remaining time, ⟨T_p⟩ < E[T − τ | T > τ].",
        "; ".join(f"τ = {r.tau:g}: {r.renewal_mean_tp:.1f} < {r.residual_lower_bound:.1f}"
                  if r.criterion == "helps" else f"τ = {r.tau:g}: undecided"
                  for r in crit.itertuples())
        + "; measured (restricted means, 95 % CI) "
        + ", ".join(f"{r.measured:.1f} ({r.meas_low:.1f}–{r.meas_high:.1f})"
                    for r in crit.itertuples())
        + f" vs unperturbed {m0.mean:.1f} ({m0.low:.1f}–{m0.high:.1f}): faster beyond the "
        f"intervals at {n_faster} of {len(decided)} periods where the criterion predicts a "
        "gain; the 'only if' half is not tested (no period where it predicts a loss)",
        verdict,
    )  # fmt: skip
