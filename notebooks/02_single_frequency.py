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
# **The claim** {cite}`meir2025firstpassage`: once the runs that have not yet reached the target
# accuracy $a^*$ — the *survivors* — are in a quasi-steady state, the response to a
# perturbation measured at a single period $\tau_0$ predicts the mean first-passage time
# $\langle T_\tau\rangle$ for perturbations at other periods $\tau$.
#
# **How it is tested here.** The perturbation is shrink & perturb,
# $\theta \leftarrow \lambda_\mathrm{sp}\theta + \sigma_\mathrm{sp}\theta_\mathrm{fresh}$
# {cite}`ash2020warm` (λ = 0.4, σ = 0.1, momentum reset, as in the released code of the paper;
# {class}`fpt_core.perturb.ShrinkPerturb`), applied every $\tau$ epochs as in the paper. The
# prediction is built from two ensembles: the unperturbed one (the survival function $S$ of the
# first-passage time $T$) and one ensemble perturbed **once** at $\tau_0$, which gives the law of
# $T_p$, the time from a perturbation to the target. If every perturbation renews the survivor's
# remaining time with that law, the renewal form of {ref}`theory-fpt`,
#
# $$
# \langle T_\tau \rangle = \mathbb{E}[\min(T, \tau)] + S(\tau)\,
#     \frac{\mathbb{E}[\min(T_p, \tau)]}{\Pr[T_p \le \tau]},
# $$
#
# predicts periodic perturbation at every $\tau$ ({func}`fpt_core.restart.predict_mean_fpt`,
# `form="renewal"`, `schedule="once"`). It is compared with brute force: separate ensembles
# perturbed every $\tau$ for four held-out periods, each with its own seeds. The paper's own
# recipe — the single form $\mathbb{E}[\min(T, \tau)] + S(\tau)\langle T_p\rangle$ with $T_p$
# taken from an ensemble perturbed *periodically* at $\tau_0$, which mixes in the later
# perturbations — is shown beside it.
#
# **Premise.** The claim is tested only under its own premise, checked on this page: the
# unperturbed ensemble and its survivors are in QSS before $\tau_0$ and every held-out $\tau$
# ({ref}`nb-qss`), and the law of $T_p$ does not depend on when the perturbation comes
# (a log-rank test across periods). The setting is that of {ref}`nb-qss`. The target lies above
# the plateau, so that a run reaches it by a fluctuation, as in the paper (72 % over a 71.9 %
# plateau, 29 % of unperturbed runs censored at 200 epochs). How far above matters: the higher
# the target, the more the survivors are the runs that sit low, and the premise fails. The
# `default` target is the highest at which the premise held in the measurements behind this
# preset (`tools/scan_single_frequency.py`, table at the end, and the target sweep below, which
# re-analyses this build's runs at other targets without training).
#
# **Comparison.** A few perturbed runs may not reach the target by the horizon $h$, which makes a
# measured mean a lower bound. Both sides are therefore compared as restricted means
# $\mathbb{E}[\min(T_\tau, h)]$, estimates for the prediction
# ({func}`fpt_core.rmst.predicted_restricted_mean`) and the measurement
# ({func}`fpt_core.fpt.mean_fpt`) alike, and called consistent when their difference lies within
# its 95 % interval ({func}`fpt_core.verdicts.agreement`).
#
# ```{glue:md} claims_box
# :format: myst
# ```

# %% tags=["parameters"]
preset = "default"  # tiny | default | paper
n_runs = None  # unperturbed runs (seeds 0 … n_runs-1, shared with notebook 01)
n_perturbed = None  # runs per perturbed ensemble
epochs = None  # horizon h of every ensemble
dataset = None
num_samples = None
model = None
hidden = None
lr = None
momentum = None
batch_size = None
target = None  # target test accuracy a*, in [0, 1]
tau0 = None  # the single period (epochs) the prediction is built from
taus = None  # held-out periods (epochs), measured by brute force
sweep_targets = None  # other targets re-analysed from the same runs (no training)
lam = None  # shrink factor λ_sp
sigma = None  # perturbation scale σ_sp
alpha = 0.05  # significance level (KS, tail, log-rank)
min_survivors = 10  # fewest survivors at the KS reference epoch
confidence_level = 0.95
n_resamples = 999  # bootstrap resamples
chunk_size = None
data_root = None
device = None
results_dir = "results"
summary_path = "book/executed/02_single_frequency.summary.json"

