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
# (nb-optimal-perturbation)=
# # 3. Which perturbation, how often?
#
# {ref}`nb-single-frequency` tested the single-frequency prediction for shrink & perturb. Here
# the same route compares four perturbations ({mod}`fpt_core.perturb`), each measured at one
# period $\tau_0$ only:
#
# - **shrink & perturb** $\theta \leftarrow \lambda\theta + \sigma\theta_\mathrm{fresh}$
#   {cite}`ash2020warm` (λ = 0.4, σ = 0.1, momentum reset, as {cite}`meir2025firstpassage`);
# - **full stochastic resetting**: $\theta \leftarrow \theta_0$, the run's own initial weights,
#   and the optimiser state cleared — the classic restart of first-passage theory
#   {cite}`pal2017first`;
# - **partial stochastic resetting**: the fraction $f$ of weights with the smallest $|w|$ (one
#   global ranking over the weight matrices of a run) re-drawn from their layers' initial
#   distribution;
# - **warm restart** of the learning rate, SGDR-style {cite}`loshchilov2017sgdr`: a perturbation of
#   the optimiser, not the weights. On our constant learning rate each perturbation starts a
#   short cosine annealing cycle (η → `warm_floor`·η over `warm_cycle` epochs) after which the
#   rate jumps back to η — the restart. The cycle length is fixed, so the time from a
#   perturbation to the target does not depend on τ ({class}`fpt_core.perturb.WarmRestart`).
#
# For each, $\langle T_\tau\rangle = \mathbb{E}[\min(T,\tau)] + S(\tau)\langle T_p\rangle$ is
# predicted on a grid of periods past the survivors' relaxation time, the optimal period
# $\tau^* = \arg\min_\tau \langle T_\tau\rangle$ is read off
# ({func}`fpt_core.restart.optimal_tau`) and the speedup over no perturbation is
# $\langle T\rangle / \langle T_{\tau^*}\rangle$. When some unperturbed runs never reach the
# target, $\langle T\rangle$ is only known as a lower bound (the restricted mean), and so is
# the speedup. Finally the test accuracy the perturbed ensembles settle at tells whether a
# faster route to the target also generalises better or worse.

# %% tags=["parameters"]
preset = "default"  # tiny | default | paper
n_runs = None  # unperturbed runs (seeds 0 … n_runs-1, shared with notebooks 01-02)
n_perturbed = None  # runs per perturbed ensemble (seeds 10000 …, shared by all protocols)
epochs = None
dataset = None
model = None
hidden = None
lr = None
momentum = None
batch_size = None
target = None  # target test accuracy a*, in [0, 1]
tau0 = None  # the single period (epochs) each protocol is measured at
protocols = None  # subset of shrink_perturb, reset, partial_reset, warm_restart
lam = None  # shrink & perturb λ
sigma = None  # shrink & perturb σ
partial_f = None  # partial reset: fraction of weights re-drawn, in (0, 1]
warm_cycle = None  # warm restart: annealing cycle length (epochs)
warm_floor = None  # warm restart: learning-rate multiplier reached at the end of the cycle
alpha = 0.05  # KS significance level for the survivors' QSS
min_survivors = 10  # fewest survivors at the KS reference epoch
confidence_level = 0.95
n_resamples = 999
chunk_size = None
data_root = None
device = None
results_dir = "results"
summary_path = "book/executed/03_optimal_perturbation.summary.json"

# %%
import altair as alt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display

from fpt_core import presets, report, viz
from fpt_core.config import TrainConfig
from fpt_core.fpt import first_passage, mean_fpt, qss_onset, survival
from fpt_core.restart import best_perturbation, optimal_tau, predict_mean_fpt, predicted_survival
from fpt_core.runner import run_ensemble

viz.use_offline_renderer()
timer = report.Timer()

ALL_PROTOCOLS = ("shrink_perturb", "reset", "partial_reset", "warm_restart")
_MNIST1D = dict(dataset="mnist1d", model="mlp", hidden=[100, 100], lr=0.1, momentum=0.9)
_KNOBS = dict(lam=0.4, sigma=0.1, partial_f=0.25, warm_cycle=5, warm_floor=0.05)
PRESETS = {
    # unperturbed runs are notebook 01's, the shrink & perturb τ0 ensemble notebook 02's
    "tiny": dict(
        n_runs=24,
        n_perturbed=16,
        epochs=20,
        **_MNIST1D,
        batch_size=100,
        target=0.64,
        tau0=8,
        protocols=list(ALL_PROTOCOLS),
        **_KNOBS,
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
        protocols=list(ALL_PROTOCOLS),
        **_KNOBS,
        chunk_size=128,
    ),
    # the seed paper's scale (ResNet-18, CIFAR-10, notebook 01's paper preset); needs a GPU
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
        protocols=list(ALL_PROTOCOLS),
        **{**_KNOBS, "warm_cycle": 10},
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
    protocols=protocols,
    lam=lam,
    sigma=sigma,
    partial_f=partial_f,
    warm_cycle=warm_cycle,
    warm_floor=warm_floor,
    chunk_size=chunk_size,
)
if not 0.0 <= P["target"] <= 1.0:
    raise ValueError(f"target={P['target']} must lie in [0, 1]")
