"""Progress of training, for a watcher in another process (e.g. ``make book``).

When the environment variable ``FPT_PROGRESS_FILE`` names a file, :func:`emit` appends one JSON
line per event to it: ``ensemble`` (runs to train and in all), ``epoch`` (a chunk of replicas
finished an epoch) and ``chunk`` (a chunk's runs are done). :class:`Watcher` reads the new lines
and summarises them as one line — runs trained, epoch, elapsed time and an ETA for the ensemble
being trained. Without the variable nothing is written.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "p.jsonl")
>>> os.environ[ENV] = path
>>> emit("ensemble", to_train=4, total=6); emit("epoch", epoch=5, epochs=10, replicas=2)
>>> w = Watcher(path); w.poll()
True
>>> w.line(now=w.started + 10.0)
'runs 0/4 trained (6 in the ensemble) · epoch 5/10 · 10 s · ETA 30 s'
>>> del os.environ[ENV]
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

__all__ = ["ENV", "emit", "Watcher"]

ENV = "FPT_PROGRESS_FILE"


def emit(kind: str, **fields: int) -> None:
    """Append the event ``kind`` with ``fields`` to ``$FPT_PROGRESS_FILE`` (if set)."""
    path = os.environ.get(ENV)
    if not path:
        return
    with open(path, "a") as f:
        f.write(json.dumps({"kind": kind, "t": time.time(), **fields}) + "\n")


class Watcher:
    """Follows a progress file: :meth:`poll` reads new events, :meth:`line` summarises them."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path, self.offset = Path(path), 0
        self.started: float | None = None
        self.to_train = self.total = self.done = 0
        self.epoch = self.epochs = self.replicas = 0

    def poll(self) -> bool:
        """Read events written since the last call; True if there were any."""
        if not self.path.exists():
            return False
        with open(self.path) as f:
            f.seek(self.offset)
            lines = f.readlines()
            self.offset = f.tell()
        for raw in lines:
            e = json.loads(raw)
            if e["kind"] == "ensemble":
                self.started, self.done = e["t"], 0
                self.to_train, self.total = e["to_train"], e["total"]
                self.epoch = self.epochs = 0
            elif e["kind"] == "epoch":
                self.epoch, self.epochs, self.replicas = e["epoch"], e["epochs"], e["replicas"]
            elif e["kind"] == "chunk":
                self.done += e["runs"]
                self.epoch = 0
        return bool(lines)

    def line(self, now: float | None = None) -> str:
        """``runs k/n trained (N in the ensemble) · epoch e/E · elapsed · ETA``."""
        if self.started is None:
            return "no training yet"
        elapsed = (time.time() if now is None else now) - self.started
        frac = 0.0
        if self.to_train:
            part = self.replicas * self.epoch / self.epochs if self.epochs else 0.0
            frac = min(1.0, (self.done + part) / self.to_train)
        eta = f"ETA {elapsed * (1 - frac) / frac:.0f} s" if frac > 0 else "ETA ?"
        epoch = f" · epoch {self.epoch}/{self.epochs}" if self.epochs else ""
        return (
            f"runs {self.done}/{self.to_train} trained ({self.total} in the ensemble){epoch} · "
            f"{elapsed:.0f} s · {eta}"
        )
