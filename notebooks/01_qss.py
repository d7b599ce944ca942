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
# (nb-qss)=
# # 1. Evidence for a quasi-steady state
#
# An ensemble of independent training runs — same data, same architecture, same optimiser, each
# with its own seed for the initial weights and the data order — is trained with a **constant**
# learning rate, no weight decay and no augmentation, as in the seed paper
# {cite}`meir2025firstpassage`. Test accuracy first rises and then fluctuates around a plateau.
# If the *distribution* of test accuracy across runs stops changing, the ensemble has reached a
# quasi-steady state (QSS, {ref}`theory-fpt`). We test this in two ways:
#
# 1. two-sample Kolmogorov–Smirnov tests of the accuracy distribution at each epoch against a late
#    reference epoch ({eq}`fpt-trelax`), repeated for several reference epochs in the second half
#    of the horizon: a genuine QSS gives the same relaxation time $t_\mathrm{relax}$ whatever the
#    reference (here: within ±20 % of their median);
# 2. a test of the upper tail, which a first passage above the plateau depends on and a KS test
#    can miss: whether the share of time each run spends at or above a high plateau quantile
#    changes from the early to the late part of the plateau
#    ({func}`fpt_core.qss.tail_stationarity`).
#
# The QSS counts as reached only if both hold.
#
# ```{glue:md} claims_box
# :format: myst
# ```
#
# **The setting was chosen by measurement.** A QSS is not a given: with 4000 MNIST-1D training
# examples and two hidden layers of 100 (this page's earlier default) the KS relaxation time grows
# with the reference epoch and the upper tail keeps rising. `tools/scan_qss.py` trained 96 runs
# for 120 epochs in each of several settings; its table is at the end of this page. The
# `default` preset uses the setting with the shortest reference-independent relaxation time and
# the least spread between runs (which keeps the first passages of notebook 02 estimable): 2000
# samples, one hidden layer of 256, learning rate 0.05, momentum 0.9. Whether its upper tail is
# stationary is decided below, on this build's 256 runs (the scan's 96 could not see a drift of
# the size found here).

# %% tags=["parameters"]
preset = "default"  # tiny | default | paper
n_runs = None  # independent runs (seeds 0 … n_runs-1)
epochs = None
dataset = None  # mnist1d | cifar10 | cifar100 | mnist | fashion_mnist
num_samples = None  # MNIST-1D examples generated (80 % train, 20 % test)
model = None  # mlp | cnn | resnet18
hidden = None  # MLP hidden widths
lr = None  # constant learning rate
momentum = None
batch_size = None
alpha = 0.05  # significance level of the KS and tail tests
reference_epoch = None  # default: the last epoch
n_references = 4  # KS reference epochs spread over the second half of the horizon
tail_quantile = 0.8  # the tail test's level: this quantile of the plateau accuracies
max_spread = 0.2  # t_relax must lie within ±max_spread of its median over the references
chunk_size = None  # replicas trained at once
data_root = None  # folder with torchvision datasets (cifar10 …)
device = None  # None: cuda, then mps, then cpu
results_dir = "results"
summary_path = "book/executed/01_qss.summary.json"

# %%
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display
from myst_nb import glue

from fpt_core import presets, report, viz
from fpt_core.claims import claim, claims_box
from fpt_core.config import TrainConfig
from fpt_core.qss import ks_relaxation, relaxation_by_reference, tail_stationarity
from fpt_core.runner import run_ensemble

viz.use_offline_renderer()
timer = report.Timer()

_MNIST1D = dict(
    dataset="mnist1d", num_samples=2000, model="mlp", hidden=[256], lr=0.05, momentum=0.9
)
PRESETS = {
    "tiny": dict(
        n_runs=24, epochs=30, **_MNIST1D, batch_size=100, reference_epoch=None, chunk_size=128
    ),
    "default": dict(
        n_runs=256, epochs=120, **_MNIST1D, batch_size=100, reference_epoch=None, chunk_size=128
    ),
    # the seed paper: ResNet-18 (CIFAR stem) on CIFAR-10, batch 125, SGD momentum 0.9, constant lr,
    # no weight decay, no augmentation, 200 epochs, 1000 runs; needs a GPU and data_root
    "paper": dict(
        n_runs=1000,
        epochs=200,
        dataset="cifar10",
        num_samples=5000,  # MNIST-1D only (kept at the configuration's default)
        model="resnet18",
        hidden=None,
        lr=0.01,  # not fixed by the authors' release (notebook 08): a choice
        momentum=0.9,  # likewise
        batch_size=125,
        reference_epoch=None,
        chunk_size=8,
    ),
}
P = presets.resolve(
    PRESETS,
    preset,
    n_runs=n_runs,
    epochs=epochs,
    dataset=dataset,
    num_samples=num_samples,
    model=model,
    hidden=hidden,
    lr=lr,
    momentum=momentum,
    batch_size=batch_size,
    reference_epoch=reference_epoch,
    chunk_size=chunk_size,
)
if not 0 < alpha < 1:
    raise ValueError(f"alpha={alpha} must lie in (0, 1)")