if not (isinstance(P["tau0"], (int, float)) and 0 < P["tau0"] < P["epochs"]):
    raise ValueError(f"tau0={P['tau0']!r} must be a number of epochs in (0, epochs={P['epochs']})")
if not P["protocols"] or set(P["protocols"]) - set(ALL_PROTOCOLS):
    raise ValueError(f"protocols={P['protocols']} must be a non-empty subset of {ALL_PROTOCOLS}")
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
SPECS = {
    "shrink_perturb": {
        "kind": "shrink_perturb",
        "lam": P["lam"],
        "sigma": P["sigma"],
        "batchnorm": "shrink",
        "reset_momentum": True,
    },
    "reset": {"kind": "reset", "to": "initial"},
    "partial_reset": {"kind": "partial_reset", "f": P["partial_f"], "reset_momentum": True},
    "warm_restart": {
        "kind": "warm_restart",
        "cycle": P["warm_cycle"],
        "peak": 1.0,
        "floor": P["warm_floor"],
        "reset_momentum": False,
    },
}
configs = {
    name: TrainConfig(
        **{
            **base.to_dict(),
            "perturbation": {**SPECS[name], "schedule": "periodic", "tau": P["tau0"]},
        }
    )
    for name in P["protocols"]
}  # building the configs validates every protocol parameter before any training
P

# %% [markdown]
# ## Unperturbed ensemble

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
display(
    Markdown(
        f"{ens0.n_runs} unperturbed runs ({ens0.n_trained} trained, {ens0.n_reused} reused); "
        f"{fp0.n_observed} reach $a^*$ = {P['target']} within {fp0.horizon:g} epochs; "
        + (
            f"⟨T⟩ = {m0.mean:.1f} epochs (CI {m0.low:.1f}–{m0.high:.1f})"
            if m0.estimable
            else f"⟨T⟩ ≥ {m0.mean:.1f} epochs ({m0.n_censored} runs censored: a lower bound)"
        )
        + "; "
        + (
            f"survivors in QSS from epoch {t_relax:g} (KS against epoch {times[reference]:g}, "
            f"the last with ≥ {min_survivors} survivors)."
            if qss.survivors.reached
            else f"**the survivors reach no QSS by the horizon**: τ is searched from epoch "
            f"{t_relax:g} on ({t_relax_source})."
        )
    )
)

# %% [markdown]
# ## One perturbed ensemble per protocol, at τ0
# All protocols use the same seeds (common random numbers: before τ0 the runs are identical).

# %%
seeds = range(10_000, 10_000 + P["n_perturbed"])
ensembles = {name: run_ensemble(cfg, seeds, **run_kw) for name, cfg in configs.items()}
fps = {}
for name, ens in ensembles.items():
    t_p, a_p = ens.matrix("test_acc")
    fps[name] = first_passage(a_p, P["target"], t_p)
display(
    Markdown(
        f"{len(ensembles)} ensembles of {P['n_perturbed']} runs perturbed every "
        f"τ0 = {P['tau0']:g} epochs: {sum(e.n_trained for e in ensembles.values())} runs trained, "
        f"{sum(e.n_reused for e in ensembles.values())} reused, "
        f"{sum(e.n_diverged for e in ensembles.values())} diverged."
    )
)

# %%
rows = []
for name, ens in {"unperturbed": ens0, **ensembles}.items():
    d = ens.frame().groupby("epoch")["test_acc"].agg(["mean", "std"]).reset_index()
    d["protocol"] = name
    rows.append(d)
traj = pd.concat(rows)
viz.trajectory_chart(
    traj,
    y="mean",
    color="protocol",
    target=P["target"],
    tooltip=["std"],
    y_title="mean test accuracy",
    title="Ensemble-mean test accuracy (red: target; drag/wheel to zoom)",
)

