"""Scan the Lyapunov window for notebook 07: how long does the separation take to align?

The training-map exponent is measured by Benettin's method (:mod:`fpt_core.dynamics.lyapunov`): a
companion trajectory starts ``d0`` away in a random direction and is renormalised every few
steps. Until that direction has turned onto the leading one, the measured rate is too low; the
steps it takes belong in ``transient``, not in the window. This script starts the window right
after the warm-up (``transient = 0``), runs it long, and prints the rate over consecutive blocks
(:func:`fpt_core.dynamics.edge_grid.block_rates`, mean ± SE over seeds) for cells across the phases of
the default grid (tanh MLP [32, 32], MNIST-1D, weight decay 0).

    python tools/scan_lyapunov_window.py     # writes book/scans/lyapunov_window.md and .json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fpt_core.dynamics.edge_grid import block_rates, run_edge_grid  # noqa: E402
from fpt_core.train.chunk import cached_dataset  # noqa: E402

CELLS = [(0.01, 0.0), (0.02, 0.5), (0.04, 0.5), (0.08, 0.0), (0.16, 0.0), (0.16, 0.5), (0.32, 0.8)]


def table(b, grid, phases, meta) -> str:
    n_blocks = int(b["block"].max()) + 1
    starts = [int(s) for s in b[b["group"] == 0]["start"]]
    stops = [int(s) for s in b[b["group"] == 0]["stop"]]
    head = (
        "**Scan: the training-map exponent over consecutive blocks of a long window.** Generated "
        f"by `tools/scan_lyapunov_window.py` ({meta['seeds']} seeds per cell, {meta['warmup']} "
        f"warm-up steps, then {meta['n_steps']} measured steps with no transient, tanh MLP "
        f"[32, 32], MNIST-1D, batch 100, weight decay 0, {meta['wall_s']:.0f} s). Rate per epoch, "
        "mean ± SE over seeds; `phase` is the network-map phase at the end of the window.\n\n"
    )
    cols = ["η", "μ", "phase"] + [f"steps {a}–{c}" for a, c in zip(starts, stops, strict=True)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for g, (lr, mu, _) in enumerate(grid):
        r = b[b["group"] == g].sort_values("block")
        vals = [f"{v:.4f} ± {s:.4f}" for v, s in zip(r["rate"], r["rate_se"], strict=True)]
        lines.append(f"| {lr:g} | {mu:g} | {phases[g]} | " + " | ".join(vals) + " |")
    assert len(vals) == n_blocks
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=4000)
    ap.add_argument("--n-steps", type=int, default=8000)
    ap.add_argument("--blocks", type=int, default=8)
    ap.add_argument("--out", default=str(ROOT / "book" / "scans" / "lyapunov_window"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    data = cached_dataset("mnist1d", None, False, "cpu", 5000, 42)
    grid = [(lr, mu, 0.0) for lr, mu in CELLS]
    t0 = time.time()
    g = run_edge_grid(data, grid, list(range(args.seeds)), hidden=32, batch_size=100,
                      warmup=args.warmup, n_steps=args.n_steps, transient=0, renorm_every=10,
                      d0=1e-4, target=0.4, plateau_epochs=10, n_probe=50, net_iter=1000,
                      net_transient=500)  # fmt: skip
    wall = time.time() - t0
    res = g.run.result.per_epoch(g.steps_per_epoch)
    b = block_rates(res, args.blocks, n_groups=len(grid))
    meta = dict(seeds=args.seeds, warmup=args.warmup, n_steps=args.n_steps, wall_s=wall)
    phases = list(g.cells["phase"])
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(
        {"meta": meta, "cells": [dict(lr=lr, momentum=mu, phase=p) for (lr, mu, _), p in zip(grid, phases, strict=True)],
         "blocks": b.to_dict(orient="records")}, indent=1) + "\n")  # fmt: skip
    out.with_suffix(".md").write_text(table(b, grid, phases, meta))
    print(out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
