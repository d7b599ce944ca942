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
# (nb-tempbalance)=
# # 6. Heavy-tailed spectra and temperature balancing
#
# Heavy-tailed self-regularisation (HT-SR) reads the state of each layer from the power-law
# exponent α of its eigenvalue spectrum {cite}`martin2021implicit` ({ref}`theory-htsr`): trained
# layers develop heavier tails (smaller α) than random ones, and well-trained layers have α
# between about 2 and 4. TempBalance {cite}`zhou2023temperature` turns α into a per-layer
# learning rate: once per epoch, layer $i$ trains with
# $\eta_{t,i} = \eta_t\,[s_1 + (s_2-s_1)(\alpha_i-\alpha_{\min})/(\alpha_{\max}-\alpha_{\min})]$
# on top of the base (cosine) schedule $\eta_t$, so heavy-tailed layers slow down and
# light-tailed ones speed up, and reports higher test accuracy than plain SGD. FARMS
# {cite}`hu2025eigenspectrum` measures α on fixed-aspect-ratio submatrices, to remove the part of
# α that comes from a layer's shape alone. This page trains two ensembles that differ only in
# TempBalance, with the same seeds, and tests these claims on them.
#
# ```{glue:md} claims_box
# :format: myst
# ```
#
# **Design.** TempBalance needs something to balance: several tuned layers (the first and last
# keep factor 1) whose α differ by more than the estimator's noise, or its linear map stretches
# noise over the whole range $[s_1, s_2]$ ({ref}`theory-htsr`). The `tiny` and `default` presets
# therefore use an MLP on
# MNIST-1D {cite}`greydanus2020scaling` with hidden widths 128, 128, 512, 64, 256: four tuned
# layers of shapes 128×128, 512×128, 64×512 and 256×64 (aspect ratios 1, 4, 8, 4). Their α
# spread is compared below with the Hill standard error $(\alpha-1)/\sqrt{n_{\rm tail}}$.
# The claim "TempBalance improves test accuracy" is decided by the 95 % confidence interval of
# the mean *paired* difference of plateau accuracy (run $k$ of both arms has seed $k$: the same
# initialisation and minibatch order). The number of seeds and epochs come from a scan that
# measured the SD of these paired differences (`tools/scan_tempbalance.py`, table at the end):
# enough seeds for a half-width of 0.005. The claim counts as reproduced if the interval lies
# above 0, as not reproduced if it lies below 0 or inside ±`margin` (no effect of that size;
# 0.005 at `default`), and as undecided (*not tested*) otherwise.

# %% tags=["parameters"]
preset = "default"  # tiny | default | paper
n_runs = None  # paired seeds per arm (seeds 0 … n_runs-1)
epochs = None
dataset = None  # mnist1d | cifar10 | cifar100 | mnist | fashion_mnist
model = None  # mlp | cnn | resnet18
model_kwargs = None  # e.g. {"hidden": [128, 128, 512, 64, 256]}
lr = None  # base learning rate (start of the cosine schedule)
momentum = None
weight_decay = None
batch_size = None
assignment = None  # tempbalance | model_balancing
s1 = None  # TempBalance factor of the most heavy-tailed layer
s2 = None  # TempBalance factor of the least heavy-tailed layer
mb_s = None  # Model Balancing scale s, used only with model_balancing
exclude_first_last = None  # first/last Linear/Conv layer keep factor 1
target = None  # test accuracy that ends the first passage
plateau_epochs = None  # last epochs averaged for the plateau accuracy
margin = None  # equivalence margin of the plateau difference (accuracy units)
n_spectra = None  # runs per arm whose final weights are kept for the estimators
farms_size = None  # FARMS window: columns and rows of each square submatrix
farms_windows_per_dim = None  # FARMS window positions per dimension (reference: 9)
n_random = None  # random matrices per aspect ratio in the FARMS demo
chunk_size = None  # replicas trained at once
augment = None  # None | crop_flip (CIFAR: 4-pixel padded random crop + horizontal flip)
data_root = None  # folder with torchvision datasets (cifar100 …)
device = None  # None: cuda, then mps, then cpu
results_dir = "results"
summary_path = "book/executed/06_temperature_balance.summary.json"

# %% tags=["hide-input"]
import json
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML, Markdown, display
from myst_nb import glue
from scipy import stats

from fpt_core import presets, report, viz
from fpt_core.claims import claim, claims_box
from fpt_core.config import TrainConfig
from fpt_core.farms import aspect_ratio_table
from fpt_core.fpt import first_passage, mean_fpt, survival
from fpt_core.htsr import clauset_alpha, esd, hill_alpha
from fpt_core.paired import (
    band_verdict,
    bias_removed_verdict,
    improvement_verdict,
    paired_difference,
)
from fpt_core.runner import run_ensemble
from fpt_core.tb_analysis import (
    WeightSnapshot,
    alpha_history,
    estimator_table,
    spread_over_se_by_run,
)

viz.use_offline_renderer()
timer = report.Timer()
# Small tensors: on a shared CPU, torch's intra-op threads mostly wait on each other.
torch.set_num_threads(1)

