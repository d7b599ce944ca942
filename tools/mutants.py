"""Plant small bugs in a copy of the project, one at a time, and check that the tests catch each.

Each mutant replaces one exact piece of source text (it must occur exactly once, so a mutant
that no longer applies is an error, never a silent pass) in a temporary copy of the repository,
then runs the tests that should catch it there (``pytest -x``, with ``PYTHONPATH`` pointing at
the copy so that the copy's ``fpt_core`` is imported, notebook kernels included). A mutant is
*caught* when those tests fail, *survives* when they pass. The unmutated copy is run first: its
tests must pass, or nothing is concluded.

    python tools/mutants.py              # every mutant (about 10 minutes on 2 cores)
    python tools/mutants.py --list       # names and the tests each runs
    python tools/mutants.py --only hazard-rate-not-per-unit-time --only moment-errors-kl-swapped

The last line reads ``mutants: K survived of M``; the exit status is 1 when K > 0.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "results", "_build", "executed", "__pycache__", ".pytest_cache",
    ".ruff_cache", "*.egg-info", "screenshots", "bench_*.json",
)  # fmt: skip

ORACLES = "tests/train/test_training_oracles.py"


@dataclass(frozen=True)
class Mutant:
    """Replace ``old`` by ``new`` in ``path``; ``tests`` (pytest ids) must then fail."""

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    # -- engine: the SGD step on the slower path (per-layer learning-rate scales, a dead replica)
    M(
        "engine-scaled-step-drops-weight-decay",
        "fpt_core/train/optim.py",
        "        if cfg.weight_decay:\n            g = g.add_(p, alpha=cfg.weight_decay)\n",
        "",
        (ORACLES,),
    ),
    M(
        "engine-scale-inside-momentum",
        "fpt_core/train/optim.py",
        "        if cfg.momentum:\n            g = state.momentum[k].mul_(cfg.momentum).add_(g)\n"
        "        p.addcmul_(g, (lr * state.lr_scale[k] * alive).view(shape), value=-1.0)",
        "        g = g * state.lr_scale[k].view(shape)\n"
        "        if cfg.momentum:\n            g = state.momentum[k].mul_(cfg.momentum).add_(g)\n"
        "        p.addcmul_(g, (lr * alive).view(shape), value=-1.0)",
        (ORACLES,),
    ),
    M(
        "engine-fused-step-drops-weight-decay",
        "fpt_core/train/optim.py",
        "            weight_decay=cfg.weight_decay,\n",
        "            weight_decay=0.0,\n",
        ("tests/train/test_engine.py",),
    ),
    M(
        "engine-seed-streams-collide",
        "fpt_core/train/engine.py",
        'digest = hashlib.sha256(f"{int(seed)}:{stream}".encode()).digest()',
        'digest = hashlib.sha256(f"{int(seed)}".encode()).digest()',
        ("tests/train/test_engine.py",),
    ),
    M(
        "engine-dead-replica-gradient-leaks",
        "fpt_core/train/optim.py",
        "        g = torch.where(state.alive.view(shape), g, 0.0)  # a dead replica's NaN stays out\n",
        "        g = g.clone()\n",
        (ORACLES,),
    ),
    M(
        "engine-fused-step-kept-after-hooks-change-scales",
        "fpt_core/train/engine.py",
        "            for hook in hooks:\n                hook(state)\n            uniform = uniform_step(state)\n",
        "            for hook in hooks:\n                hook(state)\n",
        (ORACLES,),
    ),
    M(
        "engine-test-accuracy-in-float32",
        "fpt_core/train/engine.py",
        "return correct.cpu().double() / x.shape[0], total_loss / x.shape[0]",
        "return correct / x.shape[0], total_loss / x.shape[0]",
        ("tests/train/test_engine.py",),
    ),
    # -- protocols
    M(
        "warm-restart-ignores-reset-momentum",
        "fpt_core/protocols/warm_restart.py",
        "            state.lr_restart_step = state.step\n"
        "        if self.reset_momentum:\n            self._reset_momentum(state, mask)\n",
        "            state.lr_restart_step = state.step\n",
        (ORACLES,),
    ),
    M(
        "shrink-perturb-keeps-momentum",
        "fpt_core/protocols/perturb.py",
        "        if self.reset_momentum:\n            self._reset_momentum(state, mask)\n"
        '        return {"lam"',
        '        return {"lam"',
        ("tests/protocols/test_perturb.py",),
    ),
    M(
        "shrink-perturb-swaps-lam-and-sigma",
        "fpt_core/protocols/ops.py",
        "lam * p + sigma * fresh[k]",
        "sigma * p + lam * fresh[k]",
        (ORACLES,),
    ),
    M(
        "shrink-perturb-adds-initial-not-fresh-weights",
        "fpt_core/protocols/perturb.py",
        "ops.shrink_perturb_(state.params, fresh, self.lam",
        "ops.shrink_perturb_(state.params, state.init_params, self.lam",
        (ORACLES,),
    ),
    M(
        "reset-to-a-fresh-draw-instead-of-the-initial-weights",
        "fpt_core/protocols/perturb.py",
        '            if self.to == "initial"\n',
        '            if self.to == "never"\n',
        (ORACLES,),
    ),
    M(
        "reset-keeps-momentum",
        "fpt_core/protocols/perturb.py",
        '        self._reset_momentum(state, mask)\n        return {"to": self.to}',
        '        return {"to": self.to}',
        (ORACLES,),
    ),
    M(
        "partial-reset-keeps-momentum",
        "fpt_core/protocols/perturb.py",
        "                state.momentum[k].masked_fill_(sel[k], 0.0)\n",
        "                pass\n",
        (ORACLES,),
    ),
    M(
        "partial-reset-redraws-largest",
        "fpt_core/protocols/ops.py",
        "k_small, dim=1, largest=False)",
        "k_small, dim=1, largest=True)",
        (ORACLES,),
    ),
    M(
        "tempbalance-factors-not-applied",
        "fpt_core/protocols/tempbalance.py",
        "                        state.lr_scale[pname][r] = f\n",
        "                        pass\n",
        (ORACLES,),
    ),
    M(
        "tempbalance-factors-set-only-at-start",
        "fpt_core/protocols/tempbalance.py",
        "                    for pname, f in pf.items():\n                        state.lr_scale[pname][r] = f\n",
        "                    for pname, f in pf.items():\n                        if self._first:\n"
        "                            state.lr_scale[pname][r] = f\n",
        (ORACLES,),
    ),
    # -- first-passage statistics
    M(
        "first-passage-one-evaluation-late",
        "fpt_core/stats/fpt.py",
        "t_hit = times[reached.argmax(axis=1)]",
        "t_hit = times[np.minimum(reached.argmax(axis=1) + 1, acc.shape[1] - 1)]",
        ("tests/stats/test_fpt.py",),
    ),
    M(
        "kaplan-meier-ignores-censoring",
        "fpt_core/stats/fpt.py",
        "uncensored=self.times[self.observed], right=self.times[~self.observed]",
        "uncensored=self.times",
        ("tests/stats/test_fpt.py",),
    ),
    M(
        "weighted-kaplan-meier-ignores-censoring",
        "fpt_core/stats/km.py",
        "self.obs = fp.observed[self.order].astype(float)",
        "self.obs = np.ones(t.size)",
        ("tests/stats/test_fpt.py",),
    ),
    M(
        "cv-lower-bound-is-the-upper-end",
        "fpt_core/stats/fpt.py",
        "        cv_lower_bound_low=float(cv_lo),\n",
        "        cv_lower_bound_low=float(cv_hi),\n",
        ("tests/stats/test_fpt.py",),
    ),
    M(
        "hazard-rate-not-per-unit-time",
        "fpt_core/stats/fpt.py",
        "return Hazard(grid, h, h / (grid - prev), se, events, at_risk)",
        "return Hazard(grid, h, h, se, events, at_risk)",
        ("tests/stats/test_fpt.py",),
    ),
    M(
        "hazard-keeps-runs-censored-inside-an-interval",
        "fpt_core/stats/fpt.py",
        "    at_risk = alive - lost\n",
        "    at_risk = alive\n",
        ("tests/stats/test_fpt.py",),
    ),
    M(
        "logrank-at-risk-excludes-runs-at-the-event-time",
        "fpt_core/stats/logrank.py",
        "(s.times[:, None] >= event_times)",
        "(s.times[:, None] > event_times)",
        ("tests/stats/test_logrank.py",),
    ),
    M(
        "logrank-without-tie-correction",
        "fpt_core/stats/logrank.py",
        "    w = d_tot * tie\n",
        "    w = d_tot\n",
        ("tests/stats/test_logrank.py",),
    ),
    M(
        "qss-reference-column-off-by-one",
        "fpt_core/stats/qss.py",
        "ref_vals = values[:, ref][np.isfinite(values[:, ref])]",
        "ref_vals = values[:, ref - 1][np.isfinite(values[:, ref - 1])]",
        ("tests/stats/test_qss.py",),
    ),
    M(
        "tail-stationarity-late-half-includes-the-middle-window",
        "fpt_core/stats/qss.py",
        "late = np.nanmean(frac[:, n_windows - half :], 1)",
        "late = np.nanmean(frac[:, half:], 1)",
        ("tests/stats/test_qss.py",),
    ),
    M(
        "relaxation-by-reference-spread-from-the-minimum",
        "fpt_core/stats/qss.py",
        'spread = max(abs(t - med) for t in found) / med if found else float("nan")',
        'spread = max(abs(t - min(found)) for t in found) / med if found else float("nan")',
        ("tests/stats/test_qss.py",),
    ),
    M(
        "post-perturbation-keeps-runs-done-at-tau0",
        "fpt_core/stats/restart.py",
        "    keep = perturbed.times > tau0\n    if not keep.any():",
        "    keep = perturbed.times >= tau0\n    if not keep.any():",
        ("tests/stats/test_restart.py",),
    ),
    M(
        "agreement-one-sided-critical-value",
        "fpt_core/stats/verdicts.py",
        "z = float(stats.norm.ppf(0.5 + confidence_level / 2))",
        "z = float(stats.norm.ppf(confidence_level))",
        ("tests/stats/test_verdicts.py",),
    ),
    M(
        "rmst-misses-the-jumps-after-later-perturbations",
        "fpt_core/stats/rmst.py",
        'starts = [tau] if form == "single" else np.arange(tau, horizon, tau)',
        "starts = [tau]",
        ("tests/stats/test_rmst.py",),
    ),
    M(
        "single-frequency-verdict-ignores-the-premise",
        "fpt_core/stats/single_frequency.py",
        "        if not self.premise:\n",
        "        if False:\n",
        ("tests/stats/test_single_frequency.py",),
    ),
    M(
        "single-frequency-renewal-from-the-periodic-ensemble",
        "fpt_core/stats/single_frequency.py",
        "pred = predicted_restricted_mean(fp0, fp_once, tau0,",
        "pred = predicted_restricted_mean(fp0, fps[float(tau0)], tau0,",
        ("tests/stats/test_single_frequency.py",),
    ),
    # -- spectra
    M(
        "hill-alpha-counts-n-minus-one",
        "fpt_core/spectra/htsr.py",
        "    alpha = 1.0 + n / s\n",
        "    alpha = 1.0 + (n - 1) / s\n",
        ("tests/spectra/test_htsr.py",),
    ),
    # -- samplers and nonequilibrium theory
    M(
        "moment-errors-kl-swapped",
        "fpt_core/langevin/linreg.py",
        '"kl": gaussian_kl(mean, cov, mean_p, cov_p),',
        '"kl": gaussian_kl(mean_p, cov_p, mean, cov),',
        ("tests/langevin/test_linreg.py",),
    ),
    M(
        "error-scan-control-variate-mean-sign",
        "fpt_core/langevin/linreg.py",
        '("coupled", mu + (m_g - mr_g), cov_ula + (c_g - cr_g)),',
        '("coupled", mu - (m_g - mr_g), cov_ula + (c_g - cr_g)),',
        ("tests/langevin/test_linreg.py",),
    ),
    M(
        "error-scan-control-variate-cov-sign",
        "fpt_core/langevin/linreg.py",
        '("coupled", mu + (m_g - mr_g), cov_ula + (c_g - cr_g)),',
        '("coupled", mu + (m_g - mr_g), cov_ula - (c_g - cr_g)),',
        ("tests/langevin/test_linreg.py",),
    ),
    M(
        "simulate-ness-records-every-step-when-reshuffling",
        "fpt_core/langevin/noneq.py",
        "every = policy.steps_per_epoch if isinstance(policy, WithoutReplacement) else 1",
        "every = 1",
        ("tests/langevin/test_noneq.py",),
    ),
    M(
        "entropy-production-uses-position-not-increment",
        "fpt_core/langevin/entropy.py",
        "return ((traj[:-1] - mu) @ P * (traj[1:] - traj[:-1])).sum(-1)",
        "return ((traj[:-1] - mu) @ P * (traj[1:] - mu)).sum(-1)",
        ("tests/langevin/test_noneq.py", "tests/langevin/test_entropy.py"),
    ),
    M(
        "minibatch-diffusion-without-finite-population-factor",
        "fpt_core/langevin/noneq.py",
        "(n - batch_size) / (batch_size * (n - 1)) * (c.T @ c / n)",
        "(n - batch_size) / (batch_size * n) * (c.T @ c / n)",
        ("tests/langevin/test_noneq.py",),
    ),
    M(
        "tanh-net-minimum-keeps-the-first-start",
        "fpt_core/langevin/tanhnet.py",
        "if best is None or r.fun < best.fun:",
        "if best is None:",
        ("tests/langevin/test_noneq.py",),
    ),
    M(
        "edge-contour-first-repeat-only",
        "fpt_core/dynamics/phases.py",
        "g = group.groupby(y, sort=True)[value].mean().dropna()",
        "g = group.groupby(y, sort=True)[value].first().dropna()",
        ("tests/dynamics/test_chaos.py",),
    ),
    M(
        "edge-contour-max-over-repeats",
        "fpt_core/dynamics/phases.py",
        "g = group.groupby(y, sort=True)[value].mean().dropna()",
        "g = group.groupby(y, sort=True)[value].max().dropna()",
        ("tests/dynamics/test_chaos.py",),
    ),
    # -- more of the same kind: a factor, a sign, a bound, a comparison
    M(
        "sgld-noise-variance-halved",
        "fpt_core/langevin/samplers.py",
        "scale = float(np.sqrt(2.0 * lr * temperature))",
        "scale = float(np.sqrt(lr * temperature))",
        ("tests/langevin/test_langevin.py",),
    ),
    M(
        "entropy-functional-sign",
        "fpt_core/langevin/noneq.py",
        "A = -self.circulation @ np.linalg.inv(self.sigma)",
        "A = self.circulation @ np.linalg.inv(self.sigma)",
        ("tests/langevin/test_noneq.py",),
    ),
    M(
        "poisson-waiting-time-uses-rate-as-mean",
        "fpt_core/protocols/perturb.py",
        'clock["next"] += float(clock["rng"].exponential(1.0 / self.rate))',
        'clock["next"] += float(clock["rng"].exponential(self.rate))',
        ("tests/protocols/test_perturb.py",),
    ),
    M(
        "warm-restart-cycle-left-endpoint",
        "fpt_core/protocols/warm_restart.py",
        "1.0 + np.cos(np.pi * (k + 0.5) / self.cycle)",
        "1.0 + np.cos(np.pi * k / self.cycle)",
        ("tests/protocols/test_perturb.py",),
    ),
    M(
        "tempbalance-map-reversed",
        "fpt_core/protocols/tempbalance.py",
        "return s1 + (s2 - s1) * (a - lo) / (hi - lo)",
        "return s2 - (s2 - s1) * (a - lo) / (hi - lo)",
        ("tests/protocols/test_tempbalance.py",),
    ),
    M(
        "restart-prediction-drops-survival-weight",
        "fpt_core/stats/restart.py",
        "mean = np.where(st == 0, emin, emin + st * mtp)",
        "mean = np.where(st == 0, emin, emin + mtp)",
        ("tests/stats/test_restart.py",),
    ),
    M(
        "mean-fpt-cv-divides-by-variance",
        "fpt_core/stats/fpt.py",
        "cv = np.sqrt(np.maximum(m2 - m1**2, 0.0)) / m1",
        "cv = np.maximum(m2 - m1**2, 0.0) / m1",
        ("tests/stats/test_fpt.py",),
    ),
    M(
        "config-accepts-momentum-one",
        "fpt_core/train/config.py",
        "if not 0.0 <= self.momentum < 1.0:",
        "if not 0.0 <= self.momentum <= 1.0:",
        ("tests/train/test_engine.py",),
    ),
    M(
        "runner-retrains-stored-runs",
        "fpt_core/train/runner.py",
        "have = {k for k in keys if store is not None and store.has(k)}",
        "have = set()",
        ("tests/train/test_store.py",),
    ),
    M(
        "cluster-task-name-ignores-store-and-call",
        "fpt_core/train/cluster.py",
        'text = "\\n".join([root, submission, *(k for _, k in chunk)])',
        'text = "\\n".join(k for _, k in chunk)',
        ("tests/train/test_cluster.py",),
    ),
    # -- the notebooks' pipelines end to end (each run executes the tiny book: ~2 minutes)
    M(
        "notebook-06-tempbalance-factors-not-applied",
        "fpt_core/protocols/tempbalance.py",
        "                        state.lr_scale[pname][r] = f\n",
        "                        pass\n",
        (
            "tests/book/test_results_06.py::test_06_tempbalance_changes_training_and_reports_consistent_statistics",
        ),
    ),
    M(
        "replica-sgd-no-weight-decay",
        "fpt_core/dynamics/tanh_mlp.py",
        "lr.view(shape) * (g + th * wd.view(shape))",
        "lr.view(shape) * g",
        ("tests/dynamics/test_chaos_tanh.py",),
    ),
    M(
        "softmax-shift-not-projected",
        "fpt_core/dynamics/tanh_mlp.py",
        "(v - v.mean(dim=-1, keepdim=True)) if k == last else v",
        "v",
        ("tests/dynamics/test_chaos_tanh.py",),
    ),
    M(
        "checkpoint-forgets-the-data-order",
        "fpt_core/train/checkpoint.py",
        '    for g, s in zip(loop["gens"], saved.pop("gens"), strict=True):\n        g.set_state(s)\n',
        '    saved.pop("gens")\n',
        ("tests/train/test_checkpoint.py",),
    ),
    M(
        "checkpoint-forgets-the-hooks-state",
        "fpt_core/train/checkpoint.py",
        "        h.load_state_dict(state, d)\n",
        "        pass\n",
        ("tests/train/test_checkpoint.py",),
    ),
    M(
        "checkpoint-forgets-momentum",
        "fpt_core/train/checkpoint.py",
        '                "momentum",\n',
        "",
        ("tests/train/test_checkpoint.py",),
    ),
    M(
        "replica-groups-concatenated-out-of-order",
        "fpt_core/train/engine.py",
        "grads = {k: torch.cat([p[0][k] for p in parts]) for k in state.params}",
        "grads = {k: torch.cat([p[0][k] for p in parts[::-1]]) for k in state.params}",
        ("tests/train/test_replica_groups.py",),
    ),
    M(
        "edge-grid-convergence-at-2-se",
        "fpt_core/dynamics/edge_grid.py",
        "z_conv = float(stats.t.ppf(0.975, len(seeds) - 1))",
        "z_conv = z",
        ("tests/dynamics/test_chaos_tanh.py",),
    ),
    M(
        "block-rates-over-the-whole-window",
        "fpt_core/dynamics/edge_grid.py",
        "/ lengths[m].sum() * result.steps_per_unit",
        "/ lengths.sum() * result.steps_per_unit",
        ("tests/dynamics/test_chaos_tanh.py",),
    ),
    M(
        "benettin-projection-ignored",
        "fpt_core/dynamics/pytree.py",
        "    out = project(diff)\n",
        "    out = diff\n",
        ("tests/dynamics/test_chaos_tanh.py",),
    ),
    M(
        "optimum-interior-ignores-the-ci",
        "fpt_core/stats/optimum.py",
        "interior = edge is None and rl_lo > 0 and rr_lo > 0",
        "interior = edge is None",
        ("tests/stats/test_optimum.py",),
    ),
    M(
        "edge-optimum-ignores-unfinished-phases",
        "fpt_core/dynamics/edge_claims.py",
        "    if lost:\n",
        "    if False:\n",
        ("tests/dynamics/test_chaos_tanh.py",),
    ),
    M(
        "farms-windows-per-dim-ignored",
        "fpt_core/spectra/farms.py",
        "k = per_dim if per_dim is not None else math.ceil(span / stride) + 1",
        "k = math.ceil(span / (stride or window)) + 1",
        ("tests/spectra/test_htsr_farms.py",),
    ),
    M(
        "paired-ci-normal-quantile",
        "fpt_core/stats/paired.py",
        "stats.t.ppf(0.5 + level / 2, n - 1)",
        "stats.norm.ppf(0.5 + level / 2)",
        ("tests/stats/test_tempbalance_stats.py",),
    ),
    M(
        "improvement-verdict-ignores-margin",
        "fpt_core/stats/paired.py",
        "if high < 0 or (-margin <= low and high <= margin):",
        "if high < 0:",
        ("tests/stats/test_tempbalance_stats.py",),
    ),
    M(
        "notebook-04-control-variate-sign",
        "fpt_core/langevin/linreg.py",
        '("coupled", mu + (m_g - mr_g), cov_ula + (c_g - cr_g)),',
        '("coupled", mu + (m_g - mr_g), cov_ula - (c_g - cr_g)),',
        ("tests/book/test_results_04.py::test_04_sgworld_beats_sgld_and_matches_its_theory",),
    ),
)


def copy_project(dest: Path) -> Path:
    """The repository's sources (no virtualenv, results, build or git data) under ``dest``."""
    shutil.copytree(ROOT, dest, ignore=IGNORE, dirs_exist_ok=True)
    return dest


