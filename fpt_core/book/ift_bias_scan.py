"""The IFT bias ε = ⟨e^−σ⟩ − 1 measured against its prediction: on a validation toy process and
over a scan of learning rates, with the power-law fits of ε against η where it is resolved.

:class:`WithReplacementTheory` gives the linear theory and the increment cumulants of plain SGD
at any learning rate of the scan, :func:`scan_learning_rates` and :func:`scan_lengths` what is
run at each, :func:`toy_check` runs the validation toy. Predictions are
:func:`fpt_core.langevin.ift_bias.predict_ift_bias`; the fits
:func:`fpt_core.langevin.ift_bias.power_law_fit`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fpt_core.langevin import ift_bias, noneq

__all__ = [
    "check_parameters",
    "WithReplacementTheory",
    "scan_learning_rates",
    "scan_lengths",
    "toy_check",
    "toy_table",
    "scan_table",
    "premise_fits",
    "centre_shift",
    "gaussian_dft_slope",
    "dft_slope_test",
]

PREMISE = 0.1  # the expansion's premise: ηλ_max ≤ 0.1 (relative corrections O(ηλ_max))


def check_parameters(params: Mapping[str, Any]) -> None:
    """Check the non-equilibrium page's resolved parameters before anything runs.

    Raises
    ------
    ValueError
        If ``lr``, ``paper_lr`` or a ``scan_lrs`` entry is not finite and > 0, ``n_groups`` does
        not divide ``n_chains``, ``toy_chains`` and ``surrogate_chains``, ``burn_relax`` or
        ``measure_relax`` is not > 0, ``paper_steps`` < 0, ``surrogate_steps`` < 2 or ``n_mc`` < 2.

    Examples
    --------
    >>> p = dict(lr=1e-6, paper_lr=1e-7, scan_lrs=[2e-6], n_chains=16, toy_chains=16,
    ...          surrogate_chains=16, n_groups=8, burn_relax=1.0, measure_relax=2.0,
    ...          paper_steps=0, surrogate_steps=10, n_mc=8)
    >>> check_parameters(p)
    >>> check_parameters(p | {"n_groups": 5})
    Traceback (most recent call last):
    ...
    ValueError: n_groups=5 must divide n_chains, toy_chains, surrogate_chains
    """
    p = params
    if not all(np.isfinite(v) and v > 0 for v in [p["lr"], p["paper_lr"], *p["scan_lrs"]]):
        raise ValueError(
            f"lr={p['lr']}, paper_lr and scan_lrs={p['scan_lrs']} must be finite and > 0"
        )
    if any(p[k] % p["n_groups"] for k in ("n_chains", "toy_chains", "surrogate_chains")):
        raise ValueError(
            f"n_groups={p['n_groups']} must divide n_chains, toy_chains, surrogate_chains"
        )
    if not (p["burn_relax"] > 0 and p["measure_relax"] > 0):
        raise ValueError("burn_relax and measure_relax must be > 0")
    if p["paper_steps"] < 0 or p["surrogate_steps"] < 2 or p["n_mc"] < 2:
        raise ValueError("paper_steps must be ≥ 0, surrogate_steps ≥ 2 and n_mc ≥ 2")


@dataclass(frozen=True)
class WithReplacementTheory:
    """Plain SGD with replacement near a minimum, at any learning rate η.

    SGD's increment is proportional to η, so the increment cumulants computed once at ``lr_ref``
    rescale exactly to any other η (:meth:`fpt_core.langevin.ift_bias.IncrementCumulants.scaled`).

    Attributes
    ----------
    grads : (N, d) per-example gradients at the minimum.
    hessian : (d, d) Hessian of the full loss at the minimum.
    w_star : (d,) the minimum.
    batch_size : minibatch size B.
    lr_ref : learning rate of ``cumulants``.
    cumulants : increment cumulants of SGD at ``w_star`` and ``lr_ref``.

    Examples
    --------
    >>> from fpt_core.langevin.ift_bias import IncrementCumulants
    >>> cum = IncrementCumulants(-0.1 * np.eye(1), np.zeros((1, 1, 1)), 0.01 * np.eye(1),
    ...                          np.zeros((1, 1, 1)), np.zeros((1, 1, 1)))
    >>> th = WithReplacementTheory(np.array([[1.0], [-1.0], [0.5], [-0.5]]), np.eye(1),
    ...                            np.zeros(1), 2, 0.1, cum)
    >>> n_v, cum_v, (S, mu1, M3) = th.at(0.05)
    >>> float(cum_v.m1[0, 0]), float(n_v.K[0, 0]), bool(S[0, 0] > 0), float(mu1[0])
    (-0.05, 0.05, True, 0.0)
    """

    grads: np.ndarray
    hessian: np.ndarray
    w_star: np.ndarray
    batch_size: int
    lr_ref: float
    cumulants: ift_bias.IncrementCumulants

    @classmethod
    def at_minimum(
        cls, net: Any, grads: np.ndarray, hessian: np.ndarray, w_star: np.ndarray,
        batch_size: int, lr_ref: float,
    ) -> WithReplacementTheory:  # fmt: skip
        """Compute the cumulants of ``net``'s SGD increment at ``w_star`` by automatic
        differentiation of the exact minibatch cumulant generating function
        (:func:`fpt_core.langevin.ift_bias.sgd_cgf`)."""
        cgf = ift_bias.sgd_cgf(net, lr_ref, batch_size)
        return cls(grads, hessian, w_star, batch_size, lr_ref,
                   ift_bias.increment_cumulants(cgf, w_star))  # fmt: skip

    def at(self, lr: float) -> tuple[noneq.LinearNESS, ift_bias.IncrementCumulants, tuple]:
        """The linear NESS (drift ηH, minibatch diffusion), the increment cumulants and the
        leading-order stationary moments (Σ, mean shift μ₁, third moment M₃) at ``lr``."""
        cum_v = self.cumulants.scaled(lr / self.lr_ref)
        diffusion = noneq.minibatch_diffusion(self.grads, lr, self.batch_size)
        n_v = noneq.linear_ness(lr * self.hessian, diffusion, self.w_star)
        return n_v, cum_v, ift_bias.stationary_moments(cum_v)


def scan_learning_rates(params: Mapping[str, Any]) -> list[float]:
    """The scan's learning rates, ascending: ``lr``, ``scan_lrs`` and, if ``paper_steps`` > 0,
    ``paper_lr``.

    Examples
    --------
    >>> scan_learning_rates(dict(lr=1e-6, scan_lrs=[1e-5, 2e-6], paper_lr=1e-7, paper_steps=0))
    [1e-06, 2e-06, 1e-05]
    """
    paper = [params["paper_lr"]] if params["paper_steps"] > 0 else []
    return sorted({params["lr"], *params["scan_lrs"], *paper})


def scan_lengths(lr: float, lam_min: float, params: Mapping[str, Any]) -> tuple[int, int]:
    """Burn-in and measured steps at ``lr``: ``burn_relax`` and ``measure_relax`` slowest
    relaxation times 1/(η λ_min) (at least 2 each); at the paper's η, below every other learning
    rate, 2000 steps of burn-in and ``paper_steps`` measured.

    Examples
    --------
    >>> p = dict(lr=1e-3, scan_lrs=[2e-3], paper_lr=1e-4, paper_steps=500, burn_relax=1.5,
    ...          measure_relax=3.0)
    >>> scan_lengths(1e-3, 10.0, p), scan_lengths(1e-4, 10.0, p)
    ((150, 300), (2000, 500))
    """
    t_v = 1.0 / (lr * lam_min)
    paper_pt = lr == params["paper_lr"] and lr < min(params["lr"], *params["scan_lrs"])
    burn = 2000 if paper_pt else max(2, int(params["burn_relax"] * t_v))
    steps = params["paper_steps"] if paper_pt else max(2, int(params["measure_relax"] * t_v))
    return burn, steps


def toy_check(
    lrs: Sequence[float], *, n_mc: int, n_chains: int, n_groups: int, seed: int, sim_seed: int
) -> pd.DataFrame:
    """Predicted against simulated ε on the validation toy
    (:class:`fpt_core.langevin.ift_bias.AnharmonicToy`, skewed Bernoulli noise) at each step size
    in ``lrs``: ``5/η`` steps of burn-in, ``10/η`` measured; the table of :func:`toy_table`.

    ``seed`` seeds the Monte Carlo of the prediction's even part, ``sim_seed`` the simulation.

    Examples
    --------
    >>> t = toy_check([0.1], n_mc=64, n_chains=64, n_groups=4, seed=0, sim_seed=3)
    >>> list(t.columns[:3]), bool(t["ε predicted"].iloc[0] > 0)
    (['η (toy)', 'ε predicted', 'SE(pred.)'], True)
    """
    rows = []
    for v in lrs:
        toy = ift_bias.AnharmonicToy(lr=v, noise="bernoulli")
        pr = ift_bias.predict_ift_bias(toy.cgf, np.zeros(2), toy.functional(), n_mc=n_mc,
                                       seed=seed)  # fmt: skip
        sim = toy.simulate(n_chains, steps=int(10 / v), burn=int(5 / v), n_groups=n_groups,
                           seed=sim_seed)  # fmt: skip
        rows.append({"η (toy)": v, "ε predicted": pr.eps, "SE(pred.)": pr.even_se,
                     "even part": pr.even, "skew part": pr.skew, "ε simulated": sim["eps"],
                     "SE(sim.)": sim["eps_se"]})  # fmt: skip
    return toy_table(rows)


def toy_table(rows: Sequence[Mapping[str, float]]) -> pd.DataFrame:
    """The toy's predicted and simulated ε with ``z`` (difference over the combined SE) and
    ``sim./pred.``.

    Examples
    --------
    >>> t = toy_table([{"η (toy)": 0.02, "ε predicted": 0.01, "SE(pred.)": 0.0003,
    ...                 "ε simulated": 0.0105, "SE(sim.)": 0.0004}])
    >>> t[["z", "sim./pred."]].round(3).values.tolist()
    [[1.0, 1.05]]
    """
    toy = pd.DataFrame(list(rows))
    toy["z"] = (toy["ε simulated"] - toy["ε predicted"]) / np.hypot(
        toy["SE(sim.)"], toy["SE(pred.)"]
    )
    toy["sim./pred."] = toy["ε simulated"] / toy["ε predicted"]
    return toy


def scan_table(
    scan_runs: Mapping[float, tuple[Mapping[str, Any], Any]],
    pred: Mapping[float, Any],
    lam_max: float,
) -> pd.DataFrame:
    """One row per learning rate: measured and predicted ε, ⟨σ⟩ against the chain theory, the DFT
    slope measured and implied by ε for Gaussian σ, and the chain-steps a 3-SE resolution needs.

    Parameters
    ----------
    scan_runs : per η the run (``.ep[0]`` the one-step window: ``count``, ``mean``, ``ift``,
        ``ift_se``, ``dft_slope``, ``dft_slope_se``) and its theory (``ep_mean_chain``).
    pred : per η the prediction (``eps``, ``even_se``, ``skew``).
    lam_max : the Hessian's largest eigenvalue.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> e1 = dict(count=10000, mean=0.02, ift=1.001, ift_se=1e-4, dft_slope=0.95,
    ...           dft_slope_se=0.01)
    >>> s = scan_table({1e-3: (SimpleNamespace(ep=[e1]), SimpleNamespace(ep_mean_chain=0.02))},
    ...                {1e-3: SimpleNamespace(eps=0.0012, even_se=1e-4, skew=0.0006)}, 50.0)
    >>> s[["ηλ_max", "z(ε)", "skew share", "chain-steps to resolve"]].round(3).values.tolist()
    [[0.05, -1.414, 0.5, 625.0]]
    """
    rows = []
    for v, (r, n_v) in scan_runs.items():
        e1, p_ = r.ep[0], pred[v]
        var_e = e1["ift_se"] ** 2 * e1["count"]  # Var(e^−σ) per sample (SE² × samples)
        rows.append({
            "η": v, "ηλ_max": v * lam_max, "chain-steps": e1["count"], "⟨σ⟩": e1["mean"],
            "⟨σ⟩ / theory (chain)": e1["mean"] / n_v.ep_mean_chain,
            "ε measured": e1["ift"] - 1, "SE": e1["ift_se"], "ε predicted": p_.eps,
            "SE(pred.)": p_.even_se, "skew share": p_.skew / p_.eps,
            "DFT slope": e1["dft_slope"], "SE(slope)": e1["dft_slope_se"],
            "DFT slope predicted": ift_bias.dft_slope_from_bias(e1["mean"], p_.eps),
            "chain-steps to resolve": 9 * var_e / p_.eps**2,
        })  # fmt: skip
    scan = pd.DataFrame(rows)
    scan["z(ε)"] = (scan["ε measured"] - scan["ε predicted"]) / np.hypot(
        scan["SE"], scan["SE(pred.)"]
    )
    scan["z(slope)"] = (scan["DFT slope"] - scan["DFT slope predicted"]) / scan["SE(slope)"]
    return scan


def premise_fits(scan: pd.DataFrame) -> dict[str, Any]:
    """Power-law fits of ε against η: measured, over the rows where ε is resolved (> 3 SE) and
    ηλ_max ≤ 0.1 (``resolved``, ``fit``) or resolved at all (``resolved_all``, ``fit_all``), each
    None with fewer than two rows; and predicted, over the whole scan (``fit_pred``).

    Examples
    --------
    >>> eta = np.array([1e-4, 2e-4, 4e-4, 4e-3])
    >>> scan = pd.DataFrame({"η": eta, "ηλ_max": 100 * eta, "ε measured": 1e6 * eta**2,
    ...                      "SE": 1e5 * eta**2, "ε predicted": 1e6 * eta**2,
    ...                      "SE(pred.)": 1e5 * eta**2})
    >>> f = premise_fits(scan)
    >>> len(f["resolved"]), len(f["resolved_all"]), round(f["fit"]["slope"], 6)
    (3, 4, 2.0)
    """
    resolved_all = scan[scan["ε measured"] > 3 * scan["SE"]]
    resolved = scan[(scan["ε measured"] > 3 * scan["SE"]) & (scan["ηλ_max"] <= PREMISE)]

    def fit(rows: pd.DataFrame) -> dict | None:
        return (ift_bias.power_law_fit(rows["η"], rows["ε measured"], rows["SE"])
                if len(rows) >= 2 else None)  # fmt: skip

    return dict(resolved=resolved, resolved_all=resolved_all, fit=fit(resolved),
                fit_all=fit(resolved_all),
                fit_pred=ift_bias.power_law_fit(scan["η"], scan["ε predicted"], scan["SE(pred.)"]))  # fmt: skip


def centre_shift(ness: noneq.LinearNESS, mu: np.ndarray) -> float:
    """Leading-order change of ln⟨e^−σ⟩ if σ were centred at c + μ instead of the fixed point c:
    −(Pᵀμ)ᵀ D (Pᵀμ), with P the continuum functional's matrix.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> n = SimpleNamespace(functional=np.array([[0.0, 1.0], [-1.0, 0.0]]), D=2 * np.eye(2))
    >>> centre_shift(n, np.array([0.5, 0.0]))
    -0.5
    """
    pm = ness.functional.T @ mu
    return -float(pm @ ness.D @ pm)


def gaussian_dft_slope(rows: pd.DataFrame) -> float:
    """The DFT slope that the first row's measured ⟨σ⟩ and bias ε = ⟨e^−σ⟩ − 1 imply for a
    Gaussian σ (:func:`fpt_core.langevin.ift_bias.dft_slope_from_bias`); NaN unless ε > −1 and
    ⟨σ⟩ > 0.

    Examples
    --------
    >>> gaussian_dft_slope(pd.DataFrame({"⟨σ⟩": [0.1], "⟨e^−σ⟩": [1.0]}))
    1.0
    >>> gaussian_dft_slope(pd.DataFrame({"⟨σ⟩": [-0.1], "⟨e^−σ⟩": [1.0]}))
    nan
    """
    mean, eps = rows["⟨σ⟩"].iloc[0], rows["⟨e^−σ⟩"].iloc[0] - 1
    return ift_bias.dft_slope_from_bias(mean, eps) if eps > -1 and mean > 0 else float("nan")


def dft_slope_test(resolved: pd.DataFrame) -> dict[str, Any]:
    """Test of the DFT-slope relation 1 − slope ≈ ε/⟨σ⟩ on the resolved rows of the scan.

    Parameters
    ----------
    resolved : DataFrame
        Rows of :func:`scan_table` where ε is resolved and the premise holds (columns
        ``DFT slope``, ``DFT slope predicted``, ``z(slope)``).

    Returns
    -------
    dict
        ``share``: per row, 100 × (1 − predicted slope)/(1 − measured slope), the percentage of
        the measured shortfall the bias explains; ``chi2`` = Σ z(slope)² and ``p`` its upper tail
        under χ² with one degree of freedom per row (NaN without rows).

    Examples
    --------
    >>> r = pd.DataFrame({"DFT slope": [0.9, 0.8], "DFT slope predicted": [0.95, 0.8],
    ...                   "z(slope)": [-1.0, 0.0]})
    >>> t = dft_slope_test(r)
    >>> t["share"].round(6).tolist(), t["chi2"], round(t["p"], 3)
    ([50.0, 100.0], 1.0, 0.607)
    """
    from scipy import stats

    share = 100 * (1 - resolved["DFT slope predicted"]) / (1 - resolved["DFT slope"])
    chi2 = float((resolved["z(slope)"] ** 2).sum())
    p = float(stats.chi2.sf(chi2, len(resolved))) if len(resolved) else float("nan")
    return {"share": share, "chi2": chi2, "p": p}
