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
# (nb-noneq)=
# # 5. SGD out of equilibrium: currents, entropy production, fluctuation theorems
#
# Plain SGD with a constant learning rate does not settle at a minimum: minibatch noise keeps the
# weights moving, and the stationary state it reaches is generally *not* an equilibrium. It carries
# a persistent probability current, and every trajectory produces entropy
# {cite}`adhikari2023machine`. This notebook reproduces that analysis on the seed paper's 1–2–1
# tanh regression network: linear theory near the minimum (Hessian, minibatch diffusion, Lyapunov
# covariance, circulation), long simulated trajectories of many independent chains, the entropy
# production along them and the integral and detailed fluctuation theorems
# {cite}`seifert2012stochastic` — with minibatches drawn with and without replacement. The
# entropy production is the authors' *continuum (Itô-discretised Fokker–Planck) functional*; the
# page compares it with the exact discrete-time log ratio of path probabilities on the
# linear-Gaussian surrogate of SGD, derives the per-step bias ε of the integral fluctuation
# theorem on the network, checks the derivation on a process with a known answer, and measures
# ε against η, down to the paper's η = 10⁻⁷. The theory is in {ref}`theory-noneq`.
#
# ```{glue:md} claims_box
# :format: myst
# ```

# %% tags=["parameters"]
preset = "default"  # tiny | default | paper
lr = None  # SGD learning rate η of the main runs
batch_size = None  # minibatch size B (the paper: 10)
n_chains = None  # independent SGD chains
n_groups = None  # chain groups for error bars
burn_relax = None  # burn-in, in slowest relaxation times 1/(η λ_min(H))
measure_relax = None  # measurement, in slowest relaxation times
n_perm = None  # permutations for the without-replacement epoch map (8 independent sets)
scan_lrs = None  # extra learning rates of the with-replacement η scan of the IFT bias
paper_lr = None  # learning rate of the seed paper, 1e-7
paper_steps = None  # measured steps at paper_lr (0: not run)
surrogate_steps = None  # steps of the linear-Gaussian surrogate chains
surrogate_chains = None  # chains of the surrogate (started in its stationary law)
toy_chains = None  # chains of the validation toy process
n_mc = None  # Monte Carlo pairs of the predicted bias's Gaussian part
n_starts = None  # random starts when searching the minimum
device = None  # None: cuda, then mps, then cpu
results_dir = "results"
summary_path = "book/executed/05_out_of_equilibrium.summary.json"
seed = 0

# %%
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML, Markdown, display
from myst_nb import glue
from scipy import stats

from fpt_core import entropy, ift_bias, langevin, noneq, presets, report, viz
from fpt_core.claims import claim, claims_box
from fpt_core.device import resolve_device

viz.use_offline_renderer()
timer = report.Timer()

PRESETS = {
    "tiny": dict(lr=1e-5, batch_size=10, n_chains=64, n_groups=8, burn_relax=1.0,
                 measure_relax=2.0, n_perm=8000, scan_lrs=[2e-6, 3.5e-6], paper_lr=1e-7, paper_steps=0,
                 surrogate_steps=300, surrogate_chains=512, toy_chains=2000, n_mc=512,
                 n_starts=2),
    "default": dict(lr=1e-6, batch_size=10, n_chains=256, n_groups=8, burn_relax=1.5,
                    measure_relax=3.0, n_perm=80000, scan_lrs=[2e-6, 3.5e-6, 1e-5], paper_lr=1e-7,
                    paper_steps=40000, surrogate_steps=1000, surrogate_chains=4096,
                    toy_chains=16000, n_mc=2048, n_starts=4),
    # the seed paper: η = 1e-7, trajectories of ~10⁸ steps (hours on a CPU)
    "paper": dict(lr=1e-7, batch_size=10, n_chains=512, n_groups=16, burn_relax=2.0,
                  measure_relax=20.0, n_perm=400000, scan_lrs=[1e-6, 2e-6, 3.5e-6, 1e-5],
                  paper_lr=1e-7, paper_steps=0, surrogate_steps=10000, surrogate_chains=16384,
                  toy_chains=64000, n_mc=8192, n_starts=8),
}  # fmt: skip
P = presets.resolve(
    PRESETS, preset, lr=lr, batch_size=batch_size, n_chains=n_chains, n_groups=n_groups,
    burn_relax=burn_relax, measure_relax=measure_relax, n_perm=n_perm, scan_lrs=scan_lrs,
    paper_lr=paper_lr, paper_steps=paper_steps, surrogate_steps=surrogate_steps,
    surrogate_chains=surrogate_chains, toy_chains=toy_chains, n_mc=n_mc, n_starts=n_starts,
)  # fmt: skip
if not all(np.isfinite(v) and v > 0 for v in [P["lr"], P["paper_lr"], *P["scan_lrs"]]):
    raise ValueError(f"lr={P['lr']}, paper_lr and scan_lrs={P['scan_lrs']} must be finite and > 0")
if any(P[k] % P["n_groups"] for k in ("n_chains", "toy_chains", "surrogate_chains")):
    raise ValueError(f"n_groups={P['n_groups']} must divide n_chains, toy_chains, surrogate_chains")
if not (P["burn_relax"] > 0 and P["measure_relax"] > 0):
    raise ValueError("burn_relax and measure_relax must be > 0")
if P["paper_steps"] < 0 or P["surrogate_steps"] < 2 or P["n_mc"] < 2:
    raise ValueError("paper_steps must be ≥ 0, surrogate_steps ≥ 2 and n_mc ≥ 2")
dev = resolve_device(device)
torch.manual_seed(seed)
P

# %% [markdown]
# ## The network and its minimum
# $f(x) = w_5\tanh(w_1x + w_3) + w_6\tanh(w_2x + w_4) + w_7$ on 200 points
# $x = -3, -2.97, \dots, 2.97$ with $y = e^{-x^2} + 0.1\,\varepsilon$; loss
# $U = \sum_i (y_i - f(x_i))^2/(2\sigma^2) + (N/2\sigma^2)\lambda\lVert w\rVert^2$,
# σ = 0.1, λ = 0.001. The minimum $w^*$ is found by trust-region Newton from several random starts.

# %%
net = noneq.make_tanh_net(seed=seed, device=dev)
w_star = net.minimum(n_starts=P["n_starts"], seed=seed)
G = net.per_example_grads(w_star)  # (N, 7), they sum to ∇U(w*) ≈ 0
h = net.per_example_hessians(w_star)  # (N, 7, 7)
H = h.sum(0)
lam = np.linalg.eigvalsh(H)
N, B = net.n, P["batch_size"]
M = N // B
xs = np.linspace(-3, 3, 200)
fit = pd.DataFrame({"x": xs, "f": net.predict(w_star, xs)})
data = pd.DataFrame({"x": net.x.cpu().numpy(), "y": net.y.cpu().numpy()})
display(
    Markdown(
        f"U(w*) = {float(net.loss(torch.tensor(w_star, device=dev))):.4f}, "
        f"|∇U(w*)| = {np.linalg.norm(G.sum(0)):.2g}; eigenvalues of H: "
        f"{', '.join(f'{v:.4g}' for v in lam)} (condition number {lam[-1] / lam[0]:.0f})."
    )
)
alt.Chart(data).mark_circle(size=12, color="gray").encode(x="x:Q", y="y:Q") + alt.Chart(
    fit
).mark_line(color="#d62728").encode(x="x:Q", y="f:Q").properties(
    width=480, height=240, title="Training data and the network at its minimum w*"
)

