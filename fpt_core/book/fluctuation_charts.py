"""Charts of a stationary SGD state: the fit at the minimum, measured against predicted moments,
the distribution of the entropy production, the detailed-fluctuation plot and the IFT bias
against the learning rate.

Each function takes tables computed elsewhere (:mod:`fpt_core.book.stationary_moments`,
:mod:`fpt_core.book.entropy_tables`, :mod:`fpt_core.book.ift_bias_scan`) and returns an Altair
chart; none computes a statistic.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

__all__ = [
    "minimum_fit_chart",
    "network_fit_chart",
    "moment_chart",
    "sigma_density_chart",
    "dft_chart",
    "bias_chart",
]


def minimum_fit_chart(data: pd.DataFrame, fit: pd.DataFrame) -> alt.LayerChart:
    """Training points (``x``, ``y``) and the network at its minimum (``x``, ``f``).

    Examples
    --------
    >>> c = minimum_fit_chart(pd.DataFrame({"x": [0.0], "y": [1.0]}),
    ...                       pd.DataFrame({"x": [0.0], "f": [1.0]}))
    >>> [lay["mark"]["type"] for lay in c.to_dict()["layer"]]
    ['circle', 'line']
    """
    return (
        alt.Chart(data).mark_circle(size=12, color="gray").encode(x="x:Q", y="y:Q")
        + alt.Chart(fit).mark_line(color="#d62728").encode(x="x:Q", y="f:Q")
    ).properties(width=480, height=240, title="Training data and the network at its minimum w*")


def network_fit_chart(net: Any, w_star: np.ndarray, n_points: int = 200) -> alt.LayerChart:
    """:func:`minimum_fit_chart` of a network's training data (tensors ``net.x``, ``net.y``) and
    its prediction ``net.predict(w_star, x)`` on ``n_points`` points of [−3, 3].

    Examples
    --------
    >>> import torch
    >>> from types import SimpleNamespace
    >>> net = SimpleNamespace(x=torch.zeros(2), y=torch.ones(2), predict=lambda w, x: w[0] * x)
    >>> c = network_fit_chart(net, np.array([2.0]), n_points=3).to_dict()
    >>> [r["f"] for r in list(c["datasets"].values())[1]]
    [-6.0, 0.0, 6.0]
    """
    xs = np.linspace(-3, 3, n_points)
    return minimum_fit_chart(
        pd.DataFrame({"x": net.x.cpu().numpy(), "y": net.y.cpu().numpy()}),
        pd.DataFrame({"x": xs, "f": net.predict(w_star, xs)}),
    )


def moment_chart(cmp: pd.DataFrame) -> alt.FacetChart:
    """Measured against predicted entries (± 2 SE), one panel per policy and quantity, with the
    line of equality dashed. ``cmp`` as from
    :func:`fpt_core.book.stationary_moments.moment_comparison`.

    Examples
    --------
    >>> cmp = pd.DataFrame({"policy": ["p"], "quantity": ["C"], "i": [1], "j": [2],
    ...                     "theory": [0.1], "measured": [0.12], "lo": [0.1], "hi": [0.14],
    ...                     "z": [1.0]})
    >>> moment_chart(cmp).to_dict()["facet"]["row"]["field"]
    'policy'
    """
    diag = alt.Chart().mark_line(strokeDash=[4, 4], color="gray").encode(x="theory:Q", y="theory:Q")
    pts = alt.Chart().mark_point(filled=True).encode(
        x=alt.X("theory:Q", title="linear theory (chain)"), y=alt.Y("measured:Q", title="measured"),
        color="policy:N",
        tooltip=["policy", "quantity", "i", "j", alt.Tooltip("theory:Q", format=".4g"),
                 alt.Tooltip("measured:Q", format=".4g"), alt.Tooltip("z:Q", format=".2f")],
    )  # fmt: skip
    bars = alt.Chart().mark_rule().encode(x="theory:Q", y="lo:Q", y2="hi:Q", color="policy:N")
    return (
        alt.layer(diag, bars, pts, data=cmp)
        .properties(width=300, height=260)
        .facet(column=alt.Column("quantity:N", title=None), row=alt.Row("policy:N", title=None))
        .resolve_scale(x="independent", y="independent")
    )


def sigma_density_chart(hist: pd.DataFrame) -> alt.FacetChart:
    """Density of σ per window, one panel per policy.

    Examples
    --------
    >>> h = pd.DataFrame({"policy": ["p"], "k": ["1-step"], "σ": [0.0], "P(σ)": [1.0]})
    >>> sigma_density_chart(h).to_dict()["spec"]["mark"]["type"]
    'line'
    """
    return alt.Chart(hist).mark_line().encode(
        x=alt.X("σ:Q", title="entropy production σ"),
        y=alt.Y("P(σ):Q", title="probability density"), color="k:N",
    ).properties(width=280, height=220).facet(column=alt.Column("policy:N", title=None)
    ).resolve_scale(x="independent", y="independent")  # fmt: skip


def dft_chart(dft: pd.DataFrame) -> alt.FacetChart:
    """ln P(σ)/P(−σ) against σ (± 2 SE) per window, the DFT's line σ dashed, one panel a policy.

    Examples
    --------
    >>> d = pd.DataFrame({"policy": ["p"], "k": ["1-step"], "σ": [0.5], "ln P(σ)/P(−σ)": [0.5],
    ...                   "lo": [0.4], "hi": [0.6]})
    >>> len(dft_chart(d).to_dict()["spec"]["layer"])
    3
    """
    line = alt.Chart().mark_line(strokeDash=[4, 4], color="gray").encode(x="σ:Q", y="σ:Q")
    return alt.layer(
        line, alt.Chart().mark_rule().encode(x="σ:Q", y="lo:Q", y2="hi:Q", color="k:N"),
        alt.Chart().mark_point(filled=True, size=25).encode(
            x=alt.X("σ:Q", title="σ"), y=alt.Y("ln P(σ)/P(−σ):Q"), color="k:N"),
        data=dft,
    ).properties(width=280, height=240).facet(column=alt.Column("policy:N", title=None)
    ).resolve_scale(x="independent", y="independent")  # fmt: skip


def bias_chart(scan: pd.DataFrame) -> alt.LayerChart:
    """Measured ε (points, ± 2 SE; non-positive values not drawn on the log scale) and the
    predicted ε (line) against η.

    Examples
    --------
    >>> s = pd.DataFrame({"η": [1e-6, 1e-5], "ε measured": [-1e-4, 0.01], "SE": [1e-3, 1e-3],
    ...                   "ε predicted": [1e-4, 0.01]})
    >>> bias_chart(s).to_dict()["layer"][0]["encoding"]["y"]["scale"]["type"]
    'log'
    """
    band = scan.assign(lo=lambda d: (d["ε measured"] - 2 * d["SE"]).clip(lower=1e-9),
                       hi=lambda d: d["ε measured"] + 2 * d["SE"],
                       meas=lambda d: d["ε measured"].where(d["ε measured"] > 0))  # fmt: skip
    x_ = alt.X("η:Q", scale=alt.Scale(type="log"), title="learning rate η")
    return alt.layer(
        alt.Chart(band).mark_line(color="#d62728").encode(
            x=x_, y=alt.Y("ε predicted:Q", scale=alt.Scale(type="log"), title="IFT bias ε per step")),
        alt.Chart(band).mark_rule(color="black").encode(x=x_, y="lo:Q", y2="hi:Q"),
        alt.Chart(band).mark_point(filled=True, color="black").encode(
            x=x_, y="meas:Q", tooltip=["η", alt.Tooltip("ε measured:Q", format=".3g"),
                                       alt.Tooltip("SE:Q", format=".2g"),
                                       alt.Tooltip("ε predicted:Q", format=".3g")]),
    ).properties(width=420, height=280,
                 title="Measured ⟨e^−σ⟩ − 1 (points, ±2 SE) and the prediction (line)")  # fmt: skip
