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

# %% tags=["hide-input"]
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from IPython.display import HTML, Markdown, display
from myst_nb import glue
from scipy import stats

from fpt_core.book import (
    entropy_tables,
    fluctuation_charts,
    ift_bias_scan,
    presets,
    report,
    stationary_moments,
    viz,
)
from fpt_core.book.claims import claims_box
from fpt_core.book.fluctuation_claims import fluctuation_claims
from fpt_core.book.fluctuation_results import fluctuation_results
from fpt_core.book.fluctuation_words import fluctuation_words
from fpt_core.langevin import entropy, ift_bias, noneq
from fpt_core.langevin import samplers as langevin
from fpt_core.train.device import resolve_device

viz.use_offline_renderer()
timer = report.Timer()

PRESETS = presets.load("05_out_of_equilibrium")  # notebooks/presets.yml
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

# %% tags=["remove-input"]
xs = np.linspace(-3, 3, 200)
text = dict(
    u_star=f"{float(net.loss(torch.tensor(w_star, device=dev))):.4f}",
    grad_star=f"{np.linalg.norm(G.sum(0)):.2g}", eig_h=", ".join(f"{v:.4g}" for v in lam),
    cond_h=f"{lam[-1] / lam[0]:.0f}",
)  # fmt: skip
fluctuation_charts.minimum_fit_chart(
    pd.DataFrame({"x": net.x.cpu().numpy(), "y": net.y.cpu().numpy()}),
    pd.DataFrame({"x": xs, "f": net.predict(w_star, xs)}),
)

# %% [markdown]
# At the minimum $U(w^*)$ = {glue:text}`u_star` and $|\nabla U(w^*)|$ = {glue:text}`grad_star`;
# the eigenvalues of $H$ are {glue:text}`eig_h` (condition number {glue:text}`cond_h`).
#
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

# %% tags=["hide-input"]
# Monte Carlo error of the without-replacement theory, from 8 independent permutation sets
wor_ep_se = np.std([n_.ep_mean_chain for n_ in wor_splits], ddof=1) / np.sqrt(len(wor_splits))
wor_irr_se = np.std([n_.irreversibility for n_ in wor_splits], ddof=1) / np.sqrt(len(wor_splits))
theory = stationary_moments.theory_table(ness, w_star, M)
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

# %% tags=["hide-input"]
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
# σ's centre: the drift's fixed point w* with replacement; without replacement the measured mean
# (the epoch map's fixed point is known only through the permutation-averaged theory, see below)
centers = {"with replacement": None, "without replacement": "pilot"}


def scan_length(v):
    """Burn-in and measured steps at learning rate v (at the paper's η: paper_steps after 2000)."""
    t_v = 1.0 / (v * lam[0])
    paper_pt = v == P["paper_lr"] and v < min(P["lr"], *P["scan_lrs"])
    burn = 2000 if paper_pt else max(2, int(P["burn_relax"] * t_v))
    steps = P["paper_steps"] if paper_pt else max(2, int(P["measure_relax"] * t_v))
    return burn, steps


starts = {"with replacement": w_star + mu1, "without replacement": ness["without replacement"].mean}

# %%
policies = {"with replacement": langevin.WithReplacement(N, B),
            "without replacement": langevin.WithoutReplacement(N, B)}  # fmt: skip
runs = {}
for name, pol in policies.items():
    every = M if name == "without replacement" else 1
    runs[name] = noneq.simulate_ness(
        net, pol, P["lr"], ness[name], start=starts[name], start_cov=ness[name].sigma_chain,
        center=centers[name], n_chains=P["n_chains"], n_groups=P["n_groups"],
        burn_records=max(2, int(P["burn_relax"] * tau_steps / every)),
        records=max(2, int(P["measure_relax"] * tau_steps / every)), seed=seed,
    )  # fmt: skip

# %% [markdown]
# ## Stationary covariance and circulation: measured against the linear theory
# Entries of Σ and of $C$ (upper triangle), scaled by $\sqrt{\Sigma_{ii}\Sigma_{jj}}$ of the
# theory; error bars ±2 SE. The dashed line is equality. The runs: {glue:text}`run_lengths`.

# %% tags=["remove-input"]
cmp = stationary_moments.moment_comparison(runs, ness)
fluctuation_charts.moment_chart(cmp)

# %% tags=["hide-input"]
mean_shift = stationary_moments.mean_shift(runs, ness)
checks = stationary_moments.comparison_checks(cmp)
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

