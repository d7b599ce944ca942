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
# (nb-edge)=
# # 7. The edge of chaos
#
# Zhang, Feng, Chen and Lai {cite}`zhang2021edge` train a fully analytic feedforward network with
# SGD with momentum and report that the hyperparameters place the trained network in an ordered
# or a chaotic phase, that generalisation is best at the edge between them, that weight decay
# pushes the model towards order, and that in the ordered phase the training time obeys scaling
# relations that vanish in the chaotic phase. This page tests each of these statements on a tanh
# MLP (a fully analytic network) trained on MNIST-1D, with every cell of a hyperparameter grid
# an ensemble of seeds, and says which ones this build reproduces.
#
# ```{glue:md} claims_box
# :format: myst
# ```
#
# Two different objects can be ordered or chaotic ({ref}`theory-chaos`), and this page measures
# both:
#
# 1. **The network map** — the paper's order parameter. The trained network's hidden-to-hidden
#    layer $\Psi(h) = \tanh(W_1 h + b_1)$ is iterated from the first-layer representations of
#    test inputs, and the growth rate of a tangent vector along the orbit,
#    $\lambda_{\mathrm{net}} = \lim_n \frac1n \sum_t \ln \lVert J_t \hat u_t \rVert$, is the
#    logarithm of the *asymptotic Jacobian norm* $\chi = e^{\lambda_{\mathrm{net}}}$
#    ({func}`fpt_core.tanh_mlp.network_map_exponent`). A cell is *ordered* if
#    $\lambda_{\mathrm{net}} < -2\,\mathrm{SE}$, *chaotic* if $\lambda_{\mathrm{net}} >
#    2\,\mathrm{SE}$ and *edge* otherwise (SE over seeds). This is the phase classifier. Its
#    critical value, $\chi = 1$, is the Lyapunov criterion; the paper's own normalisation, whose
#    critical value depends on the dimension {cite}`feng2019optimal`, is not reproduced here.
# 2. **The training map** — the optimiser as a dynamical system on (weights, momentum). Its
#    largest Lyapunov exponent $\lambda_{\mathrm{train}}$ is measured by Benettin's method with
#    the one exactly neutral direction of a softmax head (every output bias up by the same
#    constant: multiplier 1 at weight decay 0, so $\lambda_{\mathrm{train}} \ge 0$ by
#    construction unless it is removed) projected out, in the metric $(\theta, \eta b)$, after a
#    warm-up, over a window of at least 2000 steps, with a convergence check (last half against
#    the whole window within $t_{0.975,\,n-1}$ SE, the 95 % critical value of a standard error
#    from $n$ seeds: 3.18 for 4). Weight decay contracts a loss-flat direction at the exact rate
#    $\ln\rho(A(\gamma))$ ({func}`fpt_core.tanh_mlp.weight_decay_floor`); the exponent beyond that
#    floor, $\lambda_{\mathrm{train}} - \ln\rho$, is what weight decay does *not* do by
#    construction.
#
# **The grid was chosen by measurement.** `tools/scan_chaos.py` measured both exponents on a wide
# (η, μ, weight decay) grid (table at the end of this page); the `default` grid is the part where
# $\lambda_{\mathrm{net}}$ changes sign inside every momentum row at weight decay 0, with
# learning rates small enough for several ordered cells and a horizon long enough to measure the
# training times of most of them (cells with a seed that never reaches the target are reported as
# censored, not averaged).