MLP5 = {"hidden": [128, 128, 512, 64, 256]}
COMMON = dict(
    dataset="mnist1d",
    model="mlp",
    model_kwargs=MLP5,
    lr=0.1,
    momentum=0.9,
    weight_decay=5e-4,
    batch_size=100,
    assignment="tempbalance",
    s1=0.5,
    s2=1.5,
    mb_s=None,
    exclude_first_last=True,
    margin=0.005,
    farms_size=32,
    farms_windows_per_dim=9,
    chunk_size=128,
    augment=None,
)
PRESETS = {
    "tiny": dict(
        COMMON, n_runs=8, epochs=8, target=0.45, plateau_epochs=3, n_spectra=3, n_random=4
    ),
    "default": dict(
        COMMON, n_runs=56, epochs=40, target=0.65, plateau_epochs=5, n_spectra=8, n_random=16
    ),
    # TempBalance (Zhou et al. 2023): ResNet-18 on CIFAR-100, SGD momentum 0.9, weight decay 5e-4,
    # batch 128, 200 epochs, cosine lr from 0.1, s1/s2 = 0.5/1.5, random crop + flip. Needs a GPU
    # and data_root; not run for the book.
    "paper": dict(
        COMMON,
        n_runs=16,
        epochs=200,
        dataset="cifar100",
        model="resnet18",
        model_kwargs={},
        batch_size=128,
        target=0.6,
        plateau_epochs=10,
        n_spectra=2,
        n_random=16,
        chunk_size=8,
        augment="crop_flip",
    ),
}
P = presets.resolve(
    PRESETS,
    preset,
    n_runs=n_runs,
    epochs=epochs,
    dataset=dataset,
    model=model,
    model_kwargs=model_kwargs,
    lr=lr,
    momentum=momentum,
    weight_decay=weight_decay,
    batch_size=batch_size,
    assignment=assignment,
    s1=s1,
    s2=s2,
    mb_s=mb_s,
    exclude_first_last=exclude_first_last,
    target=target,
    plateau_epochs=plateau_epochs,
    margin=margin,
    n_spectra=n_spectra,
    farms_size=farms_size,
    farms_windows_per_dim=farms_windows_per_dim,
    n_random=n_random,
    chunk_size=chunk_size,
    augment=augment,
)
for name in ("n_runs", "epochs", "plateau_epochs", "n_spectra", "farms_size", "n_random"):
    if not (isinstance(P[name], int) and P[name] >= 1):
        raise ValueError(f"{name}={P[name]!r} must be an integer ≥ 1")
if P["n_runs"] < 3 or P["n_spectra"] < 2 or P["n_random"] < 2:
    raise ValueError(
        f"n_runs={P['n_runs']} must be ≥ 3, n_spectra={P['n_spectra']} and "
        f"n_random={P['n_random']} ≥ 2 (confidence intervals)"
    )
if P["plateau_epochs"] > P["epochs"]:
    raise ValueError(f"plateau_epochs={P['plateau_epochs']} must lie in [1, epochs={P['epochs']}]")
if P["n_spectra"] > P["n_runs"]:
    raise ValueError(f"n_spectra={P['n_spectra']} must lie in [2, n_runs={P['n_runs']}]")
if not (isinstance(P["target"], float | int) and 0 < P["target"] < 1):
    raise ValueError(f"target={P['target']!r} must lie in (0, 1)")
if not (isinstance(P["margin"], float | int) and 0 <= P["margin"] < 1):
    raise ValueError(f"margin={P['margin']!r} must lie in [0, 1)")
if not isinstance(P["model_kwargs"], dict):
    raise ValueError(f"model_kwargs={P['model_kwargs']!r} must be a dict")
tb_spec = {
    "kind": "tempbalance",
    "assignment": P["assignment"],
    "exclude_first_last": P["exclude_first_last"],
}
if P["assignment"] == "model_balancing":
    tb_spec["s"] = P["mb_s"]
else:
    tb_spec.update(s1=P["s1"], s2=P["s2"])
common = dict(
    dataset=P["dataset"],
    model=P["model"],
    model_kwargs=P["model_kwargs"],
    lr=P["lr"],
    momentum=P["momentum"],
    weight_decay=P["weight_decay"],
    batch_size=P["batch_size"],
    epochs=P["epochs"],
    lr_schedule="cosine",
    augment=P["augment"],
)
# the TrainConfig constructors validate the protocol spec (ValueError naming the parameter)
configs = {
    "SGD": TrainConfig(**common, perturbation={"kind": "tempbalance", "apply": False}),
    "TempBalance": TrainConfig(**common, perturbation=tb_spec),
}
P

# %% [markdown]
# ## Train the two ensembles
# Finished runs are read from the results store; only missing ones are trained. The SGD
# ensemble runs the measuring-only form `{"kind": "tempbalance", "apply": False}`, which records
# α every epoch and never changes a learning rate (the tests check that its accuracies are
# bit-identical to runs without the protocol). As in the reference implementation, TempBalance
# assigns its first factors from the initial weights, before the first step, then after every
# epoch. The final weights of the first `n_spectra` runs of each arm are kept by a measuring hook
# (retrained without the store if the store already held those runs).

# %% tags=["hide-input"]
spectra_seeds = list(range(P["n_spectra"]))
ens, snaps, retrained = {}, {}, {}
for arm, cfg in configs.items():
    snaps[arm] = WeightSnapshot(seeds=spectra_seeds)
    run_kw = dict(chunk_size=P["chunk_size"], device=device, data_root=data_root)
    ens[arm] = run_ensemble(cfg, P["n_runs"], store=results_dir, hooks=[snaps[arm]], **run_kw)
    missing = snaps[arm].missing(spectra_seeds)
    if missing:
        run_ensemble(cfg, missing, store=None, hooks=[snaps[arm]], progress=False, **run_kw)
    retrained[arm] = missing
acc = {arm: e.matrix("test_acc") for arm, e in ens.items()}
seeds = {arm: [r["seed"] for r in e.records] for arm, e in ens.items()}
if seeds["SGD"] != seeds["TempBalance"]:
    raise RuntimeError("the two arms must hold the same seeds in the same order (pairing)")
lines = [
    f"- **{arm}**: {e.n_runs} runs on `{e.device}`, {e.n_trained} trained, {e.n_reused} reused "
    f"from the store, {e.n_diverged} diverged"
    + (f"; seeds {retrained[arm]} retrained for their final weights." if retrained[arm] else ".")
    for arm, e in ens.items()
]
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Test accuracy
# Ensemble mean (line) and ±1 sd across runs (band) of both arms.