# %% [markdown]
# ## Predicted ⟨T_τ⟩ per protocol
# Solid where τ ≥ t_relax (the prediction's assumption holds), dashed before; the band is the
# bootstrap CI, the gray line the unperturbed ⟨T⟩ (a lower bound if runs were censored).

# %%
grid = np.arange(1.0, P["epochs"], 1.0)
preds = {
    name: predict_mean_fpt(
        fp0,
        fp,
        P["tau0"],
        grid,
        form="single",
        schedule="periodic",
        t_relax=t_relax,
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        rng=1,
    )
    for name, fp in fps.items()
}
curves = pd.concat(
    pd.DataFrame(
        {
            "protocol": name,
            "tau": grid,
            "predicted": p.mean,
            "low": p.low,
            "high": p.high,
            "in_qss": p.in_qss,
            "bound": p.bound,
        }
    )
    for name, p in preds.items()
).replace([np.inf, -np.inf], np.nan)
zoom2 = alt.selection_interval(bind="scales")
band = (
    alt.Chart(curves)
    .mark_area(opacity=0.15)
    .encode(x=alt.X("tau:Q", title="period τ (epochs)"), y="low:Q", y2="high:Q", color="protocol:N")
)
line = (
    alt.Chart(curves)
    .mark_line()
    .encode(
        x="tau:Q",
        y=alt.Y("predicted:Q", title="predicted ⟨T_τ⟩ (epochs)"),
        color="protocol:N",
        strokeDash=alt.StrokeDash("in_qss:N", title="τ ≥ t_relax"),
        tooltip=[
            "protocol:N",
            "tau:Q",
            alt.Tooltip("predicted:Q", format=".2f"),
            alt.Tooltip("low:Q", format=".2f"),
            alt.Tooltip("high:Q", format=".2f"),
            "bound:N",
        ],
    )
)
rule = (
    alt.Chart(pd.DataFrame({"unperturbed": [m0.mean]}))
    .mark_rule(color="gray", strokeDash=[2, 2])
    .encode(y="unperturbed:Q", tooltip=[alt.Tooltip("unperturbed:Q", format=".2f")])
)
(band + line + rule).add_params(zoom2).properties(
    width=560, height=340, title=f"Predicted ⟨T_τ⟩ from one period τ0 = {P['tau0']:g} per protocol"
).configure_legend(orient="bottom")

# %% [markdown]
# ## Optimal period, speedup and generalisation
# τ* is searched over τ ≥ t_relax only. `speedup` = ⟨T⟩ / ⟨T_τ*⟩; it is a lower bound when the
# unperturbed ⟨T⟩ is (censored runs) and an upper bound when ⟨T_τ*⟩ is (runs of the τ0 ensemble
# that never reached the target after the perturbation); with both, its direction is
# undetermined. `restricted_speedup` compares the restricted means
# $\int_0^{t_\max} S\,dt$ of the unperturbed and the predicted law of $T_{\tau^*}$
# ({func}`fpt_core.restart.predicted_survival`), estimates for both. The plateau test
# accuracy is the ensemble mean over the last τ0 epochs of the perturbed runs (one full
# perturbation cycle; the unperturbed value over the same epochs for comparison).

# %%
qss_only = True
window = times >= times[-1] - P["tau0"]
plateau0 = float(np.nanmean(acc0[:, window]))
rows = []
for name, p in preds.items():
    t_p, a_p = ensembles[name].matrix("test_acc")
    plateau = float(np.nanmean(a_p[:, t_p >= t_p[-1] - P["tau0"]]))
    try:
        o = optimal_tau(p, qss_only=qss_only)
    except ValueError:  # no finite prediction on the allowed grid
        rows.append({"protocol": name, "plateau_acc": plateau, "plateau_gain": plateau - plateau0})
        continue
    # restricted means ∫_0^t_max S dt, t_max the last epoch where the predicted law of T_τ* is
    # known: estimates for both even when runs are censored
    law = predicted_survival(fp0, fps[name], P["tau0"], o.tau, form="single")
    known = times[np.isfinite(law.sf(times))]
    k = np.arange(0.0, known[-1])
    rm_pred = float(np.sum(law.sf(k)))
    rm0 = float(np.sum(survival(fp0).evaluate(k)))
    lower = (not m0.estimable) and not o.bound
    upper = o.bound and m0.estimable
    rows.append(
        {
            "protocol": name,
            "tau_star": o.tau,
            "tau_low": o.tau_low,
            "tau_high": o.tau_high,
            "mean_at_tau_star": o.mean,
            "mean_low": o.low,
            "mean_high": o.high,
            "speedup": o.speedup,
            "speedup_is": "lower bound"
            if lower
            else ("upper bound" if upper else ("undetermined" if o.bound else "estimate")),
            "restricted_t_max": float(known[-1]),
            "restricted_speedup": rm0 / rm_pred,
            "hazard_at_tau_star": o.hazard,
            "inverse_mean_tp": o.inverse_mean_tp,
            "plateau_acc": plateau,
            "plateau_gain": plateau - plateau0,
            "n_reached_tau0": fps[name].n_observed,
        }
    )
