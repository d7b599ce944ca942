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
# relations that vanish in the chaotic phase. This page tests each statement on a tanh MLP
# trained on MNIST-1D, every cell of a hyperparameter grid an ensemble of seeds.
#
# ```{glue:md} claims_box
# :format: myst
# ```
#
# Two objects can be ordered or chaotic ({ref}`theory-chaos`); this page measures both.
# **The network map** $\Psi(h) = \tanh(W_1 h + b_1)$, the trained hidden-to-hidden layer, gives
# the paper's order parameter: iterated from the first-layer representations of test inputs, its
# tangent growth rate $\lambda_{\mathrm{net}}$ is the log of the *asymptotic Jacobian norm*
# ({func}`fpt_core.dynamics.tanh_mlp.network_map_exponent`). A cell is *ordered* if
# $\lambda_{\mathrm{net}} < -2\,\mathrm{SE}$, *chaotic* if $> 2\,\mathrm{SE}$, *edge* otherwise
# (SE over seeds); the critical value is the Lyapunov criterion $\lambda = 0$, not the paper's
# dimension-dependent normalisation {cite}`feng2019optimal`. **The training map** is the optimiser
# as a dynamical system on (weights, momentum); its largest Lyapunov exponent
# $\lambda_{\mathrm{train}}$ is measured by Benettin's method in the metric $(\theta, \eta b)$, the
# exactly neutral softmax-shift direction projected out (it would pin $\lambda_{\mathrm{train}} \ge 0$
# at weight decay 0), after a warm-up, over ≥ 2000 steps, with a convergence check (last half
# against the whole window within $t_{0.975,\,n-1}$ SE for $n$ seeds). Weight decay contracts a
# loss-flat direction at the exact rate $\ln\rho(A(\gamma))$
# ({func}`fpt_core.dynamics.tanh_mlp.weight_decay_floor`); $\lambda_{\mathrm{train}} - \ln\rho$ is
# what it does *not* do by construction.
#
# **The grid was chosen by measurement** (`tools/scan_chaos.py`, table at the end): at weight decay
# 0, $\lambda_{\mathrm{net}}$ changes sign inside every momentum row, with enough ordered cells and a
# horizon to time most (a cell with a seed that never reaches the target is censored, not averaged).

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
import torch
from IPython.display import HTML, Markdown, display

from fpt_core.book import edge_report as er
from fpt_core.book import phase_diagram as pd_
from fpt_core.book import presets, report, viz
from fpt_core.book.claims import claims_box
from fpt_core.book.glued_words import glue_words
from fpt_core.book.scan_report import stored_table
from fpt_core.dynamics.edge_claims import (
    edge_optimum,
    edge_region,
    scaling_in_phase,
    weight_decay_effect,
)
from fpt_core.dynamics.edge_grid import run_edge_grid, running_by_cell
from fpt_core.train.chunk import cached_dataset

viz.use_offline_renderer()
timer = report.Timer()

PRESETS = presets.load("07_edge_of_chaos")  # notebooks/presets.yml
P = presets.resolve(PRESETS, preset, **{k: globals()[k] for k in PRESETS["default"]})
pd_.check_grid(P)
if threads is not None:
    torch.set_num_threads(int(threads))
Markdown(", ".join(f"`{k}` = {v}" for k, v in P.items()))

# %% [markdown]
# ## One batched computation
# Every (cell, seed) pair is one replica, with its own $(\eta, \mu, \gamma)$ and data order; all
# train together, each with a companion for the Lyapunov window after the warm-up. The training
# time $T$ of a run is the first epoch its test accuracy reaches the target. Here:
# {glue:text}`n_cells` cells × {glue:text}`n_seeds` seeds = {glue:text}`n_replicas` replicas,
# {glue:text}`spe` steps per epoch, a horizon of {glue:text}`horizon` epochs, a Lyapunov window
# over steps {glue:text}`window`.

# %%
data = cached_dataset(P["dataset"], data_root, False, "cpu", P["num_samples"], 42)
grid = pd_.grid_cells(P)  # lrs × momenta at weight decay 0; wd_lrs × wd_momentum × weight_decays
G = run_edge_grid(data, grid, list(range(P["seeds"])), **{k: P[k] for k in (
    "hidden", "batch_size", "warmup", "n_steps", "transient", "renorm_every", "d0", "target",
    "plateau_epochs", "n_probe", "net_iter", "net_transient")})  # fmt: skip