# %% [markdown]
# ## Linear theory of the stationary state
# **With replacement** (independent batch each step): drift $K = \eta H$ per step and minibatch
# diffusion $D = (\eta^2/2)\,\mathrm{Cov}(\nabla\tilde U_b) = \frac{\eta^2 N^2 (N-B)}{2B(N-1)} S$,
# $S$ the covariance of the per-example gradients at $w^*$.
# **Without replacement** the batch sequence is periodic with period $M = N/B$ steps, so the state
# is recorded once per epoch (stroboscopically) and the epoch-to-epoch map, linearised around
# $w^*$ and averaged over random permutations, gives $K = I - \mathbb E[\Phi]$ per epoch, the
# diffusion $D = \tfrac12\mathrm{Cov}\,\xi$ and a shifted mean $w^* + K^{-1}\mathbb E[\xi]$ (the
# minimum of the effective landscape). For both, $K\Sigma + \Sigma K^\top = 2D$ and
# $C = \tfrac12(K\Sigma - \Sigma K^\top)$; the "chain" values solve the discrete-time equation
# exactly. Near equilibrium $C$ is a small difference of large terms, so the Monte Carlo error of
# the permutation average matters: it is estimated from 8 independent sets of permutations.

# %%
D_wr = noneq.minibatch_diffusion(G, P["lr"], B)
ness = {"with replacement": noneq.linear_ness(P["lr"] * H, D_wr, w_star)}
ness["without replacement"], wor_splits = noneq.reshuffled_ness(
    G, h, P["lr"], B, w_star, n_perm=P["n_perm"], seed=seed
)
# Monte Carlo error of the without-replacement theory, from 8 independent permutation sets
wor_ep_se = np.std([n_.ep_mean_chain for n_ in wor_splits], ddof=1) / np.sqrt(len(wor_splits))
wor_irr_se = np.std([n_.irreversibility for n_ in wor_splits], ddof=1) / np.sqrt(len(wor_splits))
per = {"with replacement": "step", "without replacement": f"epoch ({M} steps)"}
theory = pd.DataFrame(
    [
        {
            "policy": k,
            "record": per[k],
            "‖C‖/‖D‖": n.irreversibility,
            "⟨σ⟩ per record": n.ep_mean,
            "⟨σ⟩ per record (chain)": n.ep_mean_chain,
            "⟨σ⟩ per step": n.ep_mean / (1 if k == "with replacement" else M),
            "⟨σ⟩ per slowest relaxation time": n.ep_per_relaxation,
            "√Σ_ii (median)": float(np.median(np.sqrt(np.diag(n.sigma_chain)))),
            "|mean − w*| / √Σ (max)": float(
                np.max(np.abs(n.mean - w_star) / np.sqrt(np.diag(n.sigma_chain)))
            ),
        }
        for k, n in ness.items()
    ]
).set_index("policy")
theory.T

# %% [markdown]
# ## Long trajectories
# `n_chains` independent SGD chains per policy run `burn_relax` + `measure_relax` slowest
# relaxation times $1/(\eta\lambda_{\min})$ (in epochs for the stroboscopic records). They start
# from the theory's stationary law — $\mathcal N(w^* + \mu_1, \Sigma)$ with replacement, $\mu_1$
# the mean shift from the anharmonic drift derived {ref}`below <nb-noneq-bias>`;
# $\mathcal N(\text{effective minimum}, \Sigma)$ without — so that burn-in only has to relax the
# small non-Gaussian corrections. Moments, the lag-one covariance and the $k$-step entropy
# production ($k$ = 1, 2, 3 records) are accumulated on the fly; errors come from independent
# chain groups.

# %%
tau_steps = 1.0 / (P["lr"] * lam[0])
# increment cumulants of SGD at w* (autodiff of the exact minibatch cumulant generating function);
# SGD's increment is proportional to η, so other learning rates are exact rescalings
cum_ref = ift_bias.increment_cumulants(ift_bias.sgd_cgf(net, P["lr"], B), w_star)


def wr_theory(v):
    """Linear NESS, leading-order stationary moments and the cumulants at learning rate v."""
    cum_v = cum_ref.scaled(v / P["lr"])
    n_v = noneq.linear_ness(v * H, noneq.minibatch_diffusion(G, v, B), w_star)
    return n_v, cum_v, ift_bias.stationary_moments(cum_v)


mu1 = wr_theory(P["lr"])[2][1]
policies = {
    "with replacement": langevin.WithReplacement(N, B),
    "without replacement": langevin.WithoutReplacement(N, B),
}
starts = {"with replacement": w_star + mu1, "without replacement": ness["without replacement"].mean}
# σ's centre: the drift's fixed point w* with replacement; without replacement the measured mean
# (the epoch map's fixed point is known only through the permutation-averaged theory, see below)
centers = {"with replacement": None, "without replacement": "pilot"}
runs = {}
for name, pol in policies.items():
    every = M if name == "without replacement" else 1
    runs[name] = noneq.simulate_ness(
        net, pol, P["lr"], ness[name], start=starts[name], start_cov=ness[name].sigma_chain,
        center=centers[name],
        n_chains=P["n_chains"], n_groups=P["n_groups"],
        burn_records=max(2, int(P["burn_relax"] * tau_steps / every)),
        records=max(2, int(P["measure_relax"] * tau_steps / every)), seed=seed,
    )  # fmt: skip
display(
    Markdown(
        "; ".join(
            f"{k}: {r['steps']:,} SGD steps × {P['n_chains']} chains" for k, r in runs.items()
        )
    )
)

# %% [markdown]
# ## Stationary covariance and circulation: measured against the linear theory
# Entries of Σ and of $C$ (upper triangle), scaled by $\sqrt{\Sigma_{ii}\Sigma_{jj}}$ of the
# theory; error bars ±2 SE. The dashed line is equality.

