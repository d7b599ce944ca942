"""The single-frequency test at several target accuracies, from the same runs: one row per
target, and the relative error of the prediction per period and target.

The input maps each target to its :class:`fpt_core.stats.single_frequency.SingleFrequencyTest`
(re-analysing the same ensembles; no training).
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from fpt_core.stats.single_frequency import SingleFrequencyTest

__all__ = ["sweep_error_chart", "sweep_table"]


def sweep_table(sweep: Mapping[float, SingleFrequencyTest]) -> pd.DataFrame:
    """One row per target, in the order of ``sweep``: the share of unperturbed runs censored,
    the relaxation time, the p-values of the tail and T_p tests, the premise, the verdict and
    the relative errors of the held-out predictions.

    Parameters
    ----------
    sweep : mapping target → SingleFrequencyTest
        The test at each target.

    Returns
    -------
    pandas.DataFrame
        Columns ``target``, ``unperturbed censored``, ``t_relax``, ``tail p``,
        ``T_p log-rank p``, ``premise``, ``verdict``, ``errors (held out)`` (text, e.g.
        ``"+3.5%, -3.5%"``).

    Examples
    --------
    >>> import numpy as np
    >>> from fpt_core.stats.single_frequency import single_frequency_test
    >>> rng = np.random.default_rng(0)
    >>> times = np.arange(0.0, 41)
    >>> def acc(n):
    ...     return np.minimum(0.5 + 0.02 * rng.standard_normal((n, times.size)), times / 20)
    >>> sf = single_frequency_test(acc(40), acc(40), {10.0: acc(40), 15.0: acc(40)}, times,
    ...                            target=0.52, tau0=10.0, n_resamples=19)
    >>> row = sweep_table({0.52: sf}).iloc[0]
    >>> float(row["target"]), row["verdict"] == sf.verdict, row["errors (held out)"].count("%")
    (0.52, True, 1)
    """
    return pd.DataFrame(
        [
            {
                "target": a,
                "unperturbed censored": r.unperturbed.n_censored / r.unperturbed.n,
                "t_relax": r.t_relax,
                "tail p": r.tail.pvalue,
                "T_p log-rank p": r.tp_logrank.pvalue,
                "premise": r.premise,
                "verdict": r.verdict,
                "errors (held out)": ", ".join(
                    f"{p.agreement.relative_error:+.1%}" for p in r.periods if p.held_out
                ),
            }
            for a, r in sweep.items()
        ]
    )


def sweep_error_chart(sweep: Mapping[float, SingleFrequencyTest]) -> alt.Chart:
    """Relative error of the renewal prediction, predicted / measured − 1 of the restricted
    mean, against the period, one colour per target; hollow where prediction and measurement
    differ beyond their interval.

    Parameters
    ----------
    sweep : mapping target → SingleFrequencyTest
        The test at each target.

    Examples
    --------
    >>> import numpy as np
    >>> from fpt_core.stats.single_frequency import single_frequency_test
    >>> rng = np.random.default_rng(0)
    >>> times = np.arange(0.0, 41)
    >>> def acc(n):
    ...     return np.minimum(0.5 + 0.02 * rng.standard_normal((n, times.size)), times / 20)
    >>> sf = single_frequency_test(acc(40), acc(40), {10.0: acc(40), 15.0: acc(40)}, times,
    ...                            target=0.52, tau0=10.0, n_resamples=19)
    >>> sorted(sweep_error_chart({0.52: sf}).data["tau"])
    [10.0, 15.0]
    """
    errs = pd.concat([r.table().assign(target=f"{a:g}") for a, r in sweep.items()])
    return (
        alt.Chart(errs)
        .mark_point(size=60)
        .encode(
            x=alt.X("tau:Q", title="period τ (epochs)"),
            y=alt.Y(
                "rel_error:Q",
                title="relative error of the prediction",
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color("target:N", scale=alt.Scale(scheme="viridis")),
            fill=alt.condition("datum.consistent", alt.Color("target:N"), alt.value("white")),
            tooltip=[
                "target:N",
                "tau:Q",
                alt.Tooltip("rel_error:Q", format="+.1%"),
                alt.Tooltip("resolution:Q", format=".1%"),
                "consistent:N",
            ],
        )
        .properties(width=560, height=280, title="Renewal prediction vs brute force, by target")
    )
