"""The premise of a renewal prediction, in words: who reaches the target, relaxation, verdict.

Reads a :class:`fpt_core.stats.single_frequency.SingleFrequencyTest` and returns the numbers and
data-dependent phrases a page glues into its prose.
"""

from __future__ import annotations

from typing import Any


def premise_texts(sf: Any, horizon: float) -> dict[str, str]:
    """The premise's numbers and words, keyed by glue name.

    Parameters
    ----------
    sf : SingleFrequencyTest
        Its ``unperturbed`` restricted mean (``n``, ``n_censored``, ``mean``, ``low``,
        ``high``, ``estimable``), ``t_relax``, ``premise``, ``reasons`` and ``tp_logrank``.
    horizon : float
        The horizon h of the unperturbed runs.

    Returns
    -------
    dict of str to str
        ``reached`` ("k of n"), ``horizon``, ``m0`` (E[min(T, h)] with its CI), ``m0_kind``
        ("= ⟨T⟩" or "a lower bound on ⟨T⟩"), ``t_relax``, ``premise`` ("the premise holds" or
        "the premise fails") and ``premise_why`` (the log-rank p of T_p, or the failures).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> m0 = NS(n=10, n_censored=3, mean=20.0, low=19.0, high=21.5, estimable=False)
    >>> sf = NS(unperturbed=m0, t_relax=12.0, premise=False, reasons=["QSS not reached"])
    >>> t = premise_texts(sf, 60.0)
    >>> t["reached"], t["m0"], t["m0_kind"], t["premise"], t["premise_why"]
    ('7 of 10', '20.00 (CI 19.00–21.50)', 'a lower bound on ⟨T⟩', 'the premise fails', 'QSS not reached')
    >>> premise_texts(NS(**{**vars(sf), "premise": True, "tp_logrank": NS(pvalue=0.4321)}),
    ...               60.0)["premise_why"]
    "shrink & perturb's T_p log-rank p = 0.43"
    """
    m0 = sf.unperturbed
    return {
        "reached": f"{m0.n - m0.n_censored} of {m0.n}",
        "horizon": f"{horizon:g}",
        "m0": f"{m0.mean:.2f} (CI {m0.low:.2f}–{m0.high:.2f})",
        "m0_kind": "= ⟨T⟩" if m0.estimable else "a lower bound on ⟨T⟩",
        "t_relax": f"{sf.t_relax:g}",
        "premise": "the premise holds" if sf.premise else "the premise fails",
        "premise_why": (
            f"shrink & perturb's T_p log-rank p = {sf.tp_logrank.pvalue:.2g}"
            if sf.premise
            else "; ".join(sf.reasons)
        ),
    }
