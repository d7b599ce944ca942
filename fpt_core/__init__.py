"""fpt_core: training as a statistical-mechanical process — first passage, perturbation, Langevin
sampling, heavy-tailed spectra and the edge of chaos.

The package is layered (each layer imports only those before it; ``stats`` needs no PyTorch):

- :mod:`fpt_core.train` — configuration, data, models, the batched engine, the results store,
  Dask scale-out and the reference loop;
- :mod:`fpt_core.protocols` — perturbation protocols and TempBalance, for the engine and for
  plain PyTorch loops;
- :mod:`fpt_core.stats` — first passage, survival, QSS, restart predictions (any training log);
- :mod:`fpt_core.spectra` — weight spectra, power-law fits, FARMS, layer alphas;
- :mod:`fpt_core.dynamics` — Lyapunov exponents, Jacobians, phase grids;
- :mod:`fpt_core.langevin` — samplers, exact chains, entropy production;
- :mod:`fpt_core.book` — what only the book's notebooks use.

The most used entry points are importable from here; each is loaded on first use, so
``from fpt_core import first_passage`` does not import PyTorch.

Examples
--------
>>> import numpy as np
>>> from fpt_core import first_passage, mean_fpt
>>> acc = np.array([[0.2, 0.6, 0.9], [0.1, 0.3, 0.4]])  # two runs, three evaluations
>>> fp = first_passage(acc, 0.5)
>>> fp.times.tolist(), fp.observed.tolist()
([2.0, 3.0], [True, False])
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "TrainConfig": "fpt_core.train.config",
    "run_ensemble": "fpt_core.train.runner",
    "Store": "fpt_core.train.store",
    "first_passage": "fpt_core.stats.fpt",
    "survival": "fpt_core.stats.fpt",
    "hazard": "fpt_core.stats.fpt",
    "mean_fpt": "fpt_core.stats.fpt",
    "median_fpt": "fpt_core.stats.median",
    "logrank": "fpt_core.stats.logrank",
    "load_runs": "fpt_core.stats.logs",
    "ks_relaxation": "fpt_core.stats.qss",
    "qss_onset": "fpt_core.stats.survivors",
    "predict_mean_fpt": "fpt_core.stats.restart",
    "optimal_tau": "fpt_core.stats.restart",
    "layer_alphas": "fpt_core.spectra.layers",
    "lyapunov_benettin": "fpt_core.dynamics.lyapunov",
    "sgld": "fpt_core.langevin.samplers",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fpt_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
