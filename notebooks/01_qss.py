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
# An ensemble of independent training runs — same data, architecture and optimiser, each with its
# own seed for the initial weights and the data order — is trained at a **constant** learning
# rate, without weight decay or augmentation, as in the seed paper {cite}`meir2025firstpassage`.
# Test accuracy rises, then fluctuates around a plateau. If the *distribution* of test accuracy
# across runs stops changing, the ensemble has reached a quasi-steady state (QSS,
# {ref}`theory-fpt`). This page tests that in two ways, and counts the QSS as reached only if
# both hold:
#
# 1. **KS tests** of the accuracy distribution at each epoch against a late reference epoch
#    ({eq}`fpt-trelax`), repeated for several references in the second half of the horizon. A
#    genuine QSS gives the same relaxation time $t_\mathrm{relax}$ whatever the reference (here:
#    within ±20 % of their median).
# 2. **The upper tail**, on which a first passage above the plateau depends and which a KS test
#    can miss: does the share of time each run spends at or above a high plateau quantile change
#    from the early to the late part of the plateau?
#
# ```{glue:md} claims_box
# :format: myst
# ```
#
# **The setting was chosen by measurement.** A QSS is not a given: with 4000 MNIST-1D examples
# and two hidden layers of 100, the KS relaxation time grows with the reference epoch and the
# upper tail keeps rising. `tools/scan_qss.py` trained 96 runs for 120 epochs in several settings
# (table at the end). The `default` preset uses the one with the shortest reference-independent
# relaxation time and the least spread between runs, which keeps the first passages of
# {ref}`nb-single-frequency` estimable: 2000 samples, one hidden layer of 256, learning rate 0.05,
# momentum 0.9. Whether its upper tail is stationary is decided below, on this build's runs.

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

# %% tags=["hide-input"]
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display
from myst_nb import glue

from fpt_core.book import presets, report, viz
from fpt_core.book.accuracy_charts import (
    accuracy_band_chart,
    accuracy_density_chart,
    density_epochs,
)
from fpt_core.book.claims import claims_box
from fpt_core.book.parameter_checks import check_fractions, check_integers
from fpt_core.book.preset_config import preset_config
from fpt_core.book.qss_evidence import ks_pvalue_chart, qss_verdict, tail_share_chart
from fpt_core.stats.qss import ks_relaxation, relaxation_by_reference, tail_stationarity
from fpt_core.train.runner import run_ensemble

viz.use_offline_renderer()
timer = report.Timer()
PRESETS = presets.load("01_qss")  # notebooks/presets.yml
P = presets.resolve(
    PRESETS, preset, n_runs=n_runs, epochs=epochs, dataset=dataset, num_samples=num_samples,
    model=model, hidden=hidden, lr=lr, momentum=momentum, batch_size=batch_size,
    reference_epoch=reference_epoch, chunk_size=chunk_size,
)  # fmt: skip
check_fractions(alpha=alpha)
check_integers(1, n_references=n_references)
check_fractions(tail_quantile=tail_quantile, max_spread=max_spread)
config = preset_config(P)
P

# %% [markdown]
# ## Train the ensemble
# Finished runs are read from the results store; only missing ones are trained.

# %%
ens = run_ensemble(
    config, P["n_runs"], store=results_dir, chunk_size=P["chunk_size"], device=device,
    data_root=data_root,
)  # fmt: skip
df = ens.frame()  # one row per run and epoch
epochs_axis, acc = ens.matrix("test_acc")  # (runs, epochs + 1), epoch 0 first
horizon = float(epochs_axis[-1])

# %% tags=["remove-cell"]
for k in ("n_runs", "device", "n_trained", "n_reused", "n_diverged"):
    glue(k, str(getattr(ens, k)), display=False)
glue("n_epochs", f"{horizon:g}", display=False)

# %% [markdown]
# This build: {glue:text}`n_runs` runs of {glue:text}`n_epochs` epochs on
# {glue:text}`device`; {glue:text}`n_trained` trained, {glue:text}`n_reused` reused from the
# store, {glue:text}`n_diverged` diverged. Below, a sample of individual runs (thin lines), the
# ensemble mean and a ±1 sd band, then the across-run distribution at five epochs.

# %% tags=["remove-input"]
accuracy_band_chart(df, n_sample=min(12, ens.n_runs))

# %% tags=["remove-input"]
accuracy_density_chart(df, density_epochs(acc.shape[1] - 1))

# %% [markdown]
# ## Kolmogorov–Smirnov test against a late reference epoch
# For every epoch $t$ the accuracies of all runs are compared with those at the reference epoch
# by `scipy.stats.ks_2samp`. The relaxation time $t_\mathrm{relax}$ is the first epoch after
# which every p-value stays above $\alpha$ ({func}`fpt_core.stats.qss.ks_relaxation`).

