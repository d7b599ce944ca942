"""The words a page prints about a quasi-steady-state test and an unperturbed mean first-passage
time: measured numbers as text, and the phrases whose wording depends on the verdict.

Each function returns plain strings for :func:`myst_nb.glue`; the statistics come from
:mod:`fpt_core.stats.qss` and :mod:`fpt_core.stats.fpt`.
"""

from __future__ import annotations

import numpy as np

from fpt_core.stats.fpt import MeanFPT
from fpt_core.stats.qss import RelaxationByReference, TailStationarity

__all__ = ["reference_times", "qss_words", "mean_fpt_words"]


def reference_times(by_ref: RelaxationByReference) -> str:
    """The KS relaxation time against each reference epoch (``none`` where not found).

    Examples
    --------
    >>> reference_times(RelaxationByReference({100.0: 16.0, 200.0: None}, 16.0, 0.0, 0.2))
    '16 (reference 100), none (reference 200)'
    """
    return ", ".join(f"{'none' if v is None else f'{v:g}'} (reference {e:g})"
                     for e, v in by_ref.t_relax.items())  # fmt: skip


def qss_words(
    plateau: np.ndarray,
    t_start: float,
    by_ref: RelaxationByReference,
    tail: TailStationarity,
    target: float,
    t_relax: float | None,
    reached: bool,
) -> dict[str, str]:
    """Text for the QSS paragraph of a page.

    Parameters
    ----------
    plateau : scores of the runs at the epochs from ``t_start`` on (NaN where missing).
    t_start : first epoch of the plateau and of the tail test's windows.
    by_ref : the KS relaxation time against each reference epoch.
    tail : the upper-tail stationarity test.
    target : the level of the tail test.
    t_relax : the fast relaxation time (None: none found).
    reached : whether every QSS test passed.

    Returns
    -------
    dict
        ``plateau`` (mean ± sd), ``t_start``, ``ref_text``, ``stable`` / ``not stable``,
        ``spread``, ``target``, ``t_relax``, ``tail_share``, ``tail_diff``, ``tail_p``,
        ``tail_drift``, ``qss`` (``reached`` / ``not reached``), ``qss_summary`` and
        ``qss_caveat`` (empty when reached).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> refs = RelaxationByReference({100.0: 16.0, 200.0: 178.0}, 16.0, 0.9, 0.2)
    >>> tail = SimpleNamespace(share=[0.44, 0.40], difference=-0.04, difference_se=0.005,
    ...                        pvalue=3e-15, stationary=False)
    >>> w = qss_words(np.array([[70.0, 72.0]]), 20.0, refs, tail, 72.0, 16.0, False)
    >>> w["plateau"], w["stable"], w["spread"], w["tail_drift"], w["qss"]
    ('71.00 ± 1.00', 'not stable', '±90%', 'it drifts', 'not reached')
    """
    return dict(
        plateau=f"{np.nanmean(plateau):.2f} ± {np.nanstd(plateau):.2f}", t_start=f"{t_start:g}",
        ref_text=reference_times(by_ref), stable="stable" if by_ref.robust else "not stable",
        spread=f"±{by_ref.spread:.0%}", target=f"{target:g}",
        t_relax=f"{t_relax:g}" if t_relax is not None else "(none found)",
        tail_share=" → ".join(f"{v:.3f}" for v in tail.share),
        tail_diff=f"{tail.difference:+.3f} ± {tail.difference_se:.3f}",
        tail_p=f"{tail.pvalue:.2g}",
        tail_drift="no drift detected" if tail.stationary else "it drifts",
        qss="reached" if reached else "not reached",
        qss_summary="Reached." if reached else "Not reached by the tests of this book.",
        qss_caveat="" if reached else "The KS test against an early-enough reference finds a "
        "short relaxation, but the distribution keeps changing slowly, and a late reference or "
        "the tail test sees it: the premise holds only approximately.",
    )  # fmt: skip


def mean_fpt_words(m: MeanFPT) -> str:
    """⟨T⟩ with its interval and CV, or, when not estimable, the restricted mean as a lower bound.

    The text follows ``⟨T⟩`` on the page (it opens with ``=`` or ``≥``).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> mean_fpt_words(SimpleNamespace(mean=10.0, low=9.0, high=11.5, cv=0.8, estimable=True))
    '= 10.0 (9.0–11.5) and CV = 0.80'
    """
    if m.estimable:
        return f"= {m.mean:.1f} ({m.low:.1f}–{m.high:.1f}) and CV = {m.cv:.2f}"
    return (f"≥ {m.mean:.1f} (restricted mean; not estimable) and CV ≥ {m.cv_lower_bound:.2f} "
            f"(95 % lower end {m.cv_lower_bound_low:.2f})")  # fmt: skip