if not isinstance(n_references, int) or n_references < 1:
    raise ValueError(f"n_references={n_references!r} must be an integer ≥ 1")
if not 0 < tail_quantile < 1:
    raise ValueError(f"tail_quantile={tail_quantile} must lie in (0, 1)")
if not 0 < max_spread < 1:
    raise ValueError(f"max_spread={max_spread} must lie in (0, 1)")
config = TrainConfig(
    dataset=P["dataset"],
    num_samples=P["num_samples"],
    model=P["model"],
    model_kwargs={"hidden": P["hidden"]} if P["model"] == "mlp" else {},
    lr=P["lr"],
    momentum=P["momentum"],
    batch_size=P["batch_size"],
    epochs=P["epochs"],
)
P

# %% [markdown]
# ## Train the ensemble
# Finished runs are read from the results store; only missing ones are trained.

# %%
ens = run_ensemble(
    config,
    P["n_runs"],
    store=results_dir,
    chunk_size=P["chunk_size"],
    device=device,
    data_root=data_root,
)
df = ens.frame()
epochs_axis, acc = ens.matrix("test_acc")
display(
    Markdown(
        f"{ens.n_runs} runs on `{ens.device}`: {ens.n_trained} trained, {ens.n_reused} reused from "
        f"the store, {ens.n_diverged} diverged; {acc.shape[1] - 1} epochs each."
    )
)

# %% [markdown]
# ## Trajectories
# A sample of individual runs (thin lines), the ensemble mean and a ±1 sd band.

# %% tags=["hide-input"]
stats = df.groupby("epoch")["test_acc"].agg(["mean", "std"]).reset_index()
stats["lo"], stats["hi"] = stats["mean"] - stats["std"], stats["mean"] + stats["std"]
sample = df[df["run"] < min(12, ens.n_runs)]
zoom = alt.selection_interval(bind="scales", encodings=["x"])
band = (
    alt.Chart(stats)
    .mark_area(opacity=0.25, color="#1f77b4")
    .encode(x=alt.X("epoch:Q", title="epoch"), y=alt.Y("lo:Q", title="test accuracy"), y2="hi:Q")
)
mean = (
    alt.Chart(stats)
    .mark_line(color="#1f77b4", strokeWidth=3)
    .encode(
        x="epoch:Q",
        y="mean:Q",
        tooltip=[
            alt.Tooltip("epoch:Q"),
            alt.Tooltip("mean:Q", format=".4f"),
            alt.Tooltip("std:Q", format=".4f"),
        ],
    )
)
runs = (
    alt.Chart(sample)
    .mark_line(strokeWidth=0.8, opacity=0.5, color="gray")
    .encode(
        x="epoch:Q",
        y="test_acc:Q",
        detail="run:N",
        tooltip=["run:N", "epoch:Q", alt.Tooltip("test_acc:Q", format=".3f")],
    )
)
(runs + band + mean).add_params(zoom).properties(
    width=540, height=320, title="Test accuracy of independent runs (drag to pan, wheel to zoom)"
)

# %% [markdown]
# ## Distribution of test accuracy at several epochs

# %% tags=["hide-input"]
n_ep = acc.shape[1] - 1
show = sorted({max(1, round(n_ep * f)) for f in (0.1, 0.25, 0.5, 0.75, 1.0)})
hist = df[df["epoch"].isin(show)]
alt.Chart(hist).transform_density(
    "test_acc", groupby=["epoch"], as_=["test_acc", "density"]
).mark_line().encode(
    x=alt.X("test_acc:Q", title="test accuracy"),
    y=alt.Y("density:Q"),
    color=alt.Color("epoch:O", scale=alt.Scale(scheme="viridis")),
    tooltip=["epoch:O", alt.Tooltip("test_acc:Q", format=".3f")],
).properties(width=540, height=260, title="Across-run distribution of test accuracy")

