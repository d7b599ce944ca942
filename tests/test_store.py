import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from fpt_core.config import TrainConfig
from fpt_core.engine import ENGINE_VERSION
from fpt_core.runner import run_ensemble
from fpt_core.store import Store, atomic_write_text, frame, run_key, to_matrix

TINY = dict(model_kwargs={"hidden": [8]}, epochs=2, num_samples=500, batch_size=100)


def test_run_key_depends_on_everything_that_defines_a_run():
    cfg = TrainConfig(**TINY).to_dict()
    k = run_key(cfg, 0, ENGINE_VERSION)
    assert k == run_key(dict(reversed(list(cfg.items()))), 0, ENGINE_VERSION)  # order-free
    assert k != run_key(cfg, 1, ENGINE_VERSION)
    assert k != run_key(cfg, 0, ENGINE_VERSION + "x")
    assert k != run_key({**cfg, "lr": 0.051}, 0, ENGINE_VERSION)
    assert k != run_key({**cfg, "perturbation": {"kind": "reset", "period": 5}}, 0, ENGINE_VERSION)


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "a" / "x.json"
    atomic_write_text(target, "old")

    def boom(*_):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_store_ignores_temporary_files(tmp_path):
    store = Store(tmp_path)
    store.save({"key": "ab12", "value": 1})
    (tmp_path / "runs" / "ab" / ".cd34.json.xyz.tmp").write_text('{"key": "cd3')  # a killed write
    assert store.keys() == ["ab12"]
    assert not store.has("cd34")


def test_reuse_trains_only_missing_runs(tmp_path):
    cfg = TrainConfig(**TINY)
    first = run_ensemble(cfg, [0, 1], store=tmp_path, device="cpu", progress=False)
    assert (first.n_trained, first.n_reused) == (2, 0)
    second = run_ensemble(cfg, 3, store=tmp_path, device="cpu", progress=False)
    assert (second.n_trained, second.n_reused) == (1, 2)
    np.testing.assert_equal(second.records[0]["trajectory"], first.records[0]["trajectory"])
    assert [r["seed"] for r in second.records] == [0, 1, 2]
    df = second.frame()
    assert set(df.columns) >= {
        "run",
        "seed",
        "step",
        "epoch",
        "test_acc",
        "test_loss",
        "train_loss",
    }
    assert len(df) == 3 * 3  # runs × (epochs + 1 evaluations)
    times, acc = second.matrix()
    np.testing.assert_array_equal(times, [0.0, 1.0, 2.0])
    assert acc.shape == (3, 3) and np.isfinite(acc).all()


def test_to_matrix_pads_runs_that_stopped_early_with_nan():
    recs = [
        {
            "key": "a",
            "seed": 0,
            "status": "ok",
            "trajectory": {
                "step": [0, 1, 2],
                "epoch": [0, 1, 2],
                "test_acc": [0.1, 0.5, 0.6],
                "test_loss": [1, 1, 1],
                "train_loss": [1, 1, 1],
            },
        },
        {
            "key": "b",
            "seed": 1,
            "status": "diverged",
            "trajectory": {
                "step": [0, 1],
                "epoch": [0, 1],
                "test_acc": [0.1, 0.2],
                "test_loss": [1, 1],
                "train_loss": [1, 1],
            },
        },
    ]
    times, acc = to_matrix(frame(recs))
    np.testing.assert_array_equal(times, [0, 1, 2])
    np.testing.assert_array_equal(acc, [[0.1, 0.5, 0.6], [0.1, 0.2, np.nan]])


def test_killed_run_resumes_without_retraining_or_reading_partial_files(tmp_path):
    store_dir = tmp_path / "store"
    script = textwrap.dedent(f"""
        from fpt_core.config import TrainConfig
        from fpt_core.runner import run_ensemble
        cfg = TrainConfig(model_kwargs={{"hidden": [64, 64]}}, epochs=12, num_samples=2000)
        run_ensemble(cfg, 12, store={str(store_dir)!r}, chunk_size=2, device="cpu", progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    store = Store(store_dir)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(store.keys()) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = store.keys()
    assert 2 <= len(done) < 12, "the subprocess should be killed mid-way"
    stamps = {k: store.path(k).stat().st_mtime_ns for k in done}
    for k in done:  # every file on disk is complete JSON
        json.loads(store.path(k).read_text())

    cfg = TrainConfig(model_kwargs={"hidden": [64, 64]}, epochs=12, num_samples=2000)
    res = run_ensemble(cfg, 12, store=store_dir, chunk_size=6, device="cpu", progress=False)
    assert res.n_reused == len(done) and res.n_trained == 12 - len(done)
    assert {k: store.path(k).stat().st_mtime_ns for k in done} == stamps  # not retrained
    assert len(store.keys()) == 12
    assert all(len(r["trajectory"]["test_acc"]) == 13 for r in res.records)