# %% tags=["hide-input"]
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display
from myst_nb import glue

from fpt_core import presets, report, viz
from fpt_core.claims import claim, claims_box
from fpt_core.config import TrainConfig
from fpt_core.fpt import first_passage, survival
from fpt_core.restart import predict_mean_fpt, predicted_survival
from fpt_core.runner import run_ensemble
from fpt_core.single_frequency import single_frequency_test

viz.use_offline_renderer()
timer = report.Timer()

_MNIST1D = dict(
    dataset="mnist1d", num_samples=2000, model="mlp", hidden=[256], lr=0.05, momentum=0.9
)
_SP = dict(lam=0.4, sigma=0.1)
PRESETS = {
    # the unperturbed ensembles are notebook 01's (same configuration and seeds): reused
    "tiny": dict(
        n_runs=24, n_perturbed=24, epochs=30, **_MNIST1D, batch_size=100, target=0.55,
        tau0=10, taus=[12, 16], sweep_targets=[0.545, 0.555], **_SP, chunk_size=128,
    ),
    "default": dict(
        n_runs=256, n_perturbed=256, epochs=120, **_MNIST1D, batch_size=100, target=0.555,
        tau0=30, taus=[35, 45, 60, 75], sweep_targets=[0.5525, 0.5575, 0.56, 0.5625, 0.565, 0.57],
        **_SP, chunk_size=128,
    ),
    # the seed paper's scale (ResNet-18, CIFAR-10; needs a GPU), as in its released runs (notebook
    # 08): target 72 %, τ0 = 20, released periods, batch 125, 200 epochs, constant LR, no
    # augmentation. The release does not fix the learning rate or momentum: 0.01 and 0.9 are chosen.
    "paper": dict(
        n_runs=1000, n_perturbed=500, epochs=200, dataset="cifar10", num_samples=5000,
        model="resnet18", hidden=None, lr=0.01, momentum=0.9, batch_size=125, target=0.72,
        tau0=20, taus=[10, 15, 30, 50], sweep_targets=[0.71, 0.715, 0.725], **_SP, chunk_size=8,
    ),
}  # fmt: skip
P = presets.resolve(
    PRESETS, preset, n_runs=n_runs, n_perturbed=n_perturbed, epochs=epochs, dataset=dataset,
    num_samples=num_samples, model=model, hidden=hidden, lr=lr, momentum=momentum,
    batch_size=batch_size, target=target, tau0=tau0, taus=taus, sweep_targets=sweep_targets,
    lam=lam, sigma=sigma, chunk_size=chunk_size,
)  # fmt: skip
for i, a in enumerate([P["target"], *P["sweep_targets"]]):
    if not (isinstance(a, (int, float)) and 0.0 <= a <= 1.0):
        name = "target" if i == 0 else f"sweep_targets[{i - 1}]"
        raise ValueError(f"{name}={a!r} must lie in [0, 1]")
for name, value in [("tau0", P["tau0"])] + [(f"taus[{i}]", t) for i, t in enumerate(P["taus"])]:
    if not (isinstance(value, (int, float)) and 0 < value < P["epochs"]):
        raise ValueError(
            f"{name}={value!r} must be a number of epochs in (0, epochs={P['epochs']})"
        )
if len(set(P["taus"])) != len(P["taus"]) or P["tau0"] in P["taus"] or not P["taus"]:
    raise ValueError(f"taus={P['taus']} must be distinct, non-empty and must not contain tau0")
if not isinstance(P["n_perturbed"], int) or P["n_perturbed"] < 2:
    raise ValueError(f"n_perturbed={P['n_perturbed']!r} must be an integer ≥ 2")
for name, value in (("alpha", alpha), ("confidence_level", confidence_level)):
    if not 0 < value < 1:
        raise ValueError(f"{name}={value} must lie in (0, 1)")
