"""Oracle tests for training code paths: the engine against ``torch.optim.SGD`` run by hand.

Everything here trains in float64 (``torch.set_default_dtype``, float64 inputs), so that the
batched engine and a plain ``nn.Module`` + ``torch.optim.SGD`` loop agree to ~1e-13 and the
tolerances below (1e-9) are far tighter than any real change of the optimiser (weight decay
5e-4 alone moves the weights by ~1e-4 relative in a few epochs).

* the slow (non-fused) SGD step, taken whenever a learning-rate scale is not 1 or a replica has
  diverged: per-parameter, per-replica learning-rate factors that change at every evaluation,
  one replica driven to divergence; the oracle uses one ``torch.optim.SGD`` param group per
  parameter with ``lr = η · factor``;
* TempBalance through the engine: the factors it computes equal those of
  :func:`fpt_core.protocols.tempbalance.tempbalance_factors` on hand-computed ESD α's, and the engine
  trains with exactly those factors (an SGD replay with the captured factors);
* every perturbation protocol through ``train_ensemble``: plain training up to the
  perturbation, the state right after it as each protocol's docstring defines it, and the
  following epoch equal to SGD continued from that state.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fpt_core.protocols.registry import build_protocol
from fpt_core.protocols.tempbalance import TempBalance, tempbalance_factors
from fpt_core.protocols.warm_restart import WarmRestart
from fpt_core.spectra.htsr import esd, hill_alpha, weight_layer_names
from fpt_core.train import optim
from fpt_core.train.chunk import ensemble_hooks
from fpt_core.train.config import TrainConfig
from fpt_core.train.data import Data
from fpt_core.train.engine import derive_seed, init_model, train_ensemble

SEEDS = [0, 1, 5]
RTOL = 1e-9  # float64 engine vs float64 torch.optim.SGD: agreement is ~1e-13
ATOL = 1e-12

Scale = Callable[[int], Mapping[str, float] | None]  # optimiser step -> lr factor per parameter


@pytest.fixture
def data64(mnist1d_small, one_thread):
    """MNIST-1D (400 train / 100 test) in float64, with float64 as the default dtype (so that
    ``init_model`` builds float64 models, in the engine and in the oracle alike); small tensors,
    so one intra-op thread."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    d = mnist1d_small
    try:
        yield Data(d.name, d.x_train.double(), d.y_train, d.x_test.double(), d.y_test, d.n_classes)
    finally:
        torch.set_default_dtype(old)


# --------------------------------------------------------------------------------- the oracle


