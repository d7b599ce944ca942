"""Chart of the predicted mean first-passage time against the perturbation period, per protocol.

Solid where the prediction's premise holds (the allowed grid), dashed outside it; bootstrap
bands; diamonds at τ*; black points with error bars for brute-force ensembles; a gray rule at
the unperturbed restricted mean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

from fpt_core.stats.optimum import ProtocolOptimum


def period_curves(
    results: Mapping[str, ProtocolOptimum], cutoff: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The curves (``protocol, tau, mean, low, high, allowed``, rows with mean < ``cutoff``) and
    the optima (``protocol, tau, mean``) of the protocols with one.

    Examples
    --------
    >>> import numpy as np
    >>> r = ProtocolOptimum(np.arange(1.0, 4.0), np.array([5.0, 1.0, 9.0]), np.zeros(3),
    ...                     np.ones(3), np.ones(3, bool), None, None)
    >>> curves, stars = period_curves({"reset": r}, cutoff=6.0)
    >>> curves["tau"].tolist(), len(stars)
    ([1.0, 2.0], 0)
    """
    frame = pd.concat(
        pd.DataFrame({"protocol": n, "tau": r.taus, "mean": r.mean, "low": r.low,
                      "high": r.high, "allowed": r.allowed})
        for n, r in results.items()
    )  # fmt: skip
    stars = pd.DataFrame(
        [{"protocol": n, "tau": r.optimum.tau, "mean": r.optimum.mean}
         for n, r in results.items() if r.optimum is not None],
        columns=["protocol", "tau", "mean"],
    )  # fmt: skip
    return frame[frame["mean"] < cutoff], stars


def brute_force_points(
    periods: Sequence[Any], reset_check: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Measured points of the chart: shrink & perturb every τ (``periods``, objects with ``tau``
    and a ``measured`` MeanFPT) and, if given, the reset's brute-force check.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> pts = brute_force_points([NS(tau=30.0, measured=NS(mean=20.0, low=19.0, high=21.0))],
    ...                          dict(tau=40.0, measured=18.0, meas_low=17.0, meas_high=19.0))
    >>> [p["what"] for p in pts], pts[1]["y"]
    (['shrink & perturb every 30', 'reset every 40'], 18.0)
    """
    pts = [dict(what=f"shrink & perturb every {p.tau:g}", tau=p.tau, y=p.measured.mean,
                lo=p.measured.low, hi=p.measured.high) for p in periods]  # fmt: skip
    if reset_check:
        c = reset_check
        pts.append(dict(what=f"reset every {c['tau']:g}", tau=c["tau"], y=c["measured"],
                        lo=c["meas_low"], hi=c["meas_high"]))  # fmt: skip
    return pts


def period_curve_chart(
    results: Mapping[str, ProtocolOptimum],
    brute_force: Sequence[Mapping[str, Any]],
    unperturbed_mean: float,
) -> alt.Chart:
    """⟨T_τ⟩ against τ for every protocol, with brute-force points and the unperturbed mean.

    Parameters
    ----------
    results : mapping
        Protocol name → :func:`fpt_core.stats.optimum.protocol_optimum`.
    brute_force : sequence of mapping
        Measured points: ``what`` (label), ``tau``, ``y`` (restricted mean), ``lo``, ``hi``
        (see :func:`brute_force_points`).
    unperturbed_mean : float
        The unperturbed restricted mean (gray rule); curves above 3× it are cut (the reset's
        diverges as S(τ) → 1).

    Returns
    -------
    altair.Chart
        The layered chart, zoomable.

    Examples
    --------
    >>> import numpy as np
    >>> r = ProtocolOptimum(np.arange(1.0, 4.0), np.array([5.0, 1.0, 9.0]), np.zeros(3),
    ...                     np.ones(3), np.ones(3, bool), None, None)
    >>> pts = [dict(what="reset every 2", tau=2.0, y=1.1, lo=1.0, hi=1.2)]
    >>> spec = period_curve_chart({"reset": r}, pts, 2.0).to_dict()
    >>> len(spec["layer"])
    6
    """
    frame, stars = period_curves(results, 3 * unperturbed_mean)
    brute = pd.DataFrame(list(brute_force), columns=["what", "tau", "y", "lo", "hi"])
    x = alt.X("tau:Q", title="period τ (epochs)")
    band = alt.Chart(frame).mark_area(opacity=0.12).encode(x=x, y="low:Q", y2="high:Q",
                                                            color="protocol:N")  # fmt: skip
    line = alt.Chart(frame).mark_line().encode(
        x=x, y=alt.Y("mean:Q", title="⟨T_τ⟩ (epochs)"), color="protocol:N",
        strokeDash=alt.StrokeDash("allowed:N", title="allowed τ", sort="descending"),
        tooltip=["protocol:N", "tau:Q", alt.Tooltip("mean:Q", format=".2f"),
                 alt.Tooltip("low:Q", format=".2f"), alt.Tooltip("high:Q", format=".2f")],
    )  # fmt: skip
    star = alt.Chart(stars).mark_point(shape="diamond", size=120, filled=True).encode(
        x="tau:Q", y="mean:Q", color="protocol:N")  # fmt: skip
    err = alt.Chart(brute).mark_errorbar(color="black").encode(x="tau:Q", y="lo:Q", y2="hi:Q")
    dots = alt.Chart(brute).mark_point(color="black", filled=True).encode(
        x="tau:Q", y="y:Q", tooltip=["what:N", alt.Tooltip("y:Q", format=".2f")])  # fmt: skip
    rule = alt.Chart(pd.DataFrame({"y": [unperturbed_mean]})).mark_rule(
        color="gray", strokeDash=[2, 2]).encode(y="y:Q")  # fmt: skip
    return (band + line + rule + star + err + dots).add_params(
        alt.selection_interval(bind="scales")
    ).properties(
        width=560, height=340, title="Predicted mean first-passage time under periodic perturbation",
    ).configure_legend(orient="bottom")  # fmt: skip