# %%
ref_epoch = P["reference_epoch"]
ref = -1 if ref_epoch is None else int(np.searchsorted(epochs_axis, ref_epoch))
ks = ks_relaxation(acc[:, 1:], epochs_axis[1:], reference=ref, alpha=alpha)

# %% tags=["remove-input"]
ks_pvalue_chart(ks)

# %% [markdown]
# ## Does the relaxation time depend on the reference epoch?
# In a QSS the reference epoch is arbitrary as long as it lies in the QSS, so the relaxation
# time must come out the same. One that grows with the reference is the signature of a slow
# drift that each KS test, against a reference close to it, is too weak to see
# ({func}`fpt_core.stats.qss.relaxation_by_reference`).

# %%
references = np.linspace(horizon / 2, horizon, n_references)
by_ref = relaxation_by_reference(
    acc[:, 1:], epochs_axis[1:], references, alpha=alpha, max_spread=max_spread
)
pd.DataFrame({"reference epoch": list(by_ref.t_relax), "t_relax": list(by_ref.t_relax.values())})

# %% [markdown]
# ## Is the upper tail stationary?
# The level is the `tail_quantile` quantile of all accuracies over the last quarter of the
# horizon. From the largest relaxation time above on, the epochs are cut into four windows; each
# run's share of epochs at or above the level is averaged per window (points, ±1 SE over runs).
# The Wilcoxon signed-rank test compares each run's share in the late half with the early half
# ({func}`fpt_core.stats.qss.tail_stationarity`).

# %%
t_start = by_ref.latest or horizon / 2
tail_level = float(np.nanquantile(acc[:, epochs_axis > 0.75 * horizon], tail_quantile))
tail = tail_stationarity(
    acc[:, 1:], epochs_axis[1:], level=tail_level, start=t_start, n_windows=4, alpha=alpha
)

# %% tags=["remove-input"]
tail_share_chart(tail)

# %% tags=["remove-cell"]
late = acc[:, epochs_axis >= ks.t_relax] if ks.reached else acc[:, -1:]
window = f"epochs ≥ {ks.t_relax:g}" if ks.reached else "the last epoch"
verdict = qss_verdict(ks, by_ref, tail, tail_quantile=tail_quantile, t_start=t_start,
                      plateau=late, plateau_window=window)  # fmt: skip
for k, v in verdict.phrases.items():
    glue(k, v, display=False)
claims = [verdict.claim]
glue("claims_box", Markdown(claims_box(claims)), display=False)

# %% [markdown]
# ## Verdict
# **{glue:text}`qss_verdict`.** The QSS counts as reached only if all three checks pass.
#
# - **KS relaxation** against epoch {glue:text}`ks_reference`: {glue:text}`ks_outcome`.
# - **Reference epochs**: relaxation times {glue:text}`t_relax_refs`; {glue:text}`ref_outcome`.
# - **Upper tail**: the share of epochs at or above {glue:text}`tail_level` (the
#   {glue:text}`tail_quantile` quantile of the last quarter) goes {glue:text}`tail_shares` over
#   four windows from epoch {glue:text}`tail_start`; late minus early half
#   {glue:text}`tail_difference` (SE), Wilcoxon p = {glue:text}`tail_pvalue`:
#   {glue:text}`tail_outcome`.
# - **Plateau**: test accuracy over {glue:text}`plateau_window` is {glue:text}`plateau` (sd over
#   runs and epochs); the sd of the per-run time averages is {glue:text}`run_sd`.

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

# %% tags=["hide-input"]
summary = {
    "notebook": "01_qss", "preset": preset, "params": P, "alpha": alpha,
    "t_relax": ks.t_relax, "ks_reached": ks.reached, "reference_epoch": ks.reference_time,
    "ks_pvalues": dict(zip(map(str, ks.times), ks.pvalue, strict=True)),
    "t_relax_by_reference": {f"{e:g}": t for e, t in by_ref.t_relax.items()},
    "t_relax_spread": by_ref.spread, "t_relax_robust": by_ref.robust,
    "tail_level": tail_level, "tail_share": tail.share.tolist(),
    "tail_difference": tail.difference, "tail_difference_se": tail.difference_se,
    "tail_pvalue": tail.pvalue, "tail_stationary": tail.stationary,
    "qss_reached": verdict.reached, "claims": claims,
    "plateau_mean": float(np.nanmean(late)), "plateau_sd": float(np.nanstd(late)),
    "n_runs": ens.n_runs, "n_trained": ens.n_trained, "n_reused": ens.n_reused,
    "n_diverged": ens.n_diverged, "epochs": int(acc.shape[1] - 1), "device": ens.device,
    "wall_time_s": timer.elapsed, "provenance": report.provenance(ens.device),
}  # fmt: skip
report.write_summary(summary_path, summary)
display(HTML(report.provenance_html(summary)))
