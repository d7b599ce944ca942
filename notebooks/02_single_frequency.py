# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (nb-single-frequency)=
# # 2. One perturbation frequency predicts the others
#
# The unperturbed ensemble of {ref}`nb-qss` defines a first-passage time $T$ to a target test
# accuracy $a^*$. We perturb training by **shrink & perturb**
# $\theta \leftarrow \lambda\theta + \sigma\theta_\mathrm{fresh}$ {cite}`ash2020warm` every $\tau$
# epochs (λ = 0.4, σ = 0.1, momentum reset, as in the released code of
# {cite}`meir2025firstpassage`; {class}`fpt_core.perturb.ShrinkPerturb`). If the survivors — runs
# that have not reached $a^*$ yet — are in a quasi-steady state at the perturbation time, the time
# $T_p$ from the first perturbation to the target does not depend on when it happens, and one
# perturbed ensemble at a single period $\tau_0$ predicts the mean first-passage time
#
# $$
# \langle T_\tau \rangle = \mathbb{E}[\min(T, \tau)] + S(\tau)\,\langle T_p \rangle
# $$
#
# for every $\tau$ past the relaxation time ({ref}`theory-fpt`,
# {func}`fpt_core.restart.predict_mean_fpt`): the renewal argument of first passage under restart
# {cite}`reuveni2016optimal,pal2017first`, with the law of $T_p$ measured instead of assumed equal
# to that of $T_\tau$. Here we test that prediction against brute force:
# separate ensembles perturbed at other periods, each with its own seeds, so measurement and
# prediction share no run.
#
# **Target.** $a^*$ is a fixed parameter of each preset, not computed from the results. It is
# set in the upper part of the plateau distribution measured in {ref}`nb-qss`: a clear majority
# of unperturbed runs reaches it within the horizon, but only through a fluctuation after the
# plateau is reached, so the first-passage time is broadly distributed and a perturbation has
# something to gain or lose.

# %% tags=["parameters"]
preset = "default"  # tiny | default | paper
n_runs = None  # unperturbed runs (seeds 0 … n_runs-1, shared with notebook 01)
n_perturbed = None  # runs per perturbed ensemble
epochs = None
dataset = None
model = None
hidden = None
lr = None
momentum = None
batch_size = None
target = None  # target test accuracy a*, in [0, 1]
tau0 = None  # the single period (epochs) the prediction is built from
taus = None  # other periods (epochs) measured by brute force to test the prediction
lam = None  # shrink factor λ
sigma = None  # perturbation scale σ
alpha = 0.05  # KS significance level (QSS of the survivors, and predicted vs measured laws)
min_survivors = 10  # fewest survivors at the KS reference epoch
confidence_level = 0.95
n_resamples = 999  # bootstrap resamples
chunk_size = None
data_root = None
device = None
results_dir = "results"
summary_path = "book/executed/02_single_frequency.summary.json"

# %%
import altair as alt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display

from fpt_core import presets, report, viz
from fpt_core.config import TrainConfig
from fpt_core.fpt import first_passage, mean_fpt, qss_onset, survival
from fpt_core.qss import ks_grid
from fpt_core.restart import post_perturbation, predict_mean_fpt, predicted_survival
from fpt_core.runner import run_ensemble

viz.use_offline_renderer()
timer = report.Timer()

