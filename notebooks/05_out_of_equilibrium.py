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
# {cite}`seifert2012stochastic` — with minibatches drawn with and without replacement. The theory
# is in {ref}`theory-noneq`.

# %% tags=["parameters"]
preset = "default"  # tiny | default | paper
lr = None  # SGD learning rate η
batch_size = None  # minibatch size B (the paper: 10)
n_chains = None  # independent SGD chains
n_groups = None  # chain groups for error bars
burn_relax = None  # burn-in, in slowest relaxation times 1/(η λ_min(H))
measure_relax = None  # measurement, in slowest relaxation times
n_perm = None  # permutations for the without-replacement epoch map (8 independent sets)
scan_lrs = None  # extra learning rates for a with-replacement check of the η dependence
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

from fpt_core import langevin, noneq, presets, report, viz
from fpt_core.device import resolve_device

viz.use_offline_renderer()
timer = report.Timer()

PRESETS = {
    "tiny": dict(lr=1e-5, batch_size=10, n_chains=64, n_groups=8, burn_relax=2.0,
                 measure_relax=2.0, n_perm=8000, scan_lrs=[], n_starts=2),
    "default": dict(lr=1e-6, batch_size=10, n_chains=256, n_groups=8, burn_relax=3.0,
                    measure_relax=3.0, n_perm=80000, scan_lrs=[3e-6], n_starts=4),
    # the seed paper: η = 1e-7, trajectories of ~10⁸ steps (hours on a CPU)
    "paper": dict(lr=1e-7, batch_size=10, n_chains=512, n_groups=16, burn_relax=4.0,
                  measure_relax=20.0, n_perm=400000, scan_lrs=[1e-6, 3e-7], n_starts=8),
}  # fmt: skip
P = presets.resolve(
    PRESETS, preset, lr=lr, batch_size=batch_size, n_chains=n_chains, n_groups=n_groups,
    burn_relax=burn_relax, measure_relax=measure_relax, n_perm=n_perm, scan_lrs=scan_lrs,
    n_starts=n_starts,
)  # fmt: skip
if not all(np.isfinite(v) and v > 0 for v in [P["lr"], *P["scan_lrs"]]):
    raise ValueError(f"lr={P['lr']} and scan_lrs={P['scan_lrs']} must be finite and > 0")
if P["n_chains"] % P["n_groups"]:
    raise ValueError(f"n_groups={P['n_groups']} must divide n_chains={P['n_chains']}")
if not (P["burn_relax"] > 0 and P["measure_relax"] > 0):
    raise ValueError("burn_relax and measure_relax must be > 0")
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
# `n_chains` independent SGD chains per policy start at the theory's stationary mean and run
# `burn_relax` + `measure_relax` slowest relaxation times $1/(\eta\lambda_{\min})$ (in epochs for
# the stroboscopic records). Moments, the lag-one covariance and the $k$-step entropy production
# ($k$ = 1, 2, 3 records) are accumulated on the fly; errors come from independent chain groups.

# %%
tau_steps = 1.0 / (P["lr"] * lam[0])
policies = {
    "with replacement": langevin.WithReplacement(N, B),
    "without replacement": langevin.WithoutReplacement(N, B),
}
runs = {}
for name, pol in policies.items():
    every = M if name == "without replacement" else 1
    runs[name] = noneq.simulate_ness(
        net, pol, P["lr"], ness[name], n_chains=P["n_chains"], n_groups=P["n_groups"],
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
    k: float(np.max(np.abs(r["center"] - ness[k].mean) / np.sqrt(np.diag(ness[k].sigma_chain))))
    for k, r in runs.items()
}
checks = pd.DataFrame(stat_rows).set_index(["policy", "quantity"])
checks

# %% [markdown]
# ## Entropy production and the fluctuation theorems
# Per record $\sigma_n = [-C\Sigma^{-1}(w_n-\mu)]^\top D^{-1}(w_{n+1}-w_n)$ with the continuum
# $C, \Sigma, D$ of the theory and $\mu$ the measured mean; $\sigma^{(k)}$ sums $k$ consecutive
# records. Theory: $\langle\sigma^{(k)}\rangle = -k\,\mathrm{tr}(CD^{-1}C\Sigma^{-1})$ (continuum)
# and the exact mean of the same functional on the linear chain. IFT: $\langle e^{-\sigma}\rangle
# = 1$; DFT: $\ln[P(\sigma)/P(-\sigma)] = \sigma$, i.e. a fitted slope of 1.

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
# ## Dependence on the learning rate (with replacement)
# The linear theory and the fluctuation theorems hold for linear dynamics with Gaussian noise;
# the network is anharmonic and its minibatch noise is not Gaussian, and both effects grow with
# the size of the fluctuations, i.e. with η. Shorter runs at the extra learning rates `scan_lrs`
# show how the deviations change with η.

