"""Training reports its progress to a file that another process follows (``make book``)."""

import json

from test_store import TINY

from fpt_core.train.config import TrainConfig
from fpt_core.train.progress import ENV, Watcher, emit
from fpt_core.train.runner import run_ensemble


def test_nothing_is_written_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    emit("ensemble", to_train=1, total=1)
    assert list(tmp_path.iterdir()) == []


def test_watcher_counts_chunks_and_restarts_with_each_ensemble(tmp_path, monkeypatch):
    path = tmp_path / "p.jsonl"
    monkeypatch.setenv(ENV, str(path))
    w = Watcher(path)
    assert not w.poll() and w.line() == "no training yet"
    emit("ensemble", to_train=8, total=10)
    emit("epoch", epoch=3, epochs=3, replicas=4)
    emit("chunk", runs=4)
    emit("epoch", epoch=1, epochs=3, replicas=4)
    assert w.poll() and not w.poll()  # nothing new the second time
    t0 = w.started
    assert w.line(now=t0 + 12) == (
        "runs 4/8 trained (10 in the ensemble) · epoch 1/3 · 12 s · ETA 6 s"
    )  # 4 + 4·1/3 of 8 runs in 12 s
    emit("ensemble", to_train=2, total=2)
    w.poll()
    assert w.line(now=w.started).startswith("runs 0/2 trained (2 in the ensemble) · 0 s · ETA ?")


def test_run_ensemble_reports_every_epoch_and_chunk(tmp_path, monkeypatch):
    path = tmp_path / "p.jsonl"
    monkeypatch.setenv(ENV, str(path))
    cfg = TrainConfig(**TINY)
    run_ensemble(cfg, 3, store=tmp_path / "store", chunk_size=2, progress=False)
    events = [json.loads(line) for line in path.read_text().splitlines()]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "ensemble" and events[0]["to_train"] == 3 and kinds.count("chunk") == 2
    assert kinds.count("epoch") == 2 * cfg.epochs
    assert [e["replicas"] for e in events if e["kind"] == "epoch"] == [2] * cfg.epochs + [
        1
    ] * cfg.epochs
    path.unlink()
    run_ensemble(cfg, 3, store=tmp_path / "store", chunk_size=2, progress=False)  # all stored
    assert not path.exists()
