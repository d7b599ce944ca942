"""Charts of first-passage analyses: KS p-values, survival and hazard, predicted against measured
mean first-passage times, the every-τ0 error matrix and a scanned parameter's mean.

Each function takes the results as computed elsewhere and returns an Altair chart; none computes
a statistic.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from fpt_core.stats.fpt import Hazard, Survival
from fpt_core.stats.qss import KSRelaxation

__all__ = [
    "ks_pvalue_chart",
    "survival_hazard_chart",
    "prediction_chart",
    "tau0_matrix_chart",
    "scanned_mean_chart",
]


def ks_pvalue_chart(ks: KSRelaxation, alpha: float) -> alt.LayerChart:
    """KS p-value per epoch (log scale) against the reference epoch, with α dashed.

    Examples
    --------
    >>> import numpy as np
    >>> from fpt_core.stats.qss import ks_relaxation
    >>> acc = np.random.default_rng(0).normal(size=(50, 10))
    >>> ks_pvalue_chart(ks_relaxation(acc, np.arange(1.0, 11.0)), 0.05).to_dict()["layer"][1]["mark"]["type"]
    'rule'
    """
    df = pd.DataFrame({"epoch": ks.times, "p": [max(p, 1e-300) for p in ks.pvalue]})
    return (
        alt.Chart(df).mark_line(point=True).encode(
            x=alt.X("epoch:Q"), y=alt.Y("p:Q", scale=alt.Scale(type="log"), title="KS p-value"),
            tooltip=["epoch:Q", alt.Tooltip("p:Q", format=".2g")])
        + alt.Chart(pd.DataFrame({"a": [alpha]})).mark_rule(strokeDash=[4, 4]).encode(y="a:Q")
    ).properties(width=540, height=220,
                 title=f"KS test against epoch {ks.reference_time:g} (dashed: α = {alpha})")  # fmt: skip


def survival_hazard_chart(sv: Survival, hz: Hazard) -> alt.HConcatChart:
    """Kaplan–Meier survival with its band, beside the hazard per epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from fpt_core.stats.fpt import first_passage, hazard, survival
    >>> fp = first_passage(np.eye(4), 1.0, np.arange(1.0, 5.0))
    >>> len(survival_hazard_chart(survival(fp), hazard(fp)).hconcat)
    2
    """
    sv_df = pd.DataFrame({"epoch": sv.times, "S": sv.sf, "lo": sv.low, "hi": sv.high})
    hz_df = pd.DataFrame({"epoch": hz.times, "h": hz.rate, "se": hz.se}).query("h == h")
    s_chart = alt.Chart(sv_df).mark_area(opacity=0.25).encode(
        x="epoch:Q", y="lo:Q", y2="hi:Q"
    ) + alt.Chart(sv_df).mark_line().encode(x="epoch:Q", y=alt.Y("S:Q", title="S(t)"))
    h_chart = alt.Chart(hz_df).mark_point().encode(
        x="epoch:Q", y=alt.Y("h:Q", title="hazard per epoch"),
        tooltip=["epoch:Q", alt.Tooltip("h:Q", format=".3f"), alt.Tooltip("se:Q", format=".3f")],
    )  # fmt: skip
    return s_chart.properties(width=270, height=220, title="Survival S(t)") | h_chart.properties(
        width=270, height=220, title="Hazard h(t)"
    )


def prediction_chart(single: pd.DataFrame, tau0: int) -> alt.FacetChart:
    """Measured ⟨T_τ⟩ (points, interval) and the prediction from τ0 (line), one panel a protocol.

    ``single`` has the columns of :func:`fpt_core.book.heldout_prediction.prediction_table`.

    Examples
    --------
    >>> df = pd.DataFrame({"protocol": ["p", "p"], "tau": [1, 2], "runs": [3, 3],
    ...                    "measured": [5.0, 4.0], "meas_low": [4.0, 3.0],
    ...                    "meas_high": [6.0, 5.0], "predicted": [5.5, 4.0]})
    >>> prediction_chart(df, 2).to_dict()["facet"]["column"]["field"]
    'protocol'
    """
    base = alt.Chart(single).encode(x=alt.X("tau:Q", scale=alt.Scale(type="log"), title="period τ"))
    return (
        base.mark_errorbar().encode(y=alt.Y("meas_low:Q", title="⟨T_τ⟩ (epochs)"), y2="meas_high:Q")
        + base.mark_point(filled=True).encode(y="measured:Q", tooltip=["tau", "runs", "measured"])
        + base.mark_line(color="firebrick").encode(y="predicted:Q")
    ).properties(width=230, height=220).facet(
        column=alt.Column("protocol:N", title=f"measured (points) vs predicted from τ0 = {tau0} "
                          "(line, single form)"))  # fmt: skip


def tau0_matrix_chart(mat: pd.DataFrame) -> alt.FacetChart:
    """Heat map of the relative error by τ0 (built from) and τ (predicted), one panel a protocol.

    Examples
    --------
    >>> df = pd.DataFrame({"protocol": ["p"], "tau0": [1], "tau": [2], "rel_error": [0.1]})
    >>> tau0_matrix_chart(df).to_dict()["spec"]["mark"]["type"]
    'rect'
    """
    return alt.Chart(mat).mark_rect().encode(
        x=alt.X("tau0:O", title="τ0 (built from)"), y=alt.Y("tau:O", title="τ (predicted)"),
        color=alt.Color("rel_error:Q", scale=alt.Scale(scheme="redblue", domain=[-0.3, 0.3]),
                        title="relative error"),
        tooltip=["tau0", "tau", alt.Tooltip("rel_error:Q", format="+.1%")],
    ).properties(width=230, height=230).facet(column="protocol:N")  # fmt: skip


def scanned_mean_chart(sr: pd.DataFrame, title: str) -> alt.LayerChart:
    """Mean first-passage time against a scanned parameter ``K`` with its interval (lo, hi).

    Examples
    --------
    >>> df = pd.DataFrame({"K": [1, 2], "mean": [3.0, 2.0], "lo": [2.0, 1.0], "hi": [4.0, 3.0],
    ...                    "n": [5, 5]})
    >>> scanned_mean_chart(df, "t").to_dict()["title"]
    't'
    """
    return (
        alt.Chart(sr).mark_errorbar().encode(
            x="K:Q", y=alt.Y("lo:Q", title="mean FPT (epochs)"), y2="hi:Q")
        + alt.Chart(sr).mark_point(filled=True).encode(
            x="K:Q", y="mean:Q", tooltip=["K", "mean", "n"])
    ).properties(width=400, height=220, title=title)  # fmt: skip