# %% [markdown]
# ## Kolmogorov–Smirnov test against a late reference epoch
# For every epoch $t$ the accuracies of all runs are compared with those at the reference epoch
# by `scipy.stats.ks_2samp`. The relaxation time $t_\mathrm{relax}$ is the first epoch after
# which every p-value stays above $\alpha$. The chart uses the last epoch as the reference.

# %% tags=["hide-input"]
ref_idx = (
    -1 if P["reference_epoch"] is None else int(np.searchsorted(epochs_axis, P["reference_epoch"]))
)
ks = ks_relaxation(acc[:, 1:], epochs_axis[1:], reference=ref_idx, alpha=alpha)
ks_df = pd.DataFrame({"epoch": ks.times, "p_value": ks.pvalue, "D": ks.statistic})
pline = (
    alt.Chart(ks_df)
    .mark_line(point=True)
    .encode(
        x=alt.X("epoch:Q"),
        y=alt.Y("p_value:Q", scale=alt.Scale(type="log"), title="KS p-value"),
        tooltip=[
            "epoch:Q",
            alt.Tooltip("p_value:Q", format=".3g"),
            alt.Tooltip("D:Q", format=".3f"),
        ],
    )
)
rule = (
    alt.Chart(pd.DataFrame({"alpha": [alpha]}))
    .mark_rule(color="red", strokeDash=[4, 4])
    .encode(y="alpha:Q")
)
layers = [pline, rule]
if ks.reached:
    layers.append(
        alt.Chart(pd.DataFrame({"t": [ks.t_relax]})).mark_rule(color="green").encode(x="t:Q")
    )
alt.layer(*layers).properties(
    width=540,
    height=280,
    title=f"KS test vs epoch {ks.reference_time:g} (red: α = {alpha}; green: t_relax)",
)

# %% [markdown]
# ## Does the relaxation time depend on the reference epoch?
# If the ensemble is in a QSS, the reference epoch is arbitrary as long as it lies in the QSS:
# the KS relaxation time must come out the same. A relaxation time that grows with the reference
# is the signature of a slow drift that each KS test, against a reference close to it, is too weak
# to see.

# %%
horizon = float(epochs_axis[-1])
by_ref = relaxation_by_reference(
    acc[:, 1:],
    epochs_axis[1:],
    np.linspace(horizon / 2, horizon, n_references),
    alpha=alpha,
    max_spread=max_spread,
)
pd.DataFrame({"reference epoch": list(by_ref.t_relax), "t_relax": list(by_ref.t_relax.values())})

# %% [markdown]
# ## Is the upper tail stationary?
# The level is the `tail_quantile` (0.8) quantile of all accuracies over the last quarter of the
# horizon. From the largest relaxation time above on, the epochs are cut into four windows; each
# run's share of epochs at or above the level is averaged per window (points, ±1 SE over runs).
# The Wilcoxon signed-rank test compares each run's share in the late half with the early half.

# %% tags=["hide-input"]
t_start = by_ref.latest or horizon / 2
last_quarter = acc[:, epochs_axis > 0.75 * horizon]
tail_level = float(np.nanquantile(last_quarter, tail_quantile))
tail = tail_stationarity(
    acc[:, 1:], epochs_axis[1:], level=tail_level, start=t_start, n_windows=4, alpha=alpha
)
tail_df = pd.DataFrame(
    {
        "window": [f"{a:g}–{b:g}" for a, b in tail.windows],
        "mid": tail.windows.mean(1),
        "share": tail.share,
        "lo": tail.share - tail.share_se,
        "hi": tail.share + tail.share_se,
    }
)
(
    alt.Chart(tail_df).mark_errorbar().encode(x="mid:Q", y="lo:Q", y2="hi:Q")
    + alt.Chart(tail_df)
    .mark_point(filled=True, size=60)
    .encode(
        x=alt.X("mid:Q", title="epoch (window centre)"),
        y=alt.Y(
            "share:Q", title=f"share of epochs ≥ {tail_level:.4f}", scale=alt.Scale(zero=False)
        ),
        tooltip=["window:N", alt.Tooltip("share:Q", format=".3f")],
    )
).properties(width=540, height=240, title="Upper-tail share per window (±1 SE over runs)")