class Oracle:
    """One run as plain PyTorch code: ``init_model`` + ``torch.optim.SGD``, one param group per
    parameter (so that each parameter can have its own learning rate), the engine's data order
    (a fresh ``randperm`` per epoch from the run's ``"order"`` generator). It may start from a
    given state (weights, momentum buffers) at a given step."""

    def __init__(
        self,
        config: TrainConfig,
        data: Data,
        seed: int,
        *,
        params: Mapping[str, torch.Tensor] | None = None,
        momentum: Mapping[str, torch.Tensor] | None = None,
        step: int = 0,
    ) -> None:
        self.cfg, self.data = config, data
        self.model = init_model(config, data, seed)
        self.named = dict(self.model.named_parameters())
        self.opt = torch.optim.SGD(
            [{"params": [p]} for p in self.named.values()],
            lr=config.lr,
            momentum=config.momentum,
            weight_decay=config.weight_decay,
        )
        self.spe = math.ceil(data.n_train / config.batch_size)
        self.total = config.epochs * self.spe
        self.gen = torch.Generator().manual_seed(derive_seed(seed, "order"))
        self.perms: list[torch.Tensor] = []
        self.step = step
        self.losses: list[float] = []
        with torch.no_grad():
            for k, p in self.named.items():
                if params is not None:
                    p.copy_(params[k])
                if momentum is not None:
                    self.opt.state[p]["momentum_buffer"] = momentum[k].clone()

    def _perm(self, epoch: int) -> torch.Tensor:
        while len(self.perms) <= epoch:
            self.perms.append(torch.randperm(self.data.n_train, generator=self.gen))
        return self.perms[epoch]

    def train(self, n_steps: int, scale: Scale = lambda t: None) -> None:
        B = self.cfg.batch_size
        for _ in range(n_steps):
            t = self.step
            pos = t % self.spe
            idx = self._perm(t // self.spe)[pos * B : (pos + 1) * B]
            x = self.data.prepare(self.data.x_train[idx])
            loss = F.cross_entropy(self.model(x), self.data.y_train[idx])
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            lr, f = self.cfg.lr_at(t, self.total), scale(t)
            for name, group in zip(self.named, self.opt.param_groups, strict=True):
                group["lr"] = lr * (1.0 if f is None else float(f[name]))
            self.opt.step()
            self.losses.append(float(loss.detach()))
            self.step += 1

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        self.model.eval()
        logits = self.model(self.data.prepare(self.data.x_test))
        self.model.train()
        out = {
            "test_acc": float((logits.argmax(-1) == self.data.y_test).double().mean()),
            "test_loss": float(F.cross_entropy(logits, self.data.y_test)),
            "train_loss": float(np.mean(self.losses)) if self.losses else math.nan,
        }
        self.losses = []
        return out

    def run(self, stop: int, scale: Scale = lambda t: None) -> dict[str, list[float]]:
        """Train to step ``stop``, evaluating where the engine does; the trajectory."""
        every = self.cfg.eval_every or self.spe
        traj: dict[str, list[float]] = {"step": [self.step]}
        for k, v in self.evaluate().items():
            traj[k] = [v]
        while self.step < stop:
            self.train(1, scale)
            if self.step % every == 0 or self.step == self.total:
                traj["step"].append(self.step)
                for k, v in self.evaluate().items():
                    traj[k].append(v)
        return traj

    def params(self) -> dict[str, torch.Tensor]:
        return {k: p.detach().clone() for k, p in self.named.items()}


class Capture:
    """Hook: a copy of the state at every evaluation (and at ``start``), keyed by step."""

    def __init__(self) -> None:
        self.at: dict[int, dict] = {}
        self.state = None

    def start(self, state) -> None:
        self(state)

    def __call__(self, state) -> None:
        self.state = state

        def copy(d):
            return {k: v.detach().clone() for k, v in d.items()}

        self.at[state.step] = {
            "params": copy(state.params),
            "momentum": copy(state.momentum),
            "buffers": copy(state.buffers),
            "lr_scale": copy(state.lr_scale),
            "alive": state.alive.clone(),
            "uniform": optim.uniform_step(state),
        }


def _replica(d: Mapping[str, torch.Tensor], r: int) -> dict[str, torch.Tensor]:
    return {k: v[r] for k, v in d.items()}


def _assert_params_close(got: Mapping[str, torch.Tensor], want: Mapping[str, torch.Tensor]):
    assert list(got) == list(want)
    for k in want:
        torch.testing.assert_close(got[k], want[k], rtol=RTOL, atol=ATOL, msg=k)


def _rel_diff(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> float:
    return max(float((a[k] - b[k]).norm() / b[k].norm()) for k in b)


def _assert_traj_close(got: Mapping[str, list], want: Mapping[str, list]):
    assert got["step"] == want["step"]
    for key in ("test_loss", "train_loss"):
        np.testing.assert_allclose(got[key], want[key], rtol=RTOL, equal_nan=True, err_msg=key)
    np.testing.assert_array_equal(got["test_acc"], want["test_acc"])


# ----------------------------------------------- 1. the scaled (non-fused) SGD step vs torch


def _factors(names: list[str], R: int, k: int) -> dict[str, torch.Tensor]:
    """Learning-rate factors in [0.25, 1.75) per (parameter, replica), new at evaluation k."""
    g = torch.Generator().manual_seed(1000 + k)
    f = 0.25 + 1.5 * torch.rand(len(names), R, generator=g, dtype=torch.float64)
    return {n: f[i] for i, n in enumerate(names)}


class ScaleSchedule:
    """Hook: new per-parameter, per-replica factors at every evaluation (and at the start);
    replica 0 gets factor 1e200 on every parameter from step ``diverge_at`` on."""

    def __init__(self, every: int, diverge_at: int | None = None) -> None:
        self.every, self.diverge_at = every, diverge_at

    def factors(self, names: list[str], R: int, step: int) -> dict[str, torch.Tensor]:
        f = _factors(names, R, step // self.every)
        if self.diverge_at is not None and step >= self.diverge_at:
            for v in f.values():
                v[0] = 1e200
        return f

    def start(self, state) -> None:
        self(state)

    def __call__(self, state) -> None:
        f = self.factors(list(state.params), state.R, state.step)
        for k, s in state.lr_scale.items():
            s.copy_(f[k])


@pytest.mark.parametrize(
    "model,kwargs", [("mlp", {"hidden": [32, 32]}), ("cnn", {"channels": [4, 4]})]
)
def test_scaled_sgd_step_matches_torch_sgd_per_param_group(monkeypatch, data64, model, kwargs):
    """Per-layer, per-replica lr factors changing at every evaluation, momentum 0.9, weight decay
    5e-4, one replica diverging at a known step: the live replicas equal ``torch.optim.SGD`` with
    one param group per parameter at lr = η·factor, to rounding, over the whole run."""
    fused_calls = []
    real_fused = getattr(torch, "_fused_sgd_", None)

    def spy(*args, **kw):
        fused_calls.append(1)
        return real_fused(*args, **kw)

    monkeypatch.setattr(torch, "_fused_sgd_", spy, raising=False)
    cfg = TrainConfig(
        model=model,
        model_kwargs=kwargs,
        lr=0.05,
        momentum=0.9,
        weight_decay=5e-4,
        batch_size=50,
        epochs=3,
        eval_every=4,  # 8 steps per epoch: factors change every 4 steps, 6 evaluations
        num_samples=500,
    )
    diverge_at = 12
    sched, cap = ScaleSchedule(4, diverge_at), Capture()
    recs = train_ensemble(cfg, SEEDS, data64, hooks=[sched, cap], progress=False)
    total = 24
    assert sorted(cap.at) == [0, 4, 8, 12, 16, 20, 24]
    # the slow path, every step: no fused call, and the engine's own test says non-uniform
    assert not fused_calls
    assert not any(c["uniform"] for c in cap.at.values())
    names = list(cap.at[0]["params"])
    assert len(names) >= 4  # several layers, each with its own factors

    # replica 0: diverges at the first step taken after its factor became 1e200
    assert recs[0]["status"] == "diverged" and recs[0]["diverged_step"] == diverge_at + 1
    assert recs[0]["events"][-1]["kind"] == "diverged"
    assert recs[0]["trajectory"]["step"] == [0, 4, 8, 12]
    assert all(torch.isfinite(p[0]).all() for p in cap.at[total]["params"].values())
    assert cap.at[total]["alive"].tolist() == [False, True, True]

    for r, seed in enumerate(SEEDS):
        oracle = Oracle(cfg, data64, seed)
        scale = lambda t, r=r: {  # noqa: E731
            k: float(v[r]) for k, v in sched.factors(names, len(SEEDS), t).items()
        }
        if r == 0:  # up to the divergence, replica 0 follows torch.optim.SGD too
            traj = oracle.run(diverge_at, scale)
            _assert_traj_close(recs[0]["trajectory"], traj)
            continue
        traj = oracle.run(total, scale)
        assert recs[r]["status"] == "ok" and recs[r]["diverged_step"] is None
        _assert_traj_close(recs[r]["trajectory"], traj)
        got = _replica(cap.at[total]["params"], r)
        _assert_params_close(got, oracle.params())

        # the tolerance is far below what weight decay (or a missing lr factor) changes
        no_wd = Oracle(dataclasses.replace(cfg, weight_decay=0.0), data64, seed)
        no_wd.train(total, scale)
        assert _rel_diff(got, no_wd.params()) > 1e-4  # measured ~5e-3; agreement ~1e-16
        unscaled = Oracle(cfg, data64, seed)
        unscaled.train(total)
        assert _rel_diff(got, unscaled.params()) > 1e-3


# ------------------------------------------------------------------- 2. TempBalance end to end

TB_LAYERS = ["net.1", "net.3", "net.5", "net.7", "net.9"]


def _tempbalance_param_factors(params: Mapping[str, torch.Tensor], r: int) -> dict[str, float]:
    """TempBalance's factors by hand: median-Hill α of each layer's ESD, the linear map over
    the inner layers (first and last excluded, factor 1), spread over weight and bias."""
    inner = TB_LAYERS[1:-1]
    alphas = [hill_alpha(esd(params[f"{n}.weight"][r]), 2).alpha for n in inner]
    assert all(math.isfinite(a) for a in alphas)
    f = dict.fromkeys(TB_LAYERS, 1.0)
    f.update(zip(inner, tempbalance_factors(alphas, s1=0.5, s2=1.5).tolist(), strict=True))
    return {f"{n}.{p}": f[n] for n in TB_LAYERS for p in ("weight", "bias")}


def test_tempbalance_factors_are_the_ones_trained_with(data64):
    spec = {
        "kind": "tempbalance",
        "assignment": "tempbalance",
        "exclude_first_last": True,
        "s1": 0.5,
        "s2": 1.5,
    }
    cfg = TrainConfig(
        model="mlp",
        model_kwargs={"hidden": [32, 32, 32, 32]},
        lr=0.1,
        momentum=0.9,
        weight_decay=5e-4,
        batch_size=50,
        epochs=4,
        lr_schedule="cosine",
        num_samples=500,
        perturbation=spec,
    )
    cap = Capture()
    hooks = ensemble_hooks(cfg, [cap])
    assert isinstance(hooks[0], TempBalance) and hooks[1] is cap
    recs = train_ensemble(cfg, SEEDS, data64, hooks=hooks, progress=False)
    spe, total = 8, 32
    assert sorted(cap.at) == [0, 8, 16, 24, 32]
    assert weight_layer_names(cap.state.base) == TB_LAYERS

    # (a) after each recomputation, lr_scale holds TempBalance's factors of the current weights
    for step, c in cap.at.items():
        assert not c["uniform"]
        for r in range(len(SEEDS)):
            want = _tempbalance_param_factors(c["params"], r)
            got = {k: float(v[r]) for k, v in c["lr_scale"].items()}
            assert list(got) == list(want)
            np.testing.assert_allclose(list(got.values()), list(want.values()), rtol=1e-12)
            inner = [got[f"{n}.weight"] for n in TB_LAYERS[1:-1]]
            assert min(inner) == pytest.approx(0.5) and max(inner) == pytest.approx(1.5)
            ev = [e for e in recs[r]["events"] if e["step"] == step]
            assert len(ev) == 1 and ev[0]["kind"] == "tempbalance"
            np.testing.assert_allclose(
                ev[0]["factor"], [got[f"{n}.weight"] for n in TB_LAYERS], atol=1e-4
            )
    # the factors differ between replicas and change over training (not a constant map)
    w3 = torch.stack([c["lr_scale"]["net.3.weight"] for c in cap.at.values()])
    assert len({round(float(v), 9) for v in w3.flatten()}) > 3

    # (b) the engine trains with those factors: torch.optim.SGD, lr = η_t · factor, where the
    # factors captured after the evaluation at step e hold for steps e … e + spe − 1
    for r, seed in enumerate(SEEDS):
        scales = {s: {k: float(v[r]) for k, v in c["lr_scale"].items()} for s, c in cap.at.items()}
        oracle = Oracle(cfg, data64, seed)
        traj = oracle.run(total, lambda t, sc=scales: sc[(t // spe) * spe])
        assert recs[r]["status"] == "ok"
        _assert_traj_close(recs[r]["trajectory"], traj)
        got = _replica(cap.at[total]["params"], r)
        _assert_params_close(got, oracle.params())
        plain = Oracle(cfg, data64, seed)
        plain.train(total)
        assert _rel_diff(got, plain.params()) > 1e-3  # the factors changed the training


# ------------------------------------------------------ 3. perturbation protocols end to end

TAU = 2  # epochs; 8 steps per epoch: the perturbation acts after the evaluation at step 16
SPE = 8
T_PERT = TAU * SPE


def _protocol_config(spec: dict | None) -> TrainConfig:
    return TrainConfig(
        model="mlp",
        model_kwargs={"hidden": [32, 16]},
        lr=0.05,
        momentum=0.9,
        weight_decay=5e-4,
        batch_size=50,
        epochs=5,
        num_samples=500,
        perturbation=spec,
    )


def _run_protocol(data: Data, spec: dict):
    """Train with ``spec`` between a capture hook before the protocol and one after it; check
    (i) that the trajectory equals plain training up to the perturbation and differs right
    after, and the events. Returns the config, the records, the state right before and right
    after the perturbation, and both capture hooks."""
    cfg = _protocol_config(spec)
    before, after = Capture(), Capture()
    hooks = [before, *ensemble_hooks(cfg, [after])]
    assert type(hooks[1]) is type(build_protocol(spec)) and hooks[2] is after
    recs = train_ensemble(cfg, SEEDS, data, hooks=hooks, progress=False)
    plain = train_ensemble(_protocol_config(None), SEEDS, data, progress=False)
    for rec, ref in zip(recs, plain, strict=True):
        got, want = rec["trajectory"], ref["trajectory"]
        n = got["step"].index(T_PERT) + 1
        for key in ("step", "test_acc", "test_loss", "train_loss"):
            np.testing.assert_array_equal(got[key][:n], want[key][:n], err_msg=key)
        assert got["test_loss"][n] != want["test_loss"][n]
        assert [(e["kind"], e["step"]) for e in rec["events"]] == [(spec["kind"], T_PERT)]
    # the protocol touches weights and momentum at the perturbation only
    assert sorted(before.at) == sorted(after.at) == list(range(0, 5 * SPE + 1, SPE))
    for step in before.at:
        for key in ("params", "momentum"):
            for k, v in before.at[step][key].items():
                assert torch.equal(v, after.at[step][key][k]) or step == T_PERT
    return cfg, recs, before.at[T_PERT], after.at[T_PERT], before, after


def _continue_and_compare(cfg, data, before, post, lr_scale=None):
    """(iii) The epoch after the perturbation equals torch.optim.SGD started from the expected
    post-perturbation state ``post`` (params, momentum, per replica) with ``lr_scale``."""
    nxt = before.at[T_PERT + SPE]["params"]
    for r, seed in enumerate(SEEDS):
        oracle = Oracle(
            cfg,
            data,
            seed,
            params=_replica(post["params"], r),
            momentum=_replica(post["momentum"], r),
            step=T_PERT,
        )
        f = None if lr_scale is None else {k: float(v[r]) for k, v in lr_scale.items()}
        oracle.train(SPE, lambda t, f=f: f)
        _assert_params_close(_replica(nxt, r), oracle.params())


def _nonzero_momentum(snap) -> None:
    """Momentum 0.9 and two epochs of training: every buffer has non-zero entries."""
    for k, m in snap["momentum"].items():
        assert (m != 0).any(dim=tuple(range(1, m.ndim))).all(), k


def test_reset_restores_initial_weights_and_zeroes_momentum(data64):
    spec = {"kind": "reset", "schedule": "once", "tau": TAU}
    cfg, _, pre, post, before, after = _run_protocol(data64, spec)
    _nonzero_momentum(pre)
    for r, seed in enumerate(SEEDS):
        init = dict(init_model(cfg, data64, seed).named_parameters())
        for k, p in post["params"].items():
            assert torch.equal(p[r], init[k].detach())
            assert torch.equal(p[r], after.state.init_params[k][r])
            assert not torch.equal(p[r], pre["params"][k][r])
            assert torch.all(post["momentum"][k][r] == 0)
            assert torch.all(post["lr_scale"][k] == 1)
    _continue_and_compare(cfg, data64, before, post)


def test_partial_reset_redraws_the_smallest_weights(data64):
    f = 0.2
    spec = {"kind": "partial_reset", "f": f, "schedule": "once", "tau": TAU}
    cfg, _, pre, post, before, after = _run_protocol(data64, spec)
    _nonzero_momentum(pre)
    fresh = after.state.fresh_params(f"partial_reset:{T_PERT}")
    weights = [k for k, p in pre["params"].items() if p.ndim >= 3]
    assert weights == ["net.1.weight", "net.3.weight", "net.5.weight"]
    n = sum(pre["params"][k][0].numel() for k in weights)
    k_small = round(f * n)
    # the expected state, built from the state before: where |w| is among the k_small smallest
    # (per replica, one ranking over all weight tensors), the fresh value and zero momentum
    expect = {key: {k: v.clone() for k, v in pre[key].items()} for key in ("params", "momentum")}
    for r in range(len(SEEDS)):

        def cat(d, r=r):
            return torch.cat([d[k][r].flatten() for k in weights])

        old, new, src = cat(pre["params"]), cat(post["params"]), cat(fresh)
        m_old, m_new = cat(pre["momentum"]), cat(post["momentum"])
        changed = new != old
        assert int(changed.sum()) == k_small
        assert old.abs()[changed].max() < old.abs()[~changed].min()  # the smallest |w|
        assert torch.equal(new[changed], src[changed])  # from the fresh initialisation
        assert torch.all(m_new[changed] == 0) and torch.all(m_old[changed] != 0)
        assert torch.equal(m_new[~changed], m_old[~changed])
        chosen = torch.zeros(n, dtype=torch.bool)
        chosen[torch.argsort(old.abs())[:k_small]] = True
        assert torch.equal(chosen, changed)
        start = 0
        for k in weights:
            size = pre["params"][k][r].numel()
            sel = chosen[start : start + size].view_as(pre["params"][k][r])
            expect["params"][k][r][sel] = fresh[k][r][sel]
            expect["momentum"][k][r][sel] = 0.0
            start += size
    for key in ("params", "momentum"):  # biases: neither weights nor momentum touched
        for k, v in expect[key].items():
            assert torch.equal(post[key][k], v), (key, k)
    for k in pre["params"]:
        assert torch.all(post["lr_scale"][k] == 1)
    _continue_and_compare(cfg, data64, before, expect)


def test_shrink_perturb_is_lam_theta_plus_sigma_fresh(data64):
    lam, sigma = 0.4, 0.1
    spec = {"kind": "shrink_perturb", "lam": lam, "sigma": sigma, "schedule": "once", "tau": TAU}
    cfg, _, pre, post, before, after = _run_protocol(data64, spec)
    _nonzero_momentum(pre)
    fresh = after.state.fresh_params(f"shrink_perturb:{T_PERT}")
    expect = {"params": {}, "momentum": {}}
    for k, p in pre["params"].items():
        assert not torch.equal(fresh[k], after.state.init_params[k])
        expect["params"][k] = lam * p + sigma * fresh[k]
        expect["momentum"][k] = torch.zeros_like(p)
        torch.testing.assert_close(post["params"][k], expect["params"][k], rtol=1e-14, atol=0)
        assert torch.all(post["momentum"][k] == 0)
        assert torch.all(post["lr_scale"][k] == 1)
    _continue_and_compare(cfg, data64, before, expect)


@pytest.mark.parametrize("reset_momentum", [True, False])
def test_warm_restart_sets_lr_scale_and_optionally_zeroes_momentum(data64, reset_momentum):
    spec = {
        "kind": "warm_restart",
        "cycle": 2,
        "peak": 2.0,
        "floor": 0.1,
        "reset_momentum": reset_momentum,
        "schedule": "once",
        "tau": TAU,
    }
    hook = build_protocol(spec)
    assert isinstance(hook, WarmRestart)
    m = [float(hook.multiplier(k)) for k in range(3)]
    assert m[0] == pytest.approx(0.1 + 1.9 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert m[1] == pytest.approx(0.1 + 1.9 * 0.5 * (1 + math.cos(3 * math.pi / 4)))
    assert m[2] == 1.0  # the cycle is over
    cfg, _, pre, post, before, after = _run_protocol(data64, spec)
    _nonzero_momentum(pre)
    for k, p in pre["params"].items():
        assert torch.equal(post["params"][k], p)  # weights untouched
        if reset_momentum:
            assert torch.all(post["momentum"][k] == 0)
        else:
            assert torch.equal(post["momentum"][k], pre["momentum"][k])
        assert torch.all(pre["lr_scale"][k] == 1)
        np.testing.assert_array_equal(post["lr_scale"][k].numpy(), m[0])
        # one value per evaluation interval: m_1 after the next evaluation, then back to 1
        np.testing.assert_array_equal(after.at[T_PERT + SPE]["lr_scale"][k].numpy(), m[1])
        np.testing.assert_array_equal(after.at[T_PERT + 2 * SPE]["lr_scale"][k].numpy(), 1.0)
    expect = {
        "params": pre["params"],
        "momentum": {
            k: torch.zeros_like(v) if reset_momentum else v for k, v in pre["momentum"].items()
        },
    }
    lr_scale = {k: torch.full((len(SEEDS),), m[0]) for k in pre["params"]}
    _continue_and_compare(cfg, data64, before, expect, lr_scale)
    # the next step's size is the base lr times m_0 (not the base lr): SGD at the base lr from
    # the same state does not give the engine's weights
    start = {k: _replica(expect[k], 1) for k in ("params", "momentum")}
    oracle = Oracle(cfg, data64, SEEDS[1], **start, step=T_PERT)
    oracle.train(SPE)
    assert _rel_diff(_replica(before.at[T_PERT + SPE]["params"], 1), oracle.params()) > 1e-6
