"""Scan MNIST-1D training settings for a quasi-steady state (QSS) the single-frequency claim needs.

Notebooks 01 and 02 test a claim whose premise is that the unperturbed ensemble reaches a QSS
well before the perturbation times. This script measures, for each candidate setting (data-set
size, width, learning rate, …), an unperturbed ensemble long enough to tell:

* ``t_relax`` of the KS test (all runs, :func:`fpt_core.stats.qss.ks_relaxation`) against reference
  epochs spread over the second half of the horizon, and their spread: a genuine QSS gives the
  same relaxation time whatever the reference;
* the plateau (mean accuracy of the last quarter), its 80th percentile ``a80`` over runs and
  epochs, and :func:`fpt_core.stats.qss.tail_stationarity` of the share of time at or above ``a80``
  from the largest ``t_relax`` on (the upper tail is what a first passage above the plateau
  depends on, and a KS test can miss its drift);
* for targets at plateau quantiles, the share of runs that never reach them (censored).

Runs are stored in the results store under their configuration hash, so a notebook that picks a
scanned setting with the same seeds reuses them.

    python tools/scan_qss.py                 # every setting below; writes book/scans/qss.md
    python tools/scan_qss.py --only 2000-mlp100x2-lr0.1 --runs 32 --epochs 60
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fpt_core.stats.fpt import first_passage  # noqa: E402
from fpt_core.stats.qss import ks_relaxation, tail_stationarity  # noqa: E402
from fpt_core.train.config import TrainConfig  # noqa: E402
from fpt_core.train.runner import run_ensemble  # noqa: E402

SETTINGS = {  # name: (num_samples, hidden, lr, momentum, batch_size)
    "4000-mlp100x2-lr0.1": (4000, [100, 100], 0.1, 0.9, 100),  # notebook 01's old default
    "2000-mlp100x2-lr0.1": (2000, [100, 100], 0.1, 0.9, 100),
    "2000-mlp100x2-lr0.05": (2000, [100, 100], 0.05, 0.9, 100),
    "1000-mlp100x2-lr0.1": (1000, [100, 100], 0.1, 0.9, 100),
    "2000-mlp256-lr0.05": (2000, [256], 0.05, 0.9, 100),
    "2000-mlp100x2-lr0.1-b50": (2000, [100, 100], 0.1, 0.9, 50),
}
QUANTILES = (0.8, 0.9, 0.95)  # targets at these quantiles of the plateau values


def config(setting: tuple, epochs: int) -> TrainConfig:
    n, hidden, lr, mom, batch = setting
    return TrainConfig(
        dataset="mnist1d",
        model="mlp",
        model_kwargs={"hidden": hidden},
        num_samples=n,
        lr=lr,
        momentum=mom,
        batch_size=batch,
        epochs=epochs,
    )


def measure(name: str, setting: tuple, runs: int, epochs: int, store: str) -> dict:
    t0 = time.perf_counter()
    ens = run_ensemble(config(setting, epochs), runs, store=store, progress=True)
    wall = time.perf_counter() - t0
    times, acc = ens.matrix("test_acc")
    keep = times >= 1  # the evaluation at step 0 is not part of the dynamics
    times, acc = times[keep], acc[:, keep]
    refs = [e for e in np.linspace(epochs / 2, epochs, 4).round() if e in times]
    t_relax = {}
    for ref in refs:
        res = ks_relaxation(acc, times, reference=int(np.flatnonzero(times == ref)[0]))
        t_relax[int(ref)] = res.t_relax
    found = [v for v in t_relax.values() if v is not None]
    med = np.median(found) if found else np.nan
    spread = max(abs(v - med) for v in found) / med if len(found) == len(refs) else None
    last = acc[:, times > 0.75 * epochs]
    a80 = float(np.nanquantile(last, 0.8))
    start = max(found) if found else epochs / 2
    tail = tail_stationarity(acc, times, level=a80, start=start, n_windows=4)
    targets = {}
    for q in QUANTILES:
        a = float(np.nanquantile(last, q))
        fp = first_passage(acc, a, times)
        targets[str(q)] = {"target": round(a, 4), "censored": float(1 - fp.n_observed / fp.n)}
    return {
        "setting": name,
        "num_samples": setting[0],
        "hidden": setting[1],
        "lr": setting[2],
        "momentum": setting[3],
        "batch_size": setting[4],
        "runs": ens.n_runs,
        "epochs": epochs,
        "t_relax_by_reference": t_relax,
        "t_relax_spread": spread,
        "plateau_mean": float(np.nanmean(last)),
        "plateau_sd_across_runs": float(np.nanstd(np.nanmean(last, 1), ddof=1)),
        "a80": a80,
        "tail_start": float(start),
        "tail_share": [round(float(v), 3) for v in tail.share],
        "tail_share_se": [round(float(v), 3) for v in tail.share_se],
        "tail_difference": tail.difference,
        "tail_pvalue": tail.pvalue,
        "targets": targets,
        "wall_time_s": wall,
        "n_trained": ens.n_trained,
    }


def table(rows: list[dict]) -> str:
    head = (
        "| setting | runs × epochs | t_relax at reference epochs | ± | plateau (SD) | "
        "a80 | share ≥ a80 per window (from t) | tail p | censored at q80 / q90 / q95 |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        tr = ", ".join(
            f"{v if v is not None else '–'} @{k}" for k, v in r["t_relax_by_reference"].items()
        )
        spread = "–" if r["t_relax_spread"] is None else f"{r['t_relax_spread']:.0%}"
        cens = " / ".join(f"{v['censored']:.0%} ({v['target']:.3f})" for v in r["targets"].values())
        share = " → ".join(f"{v:.2f}" for v in r["tail_share"])
        lines.append(
            f"| `{r['setting']}` | {r['runs']} × {r['epochs']} | {tr} | {spread} | "
            f"{r['plateau_mean']:.3f} ({r['plateau_sd_across_runs']:.3f}) | {r['a80']:.3f} | "
            f"{share} (t ≥ {r['tail_start']:g}) | {r['tail_pvalue']:.2g} | {cens} |"
        )
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], choices=sorted(SETTINGS))
    ap.add_argument("--runs", type=int, default=96)
    ap.add_argument("--epochs", type=int, default=120)
    ap.add_argument("--store", default=str(ROOT / "results"))
    ap.add_argument("--out", default=str(ROOT / "book" / "scans" / "qss"))
    args = ap.parse_args(argv)
    rows = []
    for name in args.only or list(SETTINGS):
        rows.append(measure(name, SETTINGS[name], args.runs, args.epochs, args.store))
        print(table(rows[-1:]), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    out.with_suffix(".md").write_text(table(rows))
    print(f"wrote {out.with_suffix('.md')} and .json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
