"""Training configurations from a notebook's resolved preset.

A notebook resolves its preset into a dict ``P`` (:func:`fpt_core.book.presets.resolve`) with the
knobs ``dataset``, ``num_samples``, ``model``, ``hidden`` (MLP widths), ``lr``, ``momentum``,
``batch_size`` and ``epochs``; :func:`preset_config` turns it into the
:class:`fpt_core.train.config.TrainConfig` of an unperturbed run, and :func:`shrink_perturb_config`
adds shrink & perturb. Both validate on construction, so a notebook calling them right after
resolving its preset stops before any training.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fpt_core.train.config import TrainConfig

__all__ = ["preset_config", "shrink_perturb_config"]


def preset_config(P: Mapping[str, Any]) -> TrainConfig:
    """The unperturbed run's configuration (``hidden`` is passed to the model only for an MLP).

    Examples
    --------
    >>> P = dict(dataset="mnist1d", num_samples=2000, model="mlp", hidden=[256], lr=0.05,
    ...          momentum=0.9, batch_size=100, epochs=30)
    >>> c = preset_config(P)
    >>> c.model_kwargs, c.epochs, c.perturbation
    ({'hidden': [256]}, 30, None)
    >>> preset_config({**P, "lr": -0.1})
    Traceback (most recent call last):
    ...
    ValueError: lr=-0.1 must be ...
    """
    return TrainConfig(
        dataset=P["dataset"],
        num_samples=P["num_samples"],
        model=P["model"],
        model_kwargs={"hidden": P["hidden"]} if P["model"] == "mlp" else {},
        lr=P["lr"],
        momentum=P["momentum"],
        batch_size=P["batch_size"],
        epochs=P["epochs"],
    )


def shrink_perturb_config(
    base: TrainConfig, *, tau: float, schedule: str, lam: float, sigma: float
) -> TrainConfig:
    """``base`` with shrink & perturb (θ ← λθ + σθ_fresh, batch-norm statistics shrunk,
    momentum reset) at ``tau``: once (``schedule="once"``) or every ``tau`` (``"periodic"``).

    The perturbation spec is part of the run's store key.

    Examples
    --------
    >>> base = TrainConfig(epochs=30)
    >>> c = shrink_perturb_config(base, tau=10, schedule="once", lam=0.4, sigma=0.1)
    >>> c.perturbation["kind"], c.perturbation["tau"], c.epochs
    ('shrink_perturb', 10, 30)
    """
    spec = dict(kind="shrink_perturb", lam=lam, sigma=sigma, batchnorm="shrink",
                reset_momentum=True, schedule=schedule, tau=tau)  # fmt: skip
    return TrainConfig(**{**base.to_dict(), "perturbation": spec})
