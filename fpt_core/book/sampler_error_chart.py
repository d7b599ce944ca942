"""Charts of a sampler's stationary error against the learning rate, measured and predicted.

Both charts read an :func:`fpt_core.langevin.linreg.error_scan` table labelled by
:func:`fpt_core.book.sampler_comparison.label_methods`; error bars are ±2 SE (chain groups),
clipped from below at 5 % of the value so that they stay on a log axis.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

COLORS = alt.Scale(range=["#d62728", "#1f77b4"])  # SGLD red, SGWORLD blue


def _band(value: pd.Series, se: pd.Series) -> tuple[pd.Series, pd.Series]:
    """value ∓ 2 SE, the lower end clipped at 5 % of the value (log axes)."""
    return (value - 2 * se).clip(lower=value * 0.05), value + 2 * se


def kl_chart(df: pd.DataFrame) -> alt.LayerChart:
    """KL(fitted ‖ posterior) against η: coupled estimates ±2 SE, plain moments, theory lines.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``method, lr, kl_coupled, kl_coupled_se, kl_plain, kl_theory, kl_ula,
        kl_continuum``; not modified.

    Returns
    -------
    altair.LayerChart
        Points with error bars (coupled), open circles (plain), solid lines (linear theory),
        dashed gray (full-batch Euler floor), dotted red (SGLD continuum theory).

    Examples
    --------
    >>> import pandas as pd
    >>> cols = ["kl_coupled", "kl_coupled_se", "kl_plain", "kl_theory", "kl_ula", "kl_continuum"]
    >>> df = pd.DataFrame({"method": ["SGLD", "SGWORLD"], "lr": [0.1, 0.1],
    ...                    **{c: [1.0, 0.5] for c in cols}})
    >>> len(kl_chart(df).layer)
    6
    """
    df = df.copy()
    df["kl_lo"], df["kl_hi"] = _band(df["kl_coupled"], df["kl_coupled_se"])
    base = alt.Chart(df).encode(
        x=alt.X("lr:Q", scale=alt.Scale(type="log"), title="learning rate η"),
        color=alt.Color("method:N", scale=COLORS),
    )
    ylog = alt.Scale(type="log")
    pts = base.mark_point(filled=True, size=60).encode(
        y=alt.Y("kl_coupled:Q", scale=ylog, title="KL(fitted ‖ posterior)"),
        tooltip=["method", alt.Tooltip("lr:Q", format=".3g"),
                 alt.Tooltip("kl_coupled:Q", format=".3g"),
                 alt.Tooltip("kl_coupled_se:Q", format=".2g"),
                 alt.Tooltip("kl_theory:Q", format=".3g")],
    )  # fmt: skip
    bars = base.mark_rule().encode(y="kl_lo:Q", y2="kl_hi:Q")
    plain = base.mark_point(shape="circle", opacity=0.5).encode(y=alt.Y("kl_plain:Q", scale=ylog))
    theory = base.mark_line().encode(y=alt.Y("kl_theory:Q", scale=ylog))
    sgld = alt.Chart(df[df["method"] == "SGLD"])
    ula = sgld.mark_line(strokeDash=[6, 4], color="gray").encode(
        x="lr:Q", y=alt.Y("kl_ula:Q", scale=ylog)
    )
    cont = sgld.mark_line(strokeDash=[2, 2], color="#d62728").encode(
        x="lr:Q", y=alt.Y("kl_continuum:Q", scale=ylog)
    )
    return (theory + ula + cont + bars + pts + plain).properties(
        width=520, height=340, title="Stationary error of SGLD and SGWORLD (lines: linear theory)"
    )


def relative_error_chart(df: pd.DataFrame) -> alt.FacetChart:
    """Relative errors of the covariance and the mean against η, one panel each.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``method, lr`` and ``cov_rel_coupled, mean_rel_coupled`` with their ``_se``,
        and ``cov_rel_theory`` (drawn as lines in the covariance panel); not modified.

    Returns
    -------
    altair.FacetChart
        Points ±2 SE (coupled estimates) and the theory line, faceted by quantity
        (``cov_rel``, ``mean_rel``), independent log y axes.

    Examples
    --------
    >>> import pandas as pd
    >>> cols = ["cov_rel_coupled", "cov_rel_coupled_se", "mean_rel_coupled",
    ...         "mean_rel_coupled_se", "cov_rel_theory"]
    >>> df = pd.DataFrame({"method": ["SGLD"], "lr": [0.1], **{c: [0.2] for c in cols}})
    >>> sorted(relative_error_chart(df).data["quantity"].dropna().unique())
    ['cov_rel', 'mean_rel']
    """
    long = pd.concat(
        [pd.DataFrame({"method": df["method"], "lr": df["lr"], "quantity": q,
                       "value": df[f"{q}_coupled"], "se": df[f"{q}_coupled_se"]})
         for q in ("cov_rel", "mean_rel")]
    )  # fmt: skip
    long["lo"], long["hi"] = _band(long["value"], long["se"])
    theory = pd.DataFrame({"method": df["method"], "lr": df["lr"], "quantity": "cov_rel",
                           "theory": df["cov_rel_theory"]})  # fmt: skip
    x_lr = alt.X("lr:Q", scale=alt.Scale(type="log"), title="learning rate η")
    rel_base = alt.Chart().encode(x=x_lr, color=alt.Color("method:N", scale=COLORS))
    ylog = alt.Scale(type="log")
    return (
        alt.layer(
            rel_base.mark_line().encode(y=alt.Y("theory:Q", scale=ylog)),
            rel_base.mark_rule().encode(y="lo:Q", y2="hi:Q"),
            rel_base.mark_point(filled=True).encode(
                y=alt.Y("value:Q", scale=ylog, title="relative error"),
                tooltip=[
                    "method",
                    "quantity",
                    alt.Tooltip("lr:Q", format=".3g"),
                    alt.Tooltip("value:Q", format=".3g"),
                    alt.Tooltip("se:Q", format=".2g"),
                ],
            ),  # fmt: skip
            data=pd.concat([long, theory]),
        )
        .properties(width=260, height=240)
        .facet(column=alt.Column("quantity:N", title=None))
        .resolve_scale(y="independent")
    )