cells = G.cells
wd0 = cells[cells["weight_decay"] == 0].copy()
B = pd_.phase_boundary(wd0)  # phase counts; sign changes of λ_net along η in each μ row
T = pd_.training_map_signs(wd0, B["net_conv"])  # signs and convergence of λ_train

# %% [markdown]
# ## The phase diagram at weight decay 0
# Left: the network-map exponent $\lambda_{\mathrm{net}}$ (blue: ordered, red: chaotic), which
# classifies the cells. Right: the training-map exponent per epoch, softmax shift projected out.

# %% tags=["remove-input"]
spe, w0 = G.steps_per_epoch, P["warmup"] + P["transient"]
horizon = (w0 + P["n_steps"]) / spe
glue_words(n_cells=str(len(grid)), n_seeds=str(P["seeds"]), n_replicas=str(len(G.replicas)),
           spe=str(spe), horizon=f"{horizon:.0f}", window=f"{w0}–{w0 + P['n_steps']}",
           **B["words"], **T["words"])  # fmt: skip
pd_.heatmap_pair(wd0, ("lam_net", "λ_net (network map, per iteration)"),
                 ("lam_train", "λ_train (training map, per epoch)", ".3f"))  # fmt: skip

# %% [markdown]
# At weight decay 0 there are **{glue:text}`n_ordered` ordered, {glue:text}`n_edge` edge and
# {glue:text}`n_chaotic` chaotic** cells. $\lambda_{\mathrm{net}}$ changes sign inside
# {glue:text}`n_cross` of {glue:text}`n_rows` momentum rows ({glue:text}`b_at`); the
# network-map exponents are {glue:text}`b_net_conv` converged (last half within the 95 % t
# critical value of the SE of the whole). The boundary therefore {glue:text}`b_boundary`. In
# effective learning rate it sits at η/(1 − μ) ≈ {glue:text}`b_eta_eff_at` —
# {glue:text}`b_collapse`
#
# ### The training map at weight decay 0
# Benettin's companion needs time to turn onto the leading direction; until then the rate is too
# low. `tools/scan_lyapunov_window.py` measured it (table below): with no transient, the rate over
# blocks of 1000 steps rises for the first 2000–3000 steps in every cell, then levels off in the
# edge cells, creeps up in the slowest ordered cell (η = 0.01, μ = 0, still learning) and keeps
# rising in the chaotic cells (weights unbounded at weight decay 0: no window is stationary).
# Hence `transient` = 2500 steps at `default`.
#
# On this build (2 SE), $\lambda_{\mathrm{train}}$ is significantly negative in
# {glue:text}`t_neg` cells, consistent with 0 in {glue:text}`t_zero` and positive in
# {glue:text}`t_pos`; it changes sign in {glue:text}`n_cross_train` of {glue:text}`n_rows` rows.
# **{glue:text}`n_conv` of {glue:text}`n_wd0`** estimates pass the convergence
# check{glue:text}`t_drifting` A chaotic cell that fails it still has a settled *sign* if its
# whole-window and last-half exponents both lie > 2 SE above 0. Every exponent a phase call or
# sign change rests on has {glue:text}`t_lyap_conv`. Chart: the running estimate per cell.

# %% tags=["remove-input"]
display(Markdown(stored_table("book/scans/lyapunov_window.md")))
pd_.running_chart(running_by_cell(G, every=5), cells)

# %% [markdown]
# ## Generalisation at the edge
# Plateau accuracy: the mean test accuracy over the last `plateau_epochs` epochs. The *edge region*:
# every edge cell plus the two cells either side of a sign change of $\lambda_{\mathrm{net}}$ in its
# row. Its best cell is compared with the best outside it; an optimum counts only inside the grid
# and if the intervals (± 2 SE) separate. Cells still learning (plateau above the `plateau_epochs`
# epochs before by > 2 SE) are left out.

# %% tags=["remove-input"]
pd_.heatmap_pair(wd0, ("plateau_acc", "plateau test accuracy", ".3f", False),
                 ("fpt", f"training time T to accuracy {P['target']} (epochs)", ".0f", False))  # fmt: skip

# %%
opt = edge_optimum(wd0)  # best edge-region cell against the best cell outside it (± 2 SE)
if not B["boundary_ok"]:  # no phase boundary inside the grid: there is no edge to test
    opt.update(verdict="not tested at this preset", reason="the boundary is not inside the grid")
wd0["edge_region"] = edge_region(wd0)