# %% tags=["hide-input"]
traj = pd.concat([e.frame().assign(arm=arm) for arm, e in ens.items()], ignore_index=True)
band = traj.groupby(["arm", "epoch"])["test_acc"].agg(["mean", "std"]).reset_index()
band["lo"], band["hi"] = band["mean"] - band["std"], band["mean"] + band["std"]
colour = alt.Color("arm:N", title="ensemble")
viz.trajectory_chart(
    band,
    y="mean",
    color="arm",
    band=("lo", "hi"),
    tooltip=["std"],
    color_title="ensemble",
    stroke_width=2.5,
    zero=True,
    title="Test accuracy, mean ± sd over runs (drag to pan, wheel to zoom)",
)

# %% [markdown]
# ## α of every layer over training
# Median-Hill α of each layer at initialisation (epoch 0) and after each epoch, averaged over the
# runs of each arm. In TempBalance the first and last layer keep factor 1 and do not enter the
# map; the others are the *tuned* layers.

# %% tags=["hide-input"]
hist = pd.concat(
    [alpha_history(e.records).assign(arm=arm) for arm, e in ens.items()], ignore_index=True
)
layer_order = list(dict.fromkeys(hist.sort_values("layer_index")["layer"]))
kept = snaps["SGD"].weights[spectra_seeds[0]]
shapes = {name: tuple(kept[f"{name}.weight"].shape) for name in layer_order}
n_eigs = {name: int(np.prod(s[2:], dtype=int)) * min(s[0], s[1]) for name, s in shapes.items()}
tuned = layer_order[1:-1] if P["exclude_first_last"] else list(layer_order)
n_tuned = len(tuned)
alpha_mean = (
    hist.groupby(["arm", "layer", "epoch"])
    .agg(alpha=("alpha", "mean"), alpha_sd=("alpha", "std"), factor=("factor", "mean"))
    .reset_index()
)
alt.Chart(alpha_mean.dropna(subset=["alpha"])).mark_rect().encode(
    x=alt.X("epoch:O", title="epoch"),
    y=alt.Y("layer:N", sort=layer_order, title="layer"),
    color=alt.Color("alpha:Q", title="mean α", scale=alt.Scale(scheme="viridis")),
    tooltip=[
        "arm:N",
        "layer:N",
        "epoch:Q",
        alt.Tooltip("alpha:Q", format=".3f", title="mean α"),
        alt.Tooltip("alpha_sd:Q", format=".3f", title="sd over runs"),
        alt.Tooltip("factor:Q", format=".3f", title="mean lr factor"),
    ],
).properties(width=560, height=150).facet(row=alt.Row("arm:N", title=None)).properties(
    title="Ensemble-mean α per layer and epoch"
)

# %% [markdown]
# **Is there something to balance?** For each run, the spread of α over the tuned layers,
# $\max_i\alpha_i - \min_i\alpha_i$, divided by the root-mean-square Hill standard error
# $(\alpha_i - 1)/\sqrt{n_{{\rm tail},i}}$ of those layers
# ({func}`fpt_core.tb_analysis.alpha_spread_over_se`). Near 1 the ranking of the layers, and
# with it the assignment, is noise; well above 1 it is not. The Hill SE is the sampling error of
# a power-law fit; the spread of α over seeds, also shown, is how much a layer's α actually
# varies between runs.

