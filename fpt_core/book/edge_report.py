"""The edge-of-chaos claims in words: cells, the optimum, weight decay, scaling fits, the ledger.

Turns the outputs of :mod:`fpt_core.dynamics.edge_claims` (an optimum, weight-decay comparisons, power-law
fits) into the phrases a page glues into its prose, the five ledger rows
(:func:`edge_claims`) and the page's summary (:func:`edge_summary`). Nothing is computed here
that the verdicts depend on: each verdict is the one :mod:`fpt_core.dynamics.edge_claims` returned.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fpt_core.book import report
from fpt_core.book.claims import claim
from fpt_core.dynamics.edge_claims import scaling_absent

__all__ = [
    "LYAPUNOV_CRITERION",
    "cell_text",
    "edge_claims",
    "edge_page_summary",
    "edge_summary",
    "fit_text",
    "left_out_text",
    "optimum_words",
    "ordered_caveat",
    "weight_decay_table",
    "weight_decay_text",
    "weight_decay_words",
]

PAPER = "Edge of chaos"
LYAPUNOV_CRITERION = (
    "network-map exponents: last half of the iterations within t(0.975, seeds − 1) "
    "SE of the whole, in every cell; training-map exponents: last half of the window within "
    "t(0.975, seeds − 1) SE (over seeds) of the whole, except chaotic cells whose whole-window "
    "and last-half exponents both lie > 2 SE above 0 (sign settled, rate still growing)"
)
FIT_KEYS = ("exponent", "exponent_stderr", "ci", "n", "n_censored_cells", "offset",
            "offset_stderr", "verdict")  # fmt: skip
OPT_KEYS = ("best", "best_interior", "best_in_edge_region", "edge_best", "outside_best",
            "n_left_out", "left_out_phases", "verdict", "reason")  # fmt: skip


def cell_text(r: Mapping[str, Any]) -> str:
    """One cell in words: its (η, μ), phase, network-map exponent and plateau accuracy ± SE.

    Examples
    --------
    >>> cell_text({"lr": 0.1, "momentum": 0.5, "phase": "edge", "lam_net": 0.01,
    ...            "lam_net_se": 0.02, "plateau_acc": 0.71234, "plateau_acc_se": 0.004})
    'η = 0.1, μ = 0.5 (edge, λ_net = 0.01 ± 0.02): 0.712 ± 0.004'
    """
    return (f"η = {r['lr']:g}, μ = {r['momentum']:g} ({r['phase']}, λ_net = "
            f"{r['lam_net']:.2f} ± {r['lam_net_se']:.2f}): {r['plateau_acc']:.3f} ± "
            f"{r['plateau_acc_se']:.3f}")  # fmt: skip


def left_out_text(opt: Mapping[str, Any]) -> str:
    """The phases of the cells left out of the optimum (``"2 ordered, 1 edge"`` or ``"none"``).

    Examples
    --------
    >>> left_out_text({"left_out_phases": {"ordered": 2}}), left_out_text({"left_out_phases": {}})
    ('2 ordered', 'none')
    """
    return ", ".join(f"{v} {k}" for k, v in opt["left_out_phases"].items()) or "none"


def optimum_words(opt: Mapping[str, Any]) -> str:
    """The comparison behind "generalisation is best at the edge", in sentences (Markdown).

    Examples
    --------
    >>> optimum_words({"n_left_out": 0, "left_out_phases": {}, "verdict": "not tested at this "
    ...                "preset", "reason": "no cells"})
    '0 cells are still learning and left out (none). Verdict: **not tested at this preset** (no cells).'
    """
    lines = [f"{opt['n_left_out']} cells are still learning and left out ({left_out_text(opt)})."]
    if "best" in opt:
        lines.append(f"Best cell: {cell_text(opt['best'])}; "
                     f"{'inside' if opt['best_interior'] else 'on the edge of'} the learning-rate "
                     f"range, {'in' if opt['best_in_edge_region'] else 'outside'} the edge region.")  # fmt: skip
    if "edge_best" in opt:
        lines.append(f"Best of the edge region: {cell_text(opt['edge_best'])}. Best outside it: "
                     f"{cell_text(opt['outside_best'])}.")  # fmt: skip
    lines.append(f"Verdict: **{opt['verdict']}** ({opt['reason']}).")
    return " ".join(lines)


def ordered_caveat(wd0: pd.DataFrame, plateau_epochs: int, horizon: float) -> tuple[str, int]:
    """How many ordered cells are still learning or censored, as a sentence, and the first count.

    A cell is still learning if ``acc_drift > 2·acc_drift_se``; censored if a seed never reached
    the target (``n_censored > 0``). Empty sentence without ordered cells.

    Examples
    --------
    >>> d = pd.DataFrame({"phase": ["ordered", "chaotic"], "eta_eff": [0.01, 1.0],
    ...                   "acc_drift": [0.1, 0.0], "acc_drift_se": [0.01, 0.01],
    ...                   "n_censored": [1, 0]})
    >>> text, n = ordered_caveat(d, 10, 40.0)
    >>> n, text[:49]
    (1, 'The ordered cells are the slowest ones (η/(1 − μ)')
    """
    low = wd0[wd0["phase"] == "ordered"]
    rising = wd0["acc_drift"] > 2 * wd0["acc_drift_se"]
    n_rising = int(rising[low.index].sum())
    n_cens = int(low["n_censored"].gt(0).sum())
    if not len(low):
        return "", n_rising
    return (
        f"The ordered cells are the slowest ones (η/(1 − μ) ≤ {low['eta_eff'].max():.3g}): "
        f"{n_rising} of {len(low)} are still learning at the end of the window (plateau "
        f"accuracy above the {plateau_epochs} epochs before it by more than 2 SE), and "
        f"{n_cens} {'has' if n_cens == 1 else 'have'} a seed that never reached the target in "
        f"{horizon:.0f} epochs; part of their lower accuracy is unfinished training, which a "
        "longer horizon would have to separate from the phase."
    ), n_rising


def weight_decay_text(acc_eff: Mapping[str, Any]) -> str:
    """Plateau accuracy at γ > 0 minus that at γ = 0, per comparison (± SE).

    Examples
    --------
    >>> weight_decay_text({"rows": [{"weight_decay": 0.01, "lr": 0.1, "diff": -0.02, "se": 0.01}]})
    'γ = 0.01, η = 0.1: -0.020 ± 0.010'
    """
    return "; ".join(f"γ = {r['weight_decay']:g}, η = {r['lr']:g}: {r['diff']:+.3f} ± "
                     f"{r['se']:.3f}" for r in acc_eff["rows"])  # fmt: skip


def fit_text(s: Mapping[str, Any]) -> str:
    """A power-law fit of the training time in one phase (:func:`scaling_in_phase`) in words.

    Examples
    --------
    >>> fit_text({"phase": "chaotic", "n": 2, "exponent": float("nan")})
    'chaotic: 2 cells with an estimable T — too few to fit'
    """
    if not np.isfinite(s["exponent"]):
        return f"{s['phase']}: {s['n']} cells with an estimable T — too few to fit"
    return (f"{s['phase']}: β = {s['exponent']:.3f} ± {s['exponent_stderr']:.3f} "
            f"(95 % CI {s['ci'][0]:.3f} to {s['ci'][1]:.3f}, {s['n']} cells, "
            f"{s['n_censored_cells']} left out as censored; affine fit T = a + c(1 − μ)/η: "
            f"a = {s['offset']:.1f} ± {s['offset_stderr']:.1f} epochs)")  # fmt: skip


def edge_claims(boundary: Mapping[str, Any], seeds: int, opt: Mapping[str, Any],
                eff_net: Mapping[str, Any], eff_exc: Mapping[str, Any],
                sc_ord: Mapping[str, Any], sc_cha: Mapping[str, Any]) -> list[dict]:  # fmt: skip
    """The five ledger rows of the edge-of-chaos paper from this page's numbers.

    ``boundary`` is :func:`fpt_core.book.phase_diagram.phase_boundary`'s output; ``opt``,
    ``eff_net``/``eff_exc`` and ``sc_ord``/``sc_cha`` those of :func:`edge_optimum`,
    :func:`weight_decay_effect` and :func:`scaling_in_phase`. The phase claim is *reproduced*
    when the boundary lies inside the grid and the network-map exponents converged.

    Examples
    --------
    >>> b = {"counts": {"ordered": 3, "edge": 0, "chaotic": 3}, "crossings": [{}, {}],
    ...      "n_rows": 2, "boundary_ok": True, "net_conv": True}
    >>> nan = float("nan")
    >>> fit = {"phase": "ordered", "n": 1, "exponent": nan, "verdict": "not tested at this preset"}
    >>> eff = {"n": 0, "n_down": 0, "n_up": 0, "verdict": "not tested at this preset"}
    >>> rows = edge_claims(b, 4, {"reason": "r", "verdict": "reproduced"}, eff, eff, fit, fit)
    >>> [r["verdict"] for r in rows][:2]
    ['reproduced', 'reproduced']
    """
    counts, crossings = boundary["counts"], boundary["crossings"]
    measured_opt = (
        f"best edge-region cell {opt['edge_best']['plateau_acc']:.3f} ± "
        f"{opt['edge_best']['plateau_acc_se']:.3f}, best other "
        f"{opt['outside_best']['plateau_acc']:.3f} ± "
        f"{opt['outside_best']['plateau_acc_se']:.3f} (SE); {opt['reason']}; "
        f"{opt['n_left_out']} cells still learning left out ({left_out_text(opt)})"
        if "edge_best" in opt else opt["reason"]
    )  # fmt: skip
    return [
        claim(PAPER, "SGD hyperparameters place the trained network in an ordered or a chaotic "
              "phase (asymptotic Jacobian norm of the network map)",
              f"weight decay 0: {counts['ordered']} ordered, {counts['edge']} edge, "
              f"{counts['chaotic']} chaotic cells (λ_net vs 2 SE over {seeds} seeds); sign "
              f"change inside {len(crossings)} of {boundary['n_rows']} momentum rows",
              "reproduced" if boundary["boundary_ok"] and boundary["net_conv"]
              else "not tested at this preset"),
        claim(PAPER, "Generalisation is best at the edge of chaos", measured_opt, opt["verdict"]),
        claim(PAPER, "Weight decay pushes the model towards the ordered phase",
              f"λ_net lower than at weight decay 0 in {eff_net['n_down']} of {eff_net['n']} "
              f"comparisons, higher in {eff_net['n_up']} (2 SE); training-map exponent beyond "
              f"the analytic weight-decay floor lower in {eff_exc['n_down']} of {eff_exc['n']}",
              eff_net["verdict"]),
        claim(PAPER, "In the ordered phase the training time scales as T ∝ (1 − μ)/η",
              fit_text(sc_ord), sc_ord["verdict"]),
        claim(PAPER, "The scaling of the training time disappears in the chaotic phase",
              fit_text(sc_cha), scaling_absent(sc_cha)),
    ]  # fmt: skip


def edge_summary(boundary: Mapping[str, Any], signs: Mapping[str, Any], *,
                 ordered_still_learning: int, sc_ord: Mapping[str, Any],
                 sc_cha: Mapping[str, Any], opt: Mapping[str, Any],
                 eff_net: Mapping[str, Any], eff_exc: Mapping[str, Any],
                 cells: pd.DataFrame, claims: list[dict]) -> dict:  # fmt: skip
    """The science part of the page's summary (the keys the tests and the ledger read).

    Infinite cell values are written as ``NaN`` (JSON has no infinity).

    Examples
    --------
    >>> b = {"counts": {}, "crossings": [], "crossings_train": [], "net_conv": True}
    >>> t = {"lyap_conv": True, "n_conv": 0, "train_conv": True}
    >>> fit = dict.fromkeys(FIT_KEYS)
    >>> s = edge_summary(b, t, ordered_still_learning=0, sc_ord=fit, sc_cha=fit, opt={},
    ...                  eff_net={}, eff_exc={}, cells=pd.DataFrame({"x": [float("inf")]}),
    ...                  claims=[])
    >>> s["cells"]
    [{'x': nan}]
    """
    return {
        "phase_counts_wd0": boundary["counts"],
        "edge_crossings_wd0": boundary["crossings"],
        "edge_crossings_training_wd0": boundary["crossings_train"],
        "lyapunov_converged": signs["lyap_conv"],
        "lyapunov_converged_cells": signs["n_conv"],
        "training_map_converged_all": signs["train_conv"],
        "lyapunov_criterion": LYAPUNOV_CRITERION,
        "ordered_still_learning": ordered_still_learning,
        "network_exponent_converged": boundary["net_conv"],
        "scaling_ordered": {k: sc_ord[k] for k in FIT_KEYS},
        "scaling_chaotic": {k: sc_cha[k] for k in FIT_KEYS},
        "edge_optimum": {k: opt.get(k) for k in OPT_KEYS},
        "weight_decay_net": eff_net,
        "weight_decay_excess": eff_exc,
        "cells": cells.replace([np.inf, -np.inf], np.nan).to_dict(orient="records"),
        "claims": claims,
    }


def weight_decay_words(acc_eff: Mapping[str, Any], eff_net: Mapping[str, Any],
                       eff_exc: Mapping[str, Any]) -> dict[str, str]:  # fmt: skip
    """Phrases for the weight-decay paragraph: ``wd_acc`` (:func:`weight_decay_text`) and the
    counts of :func:`weight_decay_effect` for λ_net (``net_n``, ``net_n_down``, ``net_n_up``) and
    for the exponent beyond the floor (``exc_n``, ``exc_n_down``, ``exc_n_up``), as strings.

    Examples
    --------
    >>> e = {"n": 3, "n_down": 2, "n_up": 0}
    >>> w = weight_decay_words({"rows": []}, e, e)
    >>> w["net_n_down"], w["exc_n"], w["wd_acc"]
    ('2', '3', '')
    """
    words = {"wd_acc": weight_decay_text(acc_eff)}
    for prefix, eff in (("net", eff_net), ("exc", eff_exc)):
        words |= {f"{prefix}_{k}": str(eff[k]) for k in ("n", "n_down", "n_up")}
    return words


def weight_decay_table(cells: pd.DataFrame) -> pd.DataFrame:
    """The weight-decay cells' exponents, floor and plateau accuracy, sorted by (η, γ), 4 decimals.

    Examples
    --------
    >>> cols = ["lam_net", "lam_net_se", "lam_train", "wd_floor", "lam_excess", "lam_train_se",
    ...         "plateau_acc", "plateau_acc_se"]
    >>> d = pd.DataFrame({"lr": [0.2, 0.1], "weight_decay": [0.0, 0.01], "phase": ["edge"] * 2,
    ...                   **{c: [1.23456, 2.0] for c in cols}})
    >>> weight_decay_table(d)[["lr", "lam_net"]].values.tolist()
    [[0.1, 2.0], [0.2, 1.2346]]
    """
    show = cells[["lr", "weight_decay", "lam_net", "lam_net_se", "phase", "lam_train", "wd_floor",
                  "lam_excess", "lam_train_se", "plateau_acc", "plateau_acc_se"]]  # fmt: skip
    return show.sort_values(["lr", "weight_decay"]).round(4).reset_index(drop=True)


def edge_page_summary(preset: str, p: Mapping[str, Any], *, n_replicas: int,
                      steps_per_epoch: int, wall_time_s: float, **science: Any) -> dict:  # fmt: skip
    """The page's whole summary: name, preset and parameters, :func:`edge_summary` of
    ``science``, the replicas and steps per epoch, the wall time, the process's CPU time so far
    (one thread: about the wall time on an unloaded machine) and the provenance (CPU).

    Examples
    --------
    >>> b = {"counts": {}, "crossings": [], "crossings_train": [], "net_conv": True}
    >>> t = {"lyap_conv": True, "n_conv": 0, "train_conv": True}
    >>> fit = dict.fromkeys(FIT_KEYS)
    >>> s = edge_page_summary("tiny", {"seeds": 2}, n_replicas=4, steps_per_epoch=8,
    ...     wall_time_s=1.0, boundary=b, signs=t, ordered_still_learning=0, sc_ord=fit,
    ...     sc_cha=fit, opt={}, eff_net={}, eff_exc={}, cells=pd.DataFrame(), claims=[])
    >>> list(s)[:3], list(s)[-5:], s["provenance"]["device"]
    (['notebook', 'preset', 'params'], ['n_replicas', 'steps_per_epoch', 'wall_time_s', 'cpu_time_s', 'provenance'], 'cpu')
    """
    boundary, signs = science.pop("boundary"), science.pop("signs")
    return {
        "notebook": "07_edge_of_chaos", "preset": preset, "params": p,
        **edge_summary(boundary, signs, **science),
        "n_replicas": int(n_replicas), "steps_per_epoch": int(steps_per_epoch),
        "wall_time_s": wall_time_s, "cpu_time_s": time.process_time(),
        "provenance": report.provenance("cpu"),
    }  # fmt: skip
