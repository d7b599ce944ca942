"""The ``fpt`` command: first-passage analysis of training logs, and the book's tools.

    fpt analyze PATH --target X [--column NAME] [--perturbed DIR --tau0 T] [--json] [--plot FILE]
    fpt analyze RELEASED --target X [--protocol P --tau0 T]   (a folder in the released layout)
    fpt run NOTEBOOK [-p NAME VALUE ...] [--preset P]     (in a checkout of the book)
    fpt book [--preset P]                                 (in a checkout of the book)

``PATH`` is a folder of per-run CSV files (one row per evaluation) or a long table (columns run,
time, value), as read by :func:`fpt_core.stats.logs.load_runs`; or a folder in the released layout of
Meir et al. (:mod:`fpt_core.stats.released`, e.g. the book's ``data/meir2025``), whose unperturbed
ensemble is analysed, with ``--protocol`` and ``--tau0`` naming the perturbed one. Bad input exits with status 2 and one
line naming the argument. Also ``python -m fpt_core``.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from fpt_core.stats.fpt import FirstPassage, first_passage, mean_fpt, survival
from fpt_core.stats.logrank import logrank
from fpt_core.stats.logs import load_runs
from fpt_core.stats.median import median_fpt, quantile_fpt
from fpt_core.stats.released import COMPACT_NAME, discover
from fpt_core.stats.restart import predict_mean_fpt

__all__ = ["main", "analyze"]


class UsageError(Exception):
    """Bad input: reported as one line, exit status 2."""


def _load(path: str, column: str | None, run: str, time: str | None, arg: str):
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{arg} {path!r} does not exist")
    try:
        return load_runs(p, accuracy=column, run=run, time=time)
    except ValueError as err:
        raise UsageError(f"{arg} {path!r}: {err}".replace("accuracy:", "--column:")) from None


def _released(path: str, column: str | None):
    """The released-layout ensembles at ``path``, or None if it is not such a folder."""
    p = Path(path)
    if not p.is_dir() or not (
        (p / COMPACT_NAME).is_file() or any(d.name.endswith("reg_training") for d in p.iterdir())
    ):
        return None
    try:
        return discover(p, column=column or "test_ACC")
    except ValueError as err:
        raise UsageError(f"PATH {path!r}: {err}") from None


def _fp(log, target: float, arg: str) -> FirstPassage:
    best = float(np.nanmax(log.acc))
    if not best >= target:
        raise UsageError(
            f"--target {target:g}: no run in {arg} reaches it (largest value {best:g})"
        )
    return first_passage(log.acc, target, log.times)


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def analyze(
    path: str,
    target: float,
    *,
    column: str | None = None,
    run: str = "run",
    time: str | None = None,
    perturbed: str | None = None,
    tau0: float | None = None,
    protocol: str | None = None,
    n_resamples: int = 999,
    seed: int = 0,
) -> dict[str, Any]:
    """Everything ``fpt analyze`` reports, as a JSON-ready dict (see the module docstring)."""
    released = _released(path, column)
    if released is not None:
        if perturbed is not None:
            raise UsageError("--perturbed: PATH is a released layout; use --protocol and --tau0")
        log = released.unperturbed
        if protocol is not None:
            if protocol not in released.perturbed or tau0 not in released.perturbed[protocol]:
                found = {p: sorted(v) for p, v in released.perturbed.items()}
                raise UsageError(f"--protocol {protocol} --tau0 {tau0}: not in PATH; found {found}")
            plog = released.perturbed[protocol][int(tau0)]  # type: ignore[arg-type]
    elif protocol is not None:
        raise UsageError("--protocol needs PATH in the released layout")
    else:
        log = _load(path, column, run, time, "PATH")
    if perturbed is not None:
        plog = _load(perturbed, column, run, time, "--perturbed")
    has_perturbed = perturbed is not None or protocol is not None
    if has_perturbed != (tau0 is not None):
        raise UsageError("--tau0 goes with --perturbed (or --protocol)")
    fp = _fp(log, target, "PATH")
    rng = np.random.default_rng(seed)
    m = mean_fpt(fp, n_resamples=n_resamples, rng=rng)
    med = median_fpt(fp, n_resamples=n_resamples, rng=rng)
    quart = [quantile_fpt(fp, q, n_resamples=1).time for q in (0.25, 0.75)]
    sv = survival(fp)
    cv_low = m.cv_low if m.estimable else m.cv_lower_bound_low
    criterion = (
        "CV > 1: restart helps at small rates"
        if cv_low > 1
        else "CV < 1: restart does not help at small rates"
        if m.estimable and m.cv_high < 1
        else "undetermined (the CV's interval contains 1, or only a lower bound below 1)"
    )
    out: dict[str, Any] = {
        "runs": fp.n,
        "censored": fp.n - fp.n_observed,
        "horizon": fp.horizon,
        "target": target,
        "mean": {"value": m.mean, "low": m.low, "high": m.high, "estimable": m.estimable},
        "median": {"value": _num(med.time), "low": _num(med.low), "high": _num(med.high)},
        "quartiles": [_num(q) for q in quart],
        "cv": {
            "value": _num(m.cv) if m.estimable else None,
            "lower_bound": m.cv_lower_bound,
            "lower_bound_low": m.cv_lower_bound_low,
        },
        "restart_criterion": criterion,
        "survival": {"time": sv.times.tolist(), "S": sv.sf.tolist()},
    }
    if has_perturbed:
        pfp = _fp(plog, target, "the perturbed runs")
        if not 0 < tau0 < pfp.horizon:  # type: ignore[operator]
            raise UsageError(f"--tau0 {tau0:g} must lie in (0, {pfp.horizon:g})")
        taus = np.arange(1.0, min(fp.horizon, pfp.horizon) + 1)
        pr = predict_mean_fpt(fp, pfp, tau0, taus, n_resamples=n_resamples, rng=rng)  # type: ignore[arg-type]
        ok = np.isfinite(pr.mean)
        k = int(np.nanargmin(np.where(ok, pr.mean, np.nan)))
        lr = logrank(fp, pfp)
        out["logrank"] = {"statistic": lr.statistic, "pvalue": lr.pvalue}
        out["prediction"] = {
            "tau0": tau0,
            "tau": taus[ok].tolist(),
            "mean": pr.mean[ok].tolist(),
            "low": pr.low[ok].tolist(),
            "high": pr.high[ok].tolist(),
            "best_tau": float(taus[k]),
            "best_mean": float(pr.mean[k]),
            "best_low": float(pr.low[k]),
            "best_high": float(pr.high[k]),
            "best_is_interior": bool(taus[ok][0] < taus[k] < taus[ok][-1]),
        }
    return out


def _text(r: dict[str, Any]) -> str:
    m, med, cv = r["mean"], r["median"], r["cv"]
    fmt = lambda x: "—" if x is None else f"{x:.4g}"  # noqa: E731
    lines = [
        f"runs: {r['runs']}, censored at t = {r['horizon']:g}: {r['censored']} "
        f"({r['censored'] / r['runs']:.1%}); target {r['target']:g}",
        "mean first-passage time: "
        + (f"{m['value']:.4g}" if m["estimable"] else f"≥ {m['value']:.4g} (restricted mean)")
        + f" [95 % CI {m['low']:.4g}, {m['high']:.4g}]",
        f"median: {fmt(med['value'])} [95 % CI {fmt(med['low'])}, {fmt(med['high'])}]; "
        f"quartiles {fmt(r['quartiles'][0])}, {fmt(r['quartiles'][1])}",
        "CV: "
        + (f"{cv['value']:.3g}" if cv["value"] is not None else f"≥ {cv['lower_bound']:.3g}")
        + f" (lower bound's 95 % lower end {cv['lower_bound_low']:.3g}); {r['restart_criterion']}",
    ]
    if "logrank" in r:
        lines.append(
            f"log-rank, perturbed vs unperturbed: χ² = {r['logrank']['statistic']:.3g}, "
            f"p = {r['logrank']['pvalue']:.2g}"
        )
    p = r.get("prediction")
    if p:
        lines.append(
            f"predicted mean first-passage time, perturbing every τ (from τ0 = {p['tau0']:g}): "
            f"best τ = {p['best_tau']:g}, {p['best_mean']:.4g} [95 % CI {p['best_low']:.4g}, "
            f"{p['best_high']:.4g}]"
            + ("" if p["best_is_interior"] else " — on the edge of the τ grid: not an optimum")
        )
    return "\n".join(lines)


def _plot(r: dict[str, Any], file: str) -> None:
    try:
        import altair as alt
        import pandas as pd
    except ImportError:
        raise UsageError("--plot needs the book extra: pip install 'fpt-core[book]'") from None
    s = pd.DataFrame({"t": r["survival"]["time"], "S": r["survival"]["S"]})
    chart = (
        alt.Chart(s)
        .mark_line(interpolate="step-after")
        .encode(x=alt.X("t:Q", title="time"), y=alt.Y("S:Q", title="S(t) = P(T > t)"))
        .properties(width=360, height=240, title=f"Kaplan–Meier, target {r['target']:g}")
    )
    if "prediction" in r:
        p = pd.DataFrame({k: r["prediction"][k] for k in ("tau", "mean", "low", "high")})
        pred = alt.Chart(p).mark_area(opacity=0.3).encode(x="tau:Q", y="low:Q", y2="high:Q")
        pred += (
            alt.Chart(p)
            .mark_line()
            .encode(x=alt.X("tau:Q", title="period τ"), y=alt.Y("mean:Q", title="predicted ⟨T_τ⟩"))
        )
        chart = chart | pred.properties(width=360, height=240)
    try:
        chart.save(file)
    except Exception as err:  # e.g. .png without vl-convert
        raise UsageError(f"--plot {file!r}: {err}") from None


def _book_root() -> Path:
    root = Path.cwd()
    if not (root / "tools" / "execute_notebooks.py").is_file():
        raise UsageError("run this in a checkout of fpt-book (no tools/execute_notebooks.py here)")
    return root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="fpt", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", help="first-passage statistics of a set of training logs")
    a.add_argument("path", help="folder of per-run CSV files, or a long-table CSV")
    a.add_argument("--target", type=float, required=True, help="target value (run reaches ≥ it)")
    a.add_argument("--column", default=None, help="score column (default test_ACC / test_acc)")
    a.add_argument("--run", default="run", help="run column of a long table")
    a.add_argument("--time", default=None, help="time column (default: row number 1, 2, …)")
    a.add_argument("--perturbed", default=None, help="logs of runs perturbed every --tau0")
    a.add_argument("--tau0", type=float, default=None, help="period of --perturbed")
    a.add_argument("--protocol", default=None, help="released layout: the perturbed protocol")
    a.add_argument("--n-resamples", type=int, default=999)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--json", action="store_true", help="print JSON")
    a.add_argument("--plot", default=None, help="write a chart (.html, .svg, .png)")
    r = sub.add_parser("run", help="execute one notebook of the book with papermill")
    r.add_argument("notebook")
    r.add_argument("--preset", default="default")
    r.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    b = sub.add_parser("book", help="execute every notebook and build the HTML book")
    b.add_argument("--preset", default="default")
    args = ap.parse_args(argv)
    try:
        if args.command == "analyze":
            if args.n_resamples < 1:
                raise UsageError(f"--n-resamples {args.n_resamples} must be ≥ 1")
            res = analyze(
                args.path, args.target, column=args.column, run=args.run, time=args.time,
                perturbed=args.perturbed, tau0=args.tau0, protocol=args.protocol, n_resamples=args.n_resamples,
                seed=args.seed,
            )  # fmt: skip
            if args.plot:
                _plot(res, args.plot)
            if args.json:
                res = {k: v for k, v in res.items() if k != "survival"} | {
                    "survival": res["survival"]
                }
            print(json.dumps(res, indent=2) if args.json else _text(res))
            return 0
        root = _book_root()
        tool = [
            sys.executable,
            str(root / "tools" / "execute_notebooks.py"),
            "--preset",
            args.preset,
        ]
        if args.command == "run":
            extra = [x for name, value in args.p for x in ("-p", name, value)]
            return subprocess.call([*tool, "--only", args.notebook, *extra])
        rc = subprocess.call(tool)
        if rc:
            return rc
        jb = Path(sys.executable).with_name("jupyter-book")
        return subprocess.call([str(jb), "build", str(root), "-W", "--keep-going"])
    except UsageError as err:
        print(f"fpt {args.command}: error: {err}", file=sys.stderr)
        return 2