# %% tags=["hide-input"]
ratio_tb = spread_over_se_by_run(hist[hist["arm"] == "TempBalance"], n_eigs, tuned, epoch=0)
ratio_by_epoch = {
    ep: float(np.nanmedian(spread_over_se_by_run(g, n_eigs, tuned)))
    for ep, g in hist[hist["arm"] == "TempBalance"].groupby("epoch")
}
ratio_sgd_final = float(
    np.nanmedian(spread_over_se_by_run(hist[hist["arm"] == "SGD"], n_eigs, tuned))
)
spread_ratio = float(np.median(list(ratio_by_epoch.values())))
last_sgd = hist[(hist["arm"] == "SGD") & (hist["epoch"] == hist["epoch"].max())]
layer_tab = pd.DataFrame(
    {
        "shape": {n: "×".join(map(str, shapes[n])) for n in layer_order},
        "tuned": {n: n in tuned for n in layer_order},
        "α init (mean)": hist[(hist["arm"] == "SGD") & (hist["epoch"] == 0)]
        .groupby("layer")["alpha"]
        .mean(),
        "α final SGD (mean)": last_sgd.groupby("layer")["alpha"].mean(),
        "sd over seeds": last_sgd.groupby("layer")["alpha"].std(),
        "Hill SE": {
            n: (last_sgd[last_sgd["layer"] == n]["alpha"].mean() - 1)
            / np.sqrt(n_eigs[n] - n_eigs[n] // 2)
            for n in layer_order
        },
    }
).loc[layer_order]
display(layer_tab.round(3))
display(
    Markdown(
        f"{n_tuned} tuned layers. α spread over the tuned layers / Hill SE, median over runs and "
        f"over TempBalance's {len(ratio_by_epoch)} recomputations: **{spread_ratio:.1f}** "
        f"(at initialisation {np.nanmedian(ratio_tb):.1f}; final SGD weights "
        f"{ratio_sgd_final:.1f}). "
        + (
            "The layers' α differ by more than the estimator's noise, so TempBalance's ranking "
            "of them is not noise."
            if spread_ratio > 2
            else "The spread is not clearly above the estimator's noise: the assignment is "
            "partly noise."
        )
    )
)

# %% [markdown]
# The learning-rate factor TempBalance assigned to each tuned layer, averaged over runs. A mean
# near 0.5 or 1.5 means the runs agree on which layer is the most (least) heavy-tailed.

# %% tags=["hide-input"]
tb_f = alpha_mean[(alpha_mean["arm"] == "TempBalance")].dropna(subset=["factor"])
alt.Chart(tb_f[tb_f["layer"].isin(tuned)]).mark_line(point=True).encode(
    x=alt.X("epoch:Q", title="epoch"),
    y=alt.Y("factor:Q", title="mean lr factor f_i", scale=alt.Scale(zero=False)),
    color=alt.Color("layer:N", sort=layer_order),
    tooltip=["layer:N", "epoch:Q", alt.Tooltip("factor:Q", format=".3f")],
).add_params(alt.selection_interval(bind="scales", encodings=["x"])).properties(
    width=560,
    height=260,
    title="TempBalance: learning-rate factor per tuned layer (mean over runs)",
).configure_legend(orient="bottom")

# %% [markdown]
# ## HT-SR on this network: does training make tails heavier, into the 2–4 band?
# Two readings of HT-SR {cite}`martin2021implicit`: training lowers α from its value for the
# random initial matrix, and well-trained layers end with α between about 2 and 4. The first is
# tested on every run of the SGD arm with the median-Hill α TempBalance uses (the change from
# epoch 0 to the last epoch, paired by run, 95 % t interval per tuned layer). The bands were read
# off fits whose $x_{\min}$ minimises the KS distance, so the second is tested with that
# estimator ({func}`fpt_core.htsr.clauset_alpha`) on the kept final weights of the SGD arm
# (mean over the kept runs, 95 % t interval per tuned layer).

# %% tags=["hide-input"]
sgd_hist = hist[hist["arm"] == "SGD"].pivot_table(
    index=["run", "epoch"], columns="layer", values="alpha"
)
a0 = sgd_hist.xs(0, level="epoch")
a1 = sgd_hist.xs(hist["epoch"].max(), level="epoch")
drop = {n: paired_difference(a0[n].to_numpy(), a1[n].to_numpy()) for n in tuned}
est = pd.concat(
    [
        estimator_table(
            snap.weights[s],
            snap.base,
            farms_size=P["farms_size"],
            farms_windows_per_dim=P["farms_windows_per_dim"],
        ).assign(arm=arm, seed=s)
        for arm, snap in snaps.items()
        for s in spectra_seeds
    ],
    ignore_index=True,
)
cl = est[(est["arm"] == "SGD") & est["layer"].isin(tuned)].groupby("layer")["clauset"]
cl_stats = pd.DataFrame({"mean": cl.mean(), "se": cl.sem(), "n": cl.count()}).loc[tuned]
tq = stats.t.ppf(0.975, cl_stats["n"] - 1)
cl_stats["low"], cl_stats["high"] = (
    cl_stats["mean"] - tq * cl_stats["se"],
    cl_stats["mean"] + tq * cl_stats["se"],
)
verdict_drop = band_verdict(
    [d.low for d in drop.values()], [d.high for d in drop.values()], (-np.inf, 0.0)
)
band_raw = band_verdict(cl_stats["low"], cl_stats["high"], (2.0, 4.0))
ht_tab = pd.DataFrame(
    {
        "Δα (Hill) final − init": {n: d.mean for n, d in drop.items()},
        "95 % CI low": {n: d.low for n, d in drop.items()},
        "95 % CI high": {n: d.high for n, d in drop.items()},
        "Clauset α final": cl_stats["mean"],
        "Clauset CI low": cl_stats["low"],
        "Clauset CI high": cl_stats["high"],
    }
).loc[tuned]
display(ht_tab.round(3))
below = [n for n, r in cl_stats.iterrows() if r["high"] < 2.0]
final_sgd = ens["SGD"].frame()
final_sgd = final_sgd[final_sgd["epoch"] == final_sgd["epoch"].max()]
fit_gap = {k: float(final_sgd[k].mean()) for k in ("train_loss", "test_loss", "test_acc")}
# premise of the band claim: a well-trained network, not one that memorises its training set
premise_ok = fit_gap["train_loss"] >= 0.1 * fit_gap["test_loss"]
verdict_band = band_raw if premise_ok else "not tested at this preset"
drop_text = ", ".join(f"{n} {d.mean:+.2f} [{d.low:+.2f}, {d.high:+.2f}]" for n, d in drop.items())
band_text = ", ".join(
    f"{n} {r['mean']:.2f} [{r['low']:.2f}, {r['high']:.2f}]" for n, r in cl_stats.iterrows()
)
display(
    Markdown(
        f"Change of median-Hill α from initialisation to the end of training (SGD, "
        f'{len(a0)} runs): {drop_text} — *{verdict_drop}* ("training lowers α" in every tuned '
        f"layer). Clauset α of the final weights ({int(cl_stats['n'].min())} kept runs): "
        f'{band_text}. On these numbers alone, "α lies in 2–4 in every tuned layer" is '
        f"*{band_raw}*. "
        + (f"Layers below the band: {', '.join(below)}. " if below else "")
        + f"At the end of training the SGD runs have a mean train loss of "
        f"{fit_gap['train_loss']:.3f} against a test loss of {fit_gap['test_loss']:.3f} "
        f"(test accuracy {fit_gap['test_acc']:.3f}). "
        + (
            "The network does not memorise its training set (train loss ≥ 0.1 × test loss), so "
            f"the claim is tested under its premise: *{verdict_band}*."
            if premise_ok
            else "The network memorises its training set (train loss < 0.1 × test loss): it is "
            "over-trained rather than well-trained, so the band claim's premise does not hold "
            "(*not tested at this preset*); HT-SR reads α < 2 as the mark of over-training."
        )
    )
)

# %% [markdown]
# ## Spectra of the final weights and their power-law fits
# The complementary CDF $P(\Lambda \ge \lambda)$ of each layer's ESD of run 0 of each arm, on
# log–log axes. A power law $p(\lambda)\propto\lambda^{-\alpha}$ above $x_{\min}$ is a straight
# line of slope $1-\alpha$ there. The dashed lines are the median-Hill fit (TempBalance's) and the
# solid ones the Clauset fit, each drawn from its $x_{\min}$ with its tail fraction.

# %% tags=["hide-input"]
seed0 = spectra_seeds[0]
rows, fits = [], []
for arm, snap in snaps.items():
    for name in layer_order:
        lam = esd(snap.weights[seed0][f"{name}.weight"])
        lam = lam[lam > 0]
        n = lam.size
        rows.append(
            pd.DataFrame({"arm": arm, "layer": name, "lambda": lam, "ccdf": 1.0 - np.arange(n) / n})
        )
        for name_est, fit in (("Hill (median)", hill_alpha(lam)), ("Clauset", clauset_alpha(lam))):
            x = np.geomspace(fit.xmin, lam.max(), 30)
            y = fit.n_tail / n * (x / fit.xmin) ** (1.0 - fit.alpha)
            fits.append(
                pd.DataFrame(
                    {
                        "arm": arm,
                        "layer": name,
                        "estimator": name_est,
                        "lambda": x,
                        "ccdf": y,
                        "alpha": fit.alpha,
                        "xmin": fit.xmin,
                    }
                )
            )
spec_df = pd.concat([pd.concat(rows).assign(estimator="ESD"), pd.concat(fits)])
log = alt.Scale(type="log")
base = alt.Chart(spec_df).encode(
    x=alt.X("lambda:Q", scale=log, title="eigenvalue λ"),
    y=alt.Y("ccdf:Q", scale=log, title="P(Λ ≥ λ)"),
)
pts = (
    base.transform_filter(alt.datum.estimator == "ESD")
    .mark_circle(size=14, opacity=0.6, color="gray")
    .encode(tooltip=[alt.Tooltip("lambda:Q", format=".4g"), alt.Tooltip("ccdf:Q", format=".3f")])
)
fit_lines = (
    base.transform_filter(alt.datum.estimator != "ESD")
    .mark_line(strokeWidth=2)
    .encode(
        color=alt.Color("estimator:N"),
        strokeDash=alt.StrokeDash("estimator:N"),
        tooltip=[
            "estimator:N",
            alt.Tooltip("alpha:Q", format=".3f"),
            alt.Tooltip("xmin:Q", format=".4g"),
        ],
    )
)
alt.layer(pts, fit_lines).properties(width=130, height=130).facet(
    row=alt.Row("arm:N", title=None),
    column=alt.Column("layer:N", sort=layer_order, title="layer"),
).resolve_scale(x="independent").properties(
    title=f"ESDs of the final weights (run {seed0}) with power-law fits"
)

# %% [markdown]
# ## Hill, Clauset and FARMS on the final weights
# The three estimators on every layer of the kept runs. Hill fixes $x_{\min}$ at the median
# eigenvalue; Clauset chooses it by minimum KS distance. FARMS pools the ESDs of square
# `farms_size` × `farms_size` windows placed on a grid of `farms_windows_per_dim` positions per
# dimension, overlapping, as the reference code's fixed sampling does (there: 100-row windows,
# 9 positions per dimension), so every layer is measured on windows of one shape.

# %% tags=["hide-input"]
est_long = est.melt(
    id_vars=["arm", "seed", "layer", "shape"],
    value_vars=["hill", "clauset", "farms"],
    var_name="estimator",
    value_name="alpha",
)
alt.Chart(est_long).mark_point(filled=True, size=60, opacity=0.7).encode(
    x=alt.X("layer:N", sort=layer_order, title="layer"),
    y=alt.Y("alpha:Q", title="α", scale=alt.Scale(zero=False)),
    color=alt.Color("estimator:N"),
    shape=alt.Shape("arm:N", title="ensemble"),
    xOffset="estimator:N",
    tooltip=[
        "arm:N",
        "seed:N",
        "layer:N",
        "shape:N",
        "estimator:N",
        alt.Tooltip("alpha:Q", format=".3f"),
    ],
).properties(width=560, height=280, title="α of the final weights: three estimators")

# %% tags=["hide-input"]
est_mean = est.groupby(["arm", "layer"], sort=False)[["hill", "hill_se", "clauset", "farms"]].mean()
display(est_mean.round(3))
gap_hc = float(np.nanmedian(np.abs(est["clauset"] - est["hill"])))
gap_hf = float(np.nanmedian(np.abs(est["farms"] - est["hill"])))
tuned_est = est[est["layer"].isin(tuned)]
argmin = {
    k: tuned_est.groupby(["arm", "seed"]).apply(lambda g, k=k: g.loc[g[k].idxmin(), "layer"])
    for k in ("hill", "farms")
}
agree = float((argmin["hill"] == argmin["farms"]).mean())
modal = {k: v.value_counts() for k, v in argmin.items()}
logged = hist[hist["epoch"] == hist["epoch"].max()].set_index(["arm", "seed", "layer"])["alpha"]
check = est.join(logged.rename("logged"), on=["arm", "seed", "layer"])
max_dev = float(np.nanmax(np.abs(check["hill"] - check["logged"])))
display(
    Markdown(
        f"Over {len(est)} layer fits, the median |Clauset − Hill| is {gap_hc:.3f} and the median "
        f"|FARMS − Hill| is {gap_hf:.3f}. Hill and FARMS name the same tuned layer as the most "
        f"heavy-tailed (the one TempBalance slows to $s_1$) in {agree:.0%} of the kept runs "
        f"(Hill: {modal['hill'].index[0]} in {modal['hill'].iloc[0]} of {len(argmin['hill'])}; "
        f"FARMS: {modal['farms'].index[0]} in {modal['farms'].iloc[0]}). "
        f"(Check: the Hill α of the kept weights differ from those the protocol logged, rounded "
        f"to 4 decimals, by at most {max_dev:.2g}.)"
    )
)

# %% [markdown]
# ## What FARMS corrects: α against the aspect ratio
# The same matrix cut to $Q \cdot n$ rows and $n$ columns for $Q = 1, 2, 4, 8$
# ({func}`fpt_core.farms.aspect_ratio_table`): for a random Gaussian matrix, whose "training
# quality" does not depend on $Q$ at all, and for the trained tuned layer with the largest aspect
# ratio (kept SGD runs). Plain Hill α rises with $Q$ because the Marchenko–Pastur law narrows
# ({ref}`theory-htsr`); FARMS, fitted on windows of one shape, should not.

# %% tags=["hide-input"]
rng = np.random.default_rng(0)
matrix_layers = [n for n in tuned if len(shapes[n]) == 2]  # the demo cuts 2-D weights
long_layer = max(matrix_layers, key=lambda n: max(shapes[n]) / min(shapes[n]), default=None)
n_cols = min(shapes[long_layer]) if long_layer else 64
ratios = [q for q in (1, 2, 4, 8) if not long_layer or q * n_cols <= max(shapes[long_layer])]
win = dict(size=min(P["farms_size"], n_cols), windows_per_dim=P["farms_windows_per_dim"])
demo = []
for d in range(P["n_random"]):
    w = rng.standard_normal((ratios[-1] * n_cols, n_cols))
    demo.append(aspect_ratio_table(w, ratios, cols=n_cols, **win).assign(source="random", draw=d))
for seed_ in spectra_seeds if long_layer else []:
    w = snaps["SGD"].weights[seed_][f"{long_layer}.weight"]
    demo.append(
        aspect_ratio_table(w, ratios, cols=n_cols, **win).assign(
            source=f"trained {long_layer}", draw=seed_
        )
    )
demo = pd.concat(demo, ignore_index=True)
demo_long = demo.melt(
    id_vars=["source", "draw", "Q"],
    value_vars=["hill", "farms"],
    var_name="estimator",
    value_name="alpha",
)
demo_mean = (
    demo_long.groupby(["source", "estimator", "Q"])["alpha"].agg(["mean", "sem"]).reset_index()
)
demo_mean["lo"], demo_mean["hi"] = (
    demo_mean["mean"] - 2 * demo_mean["sem"],
    demo_mean["mean"] + 2 * demo_mean["sem"],
)
line = (
    alt.Chart(demo_mean)
    .mark_line(point=True)
    .encode(
        x=alt.X("Q:Q", scale=alt.Scale(type="log", base=2), title="aspect ratio Q = rows / cols"),
        y=alt.Y("mean:Q", title="α (mean ± 2 SE)", scale=alt.Scale(zero=False)),
        color=alt.Color("estimator:N"),
        tooltip=["source:N", "estimator:N", "Q:Q", alt.Tooltip("mean:Q", format=".3f")],
    )
)
bars = (
    alt.Chart(demo_mean).mark_errorbar().encode(x="Q:Q", y="lo:Q", y2="hi:Q", color="estimator:N")
)
(line + bars).properties(width=260, height=220).facet(column=alt.Column("source:N", title=None))

# %% tags=["hide-input"]
bias = {}
for source, g in demo.groupby("source"):
    w1 = g[g["Q"] == ratios[0]].sort_values("draw")
    wq = g[g["Q"] == ratios[-1]].sort_values("draw")
    hill_d = paired_difference(w1["hill"].to_numpy(), wq["hill"].to_numpy())
    farms_d = paired_difference(w1["farms"].to_numpy(), wq["farms"].to_numpy())
    bias[source] = {
        "kind": "random" if source == "random" else "trained",
        "hill_change": hill_d.mean,
        "hill_ci95": [hill_d.low, hill_d.high],
        "farms_change": farms_d.mean,
        "farms_ci95": [farms_d.low, farms_d.high],
        "n": hill_d.n,
        "verdict": bias_removed_verdict(farms_d.low, farms_d.high, hill_d.mean, 0.1),
    }
bias_text = " ".join(
    f"**{src}** ({b['n']} matrices): Hill α(Q = {ratios[-1]}) − α(Q = 1) = {b['hill_change']:+.2f} "
    f"[{b['hill_ci95'][0]:+.2f}, {b['hill_ci95'][1]:+.2f}], FARMS {b['farms_change']:+.3f} "
    f"[{b['farms_ci95'][0]:+.3f}, {b['farms_ci95'][1]:+.3f}] — bias removed (CI within ±10 % of "
    f"Hill's change): *{b['verdict']}*."
    for src, b in bias.items()
)
display(Markdown(bias_text))

# %% [markdown]
# ## First passage to the target accuracy
# Each run completes at the first epoch at which its test accuracy reaches the target, and is
# censored at the last epoch if it never does ({ref}`theory-fpt`). Kaplan–Meier survival curves
# $S(t) = P(T > t)$ with 95 % bands, and a log-rank test of equal survival.

# %% tags=["hide-input"]
fps = {arm: first_passage(a, P["target"], times) for arm, (times, a) in acc.items()}
surv_rows, fpt_stats = [], {}
for arm, fp in fps.items():
    sv = survival(fp)
    surv_rows.append(
        pd.DataFrame(
            {
                "arm": arm,
                "epoch": np.r_[0.0, sv.times],
                "S": np.r_[1.0, sv.sf],
                "lo": np.r_[1.0, sv.low],
                "hi": np.r_[1.0, sv.high],
            }
        )
    )
    m = mean_fpt(fp, rng=0)
    fpt_stats[arm] = {
        "n_reached": fp.n_observed,
        "n": fp.n,
        "mean_fpt": m.mean,
        "mean_fpt_low": m.low,
        "mean_fpt_high": m.high,
        "mean_fpt_estimable": m.estimable,
    }
surv = pd.concat(surv_rows)
lr_test = stats.logrank(fps["SGD"].to_censored_data(), fps["TempBalance"].to_censored_data())
s_band = (
    alt.Chart(surv)
    .mark_area(opacity=0.15, interpolate="step-after")
    .encode(x="epoch:Q", y="lo:Q", y2="hi:Q", color=colour)
)
s_line = (
    alt.Chart(surv)
    .mark_line(interpolate="step-after", strokeWidth=2.5)
    .encode(
        x=alt.X("epoch:Q", title="epoch"),
        y=alt.Y("S:Q", title="S(t) = P(T > t)", scale=alt.Scale(domain=[0, 1])),
        color=colour,
        tooltip=["arm:N", "epoch:Q", alt.Tooltip("S:Q", format=".3f")],
    )
)
(s_band + s_line).add_params(alt.selection_interval(bind="scales", encodings=["x"])).properties(
    width=560, height=280, title=f"Survival: runs not yet at test accuracy {P['target']}"
).configure_legend(orient="bottom")


# %% tags=["hide-input"]
def _fpt_text(arm):
    s = fpt_stats[arm]
    mean = (
        f"mean FPT {s['mean_fpt']:.2f} epochs (95 % CI {s['mean_fpt_low']:.2f}–"
        f"{s['mean_fpt_high']:.2f})"
        if s["mean_fpt_estimable"]
        else f"restricted mean FPT ≥ {s['mean_fpt']:.2f} epochs (not all runs reached the target)"
    )
    return f"**{arm}**: {s['n_reached']}/{s['n']} runs reached {P['target']}; {mean}"


display(
    Markdown(
        f"{_fpt_text('SGD')}. {_fpt_text('TempBalance')}. Log-rank test of equal survival: "
        f"p = {lr_test.pvalue:.3g} ("
        + ("different" if lr_test.pvalue < 0.05 else "no difference")
        + " at the 5 % level)."
    )
)

# %% [markdown]
# ## Plateau accuracy: does TempBalance improve it?
# The plateau accuracy of a run is its mean test accuracy over the last `plateau_epochs` epochs
# (the cosine schedule has brought the learning rate close to 0 there). The histogram shows the
# paired differences TempBalance − SGD, one per seed.

# %% tags=["hide-input"]
plateau = {arm: np.nanmean(a[:, -P["plateau_epochs"] :], axis=1) for arm, (_, a) in acc.items()}
pdiff = paired_difference(plateau["SGD"], plateau["TempBalance"])
corr = float(np.corrcoef(plateau["SGD"], plateau["TempBalance"])[0, 1])
verdict_tb = improvement_verdict(pdiff.low, pdiff.high, P["margin"])
powered = pdiff.half_width <= 0.005
plateau_stats = {
    arm: {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)), "se": float(stats.sem(v))}
    for arm, v in plateau.items()
}
alt.Chart(pd.DataFrame({"d": plateau["TempBalance"] - plateau["SGD"]})).mark_bar().encode(
    x=alt.X(
        "d:Q", bin=alt.Bin(maxbins=25), title="plateau accuracy, TempBalance − SGD (same seed)"
    ),
    y=alt.Y("count():Q", title="seeds"),
).properties(width=480, height=200)

