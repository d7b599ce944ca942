"""The evidence for a quasi-steady state, as a page shows it: charts of the KS and tail tests, and
the verdict in words.

A QSS counts as reached when the KS relaxation time exists (:func:`fpt_core.stats.qss.ks_relaxation`),
does not depend on the reference epoch (:func:`fpt_core.stats.qss.relaxation_by_reference`) and the
upper tail is stationary (:func:`fpt_core.stats.qss.tail_stationarity`). :func:`qss_verdict` turns the
three results into that decision, short phrases for the page (one per check, each with its
numbers) and the claims-ledger row.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from fpt_core.book.claims import claim
from fpt_core.stats.qss import KSRelaxation, RelaxationByReference, TailStationarity

__all__ = ["QSSVerdict", "ks_pvalue_chart", "qss_verdict", "reference_text", "tail_share_chart"]


def reference_text(by_ref: RelaxationByReference) -> str:
    """The relaxation time against each reference epoch, e.g. ``"25 (reference 60), none
    (reference 120)"``.

    Examples
    --------
    >>> from fpt_core.stats.qss import RelaxationByReference
    >>> reference_text(RelaxationByReference({60.0: 25.0, 120.0: None}, 25.0, 0.0, 0.2))
    '25 (reference 60), none (reference 120)'
    """
    return ", ".join(
        f"{'none' if t is None else f'{t:g}'} (reference {e:g})" for e, t in by_ref.t_relax.items()
    )


@dataclass(frozen=True)
class QSSVerdict:
    """Result of :func:`qss_verdict`: ``reached`` (all three checks pass), ``phrases`` (name →
    text, to glue into the page's prose) and ``claim`` (the claims-ledger row)."""

    reached: bool
    phrases: dict[str, str]
    claim: dict[str, str]


def qss_verdict(
    ks: KSRelaxation,
    by_ref: RelaxationByReference,
    tail: TailStationarity,
    *,
    tail_quantile: float,
    t_start: float,
    plateau: np.ndarray,
    plateau_window: str,
) -> QSSVerdict:
    """Decide whether the QSS is reached and word each check with its numbers.

    Parameters
    ----------
    ks : KSRelaxation
        The KS test against one late reference epoch.
    by_ref : RelaxationByReference
        The KS relaxation time against several reference epochs.
    tail : TailStationarity
        The upper-tail test.
    tail_quantile : float
        The plateau quantile that set ``tail.level`` (for the wording).
    t_start : float
        The first epoch of the tail test's windows.
    plateau : array (runs, epochs)
        Test accuracy over the plateau window.
    plateau_window : str
        Words for that window, e.g. ``"epochs ≥ 22"``.

    Returns
    -------
    QSSVerdict
        ``phrases`` has the keys ``qss_verdict`` (``"QSS reached at this preset"`` or
        ``"QSS not reached at this preset"``), ``ks_outcome``, ``t_relax_refs``,
        ``ref_outcome``, ``tail_level``, ``tail_quantile``, ``tail_start``, ``tail_shares``,
        ``tail_difference``, ``tail_pvalue``, ``tail_outcome``, ``plateau_window``,
        ``plateau`` (mean ± sd over runs and epochs) and ``run_sd`` (sd of the per-run means).

    Examples
    --------
    >>> from fpt_core.stats.qss import KSRelaxation, RelaxationByReference, TailStationarity
    >>> ks = KSRelaxation(np.arange(1.0, 4), np.zeros(3), np.ones(3), 3.0, 0.05, 1.0,
    ...                   np.full(3, 4))
    >>> refs = RelaxationByReference({2.0: 1.0, 3.0: 1.0}, 1.0, 0.0, 0.2)
    >>> tail = TailStationarity(0.5, np.array([[1.0, 2], [3, 3]]), np.array([0.5, 0.5]),
    ...                         np.array([0.1, 0.1]), 0.0, 0.05, 0.9, 0.05, 4)
    >>> v = qss_verdict(ks, refs, tail, tail_quantile=0.8, t_start=1.0,
    ...                 plateau=np.array([[0.5, 0.5], [0.6, 0.6]]), plateau_window="epochs ≥ 1")
    >>> v.reached, v.phrases["qss_verdict"], v.phrases["plateau"]
    (True, 'QSS reached at this preset', '0.5500 ± 0.0500')
    """
    reached = bool(ks.reached and by_ref.robust and tail.stationary)
    refs = reference_text(by_ref)
    allowed = f"allowed ±{by_ref.max_spread:.0%}"
    if by_ref.robust:
        ref_outcome = (
            f"within ±{by_ref.spread:.0%} of their median ({allowed}): the reference epoch "
            "does not matter"
        )
    elif any(t is None for t in by_ref.t_relax.values()):
        ref_outcome = f"not found against every reference ({allowed}): the test fails"
    else:
        ref_outcome = (
            f"up to ±{by_ref.spread:.0%} from their median ({allowed}): the relaxation time "
            "depends on the reference epoch"
        )
    ks_outcome = (
        f"every p-value from epoch {ks.t_relax:g} on is at least α = {ks.alpha:g}"
        if ks.reached
        else f"the p-value is below α = {ks.alpha:g} at the last tested epoch"
    )
    tail_outcome = (
        f"no drift detected at α = {tail.alpha:g}"
        if tail.stationary
        else f"the upper tail drifts (p < α = {tail.alpha:g})"
    )
    phrases = {
        "qss_verdict": "QSS reached at this preset"
        if reached
        else "QSS not reached at this preset",
        "ks_reference": f"{ks.reference_time:g}",
        "ks_outcome": ks_outcome,
        "t_relax_refs": refs,
        "ref_outcome": ref_outcome,
        "tail_level": f"{tail.level:.4f}",
        "tail_quantile": f"{tail_quantile:g}",
        "tail_start": f"{t_start:g}",
        "tail_shares": " → ".join(f"{v:.3f}" for v in tail.share),
        "tail_difference": f"{tail.difference:+.3f} ± {tail.difference_se:.3f}",
        "tail_pvalue": f"{tail.pvalue:.2g}",
        "tail_outcome": tail_outcome,
        "plateau_window": plateau_window,
        "plateau": f"{np.nanmean(plateau):.4f} ± {np.nanstd(plateau):.4f}",
        "run_sd": f"{np.nanstd(np.nanmean(plateau, axis=1)):.4f}",
    }
    row = claim(
        "Meir et al. 2025",
        "An ensemble trained at a constant learning rate reaches a quasi-steady state: the "
        "distribution of test accuracy across runs stops changing.",
        f"KS relaxation time {refs}; upper-tail share late − early "
        f"{tail.difference:+.3f} ± {tail.difference_se:.3f} (Wilcoxon p = {tail.pvalue:.2g})",
        "reproduced" if reached else "not reproduced",
    )
    return QSSVerdict(reached, phrases, row)


def ks_pvalue_chart(ks: KSRelaxation) -> alt.LayerChart:
    """KS p-value per epoch (log scale) against the reference, with α (red, dashed) and the
    relaxation time (green) when reached.

    Examples
    --------
    >>> from fpt_core.stats.qss import KSRelaxation
    >>> ks = KSRelaxation(np.arange(1.0, 4), np.zeros(3), np.array([1e-4, 0.3, 1]), 3.0, 0.05,
    ...                   2.0, np.full(3, 4))
    >>> len(ks_pvalue_chart(ks).to_dict()["layer"])
    3
    """
    frame = pd.DataFrame({"epoch": ks.times, "p_value": ks.pvalue, "D": ks.statistic})
    pline = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q"),
            y=alt.Y("p_value:Q", scale=alt.Scale(type="log"), title="KS p-value"),
            tooltip=[
                "epoch:Q",
                alt.Tooltip("p_value:Q", format=".3g"),
                alt.Tooltip("D:Q", format=".3f"),
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"alpha": [ks.alpha]}))
        .mark_rule(color="red", strokeDash=[4, 4])
        .encode(y="alpha:Q")
    )
    layers = [pline, rule]
    if ks.reached:
        t = pd.DataFrame({"t": [ks.t_relax]})
        layers.append(alt.Chart(t).mark_rule(color="green").encode(x="t:Q"))
    return alt.layer(*layers).properties(
        width=540,
        height=280,
        title=f"KS test vs epoch {ks.reference_time:g} (red: α = {ks.alpha:g}; green: t_relax)",
    )


