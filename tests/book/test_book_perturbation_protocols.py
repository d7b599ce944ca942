"""fpt_core.book.perturbation_protocols: specs, configs and parameter checks."""

import doctest

import pytest

from fpt_core.book import perturbation_protocols as pp
from fpt_core.train.store import run_key

P = dict(
    target=0.55, sweep_targets=[0.5], epochs=30, tau0=10, reset_tau=20, sp_taus=[12, 16],
    short_horizon=30, sp_short_taus=[5], short_runs=24, protocols=["shrink_perturb", "reset"],
    n_perturbed=24, lam=0.4, sigma=0.1, partial_f=0.25, warm_cycle=5, warm_floor=0.05,
    dataset="mnist1d", num_samples=2000, model="mlp", hidden=[256], lr=0.05, momentum=0.9,
    batch_size=100,
)  # fmt: skip
OK = dict(alpha=0.05, confidence_level=0.95, min_survivors=10, n_resamples=99)


def test_docstring_examples_run():
    res = doctest.testmod(pp, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_a_valid_preset_passes():
    pp.check_parameters(P, **OK)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(target=1.5), "target=1.5 must lie in [0, 1]"),
        (dict(sweep_targets=[0.5, -1]), "sweep_targets[1]=-1 must lie in [0, 1]"),
        (dict(tau0=30), "tau0=30 must be a number of epochs in (0, epochs=30)"),
        (dict(sp_taus=[12, 40]), "sp_taus[1]=40 must be a number of epochs"),
        (dict(short_horizon=31), "short_horizon=31 must be an integer in (0, epochs]"),
        (dict(sp_short_taus=[30]), "sp_short_taus[0]=30 must lie in (0, short_horizon)"),
        (dict(short_runs=1), "short_runs=1 must be an integer ≥ 2"),
        (dict(sp_taus=[10, 12]), "must be distinct, non-empty, without tau0"),
        (dict(protocols=["reset", "bogus"]), "must be a non-empty subset of"),
        (dict(protocols=["reset"]), "protocols must include shrink_perturb"),
        (dict(n_perturbed=1), "n_perturbed=1 must be an integer ≥ 2"),
    ],
)
def test_each_bad_value_is_named(change, message):
    with pytest.raises(ValueError, match=None) as err:
        pp.check_parameters({**P, **change}, **OK)
    assert message in str(err.value)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(alpha=1.5), "alpha=1.5 must lie in (0, 1)"),
        (dict(confidence_level=0), "confidence_level=0 must lie in (0, 1)"),
        (dict(min_survivors=1), "min_survivors=1 must be an integer ≥ 2"),
        (dict(n_resamples=0), "n_resamples=0 must be an integer ≥ 1"),
    ],
)
def test_bad_statistics_knobs_are_named(change, message):
    with pytest.raises(ValueError) as err:
        pp.check_parameters(P, **{**OK, **change})
    assert message in str(err.value)


def test_configs_carry_the_spec_and_the_same_store_key_as_a_hand_built_one():
    base = pp.base_config(P)
    assert base.model_kwargs == {"hidden": [256]} and base.epochs == 30
    assert pp.base_config({**P, "model": "resnet18"}).model_kwargs == {}
    specs = pp.protocol_specs(P)
    assert set(specs) == set(pp.ALL_PROTOCOLS) == set(pp.EFFECT)
    assert specs["shrink_perturb"]["lam"] == 0.4 and specs["warm_restart"]["floor"] == 0.05
    c = pp.perturbed_config(base, specs["shrink_perturb"], 12, "periodic", epochs=20)
    hand = {**base.to_dict(), "epochs": 20,
            "perturbation": {**specs["shrink_perturb"], "schedule": "periodic", "tau": 12}}  # fmt: skip
    assert run_key(c.to_dict(), 3, "v") == run_key(hand, 3, "v")
    assert c.epochs == 20 and base.epochs == 30  # base is not changed
    with pytest.raises((ValueError, TypeError)):
        pp.perturbed_config(base, {**specs["partial_reset"], "f": 2.0}, 10, "once")


def test_configs_validate_only_the_chosen_protocols():
    base, specs = pp.configs({**P, "partial_f": 0.0})  # partial_reset not among the protocols
    assert base == pp.base_config(P) and specs["partial_reset"]["f"] == 0.0
    with pytest.raises(ValueError, match="f=0.0 must be"):
        pp.configs({**P, "partial_f": 0.0, "protocols": ["shrink_perturb", "partial_reset"]})
    with pytest.raises(ValueError, match="alpha=1.5 must lie in"):  # the checks come first
        pp.configs({**P, "partial_f": 0.0}, **{**OK, "alpha": 1.5})
    assert pp.configs(P, **OK)[0] == base


def test_train_protocols_uses_the_pages_seeds_and_configs(monkeypatch):
    calls = []

    def fake_run_ensemble(config, seeds, **kw):
        seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
        calls.append((config, seeds, kw))
        return len(calls) - 1  # which call made this ensemble

    monkeypatch.setattr(pp, "run_ensemble", fake_run_ensemble)
    p = {**P, "n_runs": 5, "n_perturbed": 3, "short_runs": 2, "sp_taus": [12, 16],
         "sp_short_taus": [4, 6], "short_horizon": 20}  # fmt: skip
    base, specs = pp.configs(p)
    runs = pp.train_protocols(base, specs, p, store="x", progress=True)
    assert calls[0][0] == base and calls[0][1] == [0, 1, 2, 3, 4]
    assert all(kw == {"store": "x", "progress": False} for _, _, kw in calls)
    assert list(runs.once) == ["shrink_perturb"] and calls[runs.once["shrink_perturb"]][1] == [
        10_000, 10_001, 10_002]  # fmt: skip
    assert list(runs.periodic) == [10, 12, 16]
    for j, tau in enumerate([10, 12, 16]):
        config, seeds, _ = calls[runs.periodic[tau]]
        assert seeds[0] == 10_000 * (j + 2) and len(seeds) == 3
        want = {**specs["shrink_perturb"], "schedule": "periodic", "tau": tau}
        assert config.perturbation == want
    config, seeds, _ = calls[runs.short[6]]
    assert seeds == [201_000, 201_001] and config.epochs == 20 and config.perturbation["tau"] == 6
    config, seeds, _ = calls[runs.reset]
    assert seeds[0] == 90_000 and config.perturbation["kind"] == "reset"
    assert config.perturbation["tau"] == p["reset_tau"] and config.epochs == p["epochs"]
    assert runs.all == list(range(len(calls)))
    assert [label for label, _ in runs.labelled(20)] == [
        "unperturbed", "shrink_perturb, once at τ0", "reset every 20"]  # fmt: skip
    no_reset = {**p, "protocols": ["shrink_perturb"]}
    assert pp.train_protocols(base, specs, no_reset).reset is None