# %% tags=["parameters"]
preset = "default"  # tiny | default | paper
seeds = None  # seeds per cell (0 … seeds-1)
dataset = None  # mnist1d | fashion_mnist | mnist
num_samples = None  # MNIST-1D examples generated (80 % train)
hidden = None  # width of both hidden layers of the tanh MLP
batch_size = None
lrs = None  # learning rates of the (η, μ) grid at weight decay 0
momenta = None  # momenta of that grid
wd_lrs = None  # learning rates of the weight-decay grid
wd_momentum = None  # its momentum
weight_decays = None  # its weight decays (> 0; compared with weight decay 0 at the same η, μ)
warmup = None  # training steps before the Lyapunov window
transient = None  # steps that align the separation, not measured
n_steps = None  # measured steps of the Lyapunov window (≥ 2000 at default)
renorm_every = None  # steps between renormalisations
d0 = None  # separation after each renormalisation
target = None  # target test accuracy of the training time (first-passage time)
plateau_epochs = None  # last epochs of the window averaged for the plateau accuracy
n_probe = None  # test inputs that start the network-map orbits
net_iter = None  # measured iterations of the network map
net_transient = None  # discarded iterations of the network map
threads = 1  # torch CPU threads
data_root = None  # folder with torchvision datasets (fashion_mnist …)
results_dir = "results"  # unused: this page stores no runs (passed by the executor)
summary_path = "book/executed/07_edge_of_chaos.summary.json"

# %% tags=["remove-input"]
import itertools
import time
from pathlib import Path

import altair as alt
import numpy as np
import torch
from IPython.display import HTML, Markdown, display
from myst_nb import glue

from fpt_core import presets, report, viz
from fpt_core.claims import claim, claims_box
from fpt_core.edge_claims import (
    edge_optimum,
    edge_region,
    scaling_absent,
    scaling_in_phase,
    weight_decay_effect,
)
from fpt_core.edge_grid import run_edge_grid, running_by_cell, sign_change_rows
from fpt_core.runner import cached_dataset

viz.use_offline_renderer()
timer = report.Timer()

PRESETS = {
    "tiny": dict(seeds=2, dataset="mnist1d", num_samples=5000, hidden=16, batch_size=100,
                 lrs=[0.02, 0.16, 0.64], momenta=[0.0, 0.8], wd_lrs=[0.16], wd_momentum=0.8,
                 weight_decays=[0.01], warmup=400, transient=100, n_steps=400, renorm_every=10,
                 d0=1e-4, target=0.3, plateau_epochs=3, n_probe=20, net_iter=200,
                 net_transient=100),
    # grid: tools/scan_chaos.py (book/scans/chaos.md); transient: the alignment time measured
    # by tools/scan_lyapunov_window.py (book/scans/lyapunov_window.md)
    "default": dict(seeds=4, dataset="mnist1d", num_samples=5000, hidden=32, batch_size=100,
                    lrs=[0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64], momenta=[0.0, 0.5, 0.8],
                    wd_lrs=[0.04, 0.16, 0.64], wd_momentum=0.5, weight_decays=[0.001, 0.01],
                    warmup=4000, transient=2500, n_steps=2000, renorm_every=10, d0=1e-4,
                    target=0.4, plateau_epochs=10, n_probe=50, net_iter=1000,
                    net_transient=500),
    # the seed paper's data set (Fashion-MNIST, needs data_root) and a wider network; the grid and
    # budget are this book's choice
    "paper": dict(seeds=8, dataset="fashion_mnist", num_samples=70000, hidden=100,
                  batch_size=100, lrs=[0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32],
                  momenta=[0.0, 0.5, 0.8, 0.9], wd_lrs=[0.01, 0.04, 0.16], wd_momentum=0.5,
                  weight_decays=[1e-4, 1e-3, 1e-2], warmup=20000, transient=1000, n_steps=5000,
                  renorm_every=10, d0=1e-4, target=0.85, plateau_epochs=5, n_probe=200,
                  net_iter=2000, net_transient=1000),
}  # fmt: skip
P = presets.resolve(PRESETS, preset, seeds=seeds, dataset=dataset, num_samples=num_samples,
                    hidden=hidden, batch_size=batch_size, lrs=lrs, momenta=momenta,
                    wd_lrs=wd_lrs, wd_momentum=wd_momentum, weight_decays=weight_decays,
                    warmup=warmup, transient=transient, n_steps=n_steps,
                    renorm_every=renorm_every, d0=d0, target=target,
                    plateau_epochs=plateau_epochs, n_probe=n_probe, net_iter=net_iter,
                    net_transient=net_transient)  # fmt: skip
