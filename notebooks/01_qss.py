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
# quasi-steady state (QSS, {ref}`theory-fpt`). We test this with two-sample Kolmogorov–Smirnov
# tests of the accuracy distribution at each epoch against a late reference epoch.

# %% tags=["parameters"]
preset = "default"  # tiny | default | paper
n_runs = None  # independent runs (seeds 0 … n_runs-1)
epochs = None
dataset = None  # mnist1d | cifar10 | cifar100 | mnist | fashion_mnist
model = None  # mlp | cnn | resnet18
hidden = None  # MLP hidden widths
lr = None  # constant learning rate
momentum = None
batch_size = None
alpha = 0.05  # KS significance level
reference_epoch = None  # default: the last epoch
chunk_size = None  # replicas trained at once
data_root = None  # folder with torchvision datasets (cifar10 …)
device = None  # None: cuda, then mps, then cpu
results_dir = "results"
summary_path = "book/executed/01_qss.summary.json"

# %%
import altair as alt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display

from fpt_core import presets, report, viz
from fpt_core.config import TrainConfig
from fpt_core.qss import ks_relaxation
from fpt_core.runner import run_ensemble

viz.use_offline_renderer()
timer = report.Timer()

PRESETS = {
    "tiny": dict(
        n_runs=24,
        epochs=20,
        dataset="mnist1d",
        model="mlp",
        hidden=[100, 100],
        lr=0.1,
        momentum=0.9,
        batch_size=100,
        reference_epoch=None,
        chunk_size=128,
    ),
    "default": dict(
        n_runs=128,
        epochs=60,
        dataset="mnist1d",
        model="mlp",
        hidden=[100, 100],
        lr=0.1,
        momentum=0.9,
        batch_size=100,
        reference_epoch=None,
        chunk_size=128,
    ),
    # the seed paper: ResNet-18 (CIFAR stem) on CIFAR-10, batch 125, SGD momentum 0.9, constant lr,
    # no weight decay, no augmentation, 200 epochs, 1000 runs; needs a GPU and data_root
    "paper": dict(
        n_runs=1000,
        epochs=200,
        dataset="cifar10",
        model="resnet18",
        hidden=None,
        lr=0.01,
        momentum=0.9,
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
config = TrainConfig(
    dataset=P["dataset"],
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

# %%
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

# %%
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
# which every p-value stays above $\alpha$.

# %%
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

# %%
late = acc[:, epochs_axis >= ks.t_relax] if ks.reached else acc[:, -1:]
plateau_mean, plateau_sd = float(np.nanmean(late)), float(np.nanstd(late))
run_means = np.nanmean(late, axis=1)
if ks.reached:
    verdict = (
        f"**QSS reached at this preset**: from epoch $t_\\mathrm{{relax}}$ = {ks.t_relax:g} on, every KS "
        f"p-value against epoch {ks.reference_time:g} is ≥ α = {alpha} (smallest: "
        f"{np.nanmin(ks.pvalue[ks.times >= ks.t_relax]):.3g}). Plateau test accuracy "
        f"{plateau_mean:.4f} ± {plateau_sd:.4f} (sd over runs and epochs ≥ t_relax); the sd of the "
        f"per-run time averages is {np.nanstd(run_means):.4f}."
    )
else:
    verdict = (
        f"**QSS not reached at this preset**: KS p < {alpha} at the last tested epoch "
        f"({ks.times[-1]:g}) against epoch {ks.reference_time:g}. Accuracy at the last epoch: "
        f"{plateau_mean:.4f} ± {plateau_sd:.4f}."
    )
display(Markdown(verdict))

# %%
summary = {
    "notebook": "01_qss",
    "preset": preset,
    "params": P,
    "alpha": alpha,
    "t_relax": ks.t_relax,
    "qss_reached": ks.reached,
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
{k: summary[k] for k in ("t_relax", "plateau_mean", "plateau_sd", "n_runs", "wall_time_s")}