def run_tests(copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[int, str, float]:
    """``pytest -x`` on ``tests`` inside ``copy``: (exit status, output, seconds)."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    t0 = time.perf_counter()
    try:
        res = subprocess.run(
            cmd, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return -1, out, time.perf_counter() - t0
    return res.returncode, res.stdout + res.stderr, time.perf_counter() - t0


def _first_failure(output: str) -> str:
    m = re.search(r"^(?:FAILED|ERROR) (\S+)", output, flags=re.M)
    return m.group(1) if m else ""


def check_imports_copy(copy: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    out = subprocess.run(
        [sys.executable, "-c", "import fpt_core; print(fpt_core.__file__)"],
        cwd=copy, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not Path(out).resolve().is_relative_to(copy.resolve()):
        raise SystemExit(f"the copy imports fpt_core from {out}, not from {copy}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], help="run this mutant (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per test run")
    ap.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    args = ap.parse_args(argv)
    names = [m.name for m in MUTANTS]
    if len(set(names)) != len(names):
        raise SystemExit("mutant names must be unique")
    unknown = sorted(set(args.only) - set(names))
    if unknown:
        raise SystemExit(f"--only {unknown} unknown; known: {names}")
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    if args.list:
        for m in chosen:
            print(f"{m.name:48s} {m.path:24s} {' '.join(m.tests)}")
        return 0
    for m in chosen:  # every mutant must apply exactly once, before anything runs
        n = (ROOT / m.path).read_text().count(m.old)
        if n != 1:
            raise SystemExit(f"mutant {m.name}: its text occurs {n} times in {m.path} (need 1)")

    with tempfile.TemporaryDirectory(prefix="fpt-mutants-") as tmp:
        copy = copy_project(Path(tmp) / "repo")
        check_imports_copy(copy)
        if not args.no_baseline:
            tests = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
            rc, out, secs = run_tests(copy, tests, args.timeout * 2)
            print(f"baseline (unmutated): exit {rc} in {secs:.0f} s", flush=True)
            if rc != 0:
                print(out[-4000:])
                raise SystemExit("the unmutated tests fail: fix them before judging mutants")
        survived = []
        for i, m in enumerate(chosen, 1):
            target = copy / m.path
            original = target.read_text()
            target.write_text(original.replace(m.old, m.new))
            try:
                rc, out, secs = run_tests(copy, m.tests, args.timeout)
            finally:
                target.write_text(original)
            if rc == 0:
                verdict, detail = "SURVIVED", ""
                survived.append(m.name)
            elif rc in (1, 2):  # a failing test, or an error while collecting / in a fixture
                verdict, detail = "caught", _first_failure(out)
            elif rc == -1:
                verdict, detail = "caught", "timeout"
            else:
                print(out[-3000:])
                raise SystemExit(f"mutant {m.name}: pytest exit status {rc} (not a test result)")
            print(f"[{i}/{len(chosen)}] {verdict:8s} {m.name} ({secs:.0f} s) {detail}", flush=True)
    if survived:
        print("survivors: " + ", ".join(survived))
    print(f"mutants: {len(survived)} survived of {len(chosen)}")
    return 1 if survived else 0


if __name__ == "__main__":
    raise SystemExit(main())
