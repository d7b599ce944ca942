"""The four perturbation protocols compared for their optimal period, and their parameters.

Shrink & perturb, a full reset to a fresh draw, a partial reset and a warm restart of the
learning rate (:mod:`fpt_core.protocols.perturb`): their perturbation specs (part of each run's store
key), what each one perturbs, the training config of a protocol applied once or every τ, and the
checks of a preset's parameters, run before anything is trained.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fpt_core.train.config import TrainConfig
from fpt_core.train.runner import EnsembleResult, run_ensemble

ALL_PROTOCOLS = ("shrink_perturb", "reset", "partial_reset", "warm_restart")
EFFECT = {"shrink_perturb": "weights", "reset": "weights (restart)",
          "partial_reset": "weights", "warm_restart": "learning-rate schedule"}  # fmt: skip


def protocol_specs(p: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The perturbation spec of each protocol, from a preset's knobs.

    Parameters
    ----------
    p : mapping
        ``lam`` and ``sigma`` (shrink & perturb), ``partial_f`` (partial reset),
        ``warm_cycle`` and ``warm_floor`` (warm restart).

    Returns
    -------
    dict
        Protocol name → spec without ``schedule`` and ``tau`` (see :func:`perturbed_config`).

    Examples
    --------
    >>> s = protocol_specs(dict(lam=0.4, sigma=0.1, partial_f=0.25, warm_cycle=5, warm_floor=0.05))
    >>> s["reset"], s["partial_reset"]["f"], s["warm_restart"]["reset_momentum"]
    ({'kind': 'reset', 'to': 'fresh'}, 0.25, False)
    """
    return {
        "shrink_perturb": dict(kind="shrink_perturb", lam=p["lam"], sigma=p["sigma"],
                               batchnorm="shrink", reset_momentum=True),
        "reset": dict(kind="reset", to="fresh"),
        "partial_reset": dict(kind="partial_reset", f=p["partial_f"], reset_momentum=True),
        "warm_restart": dict(kind="warm_restart", cycle=p["warm_cycle"], peak=1.0,
                             floor=p["warm_floor"], reset_momentum=False),
    }  # fmt: skip


def perturbed_config(
    base: TrainConfig, spec: Mapping[str, Any], tau: float, schedule: str, **changes: Any
) -> TrainConfig:
    """``base`` perturbed by ``spec`` at ``tau``, ``schedule`` "once" or "periodic".

    The spec is part of the run's store key; ``changes`` override fields of ``base`` (e.g. a
    shorter ``epochs``). Building the config validates the spec.

    Examples
    --------
    >>> base = TrainConfig(dataset="mnist1d", num_samples=2000, model="mlp",
    ...                    model_kwargs={"hidden": [256]}, epochs=30)
    >>> c = perturbed_config(base, {"kind": "reset", "to": "fresh"}, 10, "periodic", epochs=20)
    >>> c.epochs, c.perturbation["tau"], c.perturbation["schedule"]
    (20, 10, 'periodic')
    """
    spec = {**spec, "schedule": schedule, "tau": tau}
    return TrainConfig(**{**base.to_dict(), **changes, "perturbation": spec})