# %%
rows = []
for name, r in runs.items():
    n_ = ness[name]
    mo = r["moments"]
    scale = np.sqrt(np.outer(np.diag(n_.sigma_chain), np.diag(n_.sigma_chain)))
    C_meas, C_se = mo.circulation, mo.circulation_se
    for i, j in zip(*np.triu_indices(7), strict=True):
        rows.append(dict(policy=name, quantity="Σ", i=i + 1, j=j + 1,
                         theory=n_.sigma_chain[i, j] / scale[i, j],
                         continuum=n_.sigma[i, j] / scale[i, j],
                         measured=mo.cov[i, j] / scale[i, j], se=mo.cov_se[i, j] / scale[i, j]))  # fmt: skip
        if i < j:
            rows.append(dict(policy=name, quantity="C", i=i + 1, j=j + 1,
                             theory=n_.circulation_chain[i, j] / scale[i, j],
                             continuum=n_.circulation[i, j] / scale[i, j],
                             measured=C_meas[i, j] / scale[i, j], se=C_se[i, j] / scale[i, j]))  # fmt: skip
cmp = pd.DataFrame(rows)
cmp["lo"], cmp["hi"] = cmp["measured"] - 2 * cmp["se"], cmp["measured"] + 2 * cmp["se"]
cmp["z"] = (cmp["measured"] - cmp["theory"]) / cmp["se"]
diag = alt.Chart().mark_line(strokeDash=[4, 4], color="gray").encode(x="theory:Q", y="theory:Q")
pts = (
    alt.Chart()
    .mark_point(filled=True)
    .encode(
        x=alt.X("theory:Q", title="linear theory (chain)"),
        y=alt.Y("measured:Q", title="measured"),
        color="policy:N",
        tooltip=["policy", "quantity", "i", "j", alt.Tooltip("theory:Q", format=".4g"),
                 alt.Tooltip("measured:Q", format=".4g"), alt.Tooltip("z:Q", format=".2f")],
    )
)  # fmt: skip
bars = alt.Chart().mark_rule().encode(x="theory:Q", y="lo:Q", y2="hi:Q", color="policy:N")
alt.layer(diag, bars, pts, data=cmp).properties(width=300, height=260).facet(
    column=alt.Column("quantity:N", title=None), row=alt.Row("policy:N", title=None)
).resolve_scale(x="independent", y="independent")

# %%
stat_rows = []
for name, g in cmp.groupby("policy"):
    r = runs[name]
    for q, gq in g.groupby("quantity"):
        resolved = float(np.linalg.norm(gq["theory"]) / np.sqrt((gq["se"] ** 2).sum()))
        stat_rows.append({
            "policy": name, "quantity": q, "max |z|": float(gq["z"].abs().max()),
            "rel. error (Frobenius)": float(np.linalg.norm(gq["measured"] - gq["theory"])
                                            / np.linalg.norm(gq["theory"])),
            "continuum rel. error": float(np.linalg.norm(gq["measured"] - gq["continuum"])
                                          / np.linalg.norm(gq["continuum"])),
            "‖theory‖ / noise": resolved,
        })  # fmt: skip
mean_shift = {
    k: float(
        np.max(np.abs(r["moments"].mean - ness[k].mean) / np.sqrt(np.diag(ness[k].sigma_chain)))
    )
    for k, r in runs.items()
}
checks = pd.DataFrame(stat_rows).set_index(["policy", "quantity"])
checks

# %% [markdown]
# ## Entropy production and the fluctuation theorems
# The entropy production used here is the authors' **continuum functional**
# {cite}`adhikari2023machine`: per record
# $\sigma_n = [-C\Sigma^{-1}(w_n-c)]^\top D^{-1}(w_{n+1}-w_n)$, with the continuum $C, \Sigma, D$
# of the linear theory and $c$ the drift's fixed point: $w^*$ with replacement. Without
# replacement the fixed point of the epoch map is known only through the permutation-averaged
# linear theory, whose effective minimum carries a Monte Carlo error comparable to the stationary
# spread (below); there $c$ is the measured stationary mean. The centre matters: moving it by
# $\mu$ changes $\ln\langle e^{-\sigma}\rangle$ by $-(P^\top\mu)^\top D\,(P^\top\mu)$ to
# leading order (with $P$ the functional's matrix below), which for the anharmonic mean shift
# $\mu_1$ is of the order of the bias itself (number below). It is the total entropy production
# of the Fokker–Planck (Itô) model of the chain, evaluated on the discrete trajectory — not the log ratio of the probabilities of a
# path and its reverse, which does not exist for plain SGD (each step is a mixture of point
# masses, one per minibatch). $\sigma^{(k)}$ sums $k$ consecutive records. Theory:
# $\langle\sigma^{(k)}\rangle = -k\,\mathrm{tr}(CD^{-1}C\Sigma^{-1})$ (continuum) and the exact
# mean of the same functional on the linear chain. IFT: $\langle e^{-\sigma}\rangle = 1$; DFT:
# $\ln[P(\sigma)/P(-\sigma)] = \sigma$, i.e. a fitted slope of 1.

# %%
ep_rows = []
for name, r in runs.items():
    for e in r["ep"]:
        k = e["window"]
        ep_rows.append({
            "policy": name, "k": k, "⟨σ⟩": e["mean"], "SE": e["mean_se"],
            "theory": k * ness[name].ep_mean, "theory (chain)": k * ness[name].ep_mean_chain,
            "SE(theory)": k * (wor_ep_se if name == "without replacement" else 0.0),
            "Var/2": e["var"] / 2, "⟨e^−σ⟩": e["ift"], "SE(IFT)": e["ift_se"],
            "DFT slope": e["dft_slope"], "SE(slope)": e["dft_slope_se"],
        })  # fmt: skip
ep = pd.DataFrame(ep_rows)
ep.set_index(["policy", "k"])

# %%
hist_rows, dft_rows = [], []
for name, r in runs.items():
    ent = r["entropy"]
    for k in ent.windows:
        counts, edges = ent.hist[k].sum(0), ent.edges[k]
        dens = counts / counts.sum() / np.diff(edges)
        for c, d_ in zip(0.5 * (edges[1:] + edges[:-1]), dens, strict=True):
            hist_rows.append({"policy": name, "k": f"{k}-step", "σ": c, "P(σ)": d_})
        x, y, se = ent.dft_points(k)
        for a, b, s in zip(x, y, se, strict=True):
            dft_rows.append({"policy": name, "k": f"{k}-step", "σ": a, "ln P(σ)/P(−σ)": b,
                             "lo": b - 2 * s, "hi": b + 2 * s})  # fmt: skip
hist = pd.DataFrame(hist_rows)
alt.Chart(hist).mark_line().encode(
    x=alt.X("σ:Q", title="entropy production σ"),
    y=alt.Y("P(σ):Q", title="probability density"),
    color="k:N",
).properties(width=280, height=220).facet(column=alt.Column("policy:N", title=None)).resolve_scale(
    x="independent", y="independent"
)