if not isinstance(min_survivors, int) or min_survivors < 2:
    raise ValueError(f"min_survivors={min_survivors!r} must be an integer ≥ 2")
if not isinstance(n_resamples, int) or n_resamples < 1:
    raise ValueError(f"n_resamples={n_resamples!r} must be an integer ≥ 1")
base = TrainConfig(
    dataset=P["dataset"], num_samples=P["num_samples"], model=P["model"],
    model_kwargs={"hidden": P["hidden"]} if P["model"] == "mlp" else {}, lr=P["lr"],
    momentum=P["momentum"], batch_size=P["batch_size"], epochs=P["epochs"],
)  # fmt: skip


def perturbed_config(tau: float, schedule: str) -> TrainConfig:
    """Shrink & perturb at ``tau`` (``schedule``: "once" or "periodic"); the spec is the key."""
    spec = dict(kind="shrink_perturb", lam=P["lam"], sigma=P["sigma"], batchnorm="shrink",
                reset_momentum=True, schedule=schedule, tau=tau)  # fmt: skip
    return TrainConfig(**{**base.to_dict(), "perturbation": spec})


perturbed_config(P["tau0"], "once")  # validates lam and sigma before any training
P

# %% [markdown]
# ## The ensembles
# The unperturbed ensemble gives $S$ and $\mathbb{E}[\min(T,\tau)]$; one ensemble perturbed once
# at $\tau_0$ gives $T_p$; one ensemble per period, perturbed every $\tau$ (the paper's
# protocol), is the brute force — $\tau_0$ included, for the paper's own recipe. Each perturbed
# ensemble uses its own block of seeds, disjoint from the others.

# %% tags=["hide-input"]
run_kw = dict(store=results_dir, chunk_size=P["chunk_size"], device=device, data_root=data_root,
              progress=False)  # fmt: skip
ens0 = run_ensemble(base, P["n_runs"], **run_kw)
times, acc0 = ens0.matrix("test_acc")
horizon = float(times[-1])
periodic_taus = [P["tau0"], *P["taus"]]
once = run_ensemble(perturbed_config(P["tau0"], "once"), range(10_000, 10_000 + P["n_perturbed"]),
                    **run_kw)  # fmt: skip
ensembles = {
    tau: run_ensemble(perturbed_config(tau, "periodic"),
                      range(10_000 * (j + 2), 10_000 * (j + 2) + P["n_perturbed"]), **run_kw)
    for j, tau in enumerate(periodic_taus)
}  # fmt: skip
acc_once = once.matrix("test_acc")[1]
acc_periodic = {tau: e.matrix("test_acc")[1] for tau, e in ensembles.items()}
all_ens = [ens0, once, *ensembles.values()]
display(Markdown(
    f"{len(all_ens)} ensembles ({ens0.n_runs} unperturbed runs, {P['n_perturbed']} per perturbed "
    f"ensemble): {sum(e.n_trained for e in all_ens)} runs trained, "
    f"{sum(e.n_reused for e in all_ens)} reused from the store, "
    f"{sum(e.n_diverged for e in all_ens)} diverged."
))  # fmt: skip

# %% tags=["hide-input"]
viz.ensemble_means_chart(
    [("unperturbed", ens0), (f"once at τ0 = {P['tau0']:g}", once)]
    + [(f"every {t:g}", e) for t, e in ensembles.items()],
    target=P["target"],
)

# %% [markdown]
# ## The premise
# {func}`fpt_core.single_frequency.single_frequency_test` checks it before it compares anything:
# the KS relaxation time of all runs against four reference epochs in the second half of the
# horizon (it must not depend on the reference), that of the survivors
# ({func}`fpt_core.fpt.qss_onset`), the stationarity of the share of time spent at or above the
# target ({func}`fpt_core.qss.tail_stationarity`), and whether the law of $T_p$ depends on the
# period: for each periodic ensemble, $T_p$ is the time from its first perturbation to the
# target, seen until the next perturbation; for the single perturbation, until the horizon; all
# are cut at the shortest period and compared by the log-rank test
# ({func}`fpt_core.logrank.logrank`). A period is *in QSS* when it is at least the largest
# relaxation time.