_MNIST1D = dict(dataset="mnist1d", model="mlp", hidden=[100, 100], lr=0.1, momentum=0.9)
PRESETS = {
    # the unperturbed ensembles are notebook 01's (same configuration and seeds): reused
    "tiny": dict(
        n_runs=24,
        n_perturbed=24,
        epochs=20,
        **_MNIST1D,
        batch_size=100,
        target=0.64,
        tau0=8,
        taus=[12],
        lam=0.4,
        sigma=0.1,
        chunk_size=128,
    ),
    "default": dict(
        n_runs=128,
        n_perturbed=48,
        epochs=60,
        **_MNIST1D,
        batch_size=100,
        target=0.67,
        tau0=20,
        taus=[30, 40],
        lam=0.4,
        sigma=0.1,
        chunk_size=128,
    ),
    # the seed paper's scale: ResNet-18 on CIFAR-10 as notebook 01's paper preset; needs a GPU
    "paper": dict(
        n_runs=1000,
        n_perturbed=500,
        epochs=200,
        dataset="cifar10",
        model="resnet18",
        hidden=None,
        lr=0.01,
        momentum=0.9,
        batch_size=125,
        target=0.85,
        tau0=60,
        taus=[40, 80, 100],
        lam=0.4,
        sigma=0.1,
        chunk_size=8,
    ),
}
P = presets.resolve(
    PRESETS,
    preset,
    n_runs=n_runs,
    n_perturbed=n_perturbed,
    epochs=epochs,
    dataset=dataset,
    model=model,
    hidden=hidden,
    lr=lr,
    momentum=momentum,
    batch_size=batch_size,
    target=target,
    tau0=tau0,
    taus=taus,
    lam=lam,
    sigma=sigma,
    chunk_size=chunk_size,
)
if not 0.0 <= P["target"] <= 1.0:
    raise ValueError(f"target={P['target']} must lie in [0, 1]")
for name in ("tau0", *[f"taus[{i}]" for i in range(len(P["taus"]))]):
    value = P["tau0"] if name == "tau0" else P["taus"][int(name[5:-1])]
    if not (isinstance(value, (int, float)) and 0 < value < P["epochs"]):
        raise ValueError(
            f"{name}={value!r} must be a number of epochs in (0, epochs={P['epochs']})"
        )
if len(set(P["taus"])) != len(P["taus"]) or P["tau0"] in P["taus"]:
    raise ValueError(f"taus={P['taus']} must be distinct and must not contain tau0={P['tau0']}")
if not isinstance(P["n_perturbed"], int) or P["n_perturbed"] < 2:
    raise ValueError(f"n_perturbed={P['n_perturbed']!r} must be an integer ≥ 2")
if not 0 < alpha < 1:
    raise ValueError(f"alpha={alpha} must lie in (0, 1)")
if not isinstance(min_survivors, int) or min_survivors < 2:
    raise ValueError(f"min_survivors={min_survivors!r} must be an integer ≥ 2")
if not 0 < confidence_level < 1:
    raise ValueError(f"confidence_level={confidence_level} must lie in (0, 1)")
if not isinstance(n_resamples, int) or n_resamples < 1:
    raise ValueError(f"n_resamples={n_resamples!r} must be an integer ≥ 1")
base = TrainConfig(
    dataset=P["dataset"],
    model=P["model"],
    model_kwargs={"hidden": P["hidden"]} if P["model"] == "mlp" else {},
    lr=P["lr"],
    momentum=P["momentum"],
    batch_size=P["batch_size"],
    epochs=P["epochs"],
)


def perturbed_config(tau: float) -> TrainConfig:
    """Shrink & perturb every ``tau`` epochs; the full spec is written out (store key)."""
    spec = {
        "kind": "shrink_perturb",
        "lam": P["lam"],
        "sigma": P["sigma"],
        "batchnorm": "shrink",
        "reset_momentum": True,
        "schedule": "periodic",
        "tau": tau,
    }
    return TrainConfig(**{**base.to_dict(), "perturbation": spec})


perturbed_config(P["tau0"])  # validates lam and sigma before any training
P

# %% [markdown]
# ## The unperturbed ensemble and its first-passage times
# Runs come from the store when notebook 01 trained them at the same preset.

