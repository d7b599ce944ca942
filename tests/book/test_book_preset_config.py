"""fpt_core.book.preset_config: a preset becomes the run configuration, and shrink & perturb is
added as the store key expects."""

import doctest

import pytest

from fpt_core.book import preset_config as module
from fpt_core.book.preset_config import preset_config, shrink_perturb_config
from fpt_core.train.config import TrainConfig

P = dict(dataset="mnist1d", num_samples=2000, model="mlp", hidden=[256], lr=0.05, momentum=0.9,
         batch_size=100, epochs=120, n_runs=256)  # fmt: skip


def test_docstring_examples():
    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_preset_config_copies_every_knob():
    c = preset_config(P)
    assert c == TrainConfig(dataset="mnist1d", num_samples=2000, model="mlp",
                            model_kwargs={"hidden": [256]}, lr=0.05, momentum=0.9,
                            batch_size=100, epochs=120)  # fmt: skip
    assert preset_config({**P, "model": "cnn", "hidden": None}).model_kwargs == {}


def test_bad_values_fail_on_construction():
    with pytest.raises(ValueError, match="lr=-0.1 must be"):
        preset_config({**P, "lr": -0.1})
    with pytest.raises(ValueError, match="dataset='imagenet' is unknown"):
        preset_config({**P, "dataset": "imagenet"})


def test_shrink_perturb_spec():
    base = preset_config(P)
    c = shrink_perturb_config(base, tau=30, schedule="periodic", lam=0.4, sigma=0.1)
    assert c.perturbation == dict(kind="shrink_perturb", lam=0.4, sigma=0.1, batchnorm="shrink",
                                  reset_momentum=True, schedule="periodic", tau=30)  # fmt: skip
    assert {**c.to_dict(), "perturbation": None} == base.to_dict()
    assert base.perturbation is None  # the base is not changed


def test_shrink_perturb_checks_lam_and_sigma():
    base = preset_config(P)
    with pytest.raises(ValueError, match="lam=2"):
        shrink_perturb_config(base, tau=30, schedule="once", lam=2, sigma=0.1)
    with pytest.raises(ValueError, match="sigma=-1"):
        shrink_perturb_config(base, tau=30, schedule="once", lam=0.4, sigma=-1)