for name in ("lrs", "momenta", "wd_lrs", "weight_decays"):
    v = P[name]
    if not isinstance(v, list) or not v or len(set(v)) != len(v):
        raise ValueError(f"{name}={v!r} must be a non-empty list without repeats")
if not all(0 <= m < 1 for m in P["momenta"] + [P["wd_momentum"]]):
    raise ValueError("momenta and wd_momentum must lie in [0, 1)")
if not all(w > 0 for w in P["weight_decays"]):
    raise ValueError(f"weight_decays={P['weight_decays']} must all be > 0")
if P["wd_momentum"] not in P["momenta"] or not set(P["wd_lrs"]) <= set(P["lrs"]):
    raise ValueError("wd_lrs ⊆ lrs and wd_momentum ∈ momenta (their weight decay 0 is compared)")
if threads is not None:
    torch.set_num_threads(int(threads))
Markdown(", ".join(f"`{k}` = {v}" for k, v in P.items()))

# %% [markdown]
# ## One batched computation
# Every (cell, seed) pair is one replica; all replicas are trained together, each with its own
# $(\eta, \mu, \gamma)$ and data order ({func}`fpt_core.edge_grid.run_edge_grid`). After the
# warm-up each replica gets a companion on the same minibatches for the Lyapunov window; test
# accuracy is recorded every epoch throughout. The training time $T$ of a run is the first
# epoch at which its test accuracy reaches the target.

# %% tags=["hide-input"]
data = cached_dataset(P["dataset"], data_root, False, "cpu", P["num_samples"], 42)
grid = list(itertools.product(P["lrs"], P["momenta"], [0.0]))
grid += list(itertools.product(P["wd_lrs"], [P["wd_momentum"]], P["weight_decays"]))
G = run_edge_grid(data, grid, list(range(P["seeds"])), hidden=P["hidden"],
                  batch_size=P["batch_size"], warmup=P["warmup"], n_steps=P["n_steps"],
                  transient=P["transient"], renorm_every=P["renorm_every"], d0=P["d0"],
                  target=P["target"], plateau_epochs=P["plateau_epochs"], n_probe=P["n_probe"],
                  net_iter=P["net_iter"], net_transient=P["net_transient"])  # fmt: skip
cells = G.cells
wd0 = cells[cells["weight_decay"] == 0].copy()
spe = G.steps_per_epoch
horizon = (P["warmup"] + P["transient"] + P["n_steps"]) / spe
display(Markdown(
    f"{len(grid)} cells × {P['seeds']} seeds = {len(G.replicas)} replicas, {spe} steps per "
    f"epoch, horizon {horizon:.0f} epochs; Lyapunov window steps "
    f"{P['warmup'] + P['transient']}–{P['warmup'] + P['transient'] + P['n_steps']}."
))  # fmt: skip


# %% tags=["remove-input"]
def heatmap(df, value, title, fmt=".2f", diverging=True):
    """Cells of one grid as coloured rectangles on (log η) × μ, labelled with their values."""
    d = df.copy()
    d["label"] = [f"{v:{fmt}}" if np.isfinite(v) else "n/a" for v in d[value]]
    finite = d[value].replace([np.inf, -np.inf], np.nan)
    m = float(np.nanmax(np.abs(finite))) or 1.0
    scale = (alt.Scale(scheme="redblue", domain=[-m, m], reverse=True) if diverging
             else alt.Scale(scheme="viridis"))  # fmt: skip
    base = alt.Chart(d).encode(
        x=alt.X("lr:O", title="learning rate η"),
        y=alt.Y("momentum:O", title="momentum μ", sort="descending"),
        tooltip=["lr", "momentum", "eta_eff", alt.Tooltip(f"{value}:Q", format=fmt), "phase"],
    )
    rect = base.mark_rect().encode(color=alt.Color(f"{value}:Q", scale=scale, title=None))
    text = base.mark_text(fontSize=10).encode(text="label:N")
    return (rect + text).properties(width=300, height=150, title=title)