def tail_share_chart(tail: TailStationarity) -> alt.LayerChart:
    """Share of epochs at or above ``tail.level`` per window (points), ±1 SE over runs.

    Examples
    --------
    >>> from fpt_core.stats.qss import TailStationarity
    >>> tail = TailStationarity(0.5, np.array([[1.0, 2], [3, 4]]), np.array([0.2, 0.3]),
    ...                         np.array([0.1, 0.1]), 0.1, 0.05, 0.04, 0.05, 4)
    >>> tail_share_chart(tail).to_dict()["layer"][1]["mark"]["type"]
    'point'
    """
    frame = pd.DataFrame(
        {
            "window": [f"{a:g}–{b:g}" for a, b in tail.windows],
            "mid": tail.windows.mean(1),
            "share": tail.share,
            "lo": tail.share - tail.share_se,
            "hi": tail.share + tail.share_se,
        }
    )
    y_title = f"share of epochs ≥ {tail.level:.4f}"
    return (
        alt.Chart(frame).mark_errorbar().encode(x="mid:Q", y="lo:Q", y2="hi:Q")
        + alt.Chart(frame)
        .mark_point(filled=True, size=60)
        .encode(
            x=alt.X("mid:Q", title="epoch (window centre)"),
            y=alt.Y("share:Q", title=y_title, scale=alt.Scale(zero=False)),
            tooltip=["window:N", alt.Tooltip("share:Q", format=".3f")],
        )
    ).properties(width=540, height=240, title="Upper-tail share per window (±1 SE over runs)")