# %% tags=["hide-input"]
why = {
    "reproduced": "the interval lies above 0",
    "not reproduced": (
        "the interval lies below 0"
        if pdiff.high < 0
        else f"the interval lies within ±{P['margin']} (no effect of that size)"
    ),
    "not tested at this preset": (
        f"the interval contains 0 and reaches beyond ±{P['margin']}, so this experiment cannot "
        "decide between no effect and an effect of that size"
        + (
            f"; it does exclude a gain of {P['margin']} or more (upper limit {pdiff.high:+.4f})"
            if pdiff.high < P["margin"]
            else ""
        )
    ),
}[verdict_tb]
display(
    Markdown(
        f"Plateau accuracy (mean over the last {P['plateau_epochs']} epochs, ± SE over "
        f"{pdiff.n} seeds): SGD {plateau_stats['SGD']['mean']:.4f} ± "
        f"{plateau_stats['SGD']['se']:.4f}, TempBalance {plateau_stats['TempBalance']['mean']:.4f}"
        f" ± {plateau_stats['TempBalance']['se']:.4f}. Paired difference TempBalance − SGD "
        f"{pdiff.mean:+.4f}, 95 % CI [{pdiff.low:+.4f}, {pdiff.high:+.4f}] (half-width "
        f"{pdiff.half_width:.4f}, "
        + ("within" if powered else "**above**")
        + f" the 0.005 the design asked for; SD of the differences {pdiff.sd:.4f}, correlation "
        f"of the arms over seeds {corr:.2f}, paired t p = {pdiff.pvalue:.3g}). "
        f'"TempBalance improves test accuracy": *{verdict_tb}* — {why}.'
    )
)