# %%
run_kw = dict(
    store=results_dir,
    chunk_size=P["chunk_size"],
    device=device,
    data_root=data_root,
    progress=False,
)
ens0 = run_ensemble(base, P["n_runs"], **run_kw)
times, acc0 = ens0.matrix("test_acc")
fp0 = first_passage(acc0, P["target"], times)
m0 = mean_fpt(fp0, confidence_level=confidence_level, n_resamples=n_resamples, rng=0)
# survivors' QSS onset: KS against the last epoch with ≥ min_survivors survivors; without a QSS
# of the survivors, that of all runs, and failing that the prediction is trusted only from τ0 on
onset = qss_onset(
    acc0, P["target"], times, alpha=alpha, min_survivors=min_survivors, fallback=P["tau0"]
)
qss, reference, t_relax, t_relax_source = onset.qss, onset.reference, onset.t_relax, onset.source
mean0_text = (
    f"⟨T⟩ = {m0.mean:.1f} epochs (CI {m0.low:.1f}–{m0.high:.1f}), CV = {m0.cv:.2f}"
    if m0.estimable
    else f"⟨T⟩ ≥ {m0.mean:.1f} epochs (restricted mean: {m0.n_censored} runs censored)"
)
display(
    Markdown(
        f"{ens0.n_runs} unperturbed runs on `{ens0.device}` ({ens0.n_trained} trained, "
        f"{ens0.n_reused} reused). Target $a^*$ = {P['target']}: {fp0.n_observed} of {fp0.n} runs "
        f"reach it within {fp0.horizon:g} epochs; {mean0_text}. "
        + (
            f"The survivors are in QSS from epoch {t_relax:g} (KS p ≥ {alpha} against epoch "
            f"{times[reference]:g}, the last with ≥ {min_survivors} survivors)."
            if qss.survivors.reached
            else f"**The survivors reach no QSS by the horizon at this preset** (KS at α = "
            f"{alpha}); the prediction is used from epoch {t_relax:g} on ({t_relax_source})."
        )
    )
)

# %% [markdown]
# ## Perturbed ensembles
# One ensemble perturbed every $\tau_0$ epochs builds the prediction; one ensemble per other
# $\tau$ measures $\langle T_\tau\rangle$ directly. Each uses its own block of seeds
# (10000·(j+1) + i), disjoint from the unperturbed seeds.

# %%
all_taus = [P["tau0"], *P["taus"]]
ensembles, fps = {}, {}
for j, tau in enumerate(all_taus):
    seeds = range(10_000 * (j + 1), 10_000 * (j + 1) + P["n_perturbed"])
    ensembles[tau] = run_ensemble(perturbed_config(tau), seeds, **run_kw)
    t_p, a_p = ensembles[tau].matrix("test_acc")
    fps[tau] = first_passage(a_p, P["target"], t_p)
n_trained = ens0.n_trained + sum(e.n_trained for e in ensembles.values())
n_reused = ens0.n_reused + sum(e.n_reused for e in ensembles.values())
n_div = sum(e.n_diverged for e in ensembles.values())
display(
    Markdown(
        f"{len(all_taus)} perturbed ensembles of {P['n_perturbed']} runs "
        f"(τ = {', '.join(f'{t:g}' for t in all_taus)} epochs): "
        f"{sum(e.n_trained for e in ensembles.values())} runs trained, "
        f"{sum(e.n_reused for e in ensembles.values())} reused, {n_div} diverged."
    )
)

# %%
rows = []
for tau, ens in ensembles.items():
    d = ens.frame().groupby("epoch")["test_acc"].mean().reset_index()
    d["ensemble"] = f"τ = {tau:g}" + (" (τ0)" if tau == P["tau0"] else "")
    rows.append(d)
d0 = ens0.frame().groupby("epoch")["test_acc"].mean().reset_index()
d0["ensemble"] = "unperturbed"
traj = pd.concat([d0, *rows])
viz.trajectory_chart(
    traj,
    y="test_acc",
    color="ensemble",
    target=P["target"],
    y_title="mean test accuracy",
    title="Ensemble-mean test accuracy (red: target; drag to pan, wheel to zoom)",
)

# %% [markdown]
# ## Prediction from τ0 against brute force
# The curve is {func}`fpt_core.restart.predict_mean_fpt` (single form, periodic schedule) on a
# grid of periods, with a bootstrap band over runs of both ensembles. Points are the measured
# means of the brute-force ensembles ({func}`fpt_core.fpt.mean_fpt`, Kaplan–Meier; a hollow
# point is a lower bound because some perturbed runs never reached the target). The prediction is
# flagged a lower bound when some runs of the τ0 ensemble never reached the target after the
# perturbation. Comparing a bound with a bound tests little, so the table also compares the
# *restricted* means $\int_0^{t_\max} S\,dt$ of the predicted and measured laws, which are
# estimates for both. Periods before the survivors' relaxation time are outside the prediction's
# assumptions (dashed).