# %%
kw = dict(alpha=alpha, min_survivors=min_survivors, confidence_level=confidence_level)
sf = single_frequency_test(acc0, acc_once, acc_periodic, times, target=P["target"],
                           tau0=P["tau0"], n_resamples=n_resamples, rng=0, **kw)  # fmt: skip
m0 = sf.unperturbed
display(Markdown(
    f"Target $a^*$ = {P['target']}: {m0.n - m0.n_censored} of {m0.n} unperturbed runs reach it "
    f"within {horizon:g} epochs, so ⟨T⟩ "
    + (f"= {m0.mean:.1f}" if m0.estimable else f"≥ {m0.mean:.1f} (restricted mean)")
    + f"; CV ≥ {m0.cv_lower_bound:.2f} (95 % lower end {m0.cv_lower_bound_low:.2f}). "
    "KS relaxation time of all runs: "
    + ", ".join(f"{'none' if t is None else f'{t:g}'} (reference {e:g})"
                for e, t in sf.relaxation.t_relax.items())
    + f" ({'stable' if sf.relaxation.robust else 'not stable'}, ±{sf.relaxation.spread:.0%}); "
    f"survivors: {sf.survivors_t_relax:g} ({sf.survivors_source}); share of time at or above the "
    f"target: {' → '.join(f'{v:.3f}' for v in sf.tail.share)} (Wilcoxon p = "
    f"{sf.tail.pvalue:.2g}). Law of $T_p$ over the first {sf.tp_window:g} epochs after the "
    f"perturbation: log-rank χ² = {sf.tp_logrank.statistic:.2f} ({sf.tp_logrank.dof} dof), "
    f"p = {sf.tp_logrank.pvalue:.2g}. "
    + (f"**The premise holds**: QSS from epoch {sf.t_relax:g} ≤ τ0 = {P['tau0']:g}."
       if sf.premise else "**The premise fails**: " + "; ".join(sf.reasons) + ".")
))  # fmt: skip

# %% [markdown]
# The tail test here is at the target itself. {ref}`nb-qss` runs the same test at the plateau's
# 80th percentile, higher up the tail; where it finds a drift, the premise is on the edge at this
# setting, and the target sweep at the end of this page shows how the verdict depends on the
# target.

# %% [markdown]
# ## Prediction from $\tau_0$ against brute force
# Points: restricted means $\mathbb{E}[\min(T_\tau, h)]$ with 95 % intervals — measured (black),
# predicted by the renewal form from the single perturbation at $\tau_0$ (blue), and by the
# paper's recipe (orange). The dashed line is the renewal prediction of the full mean
# $\langle T_\tau\rangle$ on a grid of periods, with its band; gray: no perturbation (a lower
# bound when unperturbed runs are censored).