# %% [markdown]
# ## The phase diagram at weight decay 0
# Left: the network-map exponent $\lambda_{\mathrm{net}}$ (blue: ordered, red: chaotic), the
# order parameter that classifies the cells. Right: the training-map exponent per epoch with the
# softmax shift projected out.

# %% tags=["remove-input"]
alt.hconcat(
    heatmap(wd0, "lam_net", "λ_net (network map, per iteration)"),
    heatmap(wd0, "lam_train", "λ_train (training map, per epoch)", fmt=".3f"),
).resolve_scale(color="independent")

# %% tags=["remove-input"]
counts = {k: int((wd0["phase"] == k).sum()) for k in ("ordered", "edge", "chaotic")}
crossings = sign_change_rows(wd0, "momentum", "lr", "lam_net")
crossings_train = sign_change_rows(wd0, "momentum", "lr", "lam_train")
n_rows = wd0["momentum"].nunique()
net_conv, train_conv = bool(wd0["net_converged"].all()), bool(wd0["train_converged"].all())
boundary_ok = counts["ordered"] >= 3 and counts["chaotic"] >= 3 and len(crossings) >= 2
at = "; ".join(f"μ = {c['momentum']:g} at η ≈ {c['at']:.3g}" for c in crossings) or "none"
display(Markdown(
    f"At weight decay 0: **{counts['ordered']} ordered, {counts['edge']} edge and "
    f"{counts['chaotic']} chaotic** cells. $\\lambda_{{\\mathrm{{net}}}}$ changes sign inside "
    f"{len(crossings)} of {n_rows} momentum rows ({at}); the network-map exponents are "
    f"{'all' if net_conv else 'not all'} converged (last half of the iterations within the "
    f"95 % t critical value of the SE of the whole). The boundary therefore "
    f"{'lies inside the grid' if boundary_ok else 'is not resolved inside the grid'}. "
    f"In units of the effective learning rate it sits at η/(1 − μ) ≈ "
    + ", ".join(f"{c['at'] / (1 - c['momentum']):.3g}" for c in crossings)
    + " — "
    + ("only one row crosses."
       if len(crossings) < 2
       else "close to one value in every row, as a collapse on η_eff would have it."
       if np.ptp([np.log(c["at"] / (1 - c["momentum"])) for c in crossings]) < np.log(2)
       else "not one value: the rows disagree by more than a factor 2.")
))  # fmt: skip

# %% [markdown]
# ### The training map at weight decay 0
# With the softmax shift removed, the training map could in principle be ordered. Benettin's
# companion starts in a random direction and needs time to turn onto the leading one; until it
# has, the measured rate is too low. `tools/scan_lyapunov_window.py` measured that time: with no
# transient, the rate over consecutive blocks of 1000 steps (below) starts negative and rises for
# the first 2000–3000 steps in every cell. After that it levels off in the edge cells, creeps up
# slowly in the slowest ordered cell (η = 0.01, μ = 0, still learning), and keeps rising steeply
# in the chaotic cells — there the dynamics itself drifts (at weight decay 0 nothing stops the
# weights from growing), and no window length gives a stationary rate. The `default` preset
# therefore discards `transient` = 2500 steps before its window.

# %% tags=["remove-input"]
scan_w = Path("book/scans/lyapunov_window.md")
display(Markdown(scan_w.read_text() if scan_w.exists() else "*(scan table not found)*"))

# %% [markdown]
# On this build: the number of cells whose $\lambda_{\mathrm{train}}$ is significantly
# negative, consistent with 0, or positive, and whether the estimates have converged (last half
# of the window within $t_{0.975,\,n-1}$ SE of the whole). A chaotic cell that fails that check still has a
# settled *sign* when both its whole-window and its last-half exponent lie more than 2 SE above 0.
# The chart shows the running estimate against the measured steps for every cell.

