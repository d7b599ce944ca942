"""Tables of the entropy production of stationary SGD chains and of their linear-Gaussian
surrogates: mean, fluctuation-theorem averages and detailed-fluctuation slopes per window, the
distribution of σ and the points of ln P(σ)/P(−σ).

The statistics are accumulated by :func:`fpt_core.langevin.noneq.simulate_ness` and
:func:`fpt_core.langevin.entropy.surrogate_entropy` (run per case by :func:`surrogate_table`);
this module lays them out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fpt_core.langevin import entropy

__all__ = ["entropy_table", "sigma_distributions", "surrogate_rows", "surrogate_table"]


def entropy_table(
    runs: Mapping[str, Any], ness: Mapping[str, Any], wor_ep_se: float
) -> pd.DataFrame:
    """Per policy and window k: ⟨σ⟩ with SE against k times the continuum and chain theory,
    Var σ / 2, ⟨e^−σ⟩ with SE, and the DFT slope with SE.

    Parameters
    ----------
    runs : per policy a run whose ``.ep`` lists per window ``window``, ``mean``, ``mean_se``,
        ``var``, ``ift``, ``ift_se``, ``dft_slope``, ``dft_slope_se``.
    ness : per policy the theory (``ep_mean``, ``ep_mean_chain``).
    wor_ep_se : Monte Carlo SE of the without-replacement theory per record (zero error for
        other policies).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> e = dict(window=2, mean=0.2, mean_se=0.01, var=0.4, ift=1.0, ift_se=0.01, dft_slope=1.0,
    ...          dft_slope_se=0.02)
    >>> t = entropy_table({"without replacement": SimpleNamespace(ep=[e])},
    ...                   {"without replacement": SimpleNamespace(ep_mean=0.1, ep_mean_chain=0.11)},
    ...                   0.005)
    >>> t[["theory", "theory (chain)", "SE(theory)", "Var/2"]].round(3).values.tolist()
    [[0.2, 0.22, 0.01, 0.2]]
    """
    rows = []
    for name, r in runs.items():
        for e in r.ep:
            k = e["window"]
            rows.append({
                "policy": name, "k": k, "⟨σ⟩": e["mean"], "SE": e["mean_se"],
                "theory": k * ness[name].ep_mean, "theory (chain)": k * ness[name].ep_mean_chain,
                "SE(theory)": k * (wor_ep_se if name == "without replacement" else 0.0),
                "Var/2": e["var"] / 2, "⟨e^−σ⟩": e["ift"], "SE(IFT)": e["ift_se"],
                "DFT slope": e["dft_slope"], "SE(slope)": e["dft_slope_se"],
            })  # fmt: skip
    return pd.DataFrame(rows)


def sigma_distributions(runs: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The density of σ per policy and window, and the points of ln P(σ)/P(−σ) with ± 2 SE.

    Parameters
    ----------
    runs : per policy a run whose ``.entropy`` has ``windows``, ``hist[k]`` (counts per chain
        group and bin), ``edges[k]`` and ``dft_points(k)`` → (σ, log ratio, SE).

    Returns
    -------
    (hist, dft) : pandas.DataFrame
        ``policy``, ``k`` (``"1-step"``, …), ``σ`` and ``P(σ)``; ``policy``, ``k``, ``σ``,
        ``ln P(σ)/P(−σ)``, ``lo``, ``hi``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> ent = SimpleNamespace(windows=[1], hist={1: np.array([[1, 3], [1, 3]])},
    ...                       edges={1: np.array([-1.0, 0.0, 1.0])},
    ...                       dft_points=lambda k: ([0.5], [0.4], [0.1]))
    >>> hist, dft = sigma_distributions({"p": SimpleNamespace(entropy=ent)})
    >>> hist["P(σ)"].tolist(), dft[["lo", "hi"]].values.round(2).tolist()
    ([0.25, 0.75], [[0.2, 0.6]])
    """
    hist_rows, dft_rows = [], []
    for name, r in runs.items():
        ent = r.entropy
        for k in ent.windows:
            counts, edges = ent.hist[k].sum(0), ent.edges[k]
            dens = counts / counts.sum() / np.diff(edges)
            for c, d_ in zip(0.5 * (edges[1:] + edges[:-1]), dens, strict=True):
                hist_rows.append({"policy": name, "k": f"{k}-step", "σ": c, "P(σ)": d_})
            x, y, se = ent.dft_points(k)
            for a, b, s in zip(x, y, se, strict=True):
                dft_rows.append({"policy": name, "k": f"{k}-step", "σ": a, "ln P(σ)/P(−σ)": b,
                                 "lo": b - 2 * s, "hi": b + 2 * s})  # fmt: skip
    return pd.DataFrame(hist_rows), pd.DataFrame(dft_rows)


