import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
import pytest

from fpt_core.train.config import TrainConfig
from fpt_core.train.device import small_tensor_threads
from fpt_core.train.engine import ENGINE_VERSION
from fpt_core.train.runner import ensemble_keys, run_ensemble
from fpt_core.train.store import Store, atomic_write_text, frame, run_key, to_matrix

TINY = dict(model_kwargs={"hidden": [8]}, epochs=2, num_samples=500, batch_size=100)


def test_run_key_depends_on_everything_that_defines_a_run():
    cfg = TrainConfig(**TINY).to_dict()
    k = run_key(cfg, 0, ENGINE_VERSION)
    assert k == run_key(dict(reversed(list(cfg.items()))), 0, ENGINE_VERSION)  # order-free
    assert k != run_key(cfg, 1, ENGINE_VERSION)
    assert k != run_key(cfg, 0, ENGINE_VERSION + "x")
    assert k != run_key({**cfg, "lr": 0.051}, 0, ENGINE_VERSION)
    assert k != run_key({**cfg, "perturbation": {"kind": "reset", "period": 5}}, 0, ENGINE_VERSION)
    assert k != run_key(cfg, 0, ENGINE_VERSION, data="0123abcd")  # the data set's identity


def test_store_keys_carry_the_data_identity(monkeypatch):
    """Same configuration and seed, different prepared data: different keys (never mixed)."""
    import fpt_core.train.runner as runner
    from fpt_core.train.data import Data, data_identity

    cfg = TrainConfig(**TINY)
    keys = ensemble_keys(cfg, 2)
    assert keys == [
        run_key(cfg.to_dict(), s, ENGINE_VERSION, data=data_identity(runner.cached_dataset(
            cfg.dataset, None, False, "cpu", cfg.num_samples, cfg.data_seed))) for s in (0, 1)
    ]  # fmt: skip
    real = runner.cached_dataset(cfg.dataset, None, False, "cpu", cfg.num_samples, cfg.data_seed)
    changed = Data(real.name, real.x_train.clone(), real.y_train, real.x_test, real.y_test,
                   real.n_classes)  # fmt: skip
    changed.x_train[0, 0] += 1e-3  # e.g. a new version of the generator
    monkeypatch.setattr(runner, "cached_dataset", lambda *a, **k: changed)
    runner._data_id.cache_clear()
    try:
        other = ensemble_keys(cfg, 2)
    finally:
        runner._data_id.cache_clear()
    assert set(other).isdisjoint(keys)


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
    """A run killed while it trains its third chunk (of six) keeps exactly its first two chunks;
    the resumed run reuses them as they are, ignores the temporary file of a write the kill cut
    short and trains only the rest; every run equals the same run trained without interruption.

    The subprocess trains with a hook that changes nothing until the third chunk has started,
    i.e. the first two are saved: then it creates ``ready`` and blocks until it is killed."""
    store_dir, ready = tmp_path / "store", tmp_path / "ready"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path

        from fpt_core.train.config import TrainConfig
        from fpt_core.train.device import small_tensor_threads
        from fpt_core.train.runner import ensemble_keys, run_ensemble

        def stop_in_third_chunk(state):
            if min(state.seeds) >= 4:  # chunks of 2: seeds 0-3 are done and saved
                Path({str(ready)!r}).touch()
                while True:  # until SIGKILL
                    time.sleep(1)

        cfg = TrainConfig(**{TINY!r})
        with small_tensor_threads():
            run_ensemble(cfg, 12, store={str(store_dir)!r}, chunk_size=2, device="cpu",
                         hooks=[stop_in_third_chunk], progress=False)
        raise SystemExit("the hook never blocked")
    """)
    log = tmp_path / "subprocess.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=fh, stderr=fh)
    try:
        deadline = time.monotonic() + 300  # only a safety net against a hung subprocess
        while not ready.exists():
            assert proc.poll() is None, f"the subprocess ended early: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "the subprocess never reached its third chunk"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()

    cfg = TrainConfig(**TINY)
    keys = ensemble_keys(cfg, 12)
    store = Store(store_dir)
    done = store.keys()
    assert done == sorted(keys[:4]), "exactly the first two chunks are stored, under their keys"
    stamps = {k: store.path(k).stat().st_mtime_ns for k in done}
    saved = {k: json.loads(store.path(k).read_text()) for k in done}  # complete JSON
    # what a kill inside atomic_write_text leaves: a temporary file, half written
    store.path(keys[4]).parent.mkdir(parents=True, exist_ok=True)
    fd, _ = tempfile.mkstemp(
        dir=store.path(keys[4]).parent, prefix=f".{keys[4]}.json.", suffix=".tmp"
    )
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(saved[keys[0]])[:100])
    assert store.keys() == done and not store.has(keys[4])

    with small_tensor_threads():
        res = run_ensemble(cfg, 12, store=store_dir, chunk_size=6, device="cpu", progress=False)
        ref = run_ensemble(cfg, 12, store=None, chunk_size=2, device="cpu", progress=False)
    assert (res.n_reused, res.n_trained) == (4, 8)
    assert {k: store.path(k).stat().st_mtime_ns for k in done} == stamps  # not retrained
    assert store.keys() == sorted(keys)
    assert [r["key"] for r in res.records] == keys == [r["key"] for r in ref.records]
    for rec, r in zip(res.records, ref.records, strict=True):
        assert (rec["seed"], rec["status"], rec["events"]) == (r["seed"], r["status"], r["events"])
        assert rec["config"] == r["config"] and len(rec["trajectory"]["test_acc"]) == 3
        if rec["key"] in saved:  # reused as saved; trained like the reference (chunks of 2)
            assert rec == saved[rec["key"]]
            for f, v in r["trajectory"].items():
                np.testing.assert_array_equal(rec["trajectory"][f], v, err_msg=f)
        else:  # trained on resumption, in chunks of 6
            for f, v in r["trajectory"].items():
                np.testing.assert_allclose(rec["trajectory"][f], v, rtol=1e-5, err_msg=f)
    assert json.loads(store.path(keys[4]).read_text())["seed"] == 4  # the full record
