"""When does a warm restart reach the target: inside its annealing cycle or after it?

A warm restart perturbs the learning rate, not the weights. If the runs it helps reach the
target while the rate is still annealed below its base value, its gain is a learning-rate
schedule effect.
"""

from __future__ import annotations

import numpy as np

from fpt_core.stats.fpt import FirstPassage
from fpt_core.stats.restart import post_perturbation


def anneal_share(
    fp: FirstPassage | None, tau0: float, cycle: float
) -> tuple[float | None, dict[str, str]]:
    """Share of first passages after the perturbation at ``tau0`` within ``cycle`` epochs of it.

    Parameters
    ----------
    fp : FirstPassage or None
        The ensemble perturbed once at ``tau0``; None when no warm restart was run (share None,
        texts "—").
    tau0 : float
        The perturbation time.
    cycle : float
        The annealing cycle length (epochs).

    Returns
    -------
    share : float or None
        The share (NaN if no survivor reaches the target, None without ``fp``).
    texts : dict of str to str
        ``warm_hit`` ("k of n" survivors at τ0 that reach the target) and ``warm_share`` (%).

    Examples
    --------
    >>> t = np.array([5.0, 12.0, 14.0, 30.0, 40.0])
    >>> share, texts = anneal_share(FirstPassage(t, t < 40, 40.0), 10.0, 5.0)
    >>> share, texts
    (0.6666666666666666, {'warm_hit': '3 of 4', 'warm_share': '67%'})
    >>> anneal_share(None, 10.0, 5.0)
    (None, {'warm_hit': '—', 'warm_share': '—'})
    """
    if fp is None:
        return None, {"warm_hit": "—", "warm_share": "—"}
    tp = post_perturbation(fp, tau0, schedule="once")
    hit = tp.times[tp.observed]
    share = float(np.mean(hit <= cycle)) if hit.size else float("nan")
    return share, {"warm_hit": f"{hit.size} of {tp.n}", "warm_share": f"{share:.0%}"}