def surrogate_rows(
    out: Mapping[str, list[dict[str, Any]]], policy: str, lr: float, k_matrix: np.ndarray
) -> list[dict[str, Any]]:
    """Rows of one surrogate case: per functional and window, ⟨σ⟩, ⟨e^−σ⟩ with SE and the DFT
    slope with SE, next to the largest ``|eigenvalue|`` of the drift matrix per record.

    Examples
    --------
    >>> e = dict(window=1, mean=0.1, ift=1.0, ift_se=0.01, dft_slope=1.0, dft_slope_se=0.1)
    >>> r = surrogate_rows({"exact": [e]}, "p", 1e-3, np.diag([0.5, -0.75]))
    >>> r[0]["max |eig K| per record"], r[0]["functional"], r[0]["η"]
    (0.75, 'exact', 0.001)
    """
    eig = float(np.abs(np.linalg.eigvals(k_matrix)).max())
    return [{
        "policy": policy, "η": lr, "max |eig K| per record": eig, "functional": fn,
        "k": e["window"], "⟨σ⟩": e["mean"], "⟨e^−σ⟩": e["ift"], "SE(IFT)": e["ift_se"],
        "DFT slope": e["dft_slope"], "SE(slope)": e["dft_slope_se"],
    } for fn, rows_ in out.items() for e in rows_]  # fmt: skip


def surrogate_table(
    cases: Mapping[tuple[str, float], Any], *, n_chains: int, steps: int, n_groups: int, seed: int
) -> pd.DataFrame:
    """Simulate the linear-Gaussian surrogate of each case from its stationary law and tabulate
    both functionals (:func:`fpt_core.langevin.entropy.surrogate_entropy`, every case with the
    same ``seed``): the rows of :func:`surrogate_rows` plus ``z(IFT)`` = (⟨e^−σ⟩ − 1)/SE.

    Parameters
    ----------
    cases : per (policy, η) a linear NESS (``K``, ``D``, ``functional``).
    n_chains, steps, n_groups, seed : of each surrogate simulation.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> n = SimpleNamespace(K=0.05 * np.array([[1.0, 0.5], [-0.5, 1.0]]), D=0.01 * np.eye(2),
    ...                     functional=np.zeros((2, 2)))
    >>> t = surrogate_table({("p", 0.1): n}, n_chains=16, steps=50, n_groups=4, seed=0)
    >>> sorted(set(t["functional"])), float(t.loc[t["functional"] == "continuum", "⟨e^−σ⟩"].iloc[0])
    (['continuum', 'exact'], 1.0)
    """
    rows = []
    for (policy, lr), n_ in cases.items():
        out = entropy.surrogate_entropy(n_.K, n_.D, n_.functional, n_chains=n_chains, steps=steps,
                                        n_groups=n_groups, seed=seed)  # fmt: skip
        rows += surrogate_rows(out, policy, lr, n_.K)
    sur = pd.DataFrame(rows)
    sur["z(IFT)"] = (sur["⟨e^−σ⟩"] - 1) / sur["SE(IFT)"]
    return sur
