r"""k-sample log-rank test: do right-censored first-passage times of k ensembles share one law?

At each distinct event time :math:`t_j` let :math:`n_{gj}` runs of ensemble :math:`g` be at risk
(:math:`T \ge t_j`; a run censored at :math:`t_j` is still at risk there) and :math:`d_{gj}` of
them reach the target, with totals :math:`n_j, d_j`. Under the null hypothesis that every
ensemble has the same hazard, ensemble :math:`g` expects :math:`E_g = \sum_j d_j n_{gj}/n_j` of
its :math:`O_g = \sum_j d_{gj}` events, and

.. math::

    V_{gh} = \sum_j d_j \frac{n_{gj}}{n_j}\left(\delta_{gh} - \frac{n_{hj}}{n_j}\right)
             \frac{n_j - d_j}{n_j - 1},
    \qquad
    \chi^2 = (O - E)^\top V^{-} (O - E) \sim \chi^2_{k-1}

(the first k − 1 ensembles; the last is determined since :math:`\sum_g (O_g - E_g) = 0`). The
factor :math:`(n_j - d_j)/(n_j - 1)` corrects for tied times, as on an epoch grid. For k = 2 this
is the square of the statistic of :func:`scipy.stats.logrank`.

Reference: Peto & Peto, J. R. Stat. Soc. A 135, 185 (1972); Klein & Moeschberger, *Survival
Analysis* (2003), §7.3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from fpt_core.stats.fpt import FirstPassage

__all__ = ["LogRank", "logrank"]


@dataclass(frozen=True)
class LogRank:
    """Result of :func:`logrank`: ``statistic`` (χ²), ``dof`` (k − 1), ``pvalue``, and per
    ensemble the ``observed`` and ``expected`` numbers of first passages."""

    statistic: float
    dof: int
    pvalue: float
    observed: np.ndarray
    expected: np.ndarray


def logrank(*samples: FirstPassage) -> LogRank:
    """Test that k ≥ 2 ensembles of first-passage times (:class:`fpt_core.stats.fpt.FirstPassage`,
    e.g. T_p after perturbations at different periods τ) have the same survival function.

    Examples
    --------
    >>> import numpy as np
    >>> from fpt_core.stats.fpt import FirstPassage
    >>> rng = np.random.default_rng(0)
    >>> same = [FirstPassage(rng.exponential(10, 200), np.ones(200, bool), 1e9) for _ in range(3)]
    >>> logrank(*same).pvalue > 0.01
    True
    """
    if len(samples) < 2 or not all(isinstance(s, FirstPassage) for s in samples):
        raise ValueError(f"samples must be ≥ 2 FirstPassage objects, got {len(samples)} arguments")
    if any(s.n_observed == 0 for s in samples):
        raise ValueError("every sample needs at least one observed first passage")
    k = len(samples)
    event_times = np.unique(np.concatenate([s.times[s.observed] for s in samples]))
    # at risk (T ≥ t_j) and events at t_j, per sample and event time: (k, J)
    n = np.stack([(s.times[:, None] >= event_times).sum(0) for s in samples]).astype(float)
    d = np.stack([(s.times[s.observed][:, None] == event_times).sum(0) for s in samples]).astype(
        float
    )
    n_tot, d_tot = n.sum(0), d.sum(0)
    share = n / n_tot
    observed, expected = d.sum(1), (d_tot * share).sum(1)
    tie = np.divide(n_tot - d_tot, n_tot - 1, out=np.zeros_like(n_tot), where=n_tot > 1)
    w = d_tot * tie
    V = np.einsum("j,gj,hj->gh", w, share, -share)
    V[np.diag_indices(k)] += (w * share).sum(1)
    diff = (observed - expected)[: k - 1]
    stat = float(diff @ np.linalg.pinv(V[: k - 1, : k - 1]) @ diff)
    return LogRank(stat, k - 1, float(stats.chi2.sf(stat, k - 1)), observed, expected)