# %% tags=["remove-input"]
tr = wd0.apply(lambda r: "negative" if r.lam_train < -2 * r.lam_train_se else
               "positive" if r.lam_train > 2 * r.lam_train_se else "≈ 0", axis=1)  # fmt: skip
tr_counts = tr.value_counts().to_dict()
n_conv = int(wd0["train_converged"].sum())
sign_settled = (wd0["lam_train"] > 2 * wd0["lam_train_se"]) & (
    wd0["lam_train_half"] > 2 * wd0["lam_train_half_se"]
)
drifting = wd0[~wd0["train_converged"]]
drift_ok = bool(((drifting["phase"] == "chaotic") & sign_settled[drifting.index]).all())
train_conv = bool(wd0["train_converged"].all())
lyap_conv = net_conv and drift_ok  # every exponent a call rests on has converged
display(Markdown(
    f"λ_train at weight decay 0: {tr_counts.get('negative', 0)} cells negative, "
    f"{tr_counts.get('≈ 0', 0)} consistent with 0, {tr_counts.get('positive', 0)} positive "
    f"(2 SE); it changes sign in {len(crossings_train)} of {n_rows} rows. "
    f"**{n_conv} of {len(wd0)}** estimates pass the convergence check"
    + (". " if train_conv else
       ("; the one that does not is " if len(drifting) == 1
          else f"; the {len(drifting)} that do not are ")
       + ", ".join(f"η = {r.lr:g}, μ = {r.momentum:g} ({r.phase}, {r.lam_train:.3f} over the "
                   f"window, {r.lam_train_half:.3f} over its last half)"
                   for r in drifting.itertuples())
       + (" — chaotic, with a settled positive sign and a rate that still grows, as the scan "
          "above shows. " if drift_ok else " — not all of them chaotic with a settled sign. "))
    + f"Every exponent a phase call or sign change rests on has "
    f"{'converged' if lyap_conv else 'not converged'}."
))  # fmt: skip
run_df = running_by_cell(G, every=5).merge(
    cells[["lr", "momentum", "weight_decay"]].reset_index(names="cell"), on="cell"
)
run_df = run_df[run_df["weight_decay"] == 0]
alt.Chart(run_df).mark_line().encode(
    x=alt.X("step:Q", title="measured steps"),
    y=alt.Y("running:Q", title="running λ_train per epoch", scale=alt.Scale(type="symlog")),
    color=alt.Color("lr:O", scale=alt.Scale(scheme="viridis")),
    strokeDash="momentum:N",
    tooltip=["lr", "momentum", "step", alt.Tooltip("running:Q", format=".4f")],
).properties(width=560, height=260, title="Convergence of the training-map exponent")

# %% [markdown]
# ## Generalisation at the edge
# The plateau test accuracy (mean over the last `plateau_epochs` epochs of the window) per cell.
# The *edge region* is every cell labelled edge plus the two cells on either side of a sign
# change of $\lambda_{\mathrm{net}}$ in its row. The claim is tested by comparing the best cell of
# the edge region with the best cell outside it; an optimum counts only inside the grid and only
# if the intervals (± 2 SE) separate. A cell still learning at the end of the window (plateau
# accuracy above that of the `plateau_epochs` epochs before by more than 2 SE) has no plateau to
# compare and is left out.

# %% tags=["remove-input"]
alt.hconcat(
    heatmap(wd0, "plateau_acc", "plateau test accuracy", fmt=".3f", diverging=False),
    heatmap(wd0, "fpt", f"training time T to accuracy {P['target']} (epochs)", fmt=".0f",
            diverging=False),
).resolve_scale(color="independent")  # fmt: skip

# %% tags=["remove-input"]
opt = edge_optimum(wd0)
if not boundary_ok:  # no phase boundary inside the grid: there is no edge to test
    opt.update(verdict="not tested at this preset", reason="the boundary is not inside the grid")