# %%
grid = np.arange(1.0, P["epochs"], 1.0)
pred = predict_mean_fpt(
    fp0,
    fps[P["tau0"]],
    P["tau0"],
    grid,
    form="single",
    schedule="periodic",
    t_relax=t_relax,
    confidence_level=confidence_level,
    n_resamples=n_resamples,
    rng=1,
)
curve = pd.DataFrame(
    {
        "tau": grid,
        "predicted": pred.mean,
        "low": pred.low,
        "high": pred.high,
        "in_qss": pred.in_qss,
        "bound": pred.bound,
    }
)

window = float(P["epochs"] - max(all_taus))


results = []
for tau in all_taus:
    m = mean_fpt(fps[tau], confidence_level=confidence_level, n_resamples=n_resamples, rng=2)
    i = int(np.searchsorted(grid, tau))
    on_grid = i < grid.size and grid[i] == tau
    p_mean = float(pred.mean[i]) if on_grid else float("nan")
    # KS: measured first passages against the predicted law, conditioned on T ≤ t_max, the
    # last evaluation time at which the predicted law is known (≤ horizon)
    law = predicted_survival(fp0, fps[P["tau0"]], P["tau0"], tau, form="single")
    known = times[np.isfinite(law.cdf(times)) & (times <= fps[tau].horizon)]
    t_max = float(known[-1])
    f_max = float(law.cdf(t_max)[0])
    obs = fps[tau].times[fps[tau].observed & (fps[tau].times <= t_max)]
    # restricted means ∫_0^t_max S dt (S is a step function on the unit epoch grid): defined
    # for both even when runs are censored, so always an apples-to-apples comparison
    k = np.arange(0.0, t_max)
    rm_pred = float(np.sum(law.sf(k)))
    rm_meas = float(np.sum(survival(fps[tau]).evaluate(k)))
    ks_p = float("nan")
    if obs.size and f_max > 0:
        ks_grid_t = times[times <= t_max]
        ks_p = ks_grid(obs, law.cdf(ks_grid_t) / f_max, ks_grid_t)[1]
    # the assumption itself: the law of T_p (first perturbation → target) must not depend on τ;
    # compare P(T_p ≤ w) over a window w every ensemble observes after its first perturbation
    s_p = survival(post_perturbation(fps[tau], tau, schedule="periodic")).evaluate(window)
    results.append(
        {
            "tau": tau,
            "reach_after": float(1.0 - s_p),
            "role": "tau0 (in-sample)" if tau == P["tau0"] else "held out",
            "predicted": p_mean,
            "pred_low": float(pred.low[i]) if on_grid else float("nan"),
            "pred_high": float(pred.high[i]) if on_grid else float("nan"),
            "pred_bound": bool(pred.bound[i]) if on_grid else False,
            "measured": m.mean,
            "meas_low": m.low,
            "meas_high": m.high,
            "measured_estimable": m.estimable,
            "n_censored": m.n_censored,
            "rel_error": (p_mean - m.mean) / m.mean,
            # both numbers are estimates, not bounds: the relative error means something
            "comparable": bool(m.estimable and on_grid and not pred.bound[i]),
            "restricted_predicted": rm_pred,
            "restricted_measured": rm_meas,
            "rel_error_restricted": (rm_pred - rm_meas) / rm_meas,
            "ks_pvalue": ks_p,
            "ks_t_max": t_max,
            "in_qss": bool(pred.in_qss[i]) if on_grid else False,
        }
    )