# %%
dft = pd.DataFrame(dft_rows)
line = alt.Chart().mark_line(strokeDash=[4, 4], color="gray").encode(x="σ:Q", y="σ:Q")
alt.layer(
    line,
    alt.Chart().mark_rule().encode(x="σ:Q", y="lo:Q", y2="hi:Q", color="k:N"),
    alt.Chart()
    .mark_point(filled=True, size=25)
    .encode(x=alt.X("σ:Q", title="σ"), y=alt.Y("ln P(σ)/P(−σ):Q"), color="k:N"),
    data=dft,
).properties(width=280, height=240).facet(column=alt.Column("policy:N", title=None)).resolve_scale(
    x="independent", y="independent"
)

# %% [markdown]
# ## The linear-Gaussian surrogate: the exact log ratio
# On the surrogate of each chain — the linear chain $\delta' = (I-K)\delta + \varepsilon$ with
# Gaussian noise of the SGD covariance $2D$ — the path probabilities exist, and the exact
# discrete-time total entropy production is the log ratio
# $\sigma_n = \ln[\pi(\delta_n)p(\delta_{n+1}\mid\delta_n)] - \ln[\pi(\delta_{n+1})p(\delta_n\mid\delta_{n+1})]$
# (`fpt_core.entropy.gaussian_chain_log_ratio`), for which both fluctuation theorems hold exactly
# for every window length in the stationary state. The continuum functional satisfies the IFT
# exactly on the surrogate too ({ref}`theory-noneq`). Both are evaluated on the same surrogate
# trajectories, at this page's η and at the η of the scan's largest step
# ($\eta\lambda_{\max}$ shown), where the continuum and discrete-time stationary states differ
# most.

# %%
lr_big = max([P["lr"], *P["scan_lrs"]])
sur_cases = {
    ("with replacement", P["lr"]): ness["with replacement"],
    ("without replacement", P["lr"]): ness["without replacement"],
}
if lr_big != P["lr"]:
    sur_cases[("with replacement", lr_big)] = wr_theory(lr_big)[0]
sur_rows = []
for (pol, v), n_ in sur_cases.items():
    out = entropy.surrogate_entropy(n_.K, n_.D, n_.functional, n_chains=P["surrogate_chains"],
                                    steps=P["surrogate_steps"], n_groups=P["n_groups"],
                                    seed=seed + 7)  # fmt: skip
    for fn, rows_ in out.items():
        for e in rows_:
            sur_rows.append({
                "policy": pol, "η": v, "max |eig K| per record": float(np.abs(
                    np.linalg.eigvals(n_.K)).max()), "functional": fn, "k": e["window"],
                "⟨σ⟩": e["mean"], "⟨e^−σ⟩": e["ift"], "SE(IFT)": e["ift_se"],
                "DFT slope": e["dft_slope"], "SE(slope)": e["dft_slope_se"],
            })  # fmt: skip
sur = pd.DataFrame(sur_rows)
sur["z(IFT)"] = (sur["⟨e^−σ⟩"] - 1) / sur["SE(IFT)"]
sur.set_index(["policy", "η", "functional", "k"])

# %% [markdown]
# (nb-noneq-bias)=
# ## Predicting the IFT bias
# On the network the IFT is not exact. Given the state $w_n$, $e^{-\sigma_n}$ averages over the
# minibatch of the step: with $K(t; w) = \ln\mathbb E[e^{t^\top\Delta}\mid w]$ the cumulant
# generating function of the SGD increment $\Delta = w_{n+1} - w_n$ (exact: a mean over all
# $B$-subsets, `fpt_core.ift_bias.sgd_cgf`),
# $L(w) = \ln\mathbb E[e^{-\sigma_n}\mid w_n = w] = K(-P^\top(w - c); w)$ with
# $P = (-C\Sigma^{-1})^\top D^{-1}$. Expanded in $\delta = w - w^* \sim \eta^{1/2}$, the
# quadratic part of $L$ is the surrogate's and vanishes identically; what remains is a cubic
# part, $O(\eta^{3/2})$ and odd in $\delta$ (quadratic drift $\tfrac12\nabla^3U[\delta,\delta]$,
# linear state dependence of the minibatch covariance, third cumulant of the minibatch noise),
# and a quartic part, $O(\eta^2)$. Averaging over the stationary law,
#
# $$
# \varepsilon = \langle e^{-\sigma_n}\rangle - 1
# = \underbrace{\mathbb E_{\mathcal N(0,\Sigma)}\!\big[\tfrac12(e^{L(\delta)} + e^{L(-\delta)}) - 1\big]}_{\text{even part}}
# + \underbrace{\tfrac16\,\nabla^3 L(0) : M_3}_{\text{skew part}} + O(\eta^3),
# $$
#
# where $M_3 = \mathbb E_\pi[\delta^{\otimes 3}] = O(\eta^2)$ is the stationary third moment —
# nonzero because the anharmonic drift skews the stationary law and shifts its mean by
# $\mu_1 = (\eta H)^{-1}\tfrac12\eta\nabla^3U:\Sigma$ — from the chain's third-moment equation
# $M_3 = F^{\otimes 3}M_3 + S_3$ (`fpt_core.ift_bias`, module docstring). Both parts are
# $O(\eta^2)$: $\varepsilon \propto \eta^2$, and over $k$ records
# $\langle e^{-\sigma^{(k)}}\rangle \approx (1+\varepsilon)^k$.
#
# **Check on a process with a known answer.** A 2-D chain with a quadratic drift term, a noise
# amplitude that grows linearly with the state and skewed, discrete (standardised Bernoulli)
# noise — the three effects of the network — is simulated directly, and its measured
# $\langle e^{-\sigma}\rangle - 1$ compared with the prediction at two step sizes. The
# neglected terms are $O(\eta^3)$, so the relative error should shrink about in proportion to
# η.

# %%
toy_rows = []
for v in (0.02, 0.04):
    toy = ift_bias.AnharmonicToy(lr=v, noise="bernoulli")
    pr = ift_bias.predict_ift_bias(toy.cgf, np.zeros(2), toy.functional(), n_mc=P["n_mc"],
                                   seed=seed)  # fmt: skip
    sim = toy.simulate(P["toy_chains"], steps=int(10 / v), burn=int(5 / v), n_groups=P["n_groups"],
                       seed=seed + 3)  # fmt: skip
    toy_rows.append({"η (toy)": v, "ε predicted": pr.eps, "SE(pred.)": pr.even_se,
                     "even part": pr.even, "skew part": pr.skew, "ε simulated": sim["eps"],
                     "SE(sim.)": sim["eps_se"]})  # fmt: skip
toy_tab = pd.DataFrame(toy_rows)
toy_tab["z"] = (toy_tab["ε simulated"] - toy_tab["ε predicted"]) / np.hypot(
    toy_tab["SE(sim.)"], toy_tab["SE(pred.)"]
)
toy_tab["sim./pred."] = toy_tab["ε simulated"] / toy_tab["ε predicted"]
toy_tab