# %% tags=["hide-input"]
ep = entropy_tables.entropy_table(runs, ness, wor_ep_se)
ep.set_index(["policy", "k"])

# %% tags=["remove-input"]
hist, dft = entropy_tables.sigma_distributions(runs)
fluctuation_charts.sigma_density_chart(hist)

# %% tags=["remove-input"]
fluctuation_charts.dft_chart(dft)

# %% [markdown]
# ## The linear-Gaussian surrogate: the exact log ratio
# On the surrogate of each chain — the linear chain $\delta' = (I-K)\delta + \varepsilon$ with
# Gaussian noise of the SGD covariance $2D$ — the path probabilities exist, and the exact
# discrete-time total entropy production is the log ratio
# $\sigma_n = \ln[\pi(\delta_n)p(\delta_{n+1}\mid\delta_n)] - \ln[\pi(\delta_{n+1})p(\delta_n\mid\delta_{n+1})]$
# (`fpt_core.langevin.entropy.gaussian_chain_log_ratio`), for which both fluctuation theorems hold exactly
# for every window length in the stationary state. The continuum functional satisfies the IFT
# exactly on the surrogate too ({ref}`theory-noneq`). Both are evaluated on the same surrogate
# trajectories, at this page's η and at the η of the scan's largest step
# ($\eta\lambda_{\max}$ shown), where the continuum and discrete-time stationary states differ
# most.

# %% tags=["hide-input"]
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
    sur_rows += entropy_tables.surrogate_rows(out, pol, v, n_.K)
sur = pd.DataFrame(sur_rows)
sur["z(IFT)"] = (sur["⟨e^−σ⟩"] - 1) / sur["SE(IFT)"]
sur.set_index(["policy", "η", "functional", "k"])

# %% [markdown]
# (nb-noneq-bias)=
# ## Predicting the IFT bias
# On the network the IFT is not exact. Given the state $w_n$, $e^{-\sigma_n}$ averages over the
# minibatch of the step: with $K(t; w) = \ln\mathbb E[e^{t^\top\Delta}\mid w]$ the cumulant
# generating function of the SGD increment $\Delta = w_{n+1} - w_n$ (exact: a mean over all
# $B$-subsets, `fpt_core.langevin.ift_bias.sgd_cgf`),
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
# $M_3 = F^{\otimes 3}M_3 + S_3$ (`fpt_core.langevin.ift_bias`, module docstring). Both parts are
# $O(\eta^2)$: $\varepsilon \propto \eta^2$, and over $k$ records
# $\langle e^{-\sigma^{(k)}}\rangle \approx (1+\varepsilon)^k$.
#
# **Check on a process with a known answer.** A 2-D chain with a quadratic drift term, a noise
# amplitude that grows linearly with the state and skewed, discrete (standardised Bernoulli)
# noise — the three effects of the network — is simulated directly, and its measured
# $\langle e^{-\sigma}\rangle - 1$ compared with the prediction at two step sizes. The
# neglected terms are $O(\eta^3)$, so the relative error should shrink about in proportion to
# η.

# %% tags=["hide-input"]
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
toy_tab = ift_bias_scan.toy_table(toy_rows)
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
    burn, steps = scan_length(v)  # the main runs are reused at η = lr
    scan_runs[v] = (runs["with replacement"] if v == P["lr"] else noneq.simulate_ness(
        net, langevin.WithReplacement(N, B), v, n_v, start=w_star + mu_v, start_cov=S_v,
        n_chains=P["n_chains"], n_groups=P["n_groups"], burn_records=burn, records=steps,
        windows=(1,), seed=seed + 1 + lrs.index(v)), n_v)  # fmt: skip

# %% tags=["hide-input"]
scan = ift_bias_scan.scan_table(scan_runs, pred, lam[-1])
fits = ift_bias_scan.premise_fits(scan)  # fits of ε ∝ η^slope where ε is resolved (> 3 SE)
resolved, resolved_all, fit, fit_all, fit_pred = (
    fits[k] for k in ("resolved", "resolved_all", "fit", "fit_all", "fit_pred"))  # fmt: skip
n_v0, _, _ = wr_theory(P["lr"])
Pm = n_v0.functional.T @ mu1
centre_shift = -float(Pm @ n_v0.D @ Pm)  # change of ln⟨e^−σ⟩ if σ were centred at w* + μ₁
scan

# %% tags=["remove-input"]
fluctuation_charts.bias_chart(scan)

