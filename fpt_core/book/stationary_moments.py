"""The stationary state of SGD near a minimum, measured against its linear theory: a table of the
theory per batch-sampling policy, the entries of Σ and of the circulation C side by side, and the
agreement per policy and quantity; and the Monte Carlo error of the permutation-averaged theory.

The theory is :func:`fpt_core.langevin.noneq.linear_ness` / :func:`fpt_core.langevin.noneq.reshuffled_ness`; the
measurements are the moments of :func:`fpt_core.langevin.noneq.simulate_ness`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "permutation_errors",
    "theory_table",
    "moment_comparison",
    "comparison_checks",
    "mean_shift",
]


def permutation_errors(splits: Sequence[Any]) -> tuple[float, float]:
    """Monte Carlo errors of the without-replacement theory from independent permutation sets:
    the standard errors of ``ep_mean_chain`` and of ``irreversibility`` over ``splits``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> s = [SimpleNamespace(ep_mean_chain=m, irreversibility=r)
    ...      for m, r in [(1.0, 0.1), (3.0, 0.1), (2.0, 0.4), (2.0, 0.2)]]
    >>> [round(x, 4) for x in permutation_errors(s)]
    [0.4082, 0.0707]
    """
    n = len(splits)
    ep_se = np.std([s.ep_mean_chain for s in splits], ddof=1) / np.sqrt(n)
    irr_se = np.std([s.irreversibility for s in splits], ddof=1) / np.sqrt(n)
    return float(ep_se), float(irr_se)


def theory_table(ness: Mapping[str, Any], w_star: np.ndarray, m: int) -> pd.DataFrame:
    """The linear theory per policy: irreversibility ‖C‖/‖D‖, entropy production per record, per
    step and per slowest relaxation time, the stationary spread and the mean's shift from w*.

    Parameters
    ----------
    ness : per policy a linear NESS (``irreversibility``, ``ep_mean``, ``ep_mean_chain``,
        ``ep_per_relaxation``, ``sigma_chain``, ``mean``). ``with replacement`` is recorded per
        step, any other policy per epoch of ``m`` steps.
    w_star : the minimum.
    m : steps per epoch.

    Returns
    -------
    pandas.DataFrame
        Indexed by policy.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> n = SimpleNamespace(irreversibility=0.1, ep_mean=2.0, ep_mean_chain=2.1,
    ...                     ep_per_relaxation=5.0, sigma_chain=np.diag([4.0, 1.0]),
    ...                     mean=np.array([2.0, 0.0]))
    >>> t = theory_table({"with replacement": n, "without replacement": n}, np.zeros(2), 4)
    >>> t["⟨σ⟩ per step"].tolist(), t["|mean − w*| / √Σ (max)"].tolist()
    ([2.0, 0.5], [1.0, 1.0])
    """
    per = {"with replacement": "step", "without replacement": f"epoch ({m} steps)"}
    return pd.DataFrame([{
        "policy": k, "record": per.get(k, f"epoch ({m} steps)"), "‖C‖/‖D‖": n.irreversibility,
        "⟨σ⟩ per record": n.ep_mean, "⟨σ⟩ per record (chain)": n.ep_mean_chain,
        "⟨σ⟩ per step": n.ep_mean / (1 if k == "with replacement" else m),
        "⟨σ⟩ per slowest relaxation time": n.ep_per_relaxation,
        "√Σ_ii (median)": float(np.median(np.sqrt(np.diag(n.sigma_chain)))),
        "|mean − w*| / √Σ (max)": float(
            np.max(np.abs(n.mean - w_star) / np.sqrt(np.diag(n.sigma_chain)))),
    } for k, n in ness.items()]).set_index("policy")  # fmt: skip


def moment_comparison(runs: Mapping[str, Any], ness: Mapping[str, Any]) -> pd.DataFrame:
    """Entries of Σ (upper triangle) and of C (strictly upper) measured and predicted, scaled by
    √(Σ_ii Σ_jj) of the theory.

    Parameters
    ----------
    runs : per policy a run whose ``.moments`` has ``cov``, ``cov_se``, ``circulation`` and
        ``circulation_se``.
    ness : per policy the theory (``sigma_chain``, ``sigma``, ``circulation_chain``,
        ``circulation``).

    Returns
    -------
    pandas.DataFrame
        Columns ``policy``, ``quantity`` (Σ or C), ``i``, ``j`` (1-based), ``theory`` (chain),
        ``continuum``, ``measured``, ``se``, ``lo``/``hi`` (± 2 SE) and ``z``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> th = SimpleNamespace(sigma_chain=np.diag([4.0, 1.0]), sigma=np.diag([4.0, 1.0]),
    ...                      circulation_chain=np.array([[0, .2], [-.2, 0]]),
    ...                      circulation=np.array([[0, .2], [-.2, 0]]))
    >>> mo = SimpleNamespace(cov=np.diag([4.4, 1.0]), cov_se=np.full((2, 2), 0.2),
    ...                      circulation=np.array([[0, .3], [-.3, 0]]),
    ...                      circulation_se=np.full((2, 2), 0.1))
    >>> c = moment_comparison({"p": SimpleNamespace(moments=mo)}, {"p": th})
    >>> c[["quantity", "i", "j", "measured", "z"]].round(2).values.tolist()
    [['Σ', 1, 1, 1.1, 2.0], ['Σ', 1, 2, 0.0, 0.0], ['C', 1, 2, 0.15, 1.0], ['Σ', 2, 2, 1.0, 0.0]]
    """
    rows = []
    for name, r in runs.items():
        n_ = ness[name]
        mo = r.moments
        d = len(np.diag(n_.sigma_chain))
        scale = np.sqrt(np.outer(np.diag(n_.sigma_chain), np.diag(n_.sigma_chain)))
        C_meas, C_se = mo.circulation, mo.circulation_se
        for i, j in zip(*np.triu_indices(d), strict=True):
            rows.append(dict(policy=name, quantity="Σ", i=i + 1, j=j + 1,
                             theory=n_.sigma_chain[i, j] / scale[i, j],
                             continuum=n_.sigma[i, j] / scale[i, j],
                             measured=mo.cov[i, j] / scale[i, j], se=mo.cov_se[i, j] / scale[i, j]))  # fmt: skip
            if i < j:
                rows.append(dict(policy=name, quantity="C", i=i + 1, j=j + 1,
                                 theory=n_.circulation_chain[i, j] / scale[i, j],
                                 continuum=n_.circulation[i, j] / scale[i, j],
                                 measured=C_meas[i, j] / scale[i, j], se=C_se[i, j] / scale[i, j]))  # fmt: skip
    cmp = pd.DataFrame(rows)
    cmp["lo"], cmp["hi"] = cmp["measured"] - 2 * cmp["se"], cmp["measured"] + 2 * cmp["se"]
    cmp["z"] = (cmp["measured"] - cmp["theory"]) / cmp["se"]
    return cmp


def comparison_checks(cmp: pd.DataFrame) -> pd.DataFrame:
    """Agreement per policy and quantity: largest ``|z|``, relative Frobenius error against the chain
    and the continuum theory, and ‖theory‖ over the noise of the measurement.

    Examples
    --------
    >>> cmp = pd.DataFrame({"policy": "p", "quantity": "C", "theory": [3.0, 4.0],
    ...                     "continuum": [3.0, 4.0], "measured": [3.0, 4.5], "se": [0.3, 0.4],
    ...                     "z": [0.0, 1.25]})
    >>> comparison_checks(cmp).loc[("p", "C")].round(3).tolist()
    [1.25, 0.1, 0.1, 10.0]
    """
    stat_rows = []
    for name, g in cmp.groupby("policy"):
        for q, gq in g.groupby("quantity"):
            resolved = float(np.linalg.norm(gq["theory"]) / np.sqrt((gq["se"] ** 2).sum()))
            stat_rows.append({
                "policy": name, "quantity": q, "max |z|": float(gq["z"].abs().max()),
                "rel. error (Frobenius)": float(np.linalg.norm(gq["measured"] - gq["theory"])
                                                / np.linalg.norm(gq["theory"])),
                "continuum rel. error": float(np.linalg.norm(gq["measured"] - gq["continuum"])
                                              / np.linalg.norm(gq["continuum"])),
                "‖theory‖ / noise": resolved,
            })  # fmt: skip
    return pd.DataFrame(stat_rows).set_index(["policy", "quantity"])


def mean_shift(runs: Mapping[str, Any], ness: Mapping[str, Any]) -> dict[str, float]:
    """Largest abs(measured mean − predicted mean) in stationary standard deviations, per policy.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> th = SimpleNamespace(mean=np.zeros(2), sigma_chain=np.diag([4.0, 1.0]))
    >>> run = SimpleNamespace(moments=SimpleNamespace(mean=np.array([1.0, 0.25])))
    >>> mean_shift({"p": run}, {"p": th})
    {'p': 0.5}
    """
    return {
        k: float(
            np.max(np.abs(r.moments.mean - ness[k].mean) / np.sqrt(np.diag(ness[k].sigma_chain)))
        )
        for k, r in runs.items()
    }