# %% [markdown]
# ## The IFT bias against the learning rate
# With replacement, at the learning rates of the scan (and the paper's η = 10⁻⁷), chains start
# from the predicted stationary law and run `burn_relax` + `measure_relax` relaxation times
# (at the paper's η, `paper_steps` steps after a short
# burn-in; whether a run can resolve ε there is shown by the column "chain-steps to resolve",
# $9\,\mathrm{Var}(e^{-\sigma})/\varepsilon^2$ for the predicted ε at 3 SE, next to
# "chain-steps", what the run had). The measured per-step bias is
# $\langle e^{-\sigma}\rangle - 1$ for one-step windows; the predicted one is from the formula
# above. The slope of $\ln\varepsilon$ against $\ln\eta$ is fitted over the points where the
# measured bias is resolved (> 3 SE) and the expansion's premise holds, $\eta\lambda_{\max} \le
# 0.1$ (the neglected terms are smaller by a factor of order $\eta\lambda_{\max}$); the largest
# learning rate, outside the premise, shows where the $\eta^2$ law bends.

# %%
pred, scan_runs = {}, {}
lrs = sorted({P["lr"], *P["scan_lrs"], *([P["paper_lr"]] if P["paper_steps"] > 0 else [])})
for v in lrs:
    n_v, cum_v, (S_v, mu_v, _) = wr_theory(v)
    pred[v] = ift_bias.predict_ift_bias(ift_bias.sgd_cgf(net, v, B), w_star, n_v.functional,
                                        cumulants=cum_v, n_mc=P["n_mc"], seed=seed)  # fmt: skip
    if v == P["lr"]:
        scan_runs[v] = (runs["with replacement"], n_v)
        continue
    t_v = 1.0 / (v * lam[0])
    paper_pt = v == P["paper_lr"] and v < min(P["lr"], *P["scan_lrs"])
    burn = 2000 if paper_pt else max(2, int(P["burn_relax"] * t_v))
    steps = P["paper_steps"] if paper_pt else max(2, int(P["measure_relax"] * t_v))
    scan_runs[v] = (noneq.simulate_ness(
        net, langevin.WithReplacement(N, B), v, n_v, start=w_star + mu_v, start_cov=S_v,
        n_chains=P["n_chains"], n_groups=P["n_groups"], burn_records=burn, records=steps,
        windows=(1,), seed=seed + 1 + lrs.index(v)), n_v)  # fmt: skip
scan_rows = []
for v, (r, n_v) in scan_runs.items():
    e1, p_ = r["ep"][0], pred[v]
    var_e = e1["ift_se"] ** 2 * e1["count"]  # Var(e^−σ) per sample (SE² × samples)
    scan_rows.append({
        "η": v, "ηλ_max": v * lam[-1], "chain-steps": e1["count"], "⟨σ⟩": e1["mean"],
        "⟨σ⟩ / theory (chain)": e1["mean"] / n_v.ep_mean_chain,
        "ε measured": e1["ift"] - 1, "SE": e1["ift_se"], "ε predicted": p_.eps,
        "SE(pred.)": p_.even_se, "skew share": p_.skew / p_.eps,
        "DFT slope": e1["dft_slope"], "SE(slope)": e1["dft_slope_se"],
        "DFT slope predicted": ift_bias.dft_slope_from_bias(e1["mean"], p_.eps),
        "chain-steps to resolve": 9 * var_e / p_.eps**2,
    })  # fmt: skip
scan = pd.DataFrame(scan_rows)
scan["z(ε)"] = (scan["ε measured"] - scan["ε predicted"]) / np.hypot(scan["SE"], scan["SE(pred.)"])
scan["z(slope)"] = (scan["DFT slope"] - scan["DFT slope predicted"]) / scan["SE(slope)"]
# the expansion's premise: relative corrections O(ηλ_max) small — fit where ηλ_max ≤ 0.1
resolved = scan[(scan["ε measured"] > 3 * scan["SE"]) & (scan["ηλ_max"] <= 0.1)]
resolved_all = scan[scan["ε measured"] > 3 * scan["SE"]]
fit = (ift_bias.power_law_fit(resolved["η"], resolved["ε measured"], resolved["SE"])
       if len(resolved) >= 2 else None)  # fmt: skip
fit_all = (ift_bias.power_law_fit(resolved_all["η"], resolved_all["ε measured"], resolved_all["SE"])
           if len(resolved_all) >= 2 else None)  # fmt: skip
n_v0, _, _ = wr_theory(P["lr"])
Pm = n_v0.functional.T @ mu1
centre_shift = -float(Pm @ n_v0.D @ Pm)  # change of ln⟨e^−σ⟩ if σ were centred at w* + μ₁
fit_pred = ift_bias.power_law_fit(scan["η"], scan["ε predicted"], scan["SE(pred.)"])
scan

# %%
band = scan.assign(lo=lambda d: (d["ε measured"] - 2 * d["SE"]).clip(lower=1e-9),
                   hi=lambda d: d["ε measured"] + 2 * d["SE"],
                   meas=lambda d: d["ε measured"].where(d["ε measured"] > 0))  # fmt: skip
x_ = alt.X("η:Q", scale=alt.Scale(type="log"), title="learning rate η")
alt.layer(
    alt.Chart(band).mark_line(color="#d62728").encode(
        x=x_, y=alt.Y("ε predicted:Q", scale=alt.Scale(type="log"), title="IFT bias ε per step")
    ),
    alt.Chart(band).mark_rule(color="black").encode(x=x_, y="lo:Q", y2="hi:Q"),
    alt.Chart(band).mark_point(filled=True, color="black").encode(
        x=x_, y="meas:Q", tooltip=["η", alt.Tooltip("ε measured:Q", format=".3g"),
                                   alt.Tooltip("SE:Q", format=".2g"),
                                   alt.Tooltip("ε predicted:Q", format=".3g")]),
).properties(width=420, height=280,
             title="Measured ⟨e^−σ⟩ − 1 (points, ±2 SE) and the prediction (line)")  # fmt: skip

# %%
wr, wor = ep[ep["policy"] == "with replacement"], ep[ep["policy"] == "without replacement"]
ck, th = checks, theory


def vs(v, s, ref, fmt=".5f"):
    """'v ± s' and whether it is within 3 SE of ref."""
    if not (np.isfinite(s) and s > 0):
        return f"{v:{fmt}} (no error bar: too few counts per chain group)"
    z = abs(v - ref) / s
    verdict = f"within 3 SE of {ref:g}" if z < 3 else f"{z:.0f} SE from {ref:g}"
    return f"{v:{fmt}} ± {s:.1g} ({verdict})"


def current(policy):
    ratio = ck.loc[(policy, "C"), "‖theory‖ / noise"]
    if ratio >= 5:
        return f"resolved (the predicted $C$ is {ratio:.0f}× the noise level of this run)"
    return f"not resolved by this run (the predicted $C$ is {ratio:.1f}× its noise level)"