# %% [markdown]
# ## What this build measured
# If σ were Gaussian, $\ln\langle e^{-\sigma}\rangle = -\langle\sigma\rangle + \mathrm{Var}\,\sigma/2$
# and the DFT slope would be
# $2\langle\sigma\rangle/\mathrm{Var}\,\sigma = \langle\sigma\rangle/(\langle\sigma\rangle + \ln(1+\varepsilon))$:
# a positive IFT bias is excess variance, and it bends the DFT slope below 1 by about
# ε/⟨σ⟩ ∝ η. The cell below tests that relation at the learning rates where the premise holds.

# %%
main, pr_main = scan[scan["η"] == P["lr"]].iloc[0], pred[P["lr"]]
# the Gaussian relation at the premise points: share of 1 − slope explained, χ² of the residuals
dft_share = 100 * (1 - resolved["DFT slope predicted"]) / (1 - resolved["DFT slope"])
dft_chi2 = float((resolved["z(slope)"] ** 2).sum())
dft_p = float(stats.chi2.sf(dft_chi2, len(resolved))) if len(resolved) else float("nan")

# %% tags=["hide-input"]
wr, wor = ep[ep["policy"] == "with replacement"], ep[ep["policy"] == "without replacement"]
wor_eps = wor["⟨e^−σ⟩"].iloc[0] - 1
wor_dft_pred = (ift_bias.dft_slope_from_bias(wor["⟨σ⟩"].iloc[0], wor_eps)
                if wor_eps > -1 and wor["⟨σ⟩"].iloc[0] > 0 else float("nan"))  # fmt: skip
ck = checks
text["run_lengths"] = "; ".join(f"{k}: {r.steps:,} SGD steps × {P['n_chains']} chains"
                               for k, r in runs.items())  # fmt: skip
text |= fluctuation_words(
    lr=P["lr"], eta_m_lam=P["lr"] * M * lam[-1], ck=ck, th=theory, ep=ep, mean_shift=mean_shift,
    wor_irr_se=wor_irr_se, pr_main=pr_main, main=main, sur=sur, toy_tab=toy_tab, scan=scan,
    fits=fits, centre_shift=centre_shift,
    dft=dict(share=dft_share, chi2=dft_chi2, p=dft_p, wor_pred=wor_dft_pred),
)  # fmt: skip
for key, value in text.items():
    glue(key, value, display=False)