# %% tags=["remove-input"]
caveat, n_rising_low = er.ordered_caveat(wd0, P["plateau_epochs"], horizon)
glue_words(opt_words=Markdown(er.optimum_words(opt)), ordered_caveat=caveat)
pd_.cell_scatter(wd0, "lam_net", "plateau_acc", "λ_net (network map)", "plateau test accuracy",
                 "Accuracy against the order parameter")  # fmt: skip

# %% [markdown]
# {glue:md}`opt_words` {glue:text}`ordered_caveat`
#
# ## Weight decay
# At momentum `wd_momentum`, each $\gamma > 0$ is compared with $\gamma = 0$ at the same $\eta$:
# pushed towards order if the exponent is lower by > 2 SE of the difference. Two exponents:
# $\lambda_{\mathrm{net}}$, which no construction forces down, and $\lambda_{\mathrm{train}} -
# \ln\rho(A(\gamma))$, beyond the exact weight-decay contraction of a loss-flat direction. Cells
# that no longer learn (plateau below chance + 0.1; dead weights) are left out.

# %%
wdg = cells[(cells["momentum"] == P["wd_momentum"]) & cells["lr"].isin(P["wd_lrs"])]
min_acc = 1.0 / int(data.n_classes) + 0.1  # chance + 0.1
eff_net = weight_decay_effect(wdg, "lam_net", min_acc=min_acc)
eff_exc = weight_decay_effect(wdg, "lam_excess", min_acc=min_acc)
acc_eff = weight_decay_effect(wdg, "plateau_acc", min_acc=min_acc)

# %% tags=["remove-input"]
glue_words(**er.weight_decay_words(acc_eff, eff_net, eff_exc))
er.weight_decay_table(wdg)

# %% [markdown]
# Plateau accuracy minus that at γ = 0 (± SE): {glue:text}`wd_acc`. $\lambda_{\mathrm{net}}$ is
# lower than at γ = 0 in **{glue:text}`net_n_down` of {glue:text}`net_n`** comparisons (higher in
# {glue:text}`net_n_up`); $\lambda_{\mathrm{train}}$ beyond the weight-decay floor is lower in
# **{glue:text}`exc_n_down` of {glue:text}`exc_n`** (higher in {glue:text}`exc_n_up`).
#
# ## Scaling of the training time in the ordered phase
# If the ordered phase is the slow, gradient-flow-like regime, the epochs to the target are
# inversely proportional to the effective learning rate, $T \propto (1-\mu)/\eta$. The exponent
# $\beta$ of $T \propto ((1-\mu)/\eta)^\beta$ is fitted on each phase's cells with an estimable
# mean training time; the claim is reproduced if the 95 % CI of $\beta$ in the ordered phase
# contains 1. Fits: {glue:text}`fit_ord`; {glue:text}`fit_cha`.

# %%
sc_ord, sc_cha = scaling_in_phase(wd0, "ordered"), scaling_in_phase(wd0, "chaotic")

# %% tags=["remove-input"]
glue_words(fit_ord=er.fit_text(sc_ord), fit_cha=er.fit_text(sc_cha))
pd_.cell_scatter(wd0[wd0["fpt"] < float("inf")].assign(inv=lambda d: 1 / d["eta_eff"]), "inv",
                 "fpt", "(1 − μ)/η", f"T to accuracy {P['target']} (epochs)",
                 "Training time against (1 − μ)/η", log=True, shape="momentum")  # fmt: skip

# %% [markdown]
# ## Summary: the claims
# The verdicts follow from the numbers above by the rules stated with each section; below them the
# scan behind the grid (`tools/scan_chaos.py`, `book/scans/chaos.md`), with its wider range.

# %% tags=["remove-input"]
claims = er.edge_claims(B, P["seeds"], opt, eff_net, eff_exc, sc_ord, sc_cha)
glue_words(claims_box=Markdown(claims_box(claims)))
display(Markdown(claims_box(claims, title="Claims (as in the box at the top)")))
display(Markdown(stored_table("book/scans/chaos.md")))
summary = er.edge_page_summary(
    preset, P, n_replicas=len(G.replicas), steps_per_epoch=spe, wall_time_s=timer.elapsed,
    boundary=B, signs=T, ordered_still_learning=n_rising_low, sc_ord=sc_ord, sc_cha=sc_cha,
    opt=opt, eff_net=eff_net, eff_exc=eff_exc, cells=cells, claims=claims)  # fmt: skip
report.write_summary(summary_path, summary)
display(HTML(report.provenance_html(summary)))