def ep_sentence(g):
    m, s_ = g["⟨σ⟩"].iloc[0], g["SE"].iloc[0]
    state = "resolved" if m > 5 * s_ else "not resolved"
    th_se = g["SE(theory)"].iloc[0]
    th_txt = f"{g['theory (chain)'].iloc[0]:.4g}" + (f" ± {th_se:.2g}" if th_se > 0 else "")
    return (f"{m:.4g} ± {s_:.2g} ({state}; continuum theory {g['theory'].iloc[0]:.4g}, chain "
            f"theory {th_txt})")  # fmt: skip


main = scan[scan["η"] == P["lr"]].iloc[0]
pr_main = pred[P["lr"]]
sur_ok = bool((sur["z(IFT)"].abs() < 3).all())
sur_exact = sur[sur["functional"] == "exact"]
sur_dft_ok = bool(((sur_exact["DFT slope"] - 1).abs() < 3 * sur_exact["SE(slope)"]).all())
closer = th.loc["without replacement", "‖C‖/‖D‖"] < th.loc["with replacement", "‖C‖/‖D‖"]
# the Gaussian relation at the premise points: share of 1 − slope explained, χ² of the residuals
dft_share = 100 * (1 - resolved["DFT slope predicted"]) / (1 - resolved["DFT slope"])
dft_chi2 = float((resolved["z(slope)"] ** 2).sum())
dft_p = float(stats.chi2.sf(dft_chi2, len(resolved))) if len(resolved) else float("nan")
wor_eps = wor["⟨e^−σ⟩"].iloc[0] - 1
wor_dft_pred = (ift_bias.dft_slope_from_bias(wor["⟨σ⟩"].iloc[0], wor_eps)
                if wor_eps > -1 and wor["⟨σ⟩"].iloc[0] > 0 else float("nan"))  # fmt: skip
ratio_txt = ", ".join(
    (f"{m / p:.2f}" if m > 3 * se else f"unresolved ({m:.1g} ± {se:.1g})") + f" (η = {v:g})"
    for v, m, se, p in zip(scan["η"], scan["ε measured"], scan["SE"], scan["ε predicted"],
                           strict=True)
)  # fmt: skip
fit_txt = (f"{fit['slope']:.2f} ± {fit['slope_se']:.2f} over {len(resolved)} resolved learning "
           f"rates ({resolved['η'].min():g}–{resolved['η'].max():g})" if fit is not None
           else "not estimable (fewer than two learning rates resolve ε)")  # fmt: skip
display(
    Markdown(
        f"""
**Measured at η = {P["lr"]:g}.** *With replacement*: the stationary covariance agrees with the
linear theory to {100 * ck.loc[("with replacement", "Σ"), "rel. error (Frobenius)"]:.1f} %
(Frobenius norm; largest entry {ck.loc[("with replacement", "Σ"), "max |z|"]:.1f} SE off), the
circulation to {100 * ck.loc[("with replacement", "C"), "rel. error (Frobenius)"]:.1f} % (largest
entry {ck.loc[("with replacement", "C"), "max |z|"]:.1f} SE off); the current is
{current("with replacement")}. Mean one-step entropy production: {ep_sentence(wr)}.
$\\langle e^{{-\\sigma}}\\rangle$ for k = 1, 2, 3 steps:
{"; ".join(vs(v, s_, 1.0) for v, s_ in zip(wr["⟨e^−σ⟩"], wr["SE(IFT)"], strict=True))};
predicted $(1+\\varepsilon)^k$ with ε = {pr_main.eps:.3g}:
{", ".join(f"{v:.5f}" for v in pr_main.windows().values())}.
DFT slopes: {"; ".join(vs(v, s_, 1.0, ".3f") for v, s_ in zip(wr["DFT slope"], wr["SE(slope)"], strict=True))}.

*Without replacement* (recorded once per epoch): the predicted stationary mean (the minimum of the
effective landscape) lies {float(th.loc["without replacement", "|mean − w*| / √Σ (max)"]):.1f}
stationary standard deviations from $w^*$; the measured mean is within
{mean_shift["without replacement"]:.2f} of them of the prediction. The covariance agrees with the
epoch-map theory to {100 * ck.loc[("without replacement", "Σ"), "rel. error (Frobenius)"]:.1f} %
(largest entry {ck.loc[("without replacement", "Σ"), "max |z|"]:.1f} SE off; the continuum Lyapunov
equation misses by {100 * ck.loc[("without replacement", "Σ"), "continuum rel. error"]:.0f} % at
$\\eta M\\lambda_{{\\max}}$ = {P["lr"] * M * lam[-1]:.2f}). The fluctuations are
{float(th.loc["with replacement", "√Σ_ii (median)"] / th.loc["without replacement", "√Σ_ii (median)"]):.0f}×
smaller than with replacement. By the theory the state is {"closer to" if closer else "not closer to"}
equilibrium: ‖C‖/‖D‖ = {float(th.loc["without replacement", "‖C‖/‖D‖"]):.4f} ±
{wor_irr_se:.1g} (Monte Carlo error of the theory) against
{float(th.loc["with replacement", "‖C‖/‖D‖"]):.4f}, and the entropy production per slowest
relaxation time is {float(th.loc["without replacement", "⟨σ⟩ per slowest relaxation time"]):.3g}
against {float(th.loc["with replacement", "⟨σ⟩ per slowest relaxation time"]):.3g}. The lag-one
circulation is {current("without replacement")}. Mean one-epoch entropy production:
{ep_sentence(wor)}; $\\langle e^{{-\\sigma}}\\rangle$ = {vs(wor["⟨e^−σ⟩"].iloc[0], wor["SE(IFT)"].iloc[0], 1.0)};
DFT slope {vs(wor["DFT slope"].iloc[0], wor["SE(slope)"].iloc[0], 1.0, ".3f")}. The bias of the
epoch map is not derived here (its cumulant generating function has no closed form).

**Surrogate.** On the linear-Gaussian surrogates {"every" if sur_ok else "not every"}
$\\langle e^{{-\\sigma^{{(k)}}}}\\rangle$ (both functionals, k = 1–3) lies within 3 SE of 1
(largest |z| = {sur["z(IFT)"].abs().max():.1f}, up to $\\eta\\lambda_{{\\max}}$ =
{sur["max |eig K| per record"].max():.2f} per record), and the exact log ratio's DFT slopes are
{"all" if sur_dft_ok else "not all"} within 3 SE of 1
({", ".join(f"{v:.3f}" for v in sur_exact["DFT slope"])}). The fluctuation theorems' failures on
the network therefore come from what the surrogate leaves out.

**The bias.** The prediction is checked on the toy process: simulated/predicted =
{", ".join(f"{v:.2f}" for v in toy_tab["sim./pred."])} at η = 0.02, 0.04 (z =
{", ".join(f"{v:.1f}" for v in toy_tab["z"])}). On the network at η = {P["lr"]:g} the predicted
per-step bias is ε = {pr_main.eps:.3g} (even part {pr_main.even:.2g}, skew part
{pr_main.skew:.2g}), the measured one {main["ε measured"]:.3g} ± {main["SE"]:.2g}
(z = {main["z(ε)"]:.1f}); centring σ at the stationary mean $w^* + \\mu_1$ instead of the fixed
point would change $\\ln\\langle e^{{-\\sigma}}\\rangle$ by {centre_shift:.2g}. Where the
expansion's premise holds (ηλ_max ≤ 0.1) the measured ε grows with log–log slope {fit_txt}; over
all resolved learning rates, up to ηλ_max = {scan["ηλ_max"].max():.2f}, the slope is
{"n/a" if fit_all is None else f"{fit_all['slope']:.2f} ± {fit_all['slope_se']:.2f}"}, and the
prediction's slope over the scan is {fit_pred["slope"]:.2f}. Measured/predicted:
{ratio_txt}.

**The DFT slope.** If σ were Gaussian, $\\ln\\langle e^{{-\\sigma}}\\rangle = -\\langle\\sigma\\rangle
+ \\mathrm{{Var}}\\,\\sigma/2$ and the DFT slope would be
$2\\langle\\sigma\\rangle/\\mathrm{{Var}}\\,\\sigma = \\langle\\sigma\\rangle/(\\langle\\sigma\\rangle + \\ln(1+\\varepsilon))$:
a positive IFT bias is excess variance, and it bends the DFT slope below 1 by about
ε/⟨σ⟩ ∝ η. With the measured ⟨σ⟩ and the predicted ε this gives, at η = {P["lr"]:g}, a slope of
{main["DFT slope predicted"]:.3f} against the measured {main["DFT slope"]:.3f} ±
{main["SE(slope)"]:.2g} (z = {main["z(slope)"]:.1f}); over the scan the measured slopes are
{", ".join(f"{v:.3f}" for v in scan["DFT slope"])} against
{", ".join(f"{v:.3f}" for v in scan["DFT slope predicted"])}. Without replacement the measured bias is {wor["⟨e^−σ⟩"].iloc[0] - 1:.2g} ±
{wor["SE(IFT)"].iloc[0]:.1g} per epoch, and the same relation with the measured ⟨σ⟩ and ε gives a
slope of {wor_dft_pred:.3f} against the measured {wor["DFT slope"].iloc[0]:.3f} ±
{wor["SE(slope)"].iloc[0]:.2g}. Where ηλ_max ≤ 0.1 the relation accounts for
{dft_share.min():.0f}–{dft_share.max():.0f} % of 1 − slope; the remainder is
{"significant" if dft_p < 0.01 else "within the errors"} (χ² = {dft_chi2:.1f} on {len(resolved)}
degrees of freedom, p = {dft_p:.2g}) and is not explained here. The mean ⟨σ⟩ itself falls below
the linear theory as η grows (measured/theory
{", ".join(f"{v:.3f}" for v in scan["⟨σ⟩ / theory (chain)"])}); that correction is not derived
here.
"""
    )
)