# %%
scan_rows = []
for v in sorted({*P["scan_lrs"], P["lr"]}):
    if v == P["lr"]:
        n_, e1 = ness["with replacement"], runs["with replacement"]["ep"][0]
    else:
        n_ = noneq.linear_ness(v * H, noneq.minibatch_diffusion(G, v, B), w_star)
        t_ = 1.0 / (v * lam[0])
        e1 = noneq.simulate_ness(
            net, langevin.WithReplacement(N, B), v, n_, n_chains=P["n_chains"],
            n_groups=P["n_groups"], burn_records=max(2, int(P["burn_relax"] * t_)),
            records=max(2, int(P["measure_relax"] * t_)), seed=seed + 1,
        )["ep"][0]  # fmt: skip
    scan_rows.append({
        "η": v, "⟨σ⟩ / theory (chain)": e1["mean"] / n_.ep_mean_chain,
        "SE": e1["mean_se"] / n_.ep_mean_chain, "Var/(2⟨σ⟩)": e1["var"] / (2 * e1["mean"]),
        "⟨e^−σ⟩ − 1": e1["ift"] - 1, "SE(IFT)": e1["ift_se"], "DFT slope": e1["dft_slope"],
        "SE(slope)": e1["dft_slope_se"],
    })  # fmt: skip
scan = pd.DataFrame(scan_rows)
scan

# %%
wr, wor = ep[ep["policy"] == "with replacement"], ep[ep["policy"] == "without replacement"]
ck, th = checks, theory


def vs(v, s, ref, fmt=".5f"):
    """'v ± s' and whether it is within 5 SE of ref."""
    if not (np.isfinite(s) and s > 0):
        return f"{v:{fmt}} (no error bar: too few counts per chain group)"
    z = abs(v - ref) / s
    verdict = f"within 5 SE of {ref:g}" if z < 5 else f"{z:.0f} SE from {ref:g}"
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


scan_sentence = ""
if len(scan) > 1:
    lo_, hi_ = scan.iloc[0], scan.iloc[-1]
    scan_sentence = (
        f"*Learning-rate dependence (with replacement)*: from η = {lo_['η']:g} to {hi_['η']:g}, "
        f"⟨σ⟩/theory goes from {lo_['⟨σ⟩ / theory (chain)']:.3f} to "
        f"{hi_['⟨σ⟩ / theory (chain)']:.3f}, Var(σ)/(2⟨σ⟩) from {lo_['Var/(2⟨σ⟩)']:.3f} to "
        f"{hi_['Var/(2⟨σ⟩)']:.3f}, ⟨e^−σ⟩ − 1 from {lo_['⟨e^−σ⟩ − 1']:.2g} to "
        f"{hi_['⟨e^−σ⟩ − 1']:.2g} and the DFT slope from {lo_['DFT slope']:.3f} to "
        f"{hi_['DFT slope']:.3f}."
    )
closer = th.loc["without replacement", "‖C‖/‖D‖"] < th.loc["with replacement", "‖C‖/‖D‖"]
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
{"; ".join(vs(v, s_, 1.0) for v, s_ in zip(wr["⟨e^−σ⟩"], wr["SE(IFT)"], strict=True))}.
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
DFT slope {vs(wor["DFT slope"].iloc[0], wor["SE(slope)"].iloc[0], 1.0, ".3f")}.
{scan_sentence}
"""
    )
)

# %%
out_dir = Path(results_dir) / "05_out_of_equilibrium"
out_dir.mkdir(parents=True, exist_ok=True)
ep.to_csv(out_dir / f"entropy_{preset}.csv", index=False)
cmp.to_csv(out_dir / f"sigma_circulation_{preset}.csv", index=False)
summary = {
    "notebook": "05_out_of_equilibrium",
    "lr": P["lr"],
    "ift": {p: dict(zip(map(str, g["k"]), g["⟨e^−σ⟩"], strict=True)) for p, g in ep.groupby("policy")},
    "ift_se": {p: dict(zip(map(str, g["k"]), g["SE(IFT)"], strict=True)) for p, g in ep.groupby("policy")},
    "ep_mean_measured": {p: dict(zip(map(str, g["k"]), g["⟨σ⟩"], strict=True)) for p, g in ep.groupby("policy")},
    "ep_mean_se": {p: dict(zip(map(str, g["k"]), g["SE"], strict=True)) for p, g in ep.groupby("policy")},
    "ep_mean_predicted": {p: dict(zip(map(str, g["k"]), g["theory"], strict=True)) for p, g in ep.groupby("policy")},
    "ep_mean_predicted_chain": {p: dict(zip(map(str, g["k"]), g["theory (chain)"], strict=True)) for p, g in ep.groupby("policy")},
    "ep_mean_predicted_mc_se_without_replacement": wor_ep_se,
    "dft_slope": {p: dict(zip(map(str, g["k"]), g["DFT slope"], strict=True)) for p, g in ep.groupby("policy")},
    "irreversibility": theory["‖C‖/‖D‖"].to_dict(),
    "ep_per_relaxation_time": theory["⟨σ⟩ per slowest relaxation time"].to_dict(),
    "covariance_rel_error": {p: ck.loc[(p, "Σ"), "rel. error (Frobenius)"] for p in runs},
    "circulation_rel_error": {p: ck.loc[(p, "C"), "rel. error (Frobenius)"] for p in runs},
    "lr_scan_with_replacement": scan.to_dict("records"),
    "preset": preset,
    "params": P,
    "wall_time_s": timer.elapsed,
    **report.provenance(str(dev)),
}  # fmt: skip
report.write_summary(summary_path, summary)
display(HTML(report.provenance_html(summary)))
{k: summary[k] for k in ("ift", "ep_mean_measured", "ep_mean_predicted", "wall_time_s")}