# %% [markdown]
# **Measured at η = {glue:text}`lr`.** *With replacement*: the stationary covariance agrees with
# the linear theory to {glue:text}`cov_wr` % (Frobenius norm; largest entry {glue:text}`cov_wr_z`
# SE off), the circulation to {glue:text}`circ_wr` % (largest entry {glue:text}`circ_wr_z` SE
# off); the current is {glue:text}`current_wr`. Mean one-step entropy production:
# {glue:text}`ep_wr`. $\langle e^{-\sigma}\rangle$ for k = 1, 2, 3 steps: {glue:text}`ift_wr`;
# predicted $(1+\varepsilon)^k$ with ε = {glue:text}`eps_pred`: {glue:text}`ift_pred`. DFT
# slopes: {glue:text}`dft_wr`.
#
# *Without replacement* (recorded once per epoch): the predicted stationary mean (the minimum of
# the effective landscape) lies {glue:text}`wor_shift` stationary standard deviations from $w^*$;
# the measured mean is within {glue:text}`wor_mean` of them of the prediction. The covariance
# agrees with the epoch-map theory to {glue:text}`cov_wor` % (largest entry
# {glue:text}`cov_wor_z` SE off; the continuum Lyapunov equation misses by
# {glue:text}`cov_wor_cont` % at $\eta M\lambda_{\max}$ = {glue:text}`eta_m_lam`). The
# fluctuations are {glue:text}`spread_ratio`× smaller than with replacement. By the theory the
# state is {glue:text}`closer` equilibrium: ‖C‖/‖D‖ = {glue:text}`irr_wor` (Monte Carlo error
# of the theory) against {glue:text}`irr_wr`, and the entropy production per slowest relaxation
# time is {glue:text}`ep_relax_wor` against {glue:text}`ep_relax_wr`. The lag-one circulation is
# {glue:text}`current_wor`. Mean one-epoch entropy production: {glue:text}`ep_wor`;
# $\langle e^{-\sigma}\rangle$ = {glue:text}`ift_wor`; DFT slope {glue:text}`dft_wor`. The bias
# of the epoch map is not derived here (its cumulant generating function has no closed form).
#
# **Surrogate.** On the linear-Gaussian surrogates {glue:text}`sur_every`
# $\langle e^{-\sigma^{(k)}}\rangle$ (both functionals, k = 1–3) lies within 3 SE of 1 (largest
# |z| = {glue:text}`sur_z`, up to $\eta\lambda_{\max}$ = {glue:text}`sur_eig` per record), and
# the exact log ratio's DFT slopes are {glue:text}`sur_dft_all` within 3 SE of 1
# ({glue:text}`sur_dft`). The fluctuation theorems' failures on the network therefore come from
# what the surrogate leaves out.
#
# **The bias.** On the toy process, simulated/predicted = {glue:text}`toy_ratio` at η = 0.02,
# 0.04 (z = {glue:text}`toy_z`). On the network at η = {glue:text}`lr` the predicted per-step bias
# is ε = {glue:text}`eps_pred` (even part {glue:text}`eps_even`, skew part
# {glue:text}`eps_skew`), the measured one {glue:text}`eps_meas` (z = {glue:text}`eps_z`);
# centring σ at the stationary mean $w^* + \mu_1$ instead of the fixed point would change
# $\ln\langle e^{-\sigma}\rangle$ by {glue:text}`centre_shift`. Where the expansion's premise
# holds (ηλ_max ≤ 0.1) the measured ε grows with log–log slope {glue:text}`fit_txt`; over all
# resolved learning rates, up to ηλ_max = {glue:text}`lam_scan_max`, the slope is
# {glue:text}`fit_all`, and the prediction's slope over the scan is {glue:text}`fit_pred`.
# Measured/predicted: {glue:text}`ratio_txt`.
#
# **The DFT slope.** With the measured ⟨σ⟩ and the predicted ε the Gaussian relation gives, at
# η = {glue:text}`lr`, a slope of {glue:text}`dft_pred_main` against the measured
# {glue:text}`dft_main` (z = {glue:text}`dft_z`); over the scan the measured slopes are
# {glue:text}`dft_scan` against {glue:text}`dft_scan_pred`. Without replacement the measured bias
# is {glue:text}`wor_bias` per epoch, and the same relation with the measured ⟨σ⟩ and ε gives a
# slope of {glue:text}`wor_dft_pred` against the measured {glue:text}`wor_dft`. Where
# ηλ_max ≤ 0.1 the relation accounts for {glue:text}`dft_share` % of 1 − slope; the remainder is
# {glue:text}`dft_signif` (χ² = {glue:text}`dft_chi2` on {glue:text}`dft_dof` degrees of freedom,
# p = {glue:text}`dft_p`) and is not explained here. The mean ⟨σ⟩ itself falls below the linear
# theory as η grows (measured/theory {glue:text}`sigma_ratio`); that correction is not derived
# here.

# %% tags=["remove-input"]
claims = fluctuation_claims(
    lr=P["lr"], paper_lr=P["paper_lr"], ck=ck, wr=wr, scan=scan, sur=sur, resolved=resolved,
    resolved_all=resolved_all, fit=fit, fit_all=fit_all, toy_tab=toy_tab, dft_share=dft_share,
    dft_chi2=dft_chi2, dft_p=dft_p,
)  # fmt: skip
glue("claims_box", Markdown(claims_box(claims)), display=False)
pd.DataFrame(claims)[["claim", "verdict"]]

# %% tags=["hide-input"]
out_dir = Path(results_dir) / "05_out_of_equilibrium"
out_dir.mkdir(parents=True, exist_ok=True)
ep.to_csv(out_dir / f"entropy_{preset}.csv", index=False)
cmp.to_csv(out_dir / f"sigma_circulation_{preset}.csv", index=False)
scan.to_csv(out_dir / f"ift_bias_scan_{preset}.csv", index=False)
summary = {
    "notebook": "05_out_of_equilibrium", "lr": P["lr"],
    **fluctuation_results(lr=P["lr"], ep=ep, sur=sur, pr_main=pr_main, main=main, toy_tab=toy_tab,
                          fit=fit, resolved=resolved, fit_pred=fit_pred, wor_ep_se=wor_ep_se,
                          theory=theory, ck=ck, policies=runs, scan=scan),
    "claims": claims,
    "preset": preset,
    "params": P,
    "wall_time_s": timer.elapsed,
    **report.provenance(str(dev)),
}  # fmt: skip
report.write_summary(summary_path, summary)
display(HTML(report.provenance_html(summary)))
{k: summary[k] for k in ("ift", "ift_bias_predicted", "ift_surrogate_exact", "wall_time_s")}
