"""Charts of an ensemble's test accuracy over training: trajectories with a band, distributions.

Both take the tidy frame of an ensemble (one row per run and epoch, as
:meth:`fpt_core.train.runner.EnsembleResult.frame` gives it) and return an Altair chart.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

__all__ = ["accuracy_band", "accuracy_band_chart", "accuracy_density_chart", "density_epochs"]


def accuracy_band(df: pd.DataFrame, y: str = "test_acc") -> pd.DataFrame:
    """Per epoch: the mean of ``y`` over runs, its standard deviation and the band mean ± sd.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``epoch`` and ``y``, one row per run and epoch.
    y : str
        The column to summarise.

    Returns
    -------
    pandas.DataFrame
        Columns ``epoch``, ``mean``, ``std`` (pandas' sample sd, ddof = 1), ``lo``, ``hi``.

    Examples
    --------
    >>> df = pd.DataFrame({"epoch": [1, 1, 2, 2], "test_acc": [0.4, 0.6, 0.5, 0.5]})
    >>> accuracy_band(df).round(4).to_dict(orient="list")["hi"]
    [0.6414, 0.5]
    """
    stats = df.groupby("epoch")[y].agg(["mean", "std"]).reset_index()
    stats["lo"], stats["hi"] = stats["mean"] - stats["std"], stats["mean"] + stats["std"]
    return stats


def accuracy_band_chart(df: pd.DataFrame, *, n_sample: int = 12) -> alt.LayerChart:
    """Test accuracy of the runs numbered below ``n_sample`` (thin grey lines), the ensemble
    mean and a ±1 sd band (:func:`accuracy_band`); zoom and pan on the epoch axis.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``run``, ``epoch``, ``test_acc``.
    n_sample : int
        How many individual runs to draw.

    Examples
    --------
    >>> df = pd.DataFrame({"run": [0, 0, 1, 1], "epoch": [1, 2, 1, 2],
    ...                    "test_acc": [0.4, 0.5, 0.6, 0.5]})
    >>> accuracy_band_chart(df, n_sample=1).to_dict()["layer"][0]["mark"]["type"]
    'line'
    """
    stats = accuracy_band(df)
    sample = df[df["run"] < n_sample]
    zoom = alt.selection_interval(bind="scales", encodings=["x"])
    band = (
        alt.Chart(stats)
        .mark_area(opacity=0.25, color="#1f77b4")
        .encode(
            x=alt.X("epoch:Q", title="epoch"), y=alt.Y("lo:Q", title="test accuracy"), y2="hi:Q"
        )
    )
    tooltip = [alt.Tooltip(c, format=".4f") for c in ("mean:Q", "std:Q")]
    mean = (
        alt.Chart(stats)
        .mark_line(color="#1f77b4", strokeWidth=3)
        .encode(x="epoch:Q", y="mean:Q", tooltip=[alt.Tooltip("epoch:Q"), *tooltip])
    )
    runs = (
        alt.Chart(sample)
        .mark_line(strokeWidth=0.8, opacity=0.5, color="gray")
        .encode(
            x="epoch:Q",
            y="test_acc:Q",
            detail="run:N",
            tooltip=["run:N", "epoch:Q", alt.Tooltip("test_acc:Q", format=".3f")],
        )
    )
    return (
        (runs + band + mean)
        .add_params(zoom)
        .properties(
            width=540,
            height=320,
            title="Test accuracy of independent runs (drag to pan, wheel to zoom)",
        )
    )


def density_epochs(
    n_epochs: int, fractions: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 1.0)
) -> list[int]:
    """The epochs at the given fractions of ``n_epochs`` (rounded, at least 1, sorted, distinct).

    Examples
    --------
    >>> density_epochs(120)
    [12, 30, 60, 90, 120]
    >>> density_epochs(4)
    [1, 2, 3, 4]
    """
    return sorted({max(1, round(n_epochs * f)) for f in fractions})


def accuracy_density_chart(df: pd.DataFrame, epochs: Sequence[int]) -> alt.Chart:
    """Kernel density of the across-run distribution of test accuracy, one line per epoch.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``epoch`` and ``test_acc``.
    epochs : sequence of int
        The epochs to draw (e.g. :func:`density_epochs`).

    Examples
    --------
    >>> df = pd.DataFrame({"epoch": [1, 1, 2, 2], "test_acc": [0.4, 0.6, 0.5, 0.5]})
    >>> len(accuracy_density_chart(df, [2]).data)
    2
    """
    hist = df[df["epoch"].isin(np.asarray(epochs))]
    return (
        alt.Chart(hist)
        .transform_density("test_acc", groupby=["epoch"], as_=["test_acc", "density"])
        .mark_line()
        .encode(
            x=alt.X("test_acc:Q", title="test accuracy"),
            y=alt.Y("density:Q"),
            color=alt.Color("epoch:O", scale=alt.Scale(scheme="viridis")),
            tooltip=["epoch:O", alt.Tooltip("test_acc:Q", format=".3f")],
        )
        .properties(width=540, height=260, title="Across-run distribution of test accuracy")
    )