wd0["edge_region"] = edge_region(wd0)
b = opt.get("best")


def _cell(r):
    return (f"η = {r['lr']:g}, μ = {r['momentum']:g} ({r['phase']}, λ_net = "
            f"{r['lam_net']:.2f} ± {r['lam_net_se']:.2f}): {r['plateau_acc']:.3f} ± "
            f"{r['plateau_acc_se']:.3f}")  # fmt: skip


lines = [
    f"{opt['n_left_out']} cells are still learning and left out "
    f"({', '.join(f'{v} {k}' for k, v in opt['left_out_phases'].items()) or 'none'})."
]
if "best" in opt:
    lines.append(f"Best cell: {_cell(b)}; {'inside' if opt['best_interior'] else 'on the edge of'} "
                 f"the learning-rate range, {'in' if opt['best_in_edge_region'] else 'outside'} "
                 "the edge region.")  # fmt: skip
if "edge_best" in opt:
    lines.append(f"Best of the edge region: {_cell(opt['edge_best'])}. Best outside it: "
                 f"{_cell(opt['outside_best'])}.")  # fmt: skip
lines.append(f"Verdict: **{opt['verdict']}** ({opt['reason']}).")
low = wd0[wd0["phase"] == "ordered"]
rising = wd0["acc_drift"] > 2 * wd0["acc_drift_se"]
n_rising_low = int(rising[low.index].sum())
n_cens_low = int(low["n_censored"].gt(0).sum())
if len(low):
    lines.append(
        f"The ordered cells are the slowest ones (η/(1 − μ) ≤ {low['eta_eff'].max():.3g}): "
        f"{n_rising_low} of {len(low)} are still learning at the end of the window (plateau "
        f"accuracy above the {P['plateau_epochs']} epochs before it by more than 2 SE), and "
        f"{n_cens_low} {'has' if n_cens_low == 1 else 'have'} a seed that never reached the "
        "target in "
        f"{horizon:.0f} epochs; part of their lower accuracy is unfinished training, which a "
        "longer horizon would have to separate from the phase."
    )
display(Markdown(" ".join(lines)))
alt.Chart(wd0).mark_point(filled=True, size=70).encode(
    x=alt.X("lam_net:Q", title="λ_net (network map)"),
    y=alt.Y("plateau_acc:Q", title="plateau test accuracy", scale=alt.Scale(zero=False)),
    color="phase:N",
    shape=alt.Shape("edge_region:N", title="edge region"),
    tooltip=["lr", "momentum", alt.Tooltip("lam_net:Q", format=".3f"),
             alt.Tooltip("plateau_acc:Q", format=".3f"), "phase"],
).properties(width=560, height=260, title="Accuracy against the order parameter")  # fmt: skip

# %% [markdown]
# ## Weight decay
# At momentum `wd_momentum`, each weight decay $\gamma > 0$ is compared with $\gamma = 0$ at the
# same $\eta$. A cell counts as pushed towards order if its exponent is lower by more than
# 2 SE of the difference. Two exponents are compared: $\lambda_{\mathrm{net}}$ of the trained
# network, which no construction forces down, and $\lambda_{\mathrm{train}} - \ln\rho(A(\gamma))$,
# the training-map exponent beyond the exact weight-decay contraction of a loss-flat direction.
# Cells whose network no longer learns (plateau accuracy below chance + 0.1) are left out: their
# order is that of dead weights.

# %% tags=["remove-input"]
wdg = cells[(cells["momentum"] == P["wd_momentum"]) & cells["lr"].isin(P["wd_lrs"])]
chance = 1.0 / int(data.n_classes)
eff_net = weight_decay_effect(wdg, "lam_net", min_acc=chance + 0.1)
eff_exc = weight_decay_effect(wdg, "lam_excess", min_acc=chance + 0.1)
show = wdg[["lr", "weight_decay", "lam_net", "lam_net_se", "phase", "lam_train", "wd_floor",
            "lam_excess", "lam_train_se", "plateau_acc", "plateau_acc_se"]]  # fmt: skip
