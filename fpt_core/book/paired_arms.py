"""Two training arms with the same seeds, compared run by run: first passage and plateau accuracy.

Run ``k`` of both arms has seed ``k`` (same initialisation and minibatch order), so the arms are
compared by *paired* differences. :func:`first_passage_by_arm` gives each arm's first-passage
statistics, Kaplan–Meier curve and a log-rank test; :func:`plateau_comparison` the paired
difference of plateau accuracy and its verdict; the ``*_words`` functions say both in sentences
and the ``*_chart`` functions draw them. The test accuracies come in as ``{arm: (times, acc)}``
with ``acc`` of shape (runs, epochs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from fpt_core.stats.fpt import first_passage, mean_fpt, survival
from fpt_core.stats.paired import improvement_verdict, paired_difference

__all__ = [
    "accuracy_chart",
    "arms_words",
    "check_pairing",
    "first_passage_by_arm",
    "fpt_words",
    "plateau_comparison",
    "plateau_histogram",
    "plateau_words",
    "survival_chart",
]

Arms = Mapping[str, tuple[np.ndarray, np.ndarray]]


def first_passage_by_arm(acc: Arms, target: float, first: str, second: str) -> dict[str, Any]:
    """First passage of every run of each arm to ``target`` test accuracy.

    Returns
    -------
    dict
        ``fpt`` (per arm: ``n_reached``, ``n``, ``mean_fpt`` with its 95 % CI ``mean_fpt_low``/
        ``mean_fpt_high`` and ``mean_fpt_estimable``; bootstrap seeded 0), ``survival`` (tidy
        Kaplan–Meier frame with 95 % band, from ``S(0) = 1``) and ``logrank_pvalue`` (``first``
        against ``second``).

    Examples
    --------
    >>> t = np.arange(1.0, 5.0)
    >>> a = np.array([[0.1, 0.6, 0.7, 0.8], [0.1, 0.2, 0.6, 0.7], [0.6, 0.7, 0.8, 0.9]])
    >>> r = first_passage_by_arm({"A": (t, a), "B": (t, a - 0.05)}, 0.5, "A", "B")
    >>> r["fpt"]["A"]["n_reached"], round(r["fpt"]["A"]["mean_fpt"], 3)
    (3, 2.0)
    """
    fps = {arm: first_passage(a, target, times) for arm, (times, a) in acc.items()}
    rows, fpt_stats = [], {}
    for arm, fp in fps.items():
        sv = survival(fp)
        rows.append(pd.DataFrame({"arm": arm, "epoch": np.r_[0.0, sv.times],
                                  "S": np.r_[1.0, sv.sf], "lo": np.r_[1.0, sv.low],
                                  "hi": np.r_[1.0, sv.high]}))  # fmt: skip
        m = mean_fpt(fp, rng=0)
        fpt_stats[arm] = {"n_reached": fp.n_observed, "n": fp.n, "mean_fpt": m.mean,
                          "mean_fpt_low": m.low, "mean_fpt_high": m.high,
                          "mean_fpt_estimable": m.estimable}  # fmt: skip
    lr_test = stats.logrank(fps[first].to_censored_data(), fps[second].to_censored_data())
    return {"fpt": fpt_stats, "survival": pd.concat(rows),
            "logrank_pvalue": float(lr_test.pvalue)}  # fmt: skip


def fpt_words(fp: Mapping[str, Any], target: float) -> str:
    """Each arm's first passage and the log-rank test, in sentences (Markdown).

    Examples
    --------
    >>> s = {"n_reached": 3, "n": 3, "mean_fpt": 2.0, "mean_fpt_low": 1.0, "mean_fpt_high": 3.0,
    ...      "mean_fpt_estimable": True}
    >>> fpt_words({"fpt": {"A": s}, "logrank_pvalue": 0.5}, 0.5)
    '**A**: 3/3 runs reached 0.5; mean FPT 2.00 epochs (95 % CI 1.00–3.00). Log-rank test of equal survival: p = 0.5 (no difference at the 5 % level).'
    """
    parts = []
    for arm, s in fp["fpt"].items():
        mean = (f"mean FPT {s['mean_fpt']:.2f} epochs (95 % CI {s['mean_fpt_low']:.2f}–"
                f"{s['mean_fpt_high']:.2f})" if s["mean_fpt_estimable"]
                else f"restricted mean FPT ≥ {s['mean_fpt']:.2f} epochs (not all runs reached "
                "the target)")  # fmt: skip
        parts.append(f"**{arm}**: {s['n_reached']}/{s['n']} runs reached {target}; {mean}. ")
    p = fp["logrank_pvalue"]
    return (f"{''.join(parts)}Log-rank test of equal survival: p = {p:.3g} ("
            f"{'different' if p < 0.05 else 'no difference'} at the 5 % level).")  # fmt: skip


def survival_chart(surv: pd.DataFrame, target: float) -> alt.Chart:
    """Kaplan–Meier curves of both arms with their 95 % bands (step plots, x pans and zooms).

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["A", "A"], "epoch": [0.0, 1.0], "S": [1.0, 0.5],
    ...                   "lo": [1.0, 0.2], "hi": [1.0, 0.8]})
    >>> survival_chart(d, 0.5).to_dict()["title"]
    'Survival: runs not yet at test accuracy 0.5'
    """
    colour = alt.Color("arm:N", title="ensemble")
    band = alt.Chart(surv).mark_area(opacity=0.15, interpolate="step-after").encode(
        x="epoch:Q", y="lo:Q", y2="hi:Q", color=colour)  # fmt: skip
    line = alt.Chart(surv).mark_line(interpolate="step-after", strokeWidth=2.5).encode(
        x=alt.X("epoch:Q", title="epoch"),
        y=alt.Y("S:Q", title="S(t) = P(T > t)", scale=alt.Scale(domain=[0, 1])),
        color=colour, tooltip=["arm:N", "epoch:Q", alt.Tooltip("S:Q", format=".3f")])  # fmt: skip
    return (band + line).add_params(
        alt.selection_interval(bind="scales", encodings=["x"])).properties(
        width=560, height=280, title=f"Survival: runs not yet at test accuracy {target}"
    ).configure_legend(orient="bottom")  # fmt: skip


def plateau_comparison(acc: Arms, plateau_epochs: int, margin: float, base: str, treated: str,
                       design_half_width: float = 0.005) -> dict[str, Any]:  # fmt: skip
    """Paired difference ``treated − base`` of plateau accuracy (mean of the last
    ``plateau_epochs`` epochs of each run) and its verdict
    (:func:`fpt_core.stats.paired.improvement_verdict` with ``margin``).

    Returns
    -------
    dict
        ``plateau`` (per-arm arrays), ``diff`` (:class:`fpt_core.stats.paired.PairedDifference`),
        ``corr`` (correlation of the arms over seeds), ``verdict``, ``powered`` (half-width ≤
        ``design_half_width``) and ``stats`` (per arm: ``mean``, ``sd``, ``se``).

    Examples
    --------
    >>> t = np.arange(1.0, 3.0)
    >>> a = np.array([[0.5, 0.6], [0.5, 0.7], [0.5, 0.8]])
    >>> c = plateau_comparison({"A": (t, a), "B": (t, a + [0, 0.1])}, 1, 0.005, "A", "B")
    >>> round(c["diff"].mean, 6), c["verdict"], round(c["stats"]["A"]["mean"], 6)
    (0.1, 'reproduced', 0.7)
    """
    plateau = {arm: np.nanmean(a[:, -plateau_epochs:], axis=1) for arm, (_, a) in acc.items()}
    pdiff = paired_difference(plateau[base], plateau[treated])
    return {
        "plateau": plateau,
        "diff": pdiff,
        "corr": float(np.corrcoef(plateau[base], plateau[treated])[0, 1]),
        "verdict": improvement_verdict(pdiff.low, pdiff.high, margin),
        "powered": pdiff.half_width <= design_half_width,
        "stats": {
            arm: {
                "mean": float(np.mean(v)),
                "sd": float(np.std(v, ddof=1)),
                "se": float(stats.sem(v)),
            }
            for arm, v in plateau.items()
        },  # fmt: skip
    }


def plateau_histogram(cmp: Mapping[str, Any], base: str, treated: str) -> alt.Chart:
    """Histogram of the paired plateau differences ``treated − base``, one per seed.

    Examples
    --------
    >>> c = {"plateau": {"A": np.array([0.5, 0.6]), "B": np.array([0.6, 0.6])}}
    >>> plateau_histogram(c, "A", "B").mark
    'bar'
    """
    d = pd.DataFrame({"d": cmp["plateau"][treated] - cmp["plateau"][base]})
    return alt.Chart(d).mark_bar().encode(
        x=alt.X("d:Q", bin=alt.Bin(maxbins=25),
                title=f"plateau accuracy, {treated} − {base} (same seed)"),
        y=alt.Y("count():Q", title="seeds"),
    ).properties(width=480, height=200)  # fmt: skip


def plateau_words(cmp: Mapping[str, Any], margin: float, plateau_epochs: int,
                  names: Sequence[str], claim: str) -> str:  # fmt: skip
    """The plateau comparison and the reason for its verdict, in sentences (Markdown).

    ``names`` are (base, treated); ``claim`` the statement the verdict is on.

    Examples
    --------
    >>> t = np.arange(1.0, 3.0)
    >>> a = np.array([[0.5, 0.6], [0.5, 0.7], [0.5, 0.8]])
    >>> c = plateau_comparison({"A": (t, a), "B": (t, a + [0, 0.1])}, 1, 0.005, "A", "B")
    >>> plateau_words(c, 0.005, 1, ("A", "B"), "B helps")[-41:]
    '*reproduced* — the interval lies above 0.'
    """
    d, base, treated = cmp["diff"], *names
    why = {
        "reproduced": "the interval lies above 0",
        "not reproduced": ("the interval lies below 0" if d.high < 0
                           else f"the interval lies within ±{margin} (no effect of that size)"),
        "not tested at this preset": (
            f"the interval contains 0 and reaches beyond ±{margin}, so this experiment cannot "
            "decide between no effect and an effect of that size"
            + (f"; it does exclude a gain of {margin} or more (upper limit {d.high:+.4f})"
               if d.high < margin else "")),
    }[cmp["verdict"]]  # fmt: skip
    st = cmp["stats"]
    return (
        f"Plateau accuracy (mean over the last {plateau_epochs} epochs, ± SE over {d.n} seeds): "
        f"{base} {st[base]['mean']:.4f} ± {st[base]['se']:.4f}, {treated} "
        f"{st[treated]['mean']:.4f} ± {st[treated]['se']:.4f}. Paired difference {treated} − "
        f"{base} {d.mean:+.4f}, 95 % CI [{d.low:+.4f}, {d.high:+.4f}] (half-width "
        f"{d.half_width:.4f}, {'within' if cmp['powered'] else '**above**'} the 0.005 the "
        f"design asked for; SD of the differences {d.sd:.4f}, correlation of the arms over "
        f'seeds {cmp["corr"]:.2f}, paired t p = {d.pvalue:.3g}). "{claim}": '
        f"*{cmp['verdict']}* — {why}."
    )


def check_pairing(ens: Mapping[str, Any]) -> None:
    """Raise ``RuntimeError`` unless every arm holds the same seeds in the same order.

    ``ens`` maps arm names to ensembles whose ``records`` carry a ``seed`` each.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> check_pairing({"A": NS(records=[{"seed": 0}, {"seed": 1}]),
    ...                "B": NS(records=[{"seed": 0}, {"seed": 1}])})
    >>> check_pairing({"A": NS(records=[{"seed": 0}, {"seed": 1}]),
    ...                "B": NS(records=[{"seed": 1}, {"seed": 0}])})
    Traceback (most recent call last):
    ...
    RuntimeError: the two arms must hold the same seeds in the same order (pairing)
    """
    seeds = [[r["seed"] for r in e.records] for e in ens.values()]
    if any(s != seeds[0] for s in seeds[1:]):
        raise RuntimeError("the two arms must hold the same seeds in the same order (pairing)")


def arms_words(ens: Mapping[str, Any], retrained: Mapping[str, Sequence[int]]) -> str:
    """One sentence per arm: runs, device, trained/reused/diverged, seeds retrained (Markdown).

    ``ens`` maps arm names to ensembles with ``n_runs``, ``device``, ``n_trained``,
    ``n_reused`` and ``n_diverged``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> e = NS(n_runs=3, device="cpu", n_trained=1, n_reused=2, n_diverged=0)
    >>> arms_words({"A": e}, {"A": [0]})
    '**A**: 3 runs on `cpu`, 1 trained, 2 reused from the store, 0 diverged; seeds [0] retrained for their final weights.'
    """
    return " ".join(
        f"**{arm}**: {e.n_runs} runs on `{e.device}`, {e.n_trained} trained, {e.n_reused} reused "
        f"from the store, {e.n_diverged} diverged"
        + (
            f"; seeds {retrained[arm]} retrained for their final weights."
            if retrained[arm]
            else "."
        )
        for arm, e in ens.items()
    )


def accuracy_chart(frames: Mapping[str, pd.DataFrame]):
    """Mean test accuracy per epoch of each arm with a ± 1 SD band over runs.

    ``frames`` maps arm names to run-by-epoch logs with ``epoch`` and ``test_acc``.
    """
    from fpt_core.book import viz

    traj = pd.concat([f.assign(arm=arm) for arm, f in frames.items()], ignore_index=True)
    band = traj.groupby(["arm", "epoch"])["test_acc"].agg(["mean", "std"]).reset_index()
    band["lo"], band["hi"] = band["mean"] - band["std"], band["mean"] + band["std"]
    return viz.trajectory_chart(band, y="mean", color="arm", band=("lo", "hi"), tooltip=["std"],
                                color_title="ensemble", stroke_width=2.5, zero=True,
                                title="Test accuracy, mean ± sd over runs (drag to pan, wheel "
                                "to zoom)")  # fmt: skip