table = pd.DataFrame(rows)
table.round(4)

# %%
ranked = table.dropna(subset=["mean_at_tau_star"]) if "mean_at_tau_star" in table else table[:0]
lines_md = []
if len(ranked):
    best = best_perturbation({n: preds[n] for n in ranked["protocol"]}, qss_only=qss_only)
    bt = table.set_index("protocol").loc[best.name]
    rel = {"lower bound": "≥ ", "upper bound": "≤ "}.get(bt["speedup_is"], "")
    head = (
        f"**Best protocol at this preset: {best.name}**"
        if bt["speedup_is"] in ("estimate", "lower bound")
        else f"**Smallest predicted ⟨T_τ*⟩: {best.name}** (bounds are involved, so this ranks "
        "bounds; the restricted speedups below are the comparable numbers)"
    )
    edge = grid[grid >= t_relax][0] if (grid >= t_relax).any() else np.nan
    edge_note = (
        f" τ* sits at the smallest period allowed (t_relax = {t_relax:g}): the true optimum may "
        "be shorter, where the prediction's assumption is not met."
        if best.optimum.tau == edge
        else ""
    )
    lines_md.append(
        f"{head}, τ* = {best.optimum.tau:g} epochs "
        f"(bootstrap CI {best.optimum.tau_low:g}–{best.optimum.tau_high:g}), predicted "
        f"⟨T_τ*⟩ = {best.optimum.mean:.1f} epochs (CI {best.optimum.low:.1f}–"
        f"{best.optimum.high:.1f}), speedup {rel}{best.optimum.speedup:.2f}× over no "
        f"perturbation ({bt['speedup_is']}); restricted to the first "
        f"{bt['restricted_t_max']:g} epochs, E[min(T, t)] shrinks "
        f"{bt['restricted_speedup']:.2f}×." + edge_note
    )
    for r in ranked.itertuples():
        rel = {"lower bound": "≥ ", "upper bound": "≤ "}.get(r.speedup_is, "")
        lines_md.append(
            f"- {r.protocol}: τ* = {r.tau_star:g}, ⟨T_τ*⟩ = {r.mean_at_tau_star:.1f}, speedup "
            f"{rel}{r.speedup:.2f}× ({r.speedup_is}), restricted speedup "
            f"{r.restricted_speedup:.2f}× (to epoch {r.restricted_t_max:g}); hazard at τ* "
            f"{r.hazard_at_tau_star:.3f} vs "
            f"1/⟨T_p⟩ = {r.inverse_mean_tp:.3f}; plateau accuracy {r.plateau_acc:.4f} "
            f"({r.plateau_gain:+.4f} vs unperturbed {plateau0:.4f})."
        )
else:
    lines_md.append("No protocol has a finite prediction on the allowed τ grid at this preset.")
display(Markdown("\n".join(lines_md)))

# %%
summary = {
    "notebook": "03_optimal_perturbation",
    "preset": preset,
    "params": P,
    "target": P["target"],
    "tau0": P["tau0"],
    "t_relax": t_relax,
    "t_relax_source": t_relax_source,
    "ks_reference_epoch": float(times[reference]),
    "unperturbed_mean_fpt": m0.mean,
    "unperturbed_mean_estimable": m0.estimable,
    "unperturbed_plateau_acc": plateau0,
    "best_protocol": best.name if len(ranked) else None,
    "protocols": table.to_dict(orient="records"),
    "specs": SPECS,
    "n_runs": ens0.n_runs + sum(e.n_runs for e in ensembles.values()),
    "n_trained": ens0.n_trained + sum(e.n_trained for e in ensembles.values()),
    "n_reused": ens0.n_reused + sum(e.n_reused for e in ensembles.values()),
    "n_diverged": ens0.n_diverged + sum(e.n_diverged for e in ensembles.values()),
    "device": ens0.device,
    "wall_time_s": timer.elapsed,
    "provenance": report.provenance(ens0.device),
}
report.write_summary(summary_path, summary)
display(HTML(report.provenance_html(summary)))
{k: summary[k] for k in ("target", "tau0", "best_protocol", "wall_time_s")}
