"""Checkpoint and resume of a training chunk: a killed chunk continues bit-identically."""

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from fpt_core.protocols.perturb import ShrinkPerturb
from fpt_core.protocols.tempbalance import TempBalance
from fpt_core.protocols.warm_restart import WarmRestart
from fpt_core.train.chunk import checkpoint_path
from fpt_core.train.config import TrainConfig
from fpt_core.train.device import small_tensor_threads
from fpt_core.train.engine import train_ensemble
from fpt_core.train.runner import run_ensemble
from fpt_core.train.store import Store

TINY = dict(
    model_kwargs={"hidden": [16, 8]}, num_samples=500, batch_size=100, epochs=6, momentum=0.9
)


class Crash:
    """Raises at the evaluation after epoch ``at`` (a lost process, in-process); stateless."""

    def __init__(self, at):
        self.at = at

    def __call__(self, state):
        if self.at is not None and state.step == self.at * state.steps_per_epoch:
            raise KeyboardInterrupt("simulated loss of the process")

    def state_dict(self, state):
        return {}

    def load_state_dict(self, state, d):
        pass


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x["trajectory"].keys() == y["trajectory"].keys()
        for k, v in y["trajectory"].items():  # exact floats at every evaluation (NaN == NaN)
            np.testing.assert_array_equal(x["trajectory"][k], v, err_msg=f"{k} seed {x['seed']}")
        assert x["events"] == y["events"] and x["status"] == y["status"]


@pytest.mark.parametrize(
    "make_hooks",
    [
        lambda: [ShrinkPerturb(schedule="poisson", rate=0.7)],  # per-run random streams
        lambda: [WarmRestart(tau=2, cycle=3)],  # lr multipliers that carry over
        lambda: [TempBalance(every=2)],  # per-layer lr scales, its own clock
    ],
    ids=["poisson-shrink-perturb", "warm-restart", "tempbalance"],
)
def test_resume_after_a_crash_is_bit_identical(tmp_path, mnist1d_small, make_hooks):
    cfg = TrainConfig(**TINY)
    seeds = [0, 1, 2]
    with small_tensor_threads():
        ref = train_ensemble(cfg, seeds, mnist1d_small, hooks=make_hooks(), progress=False)
        ck = tmp_path / "chunk.pt"
        with pytest.raises(KeyboardInterrupt):
            train_ensemble(cfg, seeds, mnist1d_small, hooks=[*make_hooks(), Crash(4)],
                           progress=False, checkpoint=ck, checkpoint_every=1)  # fmt: skip
        assert ck.exists()  # written at epoch 3, the last boundary before the crash
        saved = torch.load(ck, weights_only=False)
        assert saved["state"]["step"] == ref[0]["trajectory"]["step"][3]  # epoch 3
        got = train_ensemble(cfg, seeds, mnist1d_small, hooks=[*make_hooks(), Crash(None)],
                             progress=False, checkpoint=ck, checkpoint_every=1)  # fmt: skip
    _same(got, ref)


def test_a_checkpoint_of_another_configuration_is_ignored(tmp_path, mnist1d_small):
    ck = tmp_path / "chunk.pt"
    with small_tensor_threads():
        with pytest.raises(KeyboardInterrupt):
            train_ensemble(TrainConfig(**TINY), [0], mnist1d_small, hooks=[Crash(3)],
                           progress=False, checkpoint=ck, checkpoint_every=1)  # fmt: skip
        other = TrainConfig(**{**TINY, "lr": 0.05})
        got = train_ensemble(other, [0], mnist1d_small, progress=False, checkpoint=ck,
                             checkpoint_every=2)  # fmt: skip
        ref = train_ensemble(other, [0], mnist1d_small, progress=False)
    _same(got, ref)


def test_bad_checkpoint_arguments_fail_before_training(tmp_path, mnist1d_small):
    cfg = TrainConfig(**TINY)
    with pytest.raises(ValueError, match="checkpoint_every"):
        train_ensemble(cfg, [0], mnist1d_small, checkpoint=tmp_path / "c.pt", checkpoint_every=0)
    with pytest.raises(ValueError, match="state_dict"):  # a hook that cannot be resumed
        train_ensemble(cfg, [0], mnist1d_small, hooks=[lambda s: None],
                       checkpoint=tmp_path / "c.pt", checkpoint_every=1)  # fmt: skip
    with pytest.raises(ValueError, match="checkpoint_every"):
        run_ensemble(cfg, 2, store=tmp_path, checkpoint_every=1.5)
    with pytest.raises(ValueError, match="needs a store"):
        run_ensemble(cfg, 2, store=None, checkpoint_every=1)
    with pytest.raises(ValueError, match="state_dict"):
        run_ensemble(cfg, 2, store=tmp_path, hooks=[lambda s: None], checkpoint_every=1)
    assert not (tmp_path / "runs").exists()  # nothing trained


def test_sigkill_mid_chunk_then_resume(tmp_path):
    """A process killed mid-chunk (SIGKILL, no clean-up) resumes from its last checkpoint."""
    store_dir, ready = tmp_path / "store", tmp_path / "ready"
    cfg_kw = {**TINY, "epochs": 6, "perturbation": {"kind": "shrink_perturb", "schedule":
              "poisson", "rate": 0.5}}  # fmt: skip
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from fpt_core.train.config import TrainConfig
        from fpt_core.train.device import small_tensor_threads
        from fpt_core.train.runner import run_ensemble

        class Block:
            def __call__(self, state):
                if state.step == 4 * state.steps_per_epoch:  # epoch 4: checkpoint 3 is on disk
                    Path({str(ready)!r}).touch()
                    while True:  # until SIGKILL
                        time.sleep(1)
            def state_dict(self, state):
                return {{}}
            def load_state_dict(self, state, d):
                pass

        with small_tensor_threads():
            run_ensemble(TrainConfig(**{cfg_kw!r}), 4, store={str(store_dir)!r}, device="cpu",
                         hooks=[Block()], checkpoint_every=1, progress=False)
        raise SystemExit("the hook never blocked")
    """)
    log = tmp_path / "subprocess.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=fh, stderr=fh)
    try:
        deadline = time.monotonic() + 300  # a safety net against a hung subprocess only
        while not ready.exists():
            assert proc.poll() is None, f"the subprocess ended early: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "the subprocess never reached epoch 4"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    cfg = TrainConfig(**cfg_kw)
    store = Store(store_dir)
    assert store.keys() == []  # nothing finished
    (ck,) = list((store_dir / "checkpoints").glob("*.pt"))
    step = torch.load(ck, weights_only=False)["state"]["step"]

    class Inert:
        def __call__(self, state):
            pass

        def state_dict(self, state):
            return {}

        def load_state_dict(self, state, d):
            pass

    with small_tensor_threads():
        res = run_ensemble(cfg, 4, store=store_dir, device="cpu", hooks=[Inert()],
                           checkpoint_every=1, progress=False)  # fmt: skip
        ref = run_ensemble(cfg, 4, store=None, device="cpu", progress=False)
    assert step == ref.records[0]["trajectory"]["step"][3]  # the checkpoint of epoch 3
    assert res.n_trained == 4 and len(store.keys()) == 4
    assert not ck.exists() and ck == checkpoint_path(store, [r["key"] for r in res.records])
    _same(res.records, ref.records)
    assert any(r["events"] for r in ref.records)  # the Poisson protocol fired: its clocks resumed