def check_parameters(
    p: Mapping[str, Any],
    *,
    alpha: float,
    confidence_level: float,
    min_survivors: int,
    n_resamples: int,
) -> None:
    """Raise ``ValueError``, naming the parameter, at the first value of a preset out of range.

    Parameters
    ----------
    p : mapping
        The resolved preset: ``target``, ``sweep_targets``, ``epochs``, ``tau0``, ``reset_tau``,
        ``sp_taus``, ``short_horizon``, ``sp_short_taus``, ``short_runs``, ``protocols``,
        ``n_perturbed``.
    alpha, confidence_level : float
        Must lie in (0, 1).
    min_survivors, n_resamples : int
        At least 2 and 1.

    Examples
    --------
    >>> p = dict(target=1.5, sweep_targets=[])
    >>> check_parameters(p, alpha=0.05, confidence_level=0.95, min_survivors=10, n_resamples=9)
    Traceback (most recent call last):
    ...
    ValueError: target=1.5 must lie in [0, 1]
    """
    for i, a in enumerate([p["target"], *p["sweep_targets"]]):
        if not (isinstance(a, (int, float)) and 0.0 <= a <= 1.0):
            name = "target" if i == 0 else f"sweep_targets[{i - 1}]"
            raise ValueError(f"{name}={a!r} must lie in [0, 1]")
    for name, value in [("tau0", p["tau0"]), ("reset_tau", p["reset_tau"])] + [
        (f"sp_taus[{i}]", t) for i, t in enumerate(p["sp_taus"])
    ]:
        if not (isinstance(value, (int, float)) and 0 < value < p["epochs"]):
            raise ValueError(
                f"{name}={value!r} must be a number of epochs in (0, epochs={p['epochs']})"
            )
    if not (isinstance(p["short_horizon"], int) and 0 < p["short_horizon"] <= p["epochs"]):
        raise ValueError(f"short_horizon={p['short_horizon']!r} must be an integer in (0, epochs]")
    for i, t in enumerate(p["sp_short_taus"]):
        if not (isinstance(t, (int, float)) and 0 < t < p["short_horizon"]):
            raise ValueError(f"sp_short_taus[{i}]={t!r} must lie in (0, short_horizon)")
    if not isinstance(p["short_runs"], int) or p["short_runs"] < 2:
        raise ValueError(f"short_runs={p['short_runs']!r} must be an integer ≥ 2")
    if len(set(p["sp_taus"])) != len(p["sp_taus"]) or p["tau0"] in p["sp_taus"] or not p["sp_taus"]:
        raise ValueError(f"sp_taus={p['sp_taus']} must be distinct, non-empty, without tau0")
    if not p["protocols"] or set(p["protocols"]) - set(ALL_PROTOCOLS):
        raise ValueError(
            f"protocols={p['protocols']} must be a non-empty subset of {ALL_PROTOCOLS}"
        )
    if "shrink_perturb" not in p["protocols"]:
        raise ValueError(
            "protocols must include shrink_perturb (the paper's protocol, the premise)"
        )
    if not isinstance(p["n_perturbed"], int) or p["n_perturbed"] < 2:
        raise ValueError(f"n_perturbed={p['n_perturbed']!r} must be an integer ≥ 2")
    for name, value in (("alpha", alpha), ("confidence_level", confidence_level)):
        if not 0 < value < 1:
            raise ValueError(f"{name}={value} must lie in (0, 1)")
    if not isinstance(min_survivors, int) or min_survivors < 2:
        raise ValueError(f"min_survivors={min_survivors!r} must be an integer ≥ 2")
    if not isinstance(n_resamples, int) or n_resamples < 1:
        raise ValueError(f"n_resamples={n_resamples!r} must be an integer ≥ 1")


def base_config(p: Mapping[str, Any]) -> TrainConfig:
    """The unperturbed training config of a preset (``hidden`` is passed to an MLP only).

    Examples
    --------
    >>> c = base_config(dict(dataset="mnist1d", num_samples=2000, model="mlp", hidden=[256],
    ...                      lr=0.05, momentum=0.9, batch_size=100, epochs=30))
    >>> c.model_kwargs, c.epochs
    ({'hidden': [256]}, 30)
    """
    return TrainConfig(
        dataset=p["dataset"], num_samples=p["num_samples"], model=p["model"],
        model_kwargs={"hidden": p["hidden"]} if p["model"] == "mlp" else {}, lr=p["lr"],
        momentum=p["momentum"], batch_size=p["batch_size"], epochs=p["epochs"],
    )  # fmt: skip


def configs(p: Mapping[str, Any], **checks: Any) -> tuple[TrainConfig, dict[str, dict[str, Any]]]:
    """The unperturbed config and the protocols' specs of a preset, every protocol of
    ``p["protocols"]`` validated (built once at ``tau0``) before anything is trained.

    With ``checks`` (``alpha``, ``confidence_level``, ``min_survivors``, ``n_resamples``), the
    preset's values are checked first by :func:`check_parameters`.

    Examples
    --------
    >>> p = dict(dataset="mnist1d", num_samples=2000, model="mlp", hidden=[256], lr=0.05,
    ...          momentum=0.9, batch_size=100, epochs=30, lam=0.4, sigma=0.1, partial_f=0.25,
    ...          warm_cycle=5, warm_floor=0.05, tau0=10, protocols=["reset", "partial_reset"])
    >>> base, specs = configs(p)
    >>> base.epochs, sorted(specs)[:2]
    (30, ['partial_reset', 'reset'])
    >>> configs({**p, "partial_f": 0.0})
    Traceback (most recent call last):
    ...
    ValueError: f=0.0 must be a finite number in (0, 1]
    """
    if checks:
        check_parameters(p, **checks)
    base, specs = base_config(p), protocol_specs(p)
    for name in p["protocols"]:
        perturbed_config(base, specs[name], p["tau0"], "once")
    return base, specs


