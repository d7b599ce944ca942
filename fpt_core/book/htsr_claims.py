"""The HT-SR / TempBalance / FARMS claims as ledger rows, from the numbers a page measured.

:func:`htsr_claims` builds the five rows (training lowers α; α in 2–4; TempBalance improves
test accuracy; FARMS removes the aspect-ratio bias on random matrices and on a trained layer)
from :func:`fpt_core.book.layer_alpha.htsr_tests`, :func:`fpt_core.book.paired_arms.plateau_comparison`
and :func:`fpt_core.book.aspect_ratio_bias.bias_by_source`. Every verdict is the one those
functions returned; this module only words them. :func:`verdict_words` names the first four
for the page's summary, :func:`htsr_summary` gives the summary's science keys and
:func:`tempbalance_summary` the whole summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from fpt_core.book import report
from fpt_core.book.claims import claim

__all__ = ["htsr_claims", "htsr_summary", "tempbalance_summary", "verdict_words"]

PAPER = "HT-SR / TempBalance"
NOT_TESTED = "not tested at this preset"


def htsr_claims(ht: Mapping[str, Any], words: Mapping[str, str], plateau: Mapping[str, Any],
                spread_ratio: float, n_tuned: int, margin: float,
                bias: Mapping[str, Mapping[str, Any]], ratios: Sequence[int],
                layer: str | None) -> list[dict]:  # fmt: skip
    """The five ledger rows of the HT-SR / TempBalance paper.

    Parameters
    ----------
    ht, words : outputs of :func:`~fpt_core.book.layer_alpha.htsr_tests` and
        :func:`~fpt_core.book.layer_alpha.htsr_words`.
    plateau : output of :func:`~fpt_core.book.paired_arms.plateau_comparison`.
    spread_ratio : α spread over the tuned layers / Hill SE.
    n_tuned : number of tuned layers.
    margin : equivalence margin of the plateau difference.
    bias, ratios, layer : :func:`~fpt_core.book.aspect_ratio_bias.bias_by_source`'s output, the
        aspect ratios and the trained layer of the demo (``None``: no 2-D tuned layer).

    Examples
    --------
    >>> from fpt_core.stats.paired import paired_difference
    >>> ht = {"n_runs": 3, "clauset": {"n": [3]}, "verdict_drop": "reproduced",
    ...       "verdict_band": "not tested at this preset", "premise_ok": False,
    ...       "fit_gap": {"test_acc": 0.5, "train_loss": 0.01, "test_loss": 1.0}}
    >>> words = {"drop_text": "", "band_text": ""}
    >>> d = paired_difference([0.5, 0.6, 0.7], [0.52, 0.6, 0.73])
    >>> pl = {"diff": d, "verdict": "not tested at this preset"}
    >>> b = {"random": {"kind": "random", "hill_change": 2.0, "farms_change": 0.0,
    ...      "farms_ci95": [-0.1, 0.1], "n": 4, "verdict": "reproduced"}}
    >>> rows = htsr_claims(ht, words, pl, 3.0, 4, 0.005, b, [1, 8], None)
    >>> [r["verdict"] for r in rows]  # doctest: +NORMALIZE_WHITESPACE
    ['reproduced', 'not tested at this preset', 'not tested at this preset', 'reproduced',
     'not tested at this preset']
    """
    d, verdict_tb = plateau["diff"], plateau["verdict"]
    fit = ht["fit_gap"]
    b_rand = bias["random"]
    b_tr = next((b for b in bias.values() if b["kind"] == "trained"), None)
    if b_tr is not None:
        trained_row = (
            f"{layer}, α(Q={ratios[-1]}) − α(Q=1): Hill {b_tr['hill_change']:+.2f}, FARMS "
            f"{b_tr['farms_change']:+.3f} [{b_tr['farms_ci95'][0]:+.3f}, "
            f"{b_tr['farms_ci95'][1]:+.3f}] (band ±10 % of Hill), {b_tr['n']} runs"
        )
    else:
        trained_row = "no tuned layer is a matrix (2-D weight) at this preset"
    return [
        claim(PAPER, "Training makes layer spectra heavier-tailed: α falls below its "
              "random-initialisation value",
              f"median-Hill Δα per tuned layer, {ht['n_runs']} SGD runs: {words['drop_text']}",
              ht["verdict_drop"]),
        claim(PAPER, "Well-trained layers have α between about 2 and 4 (below 2: over-trained)",
              f"Clauset α per tuned layer, {int(min(ht['clauset']['n']))} runs (95 % CI): "
              f"{words['band_text']}; test acc {fit['test_acc']:.3f}, train/test loss "
              f"{fit['train_loss']:.3f}/{fit['test_loss']:.3f}"
              + ("" if ht["premise_ok"] else " (memorises: premise fails)"),
              ht["verdict_band"]),
        claim(PAPER, "TempBalance (per-layer lr from α) improves test accuracy over plain SGD",
              f"plateau TB − SGD {d.mean:+.4f} [{d.low:+.4f}, {d.high:+.4f}], {d.n} paired "
              f"seeds, {n_tuned} tuned layers, α spread/Hill SE {spread_ratio:.1f}"
              + (f"; a gain above {d.high:+.4f} is excluded, a loss down to {d.low:+.4f} is not"
                 if verdict_tb == NOT_TESTED and d.high < margin else ""),
              verdict_tb),
        claim(PAPER, "FARMS removes the aspect-ratio bias of α (random matrices)",
              f"α(Q={ratios[-1]}) − α(Q=1): Hill {b_rand['hill_change']:+.2f}, FARMS "
              f"{b_rand['farms_change']:+.3f} [{b_rand['farms_ci95'][0]:+.3f}, "
              f"{b_rand['farms_ci95'][1]:+.3f}] (band ±10 % of Hill), {b_rand['n']} matrices",
              b_rand["verdict"]),
        claim(PAPER, "FARMS removes the aspect-ratio bias of α (a trained layer)", trained_row,
              b_tr["verdict"] if b_tr else NOT_TESTED),
    ]  # fmt: skip


def htsr_summary(*, p: Mapping[str, Any], ens: Mapping[str, Any], hist: pd.DataFrame,
                 shapes: Mapping[str, tuple], tuned: Sequence[str],
                 spectra_seeds: Sequence[int], retrained: Mapping[str, list[int]],
                 spread: Mapping[str, Any], fp: Mapping[str, Any], plateau: Mapping[str, Any],
                 ht: Mapping[str, Any], agreement: Mapping[str, Any],
                 bias: Mapping[str, Any], ratios: Sequence[int]) -> dict[str, Any]:  # fmt: skip
    """The science part of a TempBalance page's summary (the keys its tests and the ledger read).

    ``p`` are the page's parameters, ``ens`` its ensembles per arm (``n_runs``, ``n_trained``,
    ``n_reused``, ``n_diverged``, ``device``; the first arm's device is reported), ``hist`` the
    logged α (:func:`fpt_core.spectra.tb_analysis.alpha_history` with an ``arm`` column; its last epoch
    gives ``final_alpha_mean``), ``shapes`` the weight shapes of the layers and ``tuned`` the
    tuned ones. The rest are the outputs of
    :func:`~fpt_core.book.layer_alpha.spread_over_noise`,
    :func:`~fpt_core.book.paired_arms.first_passage_by_arm`,
    :func:`~fpt_core.book.paired_arms.plateau_comparison`,
    :func:`~fpt_core.book.layer_alpha.htsr_tests`,
    :func:`~fpt_core.book.layer_alpha.estimator_agreement` and
    :func:`~fpt_core.book.aspect_ratio_bias.bias_by_source`.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from fpt_core.stats.paired import paired_difference
    >>> d = paired_difference([0.5, 0.6, 0.7], [0.52, 0.6, 0.73])
    >>> ht = {"drop": {"a": d}, "premise_ok": True, "fit_gap": {},
    ...       "clauset": pd.DataFrame({"mean": [3.0], "low": [2.5], "high": [3.5]}, index=["a"])}
    >>> ag = {"mean": pd.DataFrame({"hill": [2.0]}, index=pd.MultiIndex.from_tuples([("A", "a")])),
    ...       "gap_hc": 0.1, "gap_hf": 0.2, "agree": 1.0, "max_dev": 0.0}
    >>> hist = pd.DataFrame({"arm": ["A", "A"], "layer": ["a", "a"], "epoch": [0, 1],
    ...                      "alpha": [4.0, 3.0]})
    >>> e = NS(n_runs=3, n_trained=3, n_reused=0, n_diverged=0, device="cpu")
    >>> p = {"target": 0.5, "farms_size": 32, "farms_windows_per_dim": 9, "epochs": 1}
    >>> s = htsr_summary(p=p, ens={"A": e}, hist=hist, shapes={"a": (4, 2)}, tuned=["a"],
    ...                  spectra_seeds=[0], retrained={"A": []},
    ...                  spread={"spread_ratio": 3.0, "init": 2.0, "base_final": 4.0},
    ...                  fp={"fpt": {}, "logrank_pvalue": 0.5},
    ...                  plateau={"stats": {}, "diff": d, "corr": 0.9, "verdict": "x"}, ht=ht,
    ...                  agreement=ag, bias={}, ratios=[1, 8])
    >>> [float(x) for x in s["clauset_final"]["a"]], s["estimators_mean"], s["final_alpha_mean"]
    ([3.0, 2.5, 3.5], {'A/a': {'hill': 2.0}}, {'A': {'a': 3.0}})
    """
    d = plateau["diff"]
    last = hist[hist["epoch"] == hist["epoch"].max()].groupby(["arm", "layer"])["alpha"].mean()
    return {
        "n_tuned_layers": len(tuned),
        "tuned_layers": {n: shapes[n] for n in tuned},
        "alpha_spread_over_hill_se": spread["spread_ratio"],
        "alpha_spread_over_hill_se_init": spread["init"],
        "alpha_spread_over_hill_se_sgd_final": spread["base_final"],
        "target": p["target"],
        "fpt": fp["fpt"],
        "logrank_pvalue": fp["logrank_pvalue"],
        "plateau": plateau["stats"],
        "plateau_diff_tb_minus_sgd": d.mean,
        "plateau_diff_ci95": [d.low, d.high],
        "plateau_diff_half_width": d.half_width,
        "plateau_diff_sd": d.sd,
        "plateau_diff_pvalue": d.pvalue,
        "plateau_arm_correlation": plateau["corr"],
        "plateau_verdict": plateau["verdict"],
        "alpha_drop": {n: [x.mean, x.low, x.high] for n, x in ht["drop"].items()},
        "band_premise_ok": bool(ht["premise_ok"]),
        "fit_gap": ht["fit_gap"],
        "clauset_final": {n: [r["mean"], r["low"], r["high"]] for n, r in ht["clauset"].iterrows()},
        "final_alpha_mean": {arm: row.dropna().to_dict() for arm, row in last.unstack().iterrows()},
        "estimators_mean": {
            f"{a}/{lay}": r.to_dict() for (a, lay), r in agreement["mean"].iterrows()
        },
        "median_abs_clauset_minus_hill": agreement["gap_hc"],
        "median_abs_farms_minus_hill": agreement["gap_hf"],
        "farms_window": [p["farms_size"], p["farms_windows_per_dim"]],
        "hill_farms_same_min_layer": agreement["agree"],
        "aspect_ratio_bias": bias,
        "aspect_ratios": list(ratios),
        "max_abs_kept_minus_logged_hill": agreement["max_dev"],
        "spectra_seeds": list(spectra_seeds),
        "spectra_retrained": retrained,
        **{
            f"n_{k}": sum(getattr(e, f"n_{k}") for e in ens.values())
            for k in ("runs", "trained", "reused", "diverged")
        },
        "epochs": p["epochs"],
        "device": next(iter(ens.values())).device,
    }


def verdict_words(claims: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """The verdicts of the first four claims of :func:`htsr_claims`, as ``v_drop`` (training
    lowers α), ``v_band`` (α in 2–4), ``v_tb`` (TempBalance's gain) and ``v_farms`` (FARMS on
    random matrices).

    Examples
    --------
    >>> rows = [{"verdict": v} for v in ("reproduced", "not reproduced", "a", "b", "c")]
    >>> verdict_words(rows)
    {'v_drop': 'reproduced', 'v_band': 'not reproduced', 'v_tb': 'a', 'v_farms': 'b'}
    """
    keys = ("v_drop", "v_band", "v_tb", "v_farms")
    return {k: r["verdict"] for k, r in zip(keys, claims[:4], strict=True)}


def tempbalance_summary(notebook: str, preset: str, p: Mapping[str, Any],
                        tempbalance_spec: Mapping[str, Any], claims: list[dict[str, str]],
                        wall_time_s: float, **science: Any) -> dict[str, Any]:  # fmt: skip
    """A TempBalance page's summary: its name, preset, parameters, TempBalance spec and claims,
    then :func:`htsr_summary` of ``science`` (with ``p``), the wall time and the provenance of
    the first arm's device.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from fpt_core.stats.paired import paired_difference
    >>> d = paired_difference([0.5, 0.6, 0.7], [0.52, 0.6, 0.73])
    >>> ht = {"drop": {}, "premise_ok": True, "fit_gap": {}, "clauset": pd.DataFrame()}
    >>> ag = {"mean": pd.DataFrame(), "gap_hc": 0.1, "gap_hf": 0.2, "agree": 1.0, "max_dev": 0.0}
    >>> hist = pd.DataFrame({"arm": ["A"], "layer": ["a"], "epoch": [1], "alpha": [3.0]})
    >>> e = NS(n_runs=3, n_trained=3, n_reused=0, n_diverged=0, device="cpu")
    >>> p = {"target": 0.5, "farms_size": 32, "farms_windows_per_dim": 9, "epochs": 1}
    >>> s = tempbalance_summary("06", "tiny", p, {"kind": "tempbalance"}, [], 2.0,
    ...     ens={"A": e}, hist=hist, shapes={"a": (4, 2)}, tuned=["a"], spectra_seeds=[0],
    ...     retrained={"A": []}, spread={"spread_ratio": 3.0, "init": 2.0, "base_final": 4.0},
    ...     fp={"fpt": {}, "logrank_pvalue": 0.5},
    ...     plateau={"stats": {}, "diff": d, "corr": 0.9, "verdict": "x"}, ht=ht,
    ...     agreement=ag, bias={}, ratios=[1, 8])
    >>> list(s)[:5], list(s)[-2:], s["n_runs"], s["provenance"]["device"]
    (['notebook', 'preset', 'params', 'tempbalance_spec', 'claims'], ['wall_time_s', 'provenance'], 3, 'cpu')
    """
    science = htsr_summary(p=p, **science)
    return {
        "notebook": notebook, "preset": preset, "params": p, "tempbalance_spec": tempbalance_spec,
        "claims": claims, **science, "wall_time_s": wall_time_s,
        "provenance": report.provenance(science["device"]),
    }  # fmt: skip