# %% [markdown]
# **Scope.** A small MLP on MNIST-1D with a cosine schedule of a few tens of epochs, not the
# setting of {cite}`zhou2023temperature` (ResNets and VGGs on CIFAR-100, 200 epochs). The
# `paper` preset (ResNet-18 on CIFAR-100, with the paper's random-crop and flip augmentation done
# on the device) is documented but not run here.

# %% tags=["hide-input"]
paper = "HT-SR / TempBalance"
b_rand = bias["random"]
b_tr = next((b for b in bias.values() if b["kind"] == "trained"), None)
if b_tr is not None:
    trained_row = (
        f"{long_layer}, α(Q={ratios[-1]}) − α(Q=1): Hill {b_tr['hill_change']:+.2f}, FARMS "
        f"{b_tr['farms_change']:+.3f} [{b_tr['farms_ci95'][0]:+.3f}, "
        f"{b_tr['farms_ci95'][1]:+.3f}] (band ±10 % of Hill), {b_tr['n']} runs"
    )
else:
    trained_row = "no tuned layer is a matrix (2-D weight) at this preset"
claims = [
    claim(
        paper,
        "Training makes layer spectra heavier-tailed: α falls below its random-initialisation value",
        f"median-Hill Δα per tuned layer, {len(a0)} SGD runs: {drop_text}",
        verdict_drop,
    ),
    claim(
        paper,
        "Well-trained layers have α between about 2 and 4 (below 2: over-trained)",
        f"Clauset α per tuned layer, {int(cl_stats['n'].min())} runs (95 % CI): {band_text}; "
        f"test acc {fit_gap['test_acc']:.3f}, train/test loss {fit_gap['train_loss']:.3f}/"
        f"{fit_gap['test_loss']:.3f}" + ("" if premise_ok else " (memorises: premise fails)"),
        verdict_band,
    ),
    claim(
        paper,
        "TempBalance (per-layer lr from α) improves test accuracy over plain SGD",
        f"plateau TB − SGD {pdiff.mean:+.4f} [{pdiff.low:+.4f}, {pdiff.high:+.4f}], {pdiff.n} "
        f"paired seeds, {n_tuned} tuned layers, α spread/Hill SE {spread_ratio:.1f}"
        + (
            f"; a gain above {pdiff.high:+.4f} is excluded, a loss down to {pdiff.low:+.4f} is not"
            if verdict_tb == "not tested at this preset" and pdiff.high < P["margin"]
            else ""
        ),
        verdict_tb,
    ),
    claim(
        paper,
        "FARMS removes the aspect-ratio bias of α (random matrices)",
        f"α(Q={ratios[-1]}) − α(Q=1): Hill {b_rand['hill_change']:+.2f}, FARMS "
        f"{b_rand['farms_change']:+.3f} [{b_rand['farms_ci95'][0]:+.3f}, "
        f"{b_rand['farms_ci95'][1]:+.3f}] (band ±10 % of Hill), {b_rand['n']} matrices",
        b_rand["verdict"],
    ),
    claim(
        paper,
        "FARMS removes the aspect-ratio bias of α (a trained layer)",
        trained_row,
        b_tr["verdict"] if b_tr else "not tested at this preset",
    ),
]
glue("claims_box", Markdown(claims_box(claims)), display=False)

