"""Size notebook 06's TempBalance experiment: seeds and epochs from the measured paired SD.

The claim "TempBalance improves test accuracy" is decided by the 95 % CI of the mean paired
difference of plateau accuracy (TempBalance − SGD, run k of both arms with seed k: the same
initialisation and minibatch order). Its half-width is t · s_d/√n, so the number of seeds the
notebook needs for a half-width ≤ 0.005 follows from the SD s_d of the paired differences. For
each candidate setting this script trains both arms with the same seeds and reports

* the plateau accuracy of each arm (mean of the last ``plateau`` epochs), the SD of the paired
  differences and the correlation of the two arms over seeds (pairing helps only if it is > 0);
* ``n_required`` = ⌈(1.96 s_d / 0.005)²⌉ and the measured training cost per run and epoch of
  each arm, hence the projected cost of the notebook at ``n_required`` seeds;
* whether TempBalance has something to balance: the median over runs of the spread of the
  tuned layers' α (final epoch, SGD arm) over their Hill standard error
  (:func:`fpt_core.spectra.tb_analysis.alpha_spread_over_se`).

    python tools/scan_tempbalance.py            # every setting; writes book/scans/tempbalance.md
    python tools/scan_tempbalance.py --runs 8 --only mlp5-e20 --out /tmp/scan  # quick check
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fpt_core.spectra.tb_analysis import alpha_history, spread_over_se_by_run  # noqa: E402
from fpt_core.stats.paired import paired_difference  # noqa: E402
from fpt_core.train.config import TrainConfig  # noqa: E402
from fpt_core.train.runner import run_ensemble  # noqa: E402

HIDDEN = [128, 128, 512, 64, 256]  # tuned layers 128×128, 512×128, 64×512, 256×64 (Q = 1, 4, 8, 4)
SETTINGS = {  # name: (hidden, epochs, lr)
    "mlp5-e20": (HIDDEN, 20, 0.1),
    "mlp5-e40": (HIDDEN, 40, 0.1),
    "mlp5-e60": (HIDDEN, 60, 0.1),
}
PLATEAU = 5


def configs(hidden, epochs, lr):
    common = dict(
        dataset="mnist1d",
        model="mlp",
        model_kwargs={"hidden": hidden},
        lr=lr,
        momentum=0.9,
        weight_decay=5e-4,
        batch_size=100,
        epochs=epochs,
        lr_schedule="cosine",
    )
    return {
        "SGD": TrainConfig(**common, perturbation={"kind": "tempbalance", "apply": False}),
        "TempBalance": TrainConfig(
            **common,
            perturbation={"kind": "tempbalance", "assignment": "tempbalance", "s1": 0.5, "s2": 1.5},
        ),
    }


def spread_over_se(records, hidden) -> float:
    """Median over runs of the tuned layers' α spread over their Hill SE (final epoch)."""
    dims = [40, *hidden, 10]  # MNIST-1D input length 40, 10 classes
    names = [f"net.{2 * i + 1}" for i in range(len(dims) - 1)]  # the MLP's Linear modules
    n_eigs = {n: min(a, b) for n, a, b in zip(names, dims[:-1], dims[1:], strict=True)}
    return float(np.nanmedian(spread_over_se_by_run(alpha_history(records), n_eigs, names[1:-1])))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=32)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--store", default=None, help="results store (default: none, all trained)")
    ap.add_argument("--out", default=str(ROOT / "book" / "scans"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for name, (hidden, epochs, lr) in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        plateau, cost, recs = {}, {}, {}
        for arm, cfg in configs(hidden, epochs, lr).items():
            t0 = time.perf_counter()
            ens = run_ensemble(cfg, args.runs, store=args.store, progress=False)
            cost[arm] = (time.perf_counter() - t0) / (args.runs * epochs)
            plateau[arm] = ens.matrix("test_acc")[1][:, -PLATEAU:].mean(axis=1)
            recs[arm] = ens.records
        pd_ = paired_difference(plateau["SGD"], plateau["TempBalance"])
        corr = float(np.corrcoef(plateau["SGD"], plateau["TempBalance"])[0, 1])
        per_run = sum(cost.values()) * epochs
        rows.append(
            {
                "setting": name,
                "hidden": hidden,
                "epochs": epochs,
                "lr": lr,
                "runs": args.runs,
                "plateau_sgd": float(plateau["SGD"].mean()),
                "plateau_tb": float(plateau["TempBalance"].mean()),
                "sd_sgd": float(plateau["SGD"].std(ddof=1)),
                "diff": pd_.mean,
                "diff_low": pd_.low,
                "diff_high": pd_.high,
                "sd_paired": pd_.sd,
                "corr": corr,
                "n_required": pd_.n_required,
                "s_per_run_epoch": cost,
                "projected_s": per_run * pd_.n_required,
                "spread_over_se": spread_over_se(recs["SGD"], hidden),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"plateau_epochs": PLATEAU, "load": open("/proc/loadavg").read().split()[:3]}
    (out / "tempbalance.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    lines = [
        "| setting | runs × epochs | plateau SGD (SD) | plateau TB | TB − SGD [95 % CI] | paired SD "
        "| corr | n for ±0.005 | s / run·epoch (SGD, TB) | projected s | α spread / Hill SE |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r["s_per_run_epoch"]
        lines.append(
            f"| `{r['setting']}` | {r['runs']} × {r['epochs']} | {r['plateau_sgd']:.4f} "
            f"({r['sd_sgd']:.4f}) | {r['plateau_tb']:.4f} | {r['diff']:+.4f} "
            f"[{r['diff_low']:+.4f}, {r['diff_high']:+.4f}] | {r['sd_paired']:.4f} | "
            f"{r['corr']:.2f} | {r['n_required']} | {c['SGD']:.3f}, {c['TempBalance']:.3f} | "
            f"{r['projected_s']:.0f} | {r['spread_over_se']:.1f} |"
        )
    lines.append("")
    lines.append(
        f"MLP hidden widths {HIDDEN} on MNIST-1D (4000/1000), SGD momentum 0.9, weight decay "
        f"5e-4, batch 100, cosine schedule; plateau = mean test accuracy of the last {PLATEAU} "
        f"epochs. Costs measured with one torch thread at load average {' '.join(meta['load'])} "
        "(2 shared cores)."
    )
    (out / "tempbalance.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