display(show.sort_values(["lr", "weight_decay"]).round(4).reset_index(drop=True))
acc_eff = weight_decay_effect(wdg, "plateau_acc", min_acc=chance + 0.1)
acc_txt = "; ".join(f"γ = {r['weight_decay']:g}, η = {r['lr']:g}: {r['diff']:+.3f} ± {r['se']:.3f}"
                    for r in acc_eff["rows"])  # fmt: skip
display(Markdown(
    f"Plateau accuracy minus that at γ = 0 (± SE): {acc_txt}. "
    f"λ_net lower than at γ = 0 in **{eff_net['n_down']} of {eff_net['n']}** comparisons "
    f"(higher in {eff_net['n_up']}); λ_train beyond the weight-decay floor lower in "
    f"**{eff_exc['n_down']} of {eff_exc['n']}** (higher in {eff_exc['n_up']})."
))  # fmt: skip

# %% [markdown]
# ## Scaling of the training time in the ordered phase
# If the ordered phase is the slow, gradient-flow-like regime, the number of epochs to reach the
# target is inversely proportional to the effective learning rate, $T \propto (1-\mu)/\eta$.
# The exponent $\beta$ of $T \propto ((1-\mu)/\eta)^\beta$ is fitted on the cells of each phase
# with an estimable mean training time; the claim is reproduced if the 95 % CI of $\beta$ in the
# ordered phase contains 1.

# %% tags=["remove-input"]
sc_ord = scaling_in_phase(wd0, "ordered")
sc_cha = scaling_in_phase(wd0, "chaotic")


def _fit(s):
    if not np.isfinite(s["exponent"]):
        return f"{s['phase']}: {s['n']} cells with an estimable T — too few to fit"
    return (f"{s['phase']}: β = {s['exponent']:.3f} ± {s['exponent_stderr']:.3f} "
            f"(95 % CI {s['ci'][0]:.3f} to {s['ci'][1]:.3f}, {s['n']} cells, "
            f"{s['n_censored_cells']} left out as censored; affine fit T = a + c(1 − μ)/η: "
            f"a = {s['offset']:.1f} ± {s['offset_stderr']:.1f} epochs)")  # fmt: skip


display(Markdown("; ".join(_fit(s) for s in (sc_ord, sc_cha)) + "."))
pts = wd0[np.isfinite(wd0["fpt"])].assign(inv=lambda d: 1 / d["eta_eff"])
alt.Chart(pts).mark_point(filled=True, size=70).encode(
    x=alt.X("inv:Q", scale=alt.Scale(type="log"), title="(1 − μ)/η"),
    y=alt.Y("fpt:Q", scale=alt.Scale(type="log"), title=f"T to accuracy {P['target']} (epochs)"),
    color="phase:N",
    shape="momentum:N",
    tooltip=["lr", "momentum", alt.Tooltip("fpt:Q", format=".1f"), "phase"],
).properties(width=560, height=260, title="Training time against (1 − μ)/η")

# %% [markdown]
# ## The claims
# Verdicts are computed from the numbers above by the rules stated with each section.