# %% [markdown]
# ## The scan behind the `default` preset
# `tools/scan_tempbalance.py` trained both arms with the same seeds at several horizons and
# measured the SD of the paired plateau differences, the seeds needed for a 95 % half-width of
# 0.005 (normal approximation), the cost per run and epoch, and the α spread over the Hill SE.
# The `default` preset takes the horizon and a seed count at or above the one required there. Not
# recomputed by this build.

# %% tags=["remove-input"]
scan_md, scan_json = Path("book/scans/tempbalance.md"), Path("book/scans/tempbalance.json")
display(Markdown(scan_md.read_text() if scan_md.exists() else "*(scan table not found)*"))
if scan_json.exists():
    match = [
        r
        for r in json.loads(scan_json.read_text())["rows"]
        if r["epochs"] == P["epochs"] and r["hidden"] == P["model_kwargs"].get("hidden")
    ]
    if match:
        r = match[0]
        display(
            Markdown(
                f"At this horizon ({P['epochs']} epochs) the scan measured a paired SD of "
                f"{r['sd_paired']:.4f} over {r['runs']} seeds, hence {r['n_required']} seeds for "
                f"±0.005; this build uses {P['n_runs']} and measured a paired SD of "
                f"{pdiff.sd:.4f} (half-width {pdiff.half_width:.4f})."
            )
        )

