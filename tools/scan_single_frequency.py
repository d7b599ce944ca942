"""Choose target, τ0 and horizon for notebook 02 by measurement, under the claim's own premise.

For the MNIST-1D setting picked by ``tools/scan_qss.py`` (defaults: 2000 samples, one hidden layer of
256, lr 0.05, momentum 0.9, batch 100: a QSS from epoch ≈ 22 whatever the KS reference) this
script trains the unperturbed ensemble and one ensemble perturbed once at τ0 ≥ t_relax (shrink &
perturb, ``schedule="once"``), long enough to see the whole law of T_p, the time from the
perturbation to the target. For each candidate target it reports:

* the unperturbed share censored at the horizon and the survivors' relaxation time
  (:func:`fpt_core.stats.survivors.qss_onset`);
* P(T_p ≤ τ) and the censored share of T_p;
* for each candidate period τ, the renewal prediction of ⟨T_τ⟩ under periodic perturbation
  (:func:`fpt_core.stats.restart.predict_mean_fpt`, ``form="renewal"``, ``schedule="once"``) and the
  share of a periodic ensemble expected to be censored at the horizon, S(τ)·(1 − P(T_p ≤ τ))^m
  with m the number of full periods after τ (the brute-force ensembles must be < 5 % censored
  for their means to be estimates, not bounds).

    python tools/scan_single_frequency.py            # writes book/scans/single_frequency.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fpt_core.stats.fpt import first_passage, mean_fpt, survival  # noqa: E402
from fpt_core.stats.restart import post_perturbation, predict_mean_fpt  # noqa: E402
from fpt_core.stats.survivors import qss_onset  # noqa: E402
from fpt_core.train.config import TrainConfig  # noqa: E402
from fpt_core.train.runner import run_ensemble  # noqa: E402


def base_config(args: argparse.Namespace, epochs: int) -> TrainConfig:
    return TrainConfig(
        dataset="mnist1d",
        model="mlp",
        model_kwargs={"hidden": args.hidden},
        num_samples=args.num_samples,
        lr=args.lr,
        momentum=args.momentum,
        batch_size=args.batch_size,
        epochs=epochs,
    )


def once_config(args: argparse.Namespace) -> TrainConfig:
    spec = {
        "kind": "shrink_perturb",
        "lam": 0.4,
        "sigma": 0.1,
        "batchnorm": "shrink",
        "reset_momentum": True,
        "schedule": "once",
        "tau": args.tau0,
    }
    cfg = base_config(args, args.once_epochs)
    return TrainConfig(**{**cfg.to_dict(), "perturbation": spec})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--num-samples", type=int, default=2000)
    ap.add_argument("--hidden", type=int, nargs="+", default=[256])
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--runs", type=int, default=96)
    ap.add_argument("--epochs", type=int, default=120, help="unperturbed horizon")
    ap.add_argument("--tau0", type=float, default=25)
    ap.add_argument("--once-epochs", type=int, default=120, help="horizon of the τ0 ensemble")
    ap.add_argument("--taus", type=float, nargs="+", default=[25, 30, 40, 50, 60])
    ap.add_argument("--horizon", type=int, default=120, help="periodic ensembles' horizon")
    ap.add_argument("--quantiles", type=float, nargs="+", default=[0.7, 0.9, 0.95, 0.98])
    ap.add_argument("--store", default=str(ROOT / "results"))
    ap.add_argument("--out", default=str(ROOT / "book" / "scans" / "single_frequency"))
    args = ap.parse_args(argv)

    ens0 = run_ensemble(base_config(args, args.epochs), args.runs, store=args.store)
    t0, a0 = ens0.matrix("test_acc")
    seeds = range(10_000, 10_000 + args.runs)
    ens1 = run_ensemble(once_config(args), seeds, store=args.store)
    t1, a1 = ens1.matrix("test_acc")
    last = a0[:, t0 > 0.75 * args.epochs]
    rows = []
    for q in args.quantiles:
        target = round(float(np.nanquantile(last, q)), 3)
        fp0 = first_passage(a0, target, t0)
        fp1 = first_passage(a1, target, t1)
        onset = qss_onset(a0, target, t0, fallback=args.tau0)
        tp = post_perturbation(fp1, args.tau0, schedule="once")
        s_tp = survival(tp)
        m0 = mean_fpt(fp0, n_resamples=200, rng=0)
        taus = np.array([t for t in args.taus if t < args.epochs])
        pred = predict_mean_fpt(
            fp0, fp1, args.tau0, taus, form="renewal", schedule="once", n_resamples=200, rng=1
        )
        s0 = survival(fp0)
        per_tau = []
        for i, tau in enumerate(taus):
            p_reach = 1.0 - float(s_tp.evaluate(tau))
            m = int((args.horizon - tau) // tau)
            cens = float(s0.evaluate(tau)) * (1.0 - p_reach) ** m
            per_tau.append(
                {
                    "tau": float(tau),
                    "predicted": float(pred.mean[i]),
                    "p_tp_le_tau": p_reach,
                    "censored_expected": cens,
                }
            )
        rows.append(
            {
                "quantile": q,
                "target": target,
                "unperturbed_censored": 1 - fp0.n_observed / fp0.n,
                "unperturbed_mean": m0.mean,
                "unperturbed_estimable": m0.estimable,
                "cv_lower_bound": m0.cv_lower_bound,
                "cv_lower_bound_low": m0.cv_lower_bound_low,
                "t_relax_survivors": onset.t_relax,
                "t_relax_source": onset.source,
                "tp_censored": 1 - tp.n_observed / tp.n,
                "tp_survivors_at_tau0": tp.n,
                "per_tau": per_tau,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))
    lines = [
        f"Setting: MNIST-1D, {args.num_samples} samples, MLP {args.hidden}, lr {args.lr}, "
        f"momentum {args.momentum}, batch {args.batch_size}; {args.runs} runs per ensemble; "
        f"shrink & perturb (λ 0.4, σ 0.1) once at τ0 = {args.tau0:g}, horizon "
        f"{args.once_epochs}; periodic horizon {args.horizon}.\n",
        "| target (plateau quantile) | unperturbed censored | CV ≥ (95 % lower end) | "
        "survivors' t_relax | T_p censored | per τ: predicted ⟨T_τ⟩, P(T_p ≤ τ), "
        "expected censored share |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        taus = "; ".join(
            f"τ {p['tau']:g}: {p['predicted']:.1f}, {p['p_tp_le_tau']:.2f}, "
            f"{p['censored_expected']:.0%}"
            for p in r["per_tau"]
        )
        lines.append(
            f"| {r['target']:.3f} (q{r['quantile']:g}) | {r['unperturbed_censored']:.0%} | "
            f"{r['cv_lower_bound']:.2f} ({r['cv_lower_bound_low']:.2f}) | "
            f"{r['t_relax_survivors']:g} ({r['t_relax_source']}) | {r['tp_censored']:.0%} | "
            f"{taus} |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