res = pd.DataFrame(results)
zoom2 = alt.selection_interval(bind="scales")
band = (
    alt.Chart(curve)
    .mark_area(opacity=0.2, color="#1f77b4")
    .encode(x=alt.X("tau:Q", title="period τ (epochs)"), y="low:Q", y2="high:Q")
)
line = (
    alt.Chart(curve)
    .mark_line(color="#1f77b4")
    .encode(
        x="tau:Q",
        y=alt.Y("predicted:Q", title="⟨T_τ⟩ (epochs)"),
        strokeDash=alt.StrokeDash("in_qss:N", title="τ ≥ t_relax"),
        tooltip=[
            "tau:Q",
            alt.Tooltip("predicted:Q", format=".2f"),
            alt.Tooltip("low:Q", format=".2f"),
            alt.Tooltip("high:Q", format=".2f"),
            "bound:N",
        ],
    )
)
err = (
    alt.Chart(res)
    .mark_errorbar(color="black")
    .encode(x="tau:Q", y=alt.Y("meas_low:Q", title=""), y2="meas_high:Q")
)
pts = (
    alt.Chart(res)
    .mark_point(size=80, color="black")
    .encode(
        x="tau:Q",
        y="measured:Q",
        shape=alt.Shape("role:N"),
        fill=alt.condition("datum.measured_estimable", alt.value("black"), alt.value("white")),
        tooltip=[
            "tau:Q",
            "role:N",
            alt.Tooltip("measured:Q", format=".2f"),
            alt.Tooltip("predicted:Q", format=".2f"),
            alt.Tooltip("rel_error:Q", format="+.1%"),
            alt.Tooltip("ks_pvalue:Q", format=".3g"),
            "n_censored:Q",
        ],
    )
)
base_rule = (
    alt.Chart(pd.DataFrame({"unperturbed": [m0.mean]}))
    .mark_rule(color="gray", strokeDash=[2, 2])
    .encode(y="unperturbed:Q", tooltip=[alt.Tooltip("unperturbed:Q", format=".2f")])
)
(band + line + base_rule + err + pts).add_params(zoom2).properties(
    width=560,
    height=320,
    title=f"Predicted ⟨T_τ⟩ from τ0 = {P['tau0']:g} (line) vs measured (points); gray: no perturbation",
).configure_legend(orient="bottom")

# %%
res.round(4)

# %% [markdown]
# ## Predicted and measured first-passage distributions
# Top: survival $P(T_\tau > t)$ of each brute-force ensemble (Kaplan–Meier, solid steps) against
# the predicted law {func}`fpt_core.restart.predicted_survival` (dashed). Bottom: histogram of the
# measured first-passage times of each ensemble (runs that never reached the target are not in
# it). The two views are linked ({func}`fpt_core.viz.survival_histogram`): click a period in the
# legend to fade the others in both (shift-click for several), and drag over the histogram to
# mark that time window on the survival curves. The KS p-values in the table compare the measured
# first passages with the predicted distribution conditioned on reaching the target by
# `ks_t_max`, the horizon or, where the perturbed ensemble at τ0 was observed for less time than
# needed, the last epoch at which the predicted law is known. Both laws live on the evaluation
# grid, so the statistic is the largest CDF gap over grid points and the p-value from the
# Kolmogorov distribution is conservative for discrete laws.

# %%
parts, hits = [], []
tgrid = np.arange(0.0, P["epochs"] + 1.0)
for tau in all_taus:
    law = predicted_survival(fp0, fps[P["tau0"]], P["tau0"], tau, form="single")
    km = survival(fps[tau])
    label = f"τ = {tau:g}" + (" (τ0)" if tau == P["tau0"] else "")
    parts.append(pd.DataFrame({"t": tgrid, "S": law.sf(tgrid), "source": "predicted", "τ": label}))
    parts.append(
        pd.DataFrame({"t": tgrid, "S": km.evaluate(tgrid), "source": "measured", "τ": label})
    )
    hits.append(pd.DataFrame({"fpt": fps[tau].times[fps[tau].observed], "τ": label}))
sdf = pd.concat(parts).dropna()
viz.survival_histogram(
    sdf,
    pd.concat(hits),
    group="τ",
    dash="source",
    survival_title="P(T_τ > t)",
    title="Survival, predicted (dashed) vs measured (solid), and measured first-passage times",
)

# %% [markdown]
# ## Compute saved
# The single-frequency route trains the unperturbed ensemble and one perturbed ensemble; a
# brute-force scan of the same grid of periods would train one perturbed ensemble per period.