# %% tags=["remove-input"]
A = "Adhikari et al. 2023"
ratio_c = ck.loc[("with replacement", "C"), "‖theory‖ / noise"]
rel_s = ck.loc[("with replacement", "Σ"), "rel. error (Frobenius)"]
rel_c = ck.loc[("with replacement", "C"), "rel. error (Frobenius)"]
m1_, s1_ = wr["⟨σ⟩"].iloc[0], wr["SE"].iloc[0]
th1 = wr["theory"].iloc[0]
paper_row = scan[scan["η"] == P["paper_lr"]]
claims = [
    claim(
        A,
        "Plain SGD's stationary state carries a persistent probability current (C ≠ 0).",
        f"η = {P['lr']:g}, with replacement: predicted C is {ratio_c:.0f}× the noise of the "
        f"measured lag-one circulation; measured within {100 * rel_c:.1f} % of it",
        "reproduced"
        if ratio_c >= 5 and rel_c < 0.25
        else "not tested at this preset"
        if ratio_c < 5
        else "not reproduced",
    ),
    claim(
        A,
        "The stationary covariance and circulation follow the linear (Lyapunov) theory.",
        f"Frobenius rel. error Σ {100 * rel_s:.1f} %, C {100 * rel_c:.1f} % (criterion < 5 %, "
        f"< 10 %)",
        "reproduced"
        if rel_s < 0.05 and rel_c < 0.1
        else "not tested at this preset"
        if ratio_c < 5
        else "not reproduced",
    ),
    claim(
        A,
        "Entropy is produced in the stationary state at the mean rate −tr(CD⁻¹CΣ⁻¹).",
        f"⟨σ⟩ = {m1_:.4g} ± {s1_:.2g} per step against {th1:.4g} (criterion: resolved, "
        f"within 10 %)",
        "reproduced"
        if m1_ > 5 * s1_ and abs(m1_ / th1 - 1) < 0.1
        else "not tested at this preset"
        if m1_ <= 5 * s1_
        else "not reproduced",
    ),
]
if len(paper_row):
    pr_ = paper_row.iloc[0]
    z_ift = pr_["ε measured"] / pr_["SE"]
    z_dft = (pr_["DFT slope"] - 1) / pr_["SE(slope)"]
    claims += [
        claim(
            A,
            "The integral fluctuation theorem ⟨e^{−σ}⟩ = 1 holds (η = 1e-7).",
            f"⟨e^{{−σ}}⟩ − 1 = {pr_['ε measured']:.2g} ± {pr_['SE']:.1g} (predicted bias "
            f"{pr_['ε predicted']:.1g}, below resolution)",
            "reproduced" if abs(z_ift) < 3 else "not reproduced",
        ),
        claim(
            A,
            "The detailed fluctuation theorem holds: ln P(σ)/P(−σ) = σ (η = 1e-7).",
            f"slope {pr_['DFT slope']:.3f} ± {pr_['SE(slope)']:.2g} (predicted "
            f"{pr_['DFT slope predicted']:.3f})",
            "not tested at this preset"
            if not pr_["SE(slope)"] <= 0.02
            else "reproduced"
            if abs(z_dft) < 3
            else "not reproduced",
        ),
    ]
else:
    claims += [
        claim(
            A,
            "The fluctuation theorems hold at the paper's η = 1e-7.",
            "no run at η = 1e-7 at this preset",
            "not tested at this preset",
        )
    ]