# %% tags=["remove-input"]
PAPER = "Edge of chaos"
claims = [
    claim(PAPER, "SGD hyperparameters place the trained network in an ordered or a chaotic "
          "phase (asymptotic Jacobian norm of the network map)",
          f"weight decay 0: {counts['ordered']} ordered, {counts['edge']} edge, "
          f"{counts['chaotic']} chaotic cells (λ_net vs 2 SE over {P['seeds']} seeds); sign "
          f"change inside {len(crossings)} of {n_rows} momentum rows",
          "reproduced" if boundary_ok and net_conv else "not tested at this preset"),
    claim(PAPER, "Generalisation is best at the edge of chaos",
          (f"best edge-region cell {opt['edge_best']['plateau_acc']:.3f} ± "
           f"{opt['edge_best']['plateau_acc_se']:.3f}, best other "
           f"{opt['outside_best']['plateau_acc']:.3f} ± "
           f"{opt['outside_best']['plateau_acc_se']:.3f} (SE); {opt['reason']}; "
           f"{opt['n_left_out']} cells still learning left out "
           f"({', '.join(f'{v} {k}' for k, v in opt['left_out_phases'].items()) or 'none'})"
           if "edge_best" in opt else opt["reason"]),
          opt["verdict"]),
    claim(PAPER, "Weight decay pushes the model towards the ordered phase",
          f"λ_net lower than at weight decay 0 in {eff_net['n_down']} of {eff_net['n']} "
          f"comparisons, higher in {eff_net['n_up']} (2 SE); training-map exponent beyond the "
          f"analytic weight-decay floor lower in {eff_exc['n_down']} of {eff_exc['n']}",
          eff_net["verdict"]),
    claim(PAPER, "In the ordered phase the training time scales as T ∝ (1 − μ)/η",
          _fit(sc_ord), sc_ord["verdict"]),
    claim(PAPER, "The scaling of the training time disappears in the chaotic phase",
          _fit(sc_cha), scaling_absent(sc_cha)),
]  # fmt: skip
glue("claims_box", Markdown(claims_box(claims)), display=False)
display(Markdown(claims_box(claims, title="Claims (as in the box at the top)")))

# %% [markdown]
# ## The scan behind the grid
# The table `tools/scan_chaos.py` wrote (`book/scans/chaos.md`), with the wider range it
# covered.

# %% tags=["remove-input"]
scan = Path("book/scans/chaos.md")
display(Markdown(scan.read_text() if scan.exists() else "*(scan table not found)*"))


# %% tags=["remove-input"]
def _jsonable(df):
    return df.replace([np.inf, -np.inf], np.nan).to_dict(orient="records")


summary = {
    "notebook": "07_edge_of_chaos",
    "preset": preset,
    "params": P,
    "phase_counts_wd0": counts,
    "edge_crossings_wd0": crossings,
    "edge_crossings_training_wd0": crossings_train,
    "lyapunov_converged": lyap_conv,
    "lyapunov_converged_cells": n_conv,
    "training_map_converged_all": train_conv,
    "lyapunov_criterion": "network-map exponents: last half of the iterations within t(0.975, seeds − 1) "
    "SE of the whole, in every cell; training-map exponents: last half of the window within "
    "t(0.975, seeds − 1) SE (over seeds) of the whole, except chaotic cells whose whole-window and last-half exponents both "
    "lie > 2 SE above 0 (sign settled, rate still growing)",
    "ordered_still_learning": n_rising_low,
    "network_exponent_converged": net_conv,
    "scaling_ordered": {k: sc_ord[k] for k in ("exponent", "exponent_stderr", "ci", "n",
                                               "n_censored_cells", "offset", "offset_stderr",
                                               "verdict")},
    "scaling_chaotic": {k: sc_cha[k] for k in ("exponent", "exponent_stderr", "ci", "n",
                                               "n_censored_cells", "offset", "offset_stderr",
                                               "verdict")},
    "edge_optimum": {k: opt.get(k) for k in ("best", "best_interior", "best_in_edge_region",
                                             "edge_best", "outside_best", "n_left_out",
                                             "left_out_phases", "verdict", "reason")},
    "weight_decay_net": eff_net,
    "weight_decay_excess": eff_exc,
    "cells": _jsonable(cells),
    "claims": claims,
    "n_replicas": int(len(G.replicas)),
    "steps_per_epoch": int(spe),
    "wall_time_s": timer.elapsed,
    "cpu_time_s": time.process_time(),  # one thread: ≈ the wall time on an unloaded machine
    "provenance": report.provenance("cpu"),
}  # fmt: skip
report.write_summary(summary_path, summary)
display(HTML(report.provenance_html(summary)))