# %% tags=["hide-input"]
res = sf.table()
fp0 = first_passage(acc0, P["target"], times)
fp_once = first_passage(acc_once, P["target"], times)
grid = np.arange(max(1.0, min(periodic_taus) // 2), horizon - P["tau0"] + 1)
curve_pred = predict_mean_fpt(fp0, fp_once, P["tau0"], grid, form="renewal", schedule="once",
                              t_relax=sf.t_relax, confidence_level=confidence_level,
                              n_resamples=n_resamples, rng=1)  # fmt: skip
curve = pd.DataFrame({"tau": grid, "mean": curve_pred.mean, "low": curve_pred.low,
                      "high": curve_pred.high})  # fmt: skip
kinds = {"measured": ("measured", "meas_low", "meas_high", 0.0),
         "renewal from τ0": ("predicted", "pred_low", "pred_high", -0.8),
         "paper's recipe": ("recipe_predicted", "recipe_low", "recipe_high", 0.8)}  # fmt: skip
pts = pd.concat([
    pd.DataFrame({"tau": res.tau, "x": res.tau + dx, "kind": k, "y": res[y], "lo": res[lo],
                  "hi": res[hi]})
    for k, (y, lo, hi, dx) in kinds.items()
])  # fmt: skip
colors = alt.Scale(domain=list(kinds), range=["black", "#1f77b4", "#ff7f0e"])
zoom = alt.selection_interval(bind="scales")
band = (
    alt.Chart(curve)
    .mark_area(opacity=0.15, color="#1f77b4")
    .encode(x=alt.X("tau:Q", title="period τ (epochs)"), y="low:Q", y2="high:Q")
)
line = (
    alt.Chart(curve)
    .mark_line(color="#1f77b4", strokeDash=[4, 3])
    .encode(x="tau:Q", y=alt.Y("mean:Q", title="first-passage time (epochs)"))
)
err = (
    alt.Chart(pts)
    .mark_errorbar()
    .encode(x="x:Q", y="lo:Q", y2="hi:Q", color=alt.Color("kind:N", scale=colors))
)
dots = (
    alt.Chart(pts)
    .mark_point(filled=True, size=60)
    .encode(
        x="x:Q",
        y="y:Q",
        color=alt.Color("kind:N", scale=colors, title=""),
        tooltip=[
            "tau:Q",
            "kind:N",
            alt.Tooltip("y:Q", format=".2f"),
            alt.Tooltip("lo:Q", format=".2f"),
            alt.Tooltip("hi:Q", format=".2f"),
        ],
    )
)
base_rule = (
    alt.Chart(pd.DataFrame({"y": [m0.mean]}))
    .mark_rule(color="gray", strokeDash=[2, 2])
    .encode(y="y:Q")
)
(band + line + base_rule + err + dots).add_params(zoom).properties(
    width=560, height=320,
    title=f"E[min(T_τ, {horizon:g})]: measured vs predicted from τ0 = {P['tau0']:g}",
).configure_legend(orient="bottom")  # fmt: skip

# %%
res.round(3)

# %% [markdown]
# ## Predicted and measured first-passage distributions
# Top: survival $P(T_\tau > t)$ of each brute-force ensemble (Kaplan–Meier, solid) against the
# renewal prediction {func}`fpt_core.restart.predicted_survival` (dashed). Bottom: the measured
# first-passage times. The two views are linked ({func}`fpt_core.viz.survival_histogram`): click
# a period in the legend to fade the others, drag over the histogram to mark a time window.

# %% tags=["hide-input"]
parts, hits = [], []
tgrid = np.arange(0.0, horizon + 1.0)
for tau in periodic_taus:
    law = predicted_survival(fp0, fp_once, P["tau0"], tau, form="renewal", schedule="once")
    fp = first_passage(acc_periodic[tau], P["target"], times)
    label = f"τ = {tau:g}" + (" (τ0)" if tau == P["tau0"] else "")
    parts.append(pd.DataFrame({"t": tgrid, "S": law.sf(tgrid), "source": "predicted", "τ": label}))
    parts.append(pd.DataFrame({"t": tgrid, "S": survival(fp).evaluate(tgrid),
                               "source": "measured", "τ": label}))  # fmt: skip
    hits.append(pd.DataFrame({"fpt": fp.times[fp.observed], "τ": label}))
viz.survival_histogram(pd.concat(parts).dropna(), pd.concat(hits), group="τ", dash="source",
                       survival_title="P(T_τ > t)",
                       title="Survival, predicted (dashed) vs measured (solid)")  # fmt: skip

# %% [markdown]
# ## The same runs at other targets
# The target is a choice; the runs are not. Re-analysing the same ensembles at other targets
# (no training) shows where the premise holds and how the prediction error depends on the target
# and the period. Each point is the relative error of the renewal prediction, predicted /
# measured − 1, of the restricted mean; hollow points are periods where prediction and
# measurement differ beyond their 95 % interval. Intervals at the other targets use 199 bootstrap
# resamples.

# %% tags=["hide-input"]
sweep = {P["target"]: sf}  # the page's own target, as above
for a in P["sweep_targets"]:
    sweep[a] = single_frequency_test(acc0, acc_once, acc_periodic, times, target=a,
                                     tau0=P["tau0"], n_resamples=min(n_resamples, 199), rng=5,
                                     **kw)  # fmt: skip
sweep = dict(sorted(sweep.items()))
sweep_rows = pd.DataFrame([
    {"target": a, "unperturbed censored": r.unperturbed.n_censored / r.unperturbed.n,
     "t_relax": r.t_relax, "tail p": r.tail.pvalue, "T_p log-rank p": r.tp_logrank.pvalue,
     "premise": r.premise, "verdict": r.verdict,
     "errors (held out)": ", ".join(f"{p.agreement.relative_error:+.1%}" for p in r.periods
                                    if p.held_out)}
    for a, r in sweep.items()
])  # fmt: skip
errs = pd.concat([r.table().assign(target=f"{a:g}") for a, r in sweep.items()])
alt.Chart(errs).mark_point(size=60).encode(
    x=alt.X("tau:Q", title="period τ (epochs)"),
    y=alt.Y("rel_error:Q", title="relative error of the prediction", axis=alt.Axis(format="%")),
    color=alt.Color("target:N", scale=alt.Scale(scheme="viridis")),
    fill=alt.condition("datum.consistent", alt.Color("target:N"), alt.value("white")),
    tooltip=["target:N", "tau:Q", alt.Tooltip("rel_error:Q", format="+.1%"),
             alt.Tooltip("resolution:Q", format=".1%"), "consistent:N"],
).properties(width=560, height=280, title="Renewal prediction vs brute force, by target")  # fmt: skip

# %%
sweep_rows.round(4)

# %% [markdown]
# ## Verdict

# %% tags=["hide-input"]
held = res[res["role"] == "held out"]
premise_fails = [a for a, r in sweep.items() if not r.premise]
lines_md = [
    f"**Verdict at $a^*$ = {P['target']}: {sf.verdict}.** "
    + (
        f"Under the premise (QSS from epoch {sf.t_relax:g}, T_p independent of τ), the renewal "
        f"prediction from τ0 = {P['tau0']:g} agrees with brute force at "
        f"{int(held['consistent'].sum())} of {len(held)} held-out periods."
        if sf.premise else
        "The premise fails here (" + "; ".join(sf.reasons) + "): the comparison is shown but "
        "decides nothing."
    ),
    f"Per held-out period, restricted means to epoch {horizon:g} (predicted vs measured, 95 % "
    "intervals): "
    + "; ".join(
        f"τ = {r.tau:g}: {r.predicted:.2f} ({r.pred_low:.2f}–{r.pred_high:.2f}) vs "
        f"{r.measured:.2f} ({r.meas_low:.2f}–{r.meas_high:.2f}), {r.rel_error:+.1%} "
        f"({'consistent' if r.consistent else 'differs'}; resolution ±{r.resolution:.1%})"
        for r in held.itertuples()
    ) + ".",
    "The paper's recipe (single form, T_p from the periodic ensemble at τ0): "
    + "; ".join(f"τ = {r.tau:g}: {r.recipe_rel_error:+.1%} "
                f"({'consistent' if r.recipe_consistent else 'differs'})"
                for r in held.itertuples()) + ".",
    "Over the target sweep: "
    + "; ".join(f"$a^*$ = {a:g}: {r.verdict}" for a, r in sweep.items())
    + (f". The premise fails at $a^*$ = {', '.join(f'{a:g}' for a in premise_fails)}."
       if premise_fails else "."),
]  # fmt: skip
display(Markdown("\n\n".join(lines_md)))
if m0.estimable:  # the CV itself, with its CI
    cv_text = f"CV = {m0.cv:.2f} (95 % CI {m0.cv_low:.2f}–{m0.cv_high:.2f})"
    cv_verdict = (
        "reproduced"
        if m0.cv_low > 1
        else "not reproduced"
        if m0.cv_high < 1
        else "not tested at this preset"
    )
else:  # censored: only a lower bound, which can establish CV > 1 but never refute it
    cv_text = (
        f"{m0.n_censored / m0.n:.1%} of runs censored: CV ≥ {m0.cv_lower_bound:.2f} "
        f"(95 % lower end {m0.cv_lower_bound_low:.2f})"
    )
    cv_verdict = "reproduced" if m0.cv_lower_bound_low > 1 else "not tested at this preset"
claims = [
    claim("Meir et al. 2025",
          "Once the survivors are in a quasi-steady state, the response to a perturbation at one "
          "period predicts the mean first-passage time at other periods.",
          f"premise {'holds' if sf.premise else 'fails'}; held-out relative errors "
          + ", ".join(f"{r.rel_error:+.1%}" for r in held.itertuples())
          + f" at τ = {', '.join(f'{t:g}' for t in held['tau'])} ({int(held['consistent'].sum())} "
          f"of {len(held)} within the 95 % interval)",
          sf.verdict),
    claim("Meir et al. 2025",
          "In the quasi-steady state the time from a perturbation to the target, T_p, does not "
          "depend on when the perturbation comes.",
          f"log-rank across periods: χ² = {sf.tp_logrank.statistic:.2f}, "
          f"p = {sf.tp_logrank.pvalue:.2g}",
          "reproduced" if sf.tp_logrank.pvalue >= alpha else "not reproduced"),
    claim("Meir et al. 2025",
          "The unperturbed first-passage time is broad (CV > 1), so perturbing at a small rate "
          "speeds training up.",
          cv_text, cv_verdict),
]  # fmt: skip
glue("claims_box", Markdown(claims_box(claims)), display=False)

# %% [markdown]
# ## How the setting, target and periods were chosen
# `tools/scan_single_frequency.py` measured, when this preset was chosen, the unperturbed
# ensemble and one perturbed once at τ0 (96 runs each, τ0 = 25) for targets at high quantiles of
# the plateau: the share of unperturbed runs that never reach the target, a lower bound on the CV
# of $T$, the survivors' relaxation time, and for candidate periods the predicted mean and the
# share of a periodic ensemble expected to stay censored (assuming, as the premise does, that
# $T_p$ does not depend on τ). Not recomputed by this build.

# %% tags=["remove-input"]
display(Markdown(Path("book/scans/single_frequency.md").read_text()))

# %%
censored = {p.tau: p.censored for p in sf.periods}
summary = {
    "notebook": "02_single_frequency", "preset": preset, "params": P, "target": P["target"],
    "tau0": P["tau0"], "t_relax": sf.t_relax, "t_relax_source": sf.survivors_source,
    "t_relax_survivors": sf.survivors_t_relax,
    "t_relax_by_reference": {f"{e:g}": t for e, t in sf.relaxation.t_relax.items()},
    "t_relax_robust": sf.relaxation.robust, "tail_pvalue": sf.tail.pvalue,
    "premise": sf.premise, "premise_failures": sf.reasons,
    "unperturbed_mean_fpt": m0.mean, "unperturbed_mean_estimable": m0.estimable,
    "unperturbed_cv": m0.cv if m0.estimable else None,
    "cv_lower_bound": m0.cv_lower_bound, "cv_lower_bound_low": m0.cv_lower_bound_low,
    "unperturbed_censored": m0.n_censored / m0.n,
    "perturbed_censored_max": max(censored.values()),
    "tp_logrank_statistic": sf.tp_logrank.statistic, "tp_logrank_pvalue": sf.tp_logrank.pvalue,
    "per_tau": res.to_dict(orient="records"), "verdict": sf.verdict, "claims": claims,
    "sweep": sweep_rows.to_dict(orient="records"),
    "n_runs": sum(e.n_runs for e in all_ens), "n_trained": sum(e.n_trained for e in all_ens),
    "n_reused": sum(e.n_reused for e in all_ens),
    "n_diverged": sum(e.n_diverged for e in all_ens),
    "device": ens0.device, "wall_time_s": timer.elapsed,
    "provenance": report.provenance(ens0.device),
}  # fmt: skip
report.write_summary(summary_path, summary)
display(HTML(report.provenance_html(summary)))
{k: summary[k] for k in ("verdict", "t_relax", "perturbed_censored_max", "wall_time_s")}
