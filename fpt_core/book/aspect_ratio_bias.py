"""The aspect-ratio bias of α: the same matrix cut to Q·n rows and n columns, for growing Q.

Plain Hill α of a random matrix rises with its aspect ratio Q because the Marchenko–Pastur law
narrows; FARMS, fitted on windows of one shape, should not. :func:`aspect_ratio_demo` measures
both estimators on random Gaussian matrices and on a trained layer
(:func:`fpt_core.spectra.farms.aspect_ratio_table`), :func:`bias_by_source` turns the change from
Q = 1 to the largest Q into paired intervals and a verdict, :func:`bias_words` and
:func:`bias_chart` show them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from fpt_core.spectra.farms import aspect_ratio_table
from fpt_core.stats.paired import bias_removed_verdict, paired_difference

__all__ = ["aspect_ratio_demo", "bias_by_source", "bias_chart", "bias_words"]


def aspect_ratio_demo(shapes: Mapping[str, tuple], candidates: Sequence[str],
                      trained: Mapping[int, Mapping[str, Any]], *, farms_size: int,
                      windows_per_dim: int, n_random: int, seed: int = 0) -> dict[str, Any]:  # fmt: skip
    """Hill and FARMS α against Q = 1, 2, 4, 8 for random matrices and one trained layer.

    The trained layer is the 2-D one among ``candidates`` with the largest aspect ratio; ``n`` is
    its smaller dimension (64 without one) and Q runs while ``Q·n`` fits its larger dimension.
    ``n_random`` Gaussian matrices (generator seeded ``seed``) and that layer of every run in
    ``trained`` (seed → name → weight) are cut and measured.

    Returns
    -------
    dict
        ``demo`` (one row per source, draw and Q with ``hill`` and ``farms``), ``ratios`` and
        ``layer`` (the trained layer, or ``None``).
    """
    rng = np.random.default_rng(seed)
    matrix = [n for n in candidates if len(shapes[n]) == 2]  # the demo cuts 2-D weights
    layer = max(matrix, key=lambda n: max(shapes[n]) / min(shapes[n]), default=None)
    n_cols = min(shapes[layer]) if layer else 64
    ratios = [q for q in (1, 2, 4, 8) if not layer or q * n_cols <= max(shapes[layer])]
    win = dict(size=min(farms_size, n_cols), windows_per_dim=windows_per_dim)
    demo = []
    for d in range(n_random):
        w = rng.standard_normal((ratios[-1] * n_cols, n_cols))
        demo.append(aspect_ratio_table(w, ratios, cols=n_cols, **win).assign(source="random",
                                                                             draw=d))  # fmt: skip
    for s in trained if layer else []:
        demo.append(aspect_ratio_table(trained[s][f"{layer}.weight"], ratios, cols=n_cols,
                                       **win).assign(source=f"trained {layer}", draw=s))  # fmt: skip
    return {"demo": pd.concat(demo, ignore_index=True), "ratios": ratios, "layer": layer}


def bias_by_source(demo: pd.DataFrame, ratios: Sequence[int],
                   tolerance: float = 0.1) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Per source: the paired change of Hill and FARMS α from Q = ``ratios[0]`` to
    ``ratios[-1]`` with 95 % t intervals, and whether FARMS removes the bias
    (:func:`fpt_core.stats.paired.bias_removed_verdict`: FARMS's interval within ± ``tolerance`` of
    Hill's change).

    Examples
    --------
    >>> d = pd.DataFrame({"source": ["random"] * 6, "draw": [0, 1, 2] * 2,
    ...                   "Q": [1] * 3 + [8] * 3, "hill": [2.0, 2.1, 1.9, 4.0, 4.2, 4.1],
    ...                   "farms": [2.0, 2.1, 2.0, 2.0, 2.1, 2.0]})
    >>> b = bias_by_source(d, [1, 8])["random"]
    >>> round(b["hill_change"], 6), round(b["farms_change"], 6), b["n"], b["verdict"]
    (2.1, 0.0, 3, 'reproduced')
    """
    bias = {}
    for source, g in demo.groupby("source"):
        w1 = g[g["Q"] == ratios[0]].sort_values("draw")
        wq = g[g["Q"] == ratios[-1]].sort_values("draw")
        hill_d = paired_difference(w1["hill"].to_numpy(), wq["hill"].to_numpy())
        farms_d = paired_difference(w1["farms"].to_numpy(), wq["farms"].to_numpy())
        bias[source] = {
            "kind": "random" if source == "random" else "trained",
            "hill_change": hill_d.mean,
            "hill_ci95": [hill_d.low, hill_d.high],
            "farms_change": farms_d.mean,
            "farms_ci95": [farms_d.low, farms_d.high],
            "n": hill_d.n,
            "verdict": bias_removed_verdict(farms_d.low, farms_d.high, hill_d.mean, tolerance),
        }
    return bias


def bias_words(bias: Mapping[str, Mapping[str, Any]], q: int) -> str:
    """Each source's changes from Q = 1 to ``q`` with their CIs and verdict (Markdown).

    Examples
    --------
    >>> b = {"random": {"n": 3, "hill_change": 2.1, "hill_ci95": [1.9, 2.3],
    ...      "farms_change": 0.0, "farms_ci95": [-0.1, 0.1], "verdict": "reproduced"}}
    >>> bias_words(b, 8)[:50]
    '**random** (3 matrices): Hill α(Q = 8) − α(Q = 1) '
    """
    return " ".join(
        f"**{src}** ({b['n']} matrices): Hill α(Q = {q}) − α(Q = 1) = {b['hill_change']:+.2f} "
        f"[{b['hill_ci95'][0]:+.2f}, {b['hill_ci95'][1]:+.2f}], FARMS {b['farms_change']:+.3f} "
        f"[{b['farms_ci95'][0]:+.3f}, {b['farms_ci95'][1]:+.3f}] — bias removed (CI within "
        f"±10 % of Hill's change): *{b['verdict']}*."
        for src, b in bias.items()
    )


def bias_chart(demo: pd.DataFrame) -> alt.FacetChart:
    """Mean α ± 2 SE against Q (log₂ axis) per estimator, one panel per source."""
    long = demo.melt(id_vars=["source", "draw", "Q"], value_vars=["hill", "farms"],
                     var_name="estimator", value_name="alpha")  # fmt: skip
    m = long.groupby(["source", "estimator", "Q"])["alpha"].agg(["mean", "sem"]).reset_index()
    m["lo"], m["hi"] = m["mean"] - 2 * m["sem"], m["mean"] + 2 * m["sem"]
    line = alt.Chart(m).mark_line(point=True).encode(
        x=alt.X("Q:Q", scale=alt.Scale(type="log", base=2), title="aspect ratio Q = rows / cols"),
        y=alt.Y("mean:Q", title="α (mean ± 2 SE)", scale=alt.Scale(zero=False)),
        color=alt.Color("estimator:N"),
        tooltip=["source:N", "estimator:N", "Q:Q", alt.Tooltip("mean:Q", format=".3f")])  # fmt: skip
    bars = alt.Chart(m).mark_errorbar().encode(x="Q:Q", y="lo:Q", y2="hi:Q", color="estimator:N")
    return (line + bars).properties(width=260, height=220).facet(
        column=alt.Column("source:N", title=None))  # fmt: skip