# %% tags=["hide-input"]
final_alpha = (
    hist[hist["epoch"] == hist["epoch"].max()].groupby(["arm", "layer"])["alpha"].mean().unstack()
)
summary = {
    "notebook": "06_temperature_balance",
    "preset": preset,
    "params": P,
    "tempbalance_spec": tb_spec,
    "claims": claims,
    "n_tuned_layers": n_tuned,
    "tuned_layers": {n: shapes[n] for n in tuned},
    "alpha_spread_over_hill_se": spread_ratio,
    "alpha_spread_over_hill_se_init": float(np.nanmedian(ratio_tb)),
    "alpha_spread_over_hill_se_sgd_final": ratio_sgd_final,
    "target": P["target"],
    "fpt": fpt_stats,
    "logrank_pvalue": float(lr_test.pvalue),
    "plateau": plateau_stats,
    "plateau_diff_tb_minus_sgd": pdiff.mean,
    "plateau_diff_ci95": [pdiff.low, pdiff.high],
    "plateau_diff_half_width": pdiff.half_width,
    "plateau_diff_sd": pdiff.sd,
    "plateau_diff_pvalue": pdiff.pvalue,
    "plateau_arm_correlation": corr,
    "plateau_verdict": verdict_tb,
    "alpha_drop": {n: [d.mean, d.low, d.high] for n, d in drop.items()},
    "band_premise_ok": bool(premise_ok),
    "fit_gap": fit_gap,
    "clauset_final": {n: [r["mean"], r["low"], r["high"]] for n, r in cl_stats.iterrows()},
    "final_alpha_mean": {arm: row.dropna().to_dict() for arm, row in final_alpha.iterrows()},
    "estimators_mean": {
        f"{arm}/{layer}": row.to_dict() for (arm, layer), row in est_mean.iterrows()
    },
    "median_abs_clauset_minus_hill": gap_hc,
    "median_abs_farms_minus_hill": gap_hf,
    "farms_window": [P["farms_size"], P["farms_windows_per_dim"]],
    "hill_farms_same_min_layer": float(agree),
    "aspect_ratio_bias": bias,
    "aspect_ratios": ratios,
    "max_abs_kept_minus_logged_hill": max_dev,
    "spectra_seeds": spectra_seeds,
    "spectra_retrained": retrained,
    "n_runs": sum(e.n_runs for e in ens.values()),
    "n_trained": sum(e.n_trained for e in ens.values()),
    "n_reused": sum(e.n_reused for e in ens.values()),
    "n_diverged": sum(e.n_diverged for e in ens.values()),
    "epochs": P["epochs"],
    "device": ens["SGD"].device,
    "wall_time_s": timer.elapsed,
    "provenance": report.provenance(ens["SGD"].device),
}
report.write_summary(summary_path, summary)
display(HTML(report.provenance_html(summary)))
{
    k: summary[k]
    for k in (
        "n_tuned_layers",
        "alpha_spread_over_hill_se",
        "plateau_diff_ci95",
        "median_abs_farms_minus_hill",
        "wall_time_s",
    )
}
