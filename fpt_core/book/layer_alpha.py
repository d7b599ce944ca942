"""The power-law exponent α of each layer: over training, against its noise, and by estimator.

Heavy-tailed self-regularisation reads a layer from the tail exponent α of its eigenvalue
spectrum. From the α events a training protocol logged (:func:`fpt_core.spectra.tb_analysis.alpha_history`,
one row per run, epoch and layer) and the kept final weights, this module builds the tables a
page shows: the layers and their shapes (:func:`layer_geometry`), α per epoch
(:func:`alpha_by_epoch`), the spread of α over the tuned layers against the Hill standard error
(:func:`spread_over_noise`), the HT-SR tests "training lowers α" and "α lies in 2–4"
(:func:`htsr_tests`), and the agreement of the Hill, Clauset and FARMS estimators
(:func:`estimator_agreement`). The ``*_chart`` functions draw them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from fpt_core.spectra.htsr import clauset_alpha, esd, hill_alpha
from fpt_core.spectra.tb_analysis import alpha_history, spread_over_se_by_run
from fpt_core.stats.paired import band_verdict, paired_difference

__all__ = [
    "alpha_by_epoch",
    "alpha_histories",
    "alpha_heatmap",
    "estimator_agreement",
    "estimators_chart",
    "factor_chart",
    "htsr_tests",
    "htsr_words",
    "kept_estimates",
    "layer_geometry",
    "spectra_chart",
    "spread_over_noise",
    "spread_words",
]


def layer_geometry(hist: pd.DataFrame, weights: Mapping[str, Any],
                   exclude_first_last: bool) -> dict[str, Any]:  # fmt: skip
    """Layers in model order, their weight shapes, eigenvalue counts and the tuned ones.

    ``weights`` maps ``"<layer>.weight"`` to a tensor or array; the number of eigenvalues of a
    layer is ``min(out, in) · prod(kernel)``. With ``exclude_first_last`` the first and last
    layer are not tuned.

    Examples
    --------
    >>> h = pd.DataFrame({"layer": ["a", "b", "c"], "layer_index": [0, 1, 2]})
    >>> w = {f"{n}.weight": np.zeros(s) for n, s in zip("abc", [(4, 2), (8, 4), (3, 8)])}
    >>> g = layer_geometry(h, w, True)
    >>> g["layer_order"], g["n_eigs"], g["tuned"]
    (['a', 'b', 'c'], {'a': 2, 'b': 4, 'c': 3}, ['b'])
    """
    order = list(dict.fromkeys(hist.sort_values("layer_index")["layer"]))
    shapes = {name: tuple(weights[f"{name}.weight"].shape) for name in order}
    n_eigs = {name: int(np.prod(s[2:], dtype=int)) * min(s[0], s[1]) for name, s in shapes.items()}
    tuned = order[1:-1] if exclude_first_last else list(order)
    return {"layer_order": order, "shapes": shapes, "n_eigs": n_eigs, "tuned": tuned}


def alpha_by_epoch(hist: pd.DataFrame) -> pd.DataFrame:
    """Mean α, its SD over runs and the mean learning-rate factor per arm, layer and epoch.

    Examples
    --------
    >>> h = pd.DataFrame({"arm": ["A"] * 2, "layer": ["a"] * 2, "epoch": [0, 0],
    ...                   "alpha": [2.0, 4.0], "factor": [1.0, 1.0]})
    >>> alpha_by_epoch(h)[["alpha", "alpha_sd"]].round(3).values.tolist()
    [[3.0, 1.414]]
    """
    return (hist.groupby(["arm", "layer", "epoch"])
            .agg(alpha=("alpha", "mean"), alpha_sd=("alpha", "std"), factor=("factor", "mean"))
            .reset_index())  # fmt: skip


def alpha_heatmap(alpha_mean: pd.DataFrame, layer_order: Sequence[str]) -> alt.FacetChart:
    """Ensemble-mean α per layer (rows) and epoch (columns), one panel per arm."""
    return alt.Chart(alpha_mean.dropna(subset=["alpha"])).mark_rect().encode(
        x=alt.X("epoch:O", title="epoch"),
        y=alt.Y("layer:N", sort=list(layer_order), title="layer"),
        color=alt.Color("alpha:Q", title="mean α", scale=alt.Scale(scheme="viridis")),
        tooltip=["arm:N", "layer:N", "epoch:Q",
                 alt.Tooltip("alpha:Q", format=".3f", title="mean α"),
                 alt.Tooltip("alpha_sd:Q", format=".3f", title="sd over runs"),
                 alt.Tooltip("factor:Q", format=".3f", title="mean lr factor")],
    ).properties(width=560, height=150).facet(row=alt.Row("arm:N", title=None)).properties(
        title="Ensemble-mean α per layer and epoch")  # fmt: skip


def factor_chart(alpha_mean: pd.DataFrame, arm: str, tuned: Sequence[str],
                 layer_order: Sequence[str]) -> alt.Chart:  # fmt: skip
    """The mean learning-rate factor of each tuned layer of ``arm`` over the epochs."""
    f = alpha_mean[(alpha_mean["arm"] == arm)].dropna(subset=["factor"])
    return alt.Chart(f[f["layer"].isin(tuned)]).mark_line(point=True).encode(
        x=alt.X("epoch:Q", title="epoch"),
        y=alt.Y("factor:Q", title="mean lr factor f_i", scale=alt.Scale(zero=False)),
        color=alt.Color("layer:N", sort=list(layer_order)),
        tooltip=["layer:N", "epoch:Q", alt.Tooltip("factor:Q", format=".3f")],
    ).add_params(alt.selection_interval(bind="scales", encodings=["x"])).properties(
        width=560, height=260,
        title=f"{arm}: learning-rate factor per tuned layer (mean over runs)",
    ).configure_legend(orient="bottom")  # fmt: skip


def spread_over_noise(hist: pd.DataFrame, geo: Mapping[str, Any], tuned_arm: str,
                      base_arm: str) -> dict[str, Any]:  # fmt: skip
    """The spread of α over the tuned layers divided by the RMS Hill SE, and a layer table.

    ``spread_ratio`` is the median over ``tuned_arm``'s recomputations of the median over runs
    (:func:`fpt_core.spectra.tb_analysis.spread_over_se_by_run`); ``init`` the median at epoch 0 and
    ``base_final`` the median over ``base_arm``'s runs at the last epoch. ``table`` lists each
    layer's shape, whether it is tuned, the mean α at initialisation and at the end of
    ``base_arm``, its SD over seeds and its Hill SE ``(α − 1)/√n_tail``.
    """
    n_eigs, tuned, order, shapes = geo["n_eigs"], geo["tuned"], geo["layer_order"], geo["shapes"]
    tb = hist[hist["arm"] == tuned_arm]
    ratio_init = spread_over_se_by_run(tb, n_eigs, tuned, epoch=0)
    by_epoch = {ep: float(np.nanmedian(spread_over_se_by_run(g, n_eigs, tuned)))
                for ep, g in tb.groupby("epoch")}  # fmt: skip
    base = hist[hist["arm"] == base_arm]
    last = base[base["epoch"] == hist["epoch"].max()]
    table = pd.DataFrame({
        "shape": {n: "×".join(map(str, shapes[n])) for n in order},
        "tuned": {n: n in tuned for n in order},
        "α init (mean)": base[base["epoch"] == 0].groupby("layer")["alpha"].mean(),
        f"α final {base_arm} (mean)": last.groupby("layer")["alpha"].mean(),
        "sd over seeds": last.groupby("layer")["alpha"].std(),
        "Hill SE": {n: (last[last["layer"] == n]["alpha"].mean() - 1)
                    / np.sqrt(n_eigs[n] - n_eigs[n] // 2) for n in order},
    }).loc[order]  # fmt: skip
    return {
        "spread_ratio": float(np.median(list(by_epoch.values()))),
        "n_recomputations": len(by_epoch),
        "init": float(np.nanmedian(ratio_init)),
        "base_final": float(np.nanmedian(spread_over_se_by_run(base, n_eigs, tuned))),
        "table": table,
    }


def htsr_tests(hist: pd.DataFrame, est: pd.DataFrame, tuned: Sequence[str],
               final: pd.DataFrame, arm: str) -> dict[str, Any]:  # fmt: skip
    """The two HT-SR readings on ``arm``: training lowers α, and final α lies in 2–4.

    *Lowers*: median-Hill α at the last epoch minus at epoch 0, paired by run, 95 % t interval
    per tuned layer; *reproduced* if every interval lies below 0 (:func:`band_verdict`). *Band*:
    Clauset α of the kept final weights (``est``), mean with 95 % t interval per tuned layer,
    against [2, 4]; its premise is a network that does not memorise its training set (train loss
    ≥ 0.1 × test loss at the last epoch of ``final``, a run-by-epoch log), else *not tested*.

    Returns
    -------
    dict
        ``drop`` (layer → :class:`fpt_core.stats.paired.PairedDifference`), ``n_runs``, ``clauset``
        (mean, se, n, low, high per tuned layer), ``verdict_drop``, ``band_raw``, ``below``,
        ``fit_gap``, ``premise_ok``, ``verdict_band`` and ``table``.
    """
    h = hist[hist["arm"] == arm].pivot_table(index=["run", "epoch"], columns="layer",
                                             values="alpha")  # fmt: skip
    a0, a1 = h.xs(0, level="epoch"), h.xs(hist["epoch"].max(), level="epoch")
    drop = {n: paired_difference(a0[n].to_numpy(), a1[n].to_numpy()) for n in tuned}
    cl = est[(est["arm"] == arm) & est["layer"].isin(tuned)].groupby("layer")["clauset"]
    cs = pd.DataFrame({"mean": cl.mean(), "se": cl.sem(), "n": cl.count()}).loc[list(tuned)]
    tq = stats.t.ppf(0.975, cs["n"] - 1)
    cs["low"], cs["high"] = cs["mean"] - tq * cs["se"], cs["mean"] + tq * cs["se"]
    verdict_drop = band_verdict([d.low for d in drop.values()], [d.high for d in drop.values()],
                                (-np.inf, 0.0))  # fmt: skip
    band_raw = band_verdict(cs["low"], cs["high"], (2.0, 4.0))
    last = final[final["epoch"] == final["epoch"].max()]
    fit_gap = {k: float(last[k].mean()) for k in ("train_loss", "test_loss", "test_acc")}
    premise_ok = fit_gap["train_loss"] >= 0.1 * fit_gap["test_loss"]
    table = pd.DataFrame({
        "Δα (Hill) final − init": {n: d.mean for n, d in drop.items()},
        "95 % CI low": {n: d.low for n, d in drop.items()},
        "95 % CI high": {n: d.high for n, d in drop.items()},
        "Clauset α final": cs["mean"], "Clauset CI low": cs["low"], "Clauset CI high": cs["high"],
    }).loc[list(tuned)]  # fmt: skip
    return {"drop": drop, "n_runs": len(a0), "clauset": cs, "verdict_drop": verdict_drop,
            "band_raw": band_raw, "below": [n for n, r in cs.iterrows() if r["high"] < 2.0],
            "fit_gap": fit_gap, "premise_ok": premise_ok,
            "verdict_band": band_raw if premise_ok else "not tested at this preset",
            "table": table}  # fmt: skip


def htsr_words(t: Mapping[str, Any], arm: str) -> dict[str, str]:
    """The HT-SR tests in words: ``drop_text`` and ``band_text`` (per layer, with CIs, as in the
    ledger) and ``htsr_words``, the paragraph that states both verdicts (Markdown)."""
    drop_text = ", ".join(f"{n} {d.mean:+.2f} [{d.low:+.2f}, {d.high:+.2f}]"
                          for n, d in t["drop"].items())  # fmt: skip
    band_text = ", ".join(f"{n} {r['mean']:.2f} [{r['low']:.2f}, {r['high']:.2f}]"
                          for n, r in t["clauset"].iterrows())  # fmt: skip
    g = t["fit_gap"]
    words = (
        f"Change of median-Hill α from initialisation to the end of training ({arm}, "
        f"{t['n_runs']} runs): {drop_text} — *{t['verdict_drop']}* (\"training lowers α\" in "
        f"every tuned layer). Clauset α of the final weights ({int(t['clauset']['n'].min())} kept "
        f"runs): {band_text}. On these numbers alone, \"α lies in 2–4 in every tuned layer\" is "
        f"*{t['band_raw']}*. "
        + (f"Layers below the band: {', '.join(t['below'])}. " if t["below"] else "")
        + f"At the end of training the {arm} runs have a mean train loss of "
        f"{g['train_loss']:.3f} against a test loss of {g['test_loss']:.3f} (test accuracy "
        f"{g['test_acc']:.3f}). "
        + ("The network does not memorise its training set (train loss ≥ 0.1 × test loss), so "
           f"the claim is tested under its premise: *{t['verdict_band']}*." if t["premise_ok"]
           else "The network memorises its training set (train loss < 0.1 × test loss): it is "
           "over-trained rather than well-trained, so the band claim's premise does not hold "
           "(*not tested at this preset*); HT-SR reads α < 2 as the mark of over-training.")
    )  # fmt: skip
    return {"drop_text": drop_text, "band_text": band_text, "htsr_words": words}


def spectra_chart(weights: Mapping[str, Mapping[str, Any]], layer_order: Sequence[str],
                  seed: int) -> alt.FacetChart:  # fmt: skip
    """Complementary CDF of each layer's ESD (one run per arm, ``weights[arm]``) on log–log
    axes, with the median-Hill and Clauset power-law fits drawn from their ``x_min``."""
    rows, fits = [], []
    for arm, w in weights.items():
        for name in layer_order:
            lam = esd(w[f"{name}.weight"])
            lam = lam[lam > 0]
            n = lam.size
            rows.append(pd.DataFrame({"arm": arm, "layer": name, "lambda": lam,
                                      "ccdf": 1.0 - np.arange(n) / n}))  # fmt: skip
            for est, fit in (("Hill (median)", hill_alpha(lam)), ("Clauset", clauset_alpha(lam))):
                x = np.geomspace(fit.xmin, lam.max(), 30)
                fits.append(pd.DataFrame({"arm": arm, "layer": name, "estimator": est,
                                          "lambda": x, "alpha": fit.alpha, "xmin": fit.xmin,
                                          "ccdf": fit.n_tail / n * (x / fit.xmin)
                                          ** (1.0 - fit.alpha)}))  # fmt: skip
    df = pd.concat([pd.concat(rows).assign(estimator="ESD"), pd.concat(fits)])
    log = alt.Scale(type="log")
    base = alt.Chart(df).encode(x=alt.X("lambda:Q", scale=log, title="eigenvalue λ"),
                                y=alt.Y("ccdf:Q", scale=log, title="P(Λ ≥ λ)"))  # fmt: skip
    pts = base.transform_filter(alt.datum.estimator == "ESD").mark_circle(
        size=14, opacity=0.6, color="gray").encode(
        tooltip=[alt.Tooltip("lambda:Q", format=".4g"), alt.Tooltip("ccdf:Q", format=".3f")])  # fmt: skip
    lines = base.transform_filter(alt.datum.estimator != "ESD").mark_line(strokeWidth=2).encode(
        color=alt.Color("estimator:N"), strokeDash=alt.StrokeDash("estimator:N"),
        tooltip=["estimator:N", alt.Tooltip("alpha:Q", format=".3f"),
                 alt.Tooltip("xmin:Q", format=".4g")])  # fmt: skip
    return alt.layer(pts, lines).properties(width=130, height=130).facet(
        row=alt.Row("arm:N", title=None),
        column=alt.Column("layer:N", sort=list(layer_order), title="layer"),
    ).resolve_scale(x="independent").properties(
        title=f"ESDs of the final weights (run {seed}) with power-law fits")  # fmt: skip


def estimators_chart(est: pd.DataFrame, layer_order: Sequence[str]) -> alt.Chart:
    """α of every kept run and layer by the three estimators (Hill, Clauset, FARMS)."""
    long = est.melt(id_vars=["arm", "seed", "layer", "shape"],
                    value_vars=["hill", "clauset", "farms"], var_name="estimator",
                    value_name="alpha")  # fmt: skip
    return alt.Chart(long).mark_point(filled=True, size=60, opacity=0.7).encode(
        x=alt.X("layer:N", sort=list(layer_order), title="layer"),
        y=alt.Y("alpha:Q", title="α", scale=alt.Scale(zero=False)),
        color=alt.Color("estimator:N"), shape=alt.Shape("arm:N", title="ensemble"),
        xOffset="estimator:N",
        tooltip=["arm:N", "seed:N", "layer:N", "shape:N", "estimator:N",
                 alt.Tooltip("alpha:Q", format=".3f")],
    ).properties(width=560, height=280, title="α of the final weights: three estimators")  # fmt: skip


def estimator_agreement(est: pd.DataFrame, hist: pd.DataFrame,
                        tuned: Sequence[str]) -> dict[str, Any]:  # fmt: skip
    """How far the Clauset and FARMS estimates lie from Hill's, and whether Hill and FARMS name
    the same most heavy-tailed tuned layer; checks the kept weights against the logged α.

    ``est`` has one row per (arm, seed, layer) with ``hill``, ``hill_se``, ``clauset`` and
    ``farms``; ``hist`` the logged α (its last epoch is compared with ``est["hill"]``).

    Returns
    -------
    dict
        ``mean`` (per arm and layer), ``gap_hc`` and ``gap_hf`` (median absolute differences
        from Hill), ``agree`` (share of kept runs where the argmin layers agree), ``words``
        (Markdown) and ``max_dev`` (largest abs(kept − logged) Hill α).

    Examples
    --------
    >>> est = pd.DataFrame({"arm": ["A"] * 2, "seed": [0, 0], "layer": ["a", "b"],
    ...                     "hill": [2.0, 3.0], "hill_se": [0.1, 0.1], "clauset": [2.5, 3.0],
    ...                     "farms": [2.2, 3.4]})
    >>> hist = pd.DataFrame({"arm": ["A"] * 2, "seed": [0, 0], "layer": ["a", "b"],
    ...                      "epoch": [5, 5], "alpha": [2.0, 3.0]})
    >>> r = estimator_agreement(est, hist, ["a", "b"])
    >>> r["gap_hc"], round(r["gap_hf"], 6), r["agree"], r["max_dev"]
    (0.25, 0.3, 1.0, 0.0)
    """
    mean = est.groupby(["arm", "layer"], sort=False)[["hill", "hill_se", "clauset", "farms"]].mean()
    gap_hc = float(np.nanmedian(np.abs(est["clauset"] - est["hill"])))
    gap_hf = float(np.nanmedian(np.abs(est["farms"] - est["hill"])))
    te = est[est["layer"].isin(tuned)]
    argmin = {k: te.groupby(["arm", "seed"]).apply(lambda g, k=k: g.loc[g[k].idxmin(), "layer"])
              for k in ("hill", "farms")}  # fmt: skip
    agree = float((argmin["hill"] == argmin["farms"]).mean())
    modal = {k: v.value_counts() for k, v in argmin.items()}
    logged = hist[hist["epoch"] == hist["epoch"].max()].set_index(["arm", "seed", "layer"])
    check = est.join(logged["alpha"].rename("logged"), on=["arm", "seed", "layer"])
    max_dev = float(np.nanmax(np.abs(check["hill"] - check["logged"])))
    words = (
        f"Over {len(est)} layer fits, the median |Clauset − Hill| is {gap_hc:.3f} and the median "
        f"|FARMS − Hill| is {gap_hf:.3f}. Hill and FARMS name the same tuned layer as the most "
        f"heavy-tailed (the one TempBalance slows to s₁) in {agree:.0%} of the kept runs "
        f"(Hill: {modal['hill'].index[0]} in {modal['hill'].iloc[0]} of {len(argmin['hill'])}; "
        f"FARMS: {modal['farms'].index[0]} in {modal['farms'].iloc[0]}). (Check: the Hill α of "
        f"the kept weights differ from those the protocol logged, rounded to 4 decimals, by at "
        f"most {max_dev:.2g}.)"
    )
    return {"mean": mean, "gap_hc": gap_hc, "gap_hf": gap_hf, "agree": agree, "words": words,
            "max_dev": max_dev}  # fmt: skip


def spread_words(spread: Mapping[str, Any]) -> dict[str, str]:
    """The spread of α over the Hill SE (:func:`spread_over_noise`) as phrases for a page:
    ``spread_ratio``, ``spread_init``, ``spread_final`` (one decimal), ``n_recomp`` and
    ``spread_verdict`` (whether the spread is clearly, > 2, above the estimator's noise).

    Examples
    --------
    >>> w = spread_words({"spread_ratio": 3.04, "init": 2.5, "base_final": 4.0,
    ...                   "n_recomputations": 9})
    >>> w["spread_ratio"], w["spread_verdict"][:30]
    ('3.0', "The layers' α differ by more t")
    """
    return {
        "spread_ratio": f"{spread['spread_ratio']:.1f}",
        "spread_init": f"{spread['init']:.1f}",
        "spread_final": f"{spread['base_final']:.1f}",
        "n_recomp": str(spread["n_recomputations"]),
        "spread_verdict": "The layers' α differ by more than the estimator's noise, so "
        "TempBalance's ranking of them is not noise." if spread["spread_ratio"] > 2 else
        "The spread is not clearly above the estimator's noise: the assignment is partly noise.",
    }  # fmt: skip


def kept_estimates(snaps: Mapping[str, Any], seeds: Sequence[int], *, farms_size: int,
                   farms_windows_per_dim: int) -> pd.DataFrame:  # fmt: skip
    """Hill, Clauset and FARMS α of every layer of the kept final weights of each arm.

    ``snaps`` maps arm names to :class:`fpt_core.spectra.tb_analysis.WeightSnapshot` hooks that kept the
    runs with ``seeds``; one row per (arm, seed, layer) of
    :func:`fpt_core.spectra.tb_analysis.estimator_table`, with ``arm`` and ``seed`` columns.
    """
    from fpt_core.spectra.tb_analysis import estimator_table

    return pd.concat([estimator_table(snap.weights[s], snap.base, farms_size=farms_size,
                                      farms_windows_per_dim=farms_windows_per_dim
                                      ).assign(arm=arm, seed=s)
                      for arm, snap in snaps.items() for s in seeds], ignore_index=True)  # fmt: skip


def alpha_histories(ens: Mapping[str, Any]) -> pd.DataFrame:
    """The α events logged by each arm's runs, one frame with an ``arm`` column.

    ``ens`` maps arm names to ensembles with ``records``
    (:func:`fpt_core.spectra.tb_analysis.alpha_history` reads them); rows in arm order.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> ev = {"kind": "layer_alpha", "layers": ["fc1", "fc2"], "alpha": [3.0, 4.5], "step": 0,
    ...       "epoch": 0}
    >>> h = alpha_histories({"SGD": NS(records=[{"seed": 0, "events": [ev]}]),
    ...                      "TB": NS(records=[{"seed": 0, "events": [ev]}])})
    >>> h[["arm", "layer", "alpha"]].values.tolist()
    [['SGD', 'fc1', 3.0], ['SGD', 'fc2', 4.5], ['TB', 'fc1', 3.0], ['TB', 'fc2', 4.5]]
    """
    frames = [alpha_history(e.records).assign(arm=arm) for arm, e in ens.items()]
    return pd.concat(frames, ignore_index=True)