@dataclass(frozen=True)
class ProtocolRuns:
    """The ensembles of the optimal-perturbation page (see :func:`train_protocols`)."""

    unperturbed: EnsembleResult
    once: dict[str, EnsembleResult]
    periodic: dict[float, EnsembleResult]
    short: dict[float, EnsembleResult]
    reset: EnsembleResult | None

    @property
    def all(self) -> list[EnsembleResult]:
        """Every ensemble, the unperturbed one first and the reset's (if any) last."""
        rest = [*self.once.values(), *self.periodic.values(), *self.short.values()]
        return [self.unperturbed, *rest] + [self.reset] * (self.reset is not None)

    def labelled(self, reset_tau: float) -> list[tuple[str, EnsembleResult]]:
        """``(label, ensemble)`` of the unperturbed runs, each protocol once at τ0 and the reset
        (if any), for :func:`fpt_core.book.viz.ensemble_means_chart`."""
        once = [(f"{n}, once at τ0", e) for n, e in self.once.items()]
        reset = [(f"reset every {reset_tau:g}", self.reset)] * (self.reset is not None)
        return [("unperturbed", self.unperturbed), *once, *reset]


def train_protocols(
    base: TrainConfig, specs: Mapping[str, Mapping[str, Any]], p: Mapping[str, Any], **run_kw: Any
) -> ProtocolRuns:
    """Train (or read from the store) every ensemble of a preset, with common random numbers.

    Seeds: the unperturbed runs ``0 … n_runs-1`` (notebooks 01–02's); each protocol but the
    reset perturbed once at ``tau0``, seeds from 10 000; shrink & perturb every τ of
    ``[tau0, *sp_taus]``, the j-th from 10 000·(j + 2) (notebook 02's runs, reused); the
    short-period ensembles (``sp_short_taus``, ``short_runs`` runs cut at ``short_horizon``)
    from 200 000 + 1000·j; the reset every ``reset_tau`` from 90 000 (if ``reset`` is among
    the protocols). Every perturbed ensemble but the short ones has ``n_perturbed`` runs.

    Parameters
    ----------
    base, specs
        :func:`configs`.
    p : mapping
        The resolved preset.
    **run_kw
        Passed to :func:`fpt_core.train.runner.run_ensemble` (``progress`` is off).

    Returns
    -------
    ProtocolRuns
    """
    run_kw = {**run_kw, "progress": False}
    n_p = p["n_perturbed"]

    def train(name: str, tau: float, schedule: str, seed0: int, n: int, **changes: Any):
        config = perturbed_config(base, specs[name], tau, schedule, **changes)
        return run_ensemble(config, range(seed0, seed0 + n), **run_kw)

    unperturbed = run_ensemble(base, p["n_runs"], **run_kw)
    once = {n: train(n, p["tau0"], "once", 10_000, n_p) for n in p["protocols"] if n != "reset"}
    periodic = {tau: train("shrink_perturb", tau, "periodic", 10_000 * (j + 2), n_p)
                for j, tau in enumerate([p["tau0"], *p["sp_taus"]])}  # fmt: skip
    short = {tau: train("shrink_perturb", tau, "periodic", 200_000 + 1000 * j, p["short_runs"],
                        epochs=p["short_horizon"]) for j, tau in enumerate(p["sp_short_taus"])}  # fmt: skip
    reset = train("reset", p["reset_tau"], "periodic", 90_000, n_p) if "reset" in p["protocols"] else None  # fmt: skip
    return ProtocolRuns(unperturbed, once, periodic, short, reset)
