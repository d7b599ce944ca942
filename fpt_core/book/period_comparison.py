"""A prediction of periodic perturbation against brute force, period by period: the table of
restricted means, the chart of means against the period, and the survival curves.

The inputs are the per-period table of :meth:`fpt_core.stats.single_frequency.SingleFrequencyTest.table`
(columns ``tau``, ``role``, ``predicted``/``pred_low``/``pred_high``, ``measured``/``meas_low``/
``meas_high``, ``rel_error``, ``consistent``, ``resolution``, ``recipe_predicted``/
``recipe_low``/``recipe_high``, ``recipe_rel_error``, ``recipe_consistent``), a predicted curve
(:class:`fpt_core.stats.restart.RestartPrediction`) and first-passage times
(:class:`fpt_core.stats.fpt.FirstPassage`).
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

from fpt_core.book import viz
from fpt_core.stats.fpt import FirstPassage, survival
from fpt_core.stats.predicted_law import predicted_survival
from fpt_core.stats.restart import RestartPrediction

__all__ = ["held_out_table", "prediction_chart", "survival_comparison_chart", "survival_frames"]


def _word(consistent: bool) -> str:
    return "consistent" if consistent else "differs"


def held_out_table(res: pd.DataFrame) -> str:
    """The held-out periods as a Markdown table: predicted and measured restricted means with
    their 95 % intervals, the relative error of the renewal prediction, whether it is consistent
    with the measurement, the resolution of the comparison, and the paper's recipe.

    Parameters
    ----------
    res : pandas.DataFrame
        One row per period (see the module docstring); rows with ``role == "held out"`` are shown.

    Returns
    -------
    str
        A Markdown table, one row per held-out period.

    Examples
    --------
    >>> res = pd.DataFrame([dict(tau=35.0, role="held out", predicted=23.4, pred_low=22.5,
    ...     pred_high=24.3, measured=22.6, meas_low=21.8, meas_high=23.5, rel_error=0.0354,
    ...     consistent=True, resolution=0.055, recipe_rel_error=0.0426, recipe_consistent=False)])
    >>> print(held_out_table(res).splitlines()[-1])
    | 35 | 23.40 (22.50–24.30) | 22.60 (21.80–23.50) | +3.5% | consistent | ±5.5% | +4.3% | differs |
    """
    head = (
        "| τ | predicted (95 % CI) | measured (95 % CI) | error | renewal | resolution "
        "| recipe error | recipe |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for r in res[res["role"] == "held out"].itertuples():
        lines.append(
            f"| {r.tau:g} | {r.predicted:.2f} ({r.pred_low:.2f}–{r.pred_high:.2f}) "
            f"| {r.measured:.2f} ({r.meas_low:.2f}–{r.meas_high:.2f}) | {r.rel_error:+.1%} "
            f"| {_word(r.consistent)} | ±{r.resolution:.1%} | {r.recipe_rel_error:+.1%} "
            f"| {_word(r.recipe_consistent)} |"
        )
    return "\n".join(lines) + "\n"


def prediction_chart(
    res: pd.DataFrame, curve: RestartPrediction, *, baseline: float, horizon: float
) -> alt.LayerChart:
    """Restricted means against the period: measured (black), predicted by the renewal form
    (blue) and by the paper's recipe (orange), with 95 % intervals; the predicted curve (dashed)
    with its band; the unperturbed mean (gray rule).

    Parameters
    ----------
    res : pandas.DataFrame
        One row per period (see the module docstring).
    curve : RestartPrediction
        The prediction on a grid of periods (``taus``, ``mean``, ``low``, ``high``).
    baseline : float
        The unperturbed mean first-passage time.
    horizon : float
        The common horizon of the restricted means (for the title).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> res = pd.DataFrame([dict(tau=35.0, predicted=23.4, pred_low=22.5, pred_high=24.3,
    ...     measured=22.6, meas_low=21.8, meas_high=23.5, recipe_predicted=23.6,
    ...     recipe_low=22.6, recipe_high=24.6)])
    >>> curve = SimpleNamespace(taus=np.array([30.0, 40]), mean=np.array([23.0, 24]),
    ...                         low=np.array([22.0, 23]), high=np.array([24.0, 25]), tau0=30.0)
    >>> spec = prediction_chart(res, curve, baseline=28.6, horizon=120).to_dict()
    >>> len(spec["layer"]), spec["title"]
    (5, 'E[min(T_τ, 120)]: measured vs predicted from τ0 = 30')
    """
    frame = pd.DataFrame(
        {"tau": curve.taus, "mean": curve.mean, "low": curve.low, "high": curve.high}
    )
    kinds = {
        "measured": ("measured", "meas_low", "meas_high", 0.0),
        "renewal from τ0": ("predicted", "pred_low", "pred_high", -0.8),
        "paper's recipe": ("recipe_predicted", "recipe_low", "recipe_high", 0.8),
    }
    pts = pd.concat(
        [
            pd.DataFrame(
                {
                    "tau": res.tau,
                    "x": res.tau + dx,
                    "kind": k,
                    "y": res[y],
                    "lo": res[lo],
                    "hi": res[hi],
                }
            )  # fmt: skip
            for k, (y, lo, hi, dx) in kinds.items()
        ]
    )
    colors = alt.Scale(domain=list(kinds), range=["black", "#1f77b4", "#ff7f0e"])
    band = (
        alt.Chart(frame)
        .mark_area(opacity=0.15, color="#1f77b4")
        .encode(x=alt.X("tau:Q", title="period τ (epochs)"), y="low:Q", y2="high:Q")
    )
    line = (
        alt.Chart(frame)
        .mark_line(color="#1f77b4", strokeDash=[4, 3])
        .encode(x="tau:Q", y=alt.Y("mean:Q", title="first-passage time (epochs)"))
    )
    err = (
        alt.Chart(pts)
        .mark_errorbar()
        .encode(x="x:Q", y="lo:Q", y2="hi:Q", color=alt.Color("kind:N", scale=colors))
    )
    tooltip = ["tau:Q", "kind:N", *(alt.Tooltip(f"{c}:Q", format=".2f") for c in "y lo hi".split())]
    dots = (
        alt.Chart(pts)
        .mark_point(filled=True, size=60)
        .encode(
            x="x:Q", y="y:Q", color=alt.Color("kind:N", scale=colors, title=""), tooltip=tooltip
        )  # fmt: skip
    )
    base_rule = (
        alt.Chart(pd.DataFrame({"y": [baseline]}))
        .mark_rule(color="gray", strokeDash=[2, 2])
        .encode(y="y:Q")
    )
    title = f"E[min(T_τ, {horizon:g})]: measured vs predicted from τ0 = {curve.tau0:g}"
    zoom = alt.selection_interval(bind="scales")
    chart = (band + line + base_rule + err + dots).add_params(zoom)
    return chart.properties(width=560, height=320, title=title).configure_legend(orient="bottom")


def survival_frames(
    fp0: FirstPassage,
    fp_once: FirstPassage,
    tau0: float,
    measured: Mapping[float, FirstPassage],
    horizon: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predicted (renewal, :func:`fpt_core.stats.predicted_law.predicted_survival`) and measured
    (Kaplan–Meier) survival per period on the epochs 0 … ``horizon``, and the observed
    first-passage times; rows are labelled ``τ = <tau>`` (``(τ0)`` added for ``tau0``).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Columns ``t``, ``S``, ``source`` (``predicted`` or ``measured``), ``τ``; and ``fpt``,
        ``τ``. Rows with a missing prediction (NaN) are dropped.

    Examples
    --------
    >>> fp = FirstPassage(np.array([1.0, 2, 3, 4]), np.array([True, True, True, False]), 4.0)
    >>> surv, hits = survival_frames(fp, fp, 2.0, {2.0: fp}, 4.0)
    >>> surv[surv.source == "measured"].S.round(2).tolist(), hits.fpt.tolist()
    ([1.0, 0.75, 0.5, 0.25, 0.25], [1.0, 2.0, 3.0])
    """
    parts, hits = [], []
    grid = np.arange(0.0, horizon + 1.0)
    for tau, fp in measured.items():
        law = predicted_survival(fp0, fp_once, tau0, tau, form="renewal", schedule="once")
        label = f"τ = {tau:g}" + (" (τ0)" if tau == tau0 else "")
        parts.append(
            pd.DataFrame({"t": grid, "S": law.sf(grid), "source": "predicted", "τ": label})
        )
        meas = survival(fp).evaluate(grid)
        parts.append(pd.DataFrame({"t": grid, "S": meas, "source": "measured", "τ": label}))
        hits.append(pd.DataFrame({"fpt": fp.times[fp.observed], "τ": label}))
    return pd.concat(parts).dropna(), pd.concat(hits)


def survival_comparison_chart(
    fp0: FirstPassage,
    fp_once: FirstPassage,
    tau0: float,
    measured: Mapping[float, FirstPassage],
    horizon: float,
) -> alt.VConcatChart:
    """:func:`survival_frames` drawn by :func:`fpt_core.book.viz.survival_histogram`: survival
    predicted (dashed) against measured (solid) above the histogram of first-passage times.

    Examples
    --------
    >>> fp = FirstPassage(np.array([1.0, 2, 3, 4]), np.array([True, True, True, False]), 4.0)
    >>> len(survival_comparison_chart(fp, fp, 2.0, {2.0: fp}, 4.0).to_dict()["vconcat"])
    2
    """
    surv, hits = survival_frames(fp0, fp_once, tau0, measured, horizon)
    return viz.survival_histogram(
        surv, hits, group="τ", dash="source", survival_title="P(T_τ > t)",
        title="Survival, predicted (dashed) vs measured (solid)",
    )  # fmt: skip