# %%
held = res[res["role"] == "held out"]
ok = held[held["comparable"] & np.isfinite(held["rel_error"])]
ks_rows = held[np.isfinite(held["ks_pvalue"])]
route_runs = P["n_runs"] + P["n_perturbed"]
valid_grid = grid[pred.in_qss & np.isfinite(pred.mean)]
scan_runs = P["n_perturbed"] * valid_grid.size
lines_md = [
    f"Held-out periods τ = {', '.join(f'{t:g}' for t in held['tau'])}: "
    + "; ".join(
        f"τ = {r.tau:g}: predicted {r.predicted:.1f} (CI {r.pred_low:.1f}–{r.pred_high:.1f}"
        f"{', a lower bound' if r.pred_bound else ''}), measured "
        f"{'' if r.measured_estimable else '≥ '}{r.measured:.1f} "
        f"(CI {r.meas_low:.1f}–{r.meas_high:.1f}), "
        + (
            f"relative error {r.rel_error:+.1%}"
            if r.comparable
            else "a bound is involved (runs censored at the horizon): restricted means to "
            f"epoch {r.ks_t_max:g}, predicted {r.restricted_predicted:.1f} vs measured "
            f"{r.restricted_measured:.1f}, relative error {r.rel_error_restricted:+.1%}"
        )
        + (f", KS p = {r.ks_pvalue:.3g}" if np.isfinite(r.ks_pvalue) else ", no KS test (no runs)")
        + ("" if r.in_qss else " (τ before t_relax: outside the assumptions)")
        for r in held.itertuples()
    )
    + ".",
    (
        f"Largest |relative error| on held-out periods where both are estimates: "
        f"{np.abs(ok['rel_error']).max():.1%}."
        if len(ok)
        else "No held-out period has both an estimated (not bounded) prediction and measurement; "
        "largest |relative error| of the restricted means: "
        f"{np.abs(held['rel_error_restricted']).max():.1%}."
    )
    + (
        f" {int((ks_rows['ks_pvalue'] < alpha).sum())} of {len(ks_rows)} KS tests reject the "
        f"predicted law at α = {alpha}."
        if len(ks_rows)
        else " No KS test could be run."
    ),
    "The assumption behind the prediction — the law of $T_p$ does not depend on when the "
    f"perturbation happens — checked directly: fraction of the runs still below the target at τ "
    f"that reach it within {window:g} epochs after the perturbation: "
    + ", ".join(f"{r.reach_after:.2f} at τ = {r.tau:g}" for r in res.itertuples())
    + ".",
    f"Compute: the single-frequency route used {route_runs} runs ({P['n_runs']} unperturbed, "
    f"reused by notebook 01's store where available, + {P['n_perturbed']} perturbed) for a "
    f"prediction on {valid_grid.size} periods; a brute-force scan of those periods at "
    f"{P['n_perturbed']} runs each needs {scan_runs} runs "
    f"({scan_runs / route_runs:.1f}× as many).",
]
display(Markdown("\n\n".join(lines_md)))

# %%
summary = {
    "notebook": "02_single_frequency",
    "preset": preset,
    "params": P,
    "target": P["target"],
    "tau0": P["tau0"],
    "t_relax": t_relax,
    "t_relax_source": t_relax_source,
    "ks_reference_epoch": float(times[reference]),
    "unperturbed_mean_fpt": m0.mean,
    "unperturbed_mean_estimable": m0.estimable,
    "unperturbed_cv": m0.cv,
    "unperturbed_reached": fp0.n_observed,
    "per_tau": [
        {
            k: r[k]
            for k in (
                "tau",
                "role",
                "predicted",
                "pred_low",
                "pred_high",
                "pred_bound",
                "measured",
                "meas_low",
                "meas_high",
                "measured_estimable",
                "rel_error",
                "comparable",
                "restricted_predicted",
                "restricted_measured",
                "rel_error_restricted",
                "ks_pvalue",
                "ks_t_max",
                "reach_after",
                "in_qss",
            )
        }
        for r in results
    ],
    "compute": {
        "single_frequency_runs": route_runs,
        "brute_force_runs": scan_runs,
        "grid_periods": int(valid_grid.size),
        "ratio": scan_runs / route_runs,
        "runs_per_perturbed_ensemble": P["n_perturbed"],
        "epochs_per_run": P["epochs"],
    },
    "n_runs": ens0.n_runs + sum(e.n_runs for e in ensembles.values()),
    "n_trained": n_trained,
    "n_reused": n_reused,
    "n_diverged": ens0.n_diverged + n_div,
    "device": ens0.device,
    "wall_time_s": timer.elapsed,
    "provenance": report.provenance(ens0.device),
}
report.write_summary(summary_path, summary)
display(HTML(report.provenance_html(summary)))
{k: summary[k] for k in ("target", "tau0", "unperturbed_mean_fpt", "compute", "wall_time_s")}