sur_z = sur["z(IFT)"].abs().max()
claims.append(
    claim(
        A,
        "(theory) On the linear-Gaussian surrogate the IFT holds exactly for the continuum "
        "functional and for the exact discrete-time log ratio.",
        f"largest |z| over both functionals, k = 1–3, max |eig K| per record ≤ "
        f"{sur['max |eig K| per record'].max():.2f}:"
        f" {sur_z:.1f}",
        "reproduced" if sur_z < 3 else "not reproduced",
    )
)
premise_txt = "; ".join(
    f"η = {r['η']:g}: {r['ε measured']:.3g} ± {r['SE']:.2g} vs {r['ε predicted']:.3g}"
    for _, r in resolved.iterrows()
)
if fit is not None:
    z2 = (fit["slope"] - 2) / fit["slope_se"]
    all_txt = (f"; all resolved η up to ηλ_max = {resolved_all['ηλ_max'].max():.2f}: "
               f"{fit_all['slope']:.2f} ± {fit_all['slope_se']:.2f}") if fit_all else ""  # fmt: skip
    claims.append(claim(
        A, "(derived here) At small η (ηλ_max ≤ 0.1) the IFT bias per step grows as ε ∝ η².",
        f"log–log slope {fit['slope']:.2f} ± {fit['slope_se']:.2f} over η = "
        f"{resolved['η'].min():g}–{resolved['η'].max():g}{all_txt}",
        "not tested at this preset" if fit["slope_se"] > 0.3
        else "reproduced" if abs(z2) < 3 else "not reproduced",
    ))  # fmt: skip
    z_eps = resolved["z(ε)"].abs().max()
    claims.append(claim(
        A, "(derived here) The IFT bias ε is predicted by the cubic and quartic terms of the "
        "minibatch step (anharmonic drift, state-dependent and non-Gaussian noise).",
        f"measured vs predicted, {premise_txt} (max |z| = {z_eps:.1f}); toy process z = "
        f"{', '.join(f'{v:.1f}' for v in toy_tab['z'])}",
        "reproduced" if z_eps < 3 and bool((toy_tab["z"].abs() < 3).all()) else "not reproduced",
    ))  # fmt: skip
else:
    claims.append(claim(
        A, "(derived here) At small η (ηλ_max ≤ 0.1) the IFT bias per step grows as ε ∝ η².",
        "fewer than two learning rates with ηλ_max ≤ 0.1 resolve ε", "not tested at this preset",
    ))  # fmt: skip
claims.append(claim(
    A, "(derived here) The DFT slope's deviation from 1 is the one the IFT bias implies for "
    "Gaussian σ: slope = ⟨σ⟩/(⟨σ⟩ + ln(1 + ε)) (measured ⟨σ⟩, predicted ε).",
    "; ".join(f"η = {r['η']:g}: {r['DFT slope']:.3f} ± {r['SE(slope)']:.2g} vs "
              f"{r['DFT slope predicted']:.3f} (z = {r['z(slope)']:.1f})"
              for _, r in resolved.iterrows())
    + f"; explains {dft_share.min():.0f}–{dft_share.max():.0f} % of 1 − slope; χ² = "
    f"{dft_chi2:.1f}, {len(resolved)} dof, p = {dft_p:.2g} (criterion p ≥ 0.01)"
    if len(resolved) else "no resolved η with ηλ_max ≤ 0.1",
    "not tested at this preset" if len(resolved) == 0
    else "reproduced" if dft_p >= 0.01 else "not reproduced",
))  # fmt: skip
glue("claims_box", Markdown(claims_box(claims)), display=False)
pd.DataFrame(claims)[["claim", "verdict"]]

# %%
out_dir = Path(results_dir) / "05_out_of_equilibrium"
out_dir.mkdir(parents=True, exist_ok=True)
ep.to_csv(out_dir / f"entropy_{preset}.csv", index=False)
cmp.to_csv(out_dir / f"sigma_circulation_{preset}.csv", index=False)
scan.to_csv(out_dir / f"ift_bias_scan_{preset}.csv", index=False)
by_k = lambda col, g: dict(zip(map(str, g["k"]), g[col], strict=True))  # noqa: E731
sur_main = sur[sur["η"] == P["lr"]]
summary = {
    "notebook": "05_out_of_equilibrium",
    "lr": P["lr"],
    "ift": {p: by_k("⟨e^−σ⟩", g) for p, g in ep.groupby("policy")},
    "ift_se": {p: by_k("SE(IFT)", g) for p, g in ep.groupby("policy")},
    "ift_surrogate_exact": {p: by_k("⟨e^−σ⟩", g[g["functional"] == "exact"])
                            for p, g in sur_main.groupby("policy")},
    "ift_surrogate_exact_se": {p: by_k("SE(IFT)", g[g["functional"] == "exact"])
                               for p, g in sur_main.groupby("policy")},
    "ift_surrogate_continuum": {p: by_k("⟨e^−σ⟩", g[g["functional"] == "continuum"])
                                for p, g in sur_main.groupby("policy")},
    "surrogate_max_abs_z": float(sur_z),
    "ift_bias_predicted": {
        "with replacement": {str(k): v for k, v in pr_main.windows().items()},
        "without replacement": {str(k): None for k in (1, 2, 3)},  # epoch map: not derived
    },
    "ift_bias_eps": {"predicted": pr_main.eps, "predicted_se": pr_main.even_se,
                     "even": pr_main.even, "skew": pr_main.skew,
                     "measured": float(main["ε measured"]), "measured_se": float(main["SE"])},
    "ift_bias_toy": toy_tab.to_dict("records"),
    "eps_loglog_slope": None if fit is None else {**fit, "n_points": len(resolved)},
    "eps_loglog_slope_predicted": fit_pred["slope"],
    "ep_mean_measured": {p: by_k("⟨σ⟩", g) for p, g in ep.groupby("policy")},
    "ep_mean_se": {p: by_k("SE", g) for p, g in ep.groupby("policy")},
    "ep_mean_predicted": {p: by_k("theory", g) for p, g in ep.groupby("policy")},
    "ep_mean_predicted_chain": {p: by_k("theory (chain)", g) for p, g in ep.groupby("policy")},
    "ep_mean_predicted_mc_se_without_replacement": wor_ep_se,
    "dft_slope": {p: by_k("DFT slope", g) for p, g in ep.groupby("policy")},
    "dft_slope_se": {p: by_k("SE(slope)", g) for p, g in ep.groupby("policy")},
    "irreversibility": theory["‖C‖/‖D‖"].to_dict(),
    "ep_per_relaxation_time": theory["⟨σ⟩ per slowest relaxation time"].to_dict(),
    "covariance_rel_error": {p: ck.loc[(p, "Σ"), "rel. error (Frobenius)"] for p in runs},
    "circulation_rel_error": {p: ck.loc[(p, "C"), "rel. error (Frobenius)"] for p in runs},
    "lr_scan_with_replacement": scan.to_dict("records"),
    "claims": claims,
    "preset": preset,
    "params": P,
    "wall_time_s": timer.elapsed,
    **report.provenance(str(dev)),
}  # fmt: skip
report.write_summary(summary_path, summary)
display(HTML(report.provenance_html(summary)))
{k: summary[k] for k in ("ift", "ift_bias_predicted", "ift_surrogate_exact", "wall_time_s")}