# %% tags=["hide-input"]
late = acc[:, epochs_axis >= ks.t_relax] if ks.reached else acc[:, -1:]
plateau_mean, plateau_sd = float(np.nanmean(late)), float(np.nanstd(late))
run_means = np.nanmean(late, axis=1)
qss_reached = bool(ks.reached and by_ref.robust and tail.stationary)
ref_text = ", ".join(
    f"{'none' if t is None else f'{t:g}'} (reference {e:g})" for e, t in by_ref.t_relax.items()
)
tail_text = (
    f"the share of epochs at or above {tail_level:.4f} (the {tail_quantile:g} quantile of the last "
    f"quarter) goes {' → '.join(f'{v:.3f}' for v in tail.share)} over four windows from epoch "
    f"{t_start:g}; late minus early half {tail.difference:+.3f} ± {tail.difference_se:.3f} (SE), "
    f"Wilcoxon p = {tail.pvalue:.2g}"
)
if qss_reached:
    verdict = (
        f"**QSS reached at this preset.** KS relaxation times {ref_text}: within "
        f"±{by_ref.spread:.0%} of their median (allowed ±{max_spread:.0%}); {tail_text}: no drift "
        f"detected at α = {alpha}. Plateau test accuracy {plateau_mean:.4f} ± {plateau_sd:.4f} "
        f"(sd over runs and epochs ≥ {ks.t_relax:g}); the sd of the per-run time averages is "
        f"{np.nanstd(run_means):.4f}."
    )
else:
    why = []
    if not ks.reached:
        why.append(f"KS p < {alpha} at the last tested epoch against epoch {ks.reference_time:g}")
    if not by_ref.robust:
        why.append(
            f"the KS relaxation time depends on the reference epoch ({ref_text}; allowed "
            f"±{max_spread:.0%})"
        )
    if not tail.stationary:
        why.append(f"the upper tail drifts: {tail_text}")
    verdict = (
        "**QSS not reached at this preset**: " + "; ".join(why) + f". Accuracy over the last "
        f"epochs: {plateau_mean:.4f} ± {plateau_sd:.4f}."
    )
display(Markdown(verdict))
claims = [
    claim(
        "Meir et al. 2025",
        "An ensemble trained at a constant learning rate reaches a quasi-steady state: the "
        "distribution of test accuracy across runs stops changing.",
        f"KS relaxation time {ref_text}; upper-tail share late − early "
        f"{tail.difference:+.3f} ± {tail.difference_se:.3f} (Wilcoxon p = {tail.pvalue:.2g})",
        "reproduced" if qss_reached else "not reproduced",
    )
]
glue("claims_box", Markdown(claims_box(claims)), display=False)

# %% [markdown]
# ## How the setting was chosen
# `tools/scan_qss.py` measured each candidate setting with 96 runs of 120 epochs when this preset
# was chosen (not recomputed by this build; rerun the script to reproduce it). Columns: the KS
# relaxation time against four reference epochs and its largest deviation from their median; the
# plateau (mean accuracy of the last quarter, and the SD of the per-run means); the level $a_{80}$
# (80th percentile of the last quarter) and the upper-tail share per window with its Wilcoxon
# p-value; the share of runs that never reach the plateau's 80th/90th/95th percentiles.

# %% tags=["remove-input"]
display(Markdown(Path("book/scans/qss.md").read_text()))

# %%
summary = {
    "notebook": "01_qss",
    "preset": preset,
    "params": P,
    "alpha": alpha,
    "t_relax": ks.t_relax,
    "ks_reached": ks.reached,
    "t_relax_by_reference": {f"{e:g}": t for e, t in by_ref.t_relax.items()},
    "t_relax_spread": by_ref.spread,
    "t_relax_robust": by_ref.robust,
    "tail_level": tail_level,
    "tail_share": tail.share.tolist(),
    "tail_difference": tail.difference,
    "tail_difference_se": tail.difference_se,
    "tail_pvalue": tail.pvalue,
    "tail_stationary": tail.stationary,
    "qss_reached": qss_reached,
    "claims": claims,
    "reference_epoch": ks.reference_time,
    "plateau_mean": plateau_mean,
    "plateau_sd": plateau_sd,
    "ks_pvalues": dict(zip(map(str, ks.times), ks.pvalue, strict=True)),
    "n_runs": ens.n_runs,
    "n_trained": ens.n_trained,
    "n_reused": ens.n_reused,
    "n_diverged": ens.n_diverged,
    "epochs": int(n_ep),
    "device": ens.device,
    "wall_time_s": timer.elapsed,
    "provenance": report.provenance(ens.device),
}
report.write_summary(summary_path, summary)
display(HTML(report.provenance_html(summary)))
{k: summary[k] for k in ("t_relax_by_reference", "qss_reached", "plateau_mean", "wall_time_s")}
