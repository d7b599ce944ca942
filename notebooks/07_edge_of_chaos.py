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
# Zhang, Feng, Chen and Lai {cite}`zhang2021edge` report that the hyperparameters of SGD with
# momentum place training in an ordered or a chaotic phase, that the best generalisation sits at
# the edge between them, that weight decay pushes the model towards order, and that in the
# ordered phase the training time obeys simple scaling relations. This notebook measures each of
# these on a grid of hyperparameters ({ref}`theory-chaos`). Every cell of the grid is an ensemble
# of runs. For each cell we measure three things:
#
# * the largest Lyapunov exponent $\lambda_{\max}$ of training. Two copies of run $s$ start
#   $d_0$ apart in (weights, momentum) space, see the same minibatches, and the separation is
#   renormalised every $k$ steps (Benettin's method,
#   {cite}`benettin1980lyapunov,benettin1980numerical`, via `fpt_core.dynamics.lyapunov_sgd`).
#   The exponent is measured after a warm-up, per epoch, with its spread across seeds;
# * the plateau test accuracy of the ensemble;
# * the training time as a first-passage time (FPT): the first epoch with test accuracy
#   $\ge$ `target`.
#
# A second order parameter, the input–output Jacobian norm of the trained network averaged over
# test inputs, is recorded alongside.

# %% tags=["parameters"]
preset = "default"  # tiny | default | paper
n_runs = None  # runs per grid cell (seeds 0 … n_runs-1)
epochs = None
dataset = None  # mnist1d | fashion_mnist | mnist
hidden = None  # MLP hidden widths
batch_size = None
lrs = None  # learning rates of both grids
momenta = None  # momenta of the (lr, momentum) grid, weight decay 0
weight_decays = None  # weight decays of the (lr, weight decay) grid
wd_momentum = None  # momentum of the (lr, weight decay) grid
target = None  # target test accuracy of the first-passage time
plateau_epochs = None  # last epochs averaged for the plateau accuracy
lyap_pairs = None  # seeds (reference/companion pairs) per cell for the Lyapunov exponent
lyap_warmup = None  # training steps before the measurement
lyap_transient = None  # steps that align the separation, not measured
lyap_steps = None  # measured steps
renorm_every = None  # steps between renormalisations
d0 = None  # separation after each renormalisation
n_jacobian = None  # test inputs for the Jacobian norm
threads = None  # torch CPU threads (None: torch's default)
chunk_size = None
data_root = None  # folder with torchvision datasets (fashion_mnist …)
device = None  # None: cuda, then mps, then cpu
results_dir = "results"
summary_path = "book/executed/07_edge_of_chaos.summary.json"

# %%
import altair as alt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML, Markdown, display

from fpt_core import presets, report, viz
from fpt_core.chaos import edge_contour, scaling_collapse
from fpt_core.config import TrainConfig
from fpt_core.device import resolve_device
from fpt_core.dynamics import phase_diagram
from fpt_core.runner import cached_dataset

viz.use_offline_renderer()
timer = report.Timer()

PRESETS = {
    "tiny": dict(
        n_runs=4,
        epochs=5,
        dataset="mnist1d",
        hidden=[32, 32],
        batch_size=100,
        lrs=[0.0125, 0.2, 0.8],
        momenta=[0.0, 0.5],
        weight_decays=[0.0, 0.3],
        wd_momentum=0.5,
        target=0.3,
        plateau_epochs=2,
        lyap_pairs=2,
        lyap_warmup=40,
        lyap_transient=10,
        lyap_steps=40,
        renorm_every=10,
        d0=1e-3,
        n_jacobian=50,
        threads=1,
        chunk_size=64,
    ),
    "default": dict(
        n_runs=8,
        epochs=15,
        dataset="mnist1d",
        hidden=[32, 32],
        batch_size=100,
        lrs=[0.0125, 0.05, 0.2, 0.8],
        momenta=[0.0, 0.5, 0.75, 0.875],
        weight_decays=[0.0, 0.03, 0.1, 0.3],
        wd_momentum=0.5,
        target=0.45,
        plateau_epochs=5,
        lyap_pairs=3,
        lyap_warmup=120,
        lyap_transient=20,
        lyap_steps=120,
        renorm_every=10,
        d0=1e-3,
        n_jacobian=200,
        threads=1,
        chunk_size=64,
    ),
    # the seed paper's setting: Fashion-MNIST, a fully connected network, SGD with momentum; the
    # widths, grids and budget here are this book's choice (needs data_root; a GPU helps)
    "paper": dict(
        n_runs=32,
        epochs=50,
        dataset="fashion_mnist",
        hidden=[100, 100],
        batch_size=100,
        lrs=[0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
        momenta=[0.0, 0.5, 0.75, 0.875, 0.9375],
        weight_decays=[0.0, 1e-4, 1e-3, 1e-2, 1e-1],
        wd_momentum=0.875,
        target=0.85,
        plateau_epochs=10,
        lyap_pairs=8,
        lyap_warmup=6000,
        lyap_transient=200,
        lyap_steps=2000,
        renorm_every=10,
        d0=1e-3,
        n_jacobian=1000,
        threads=None,
        chunk_size=32,
    ),
}
P = presets.resolve(
    PRESETS,
    preset,
    n_runs=n_runs,
    epochs=epochs,
    dataset=dataset,
    hidden=hidden,
    batch_size=batch_size,
    lrs=lrs,
    momenta=momenta,
    weight_decays=weight_decays,
    wd_momentum=wd_momentum,
    target=target,
    plateau_epochs=plateau_epochs,
    lyap_pairs=lyap_pairs,
    lyap_warmup=lyap_warmup,
    lyap_transient=lyap_transient,
    lyap_steps=lyap_steps,
    renorm_every=renorm_every,
    d0=d0,
    n_jacobian=n_jacobian,
    threads=threads,
    chunk_size=chunk_size,
)


def _check_list(name, values, ok, what):
    if not isinstance(values, (list, tuple)) or len(values) < 1 or not all(map(ok, values)):
        raise ValueError(f"{name}={values!r} must be a non-empty list of {what}")
    if len(set(values)) != len(values):
        raise ValueError(f"{name}={values!r} must not repeat values")


_check_list("lrs", P["lrs"], lambda v: isinstance(v, (int, float)) and v > 0, "numbers > 0")
_check_list("momenta", P["momenta"], lambda v: 0 <= v < 1, "numbers in [0, 1)")
_check_list("weight_decays", P["weight_decays"], lambda v: v >= 0, "numbers ≥ 0")
if not 0 <= P["wd_momentum"] < 1:
    raise ValueError(f"wd_momentum={P['wd_momentum']} must lie in [0, 1)")
if not 0 < P["target"] < 1:
    raise ValueError(f"target={P['target']} must lie in (0, 1)")
for name, lo, hi in (
    ("plateau_epochs", 1, P["epochs"]),
    ("lyap_pairs", 1, P["n_runs"]),
    ("lyap_warmup", 0, 10**7),
    ("lyap_transient", 0, 10**7),
    ("lyap_steps", 1, 10**7),
    ("renorm_every", 1, 10**7),
    ("n_jacobian", 1, 10**7),
):
    if not isinstance(P[name], int) or not lo <= P[name] <= hi:
        raise ValueError(f"{name}={P[name]!r} must be an integer in [{lo}, {hi}]")
if not 0 < P["d0"] < 1:
    raise ValueError(f"d0={P['d0']} must lie in (0, 1)")
if P["threads"] is not None and (not isinstance(P["threads"], int) or P["threads"] < 1):
    raise ValueError(f"threads={P['threads']!r} must be an integer ≥ 1 or None")
base = TrainConfig(
    dataset=P["dataset"],
    model="mlp",
    model_kwargs={"hidden": P["hidden"]},
    batch_size=P["batch_size"],
    epochs=P["epochs"],
)
if P["threads"] is not None:  # small matrices: one thread avoids oversubscribing a shared CPU
    torch.set_num_threads(P["threads"])
P

# %% [markdown]
# ## Two phase diagrams
# The first grid varies the learning rate $\eta$ and the momentum $\mu$ without weight decay;
# the second varies $\eta$ and the weight decay $\lambda_{\mathrm{wd}}$ at a fixed momentum.
# Each cell trains `n_runs` runs with `run_ensemble` (finished runs are read from the store).
# The Lyapunov exponent of all cells is computed in one batched computation. Its reference
# trajectories are runs $0, 1, \dots$ of the cell's ensemble, from step `lyap_warmup` on.

# %%
dev = resolve_device(device)
data = cached_dataset(P["dataset"], data_root, False, str(dev), base.num_samples, base.data_seed)
common = dict(
    target=P["target"],
    plateau_epochs=P["plateau_epochs"],
    lyapunov_pairs=P["lyap_pairs"],
    data=data,
    run_kw=dict(store=results_dir, chunk_size=P["chunk_size"], device=device, data_root=data_root),
    n_steps=P["lyap_steps"],
    warmup_steps=P["lyap_warmup"],
    transient=P["lyap_transient"],
    renorm_every=P["renorm_every"],
    d0=P["d0"],
    jacobian_inputs=data.prepare(data.x_test[: P["n_jacobian"]]),
)
mom = phase_diagram(base, {"lr": P["lrs"], "momentum": P["momenta"]}, P["n_runs"], **common)
wd = phase_diagram(
    TrainConfig(**{**base.to_dict(), "momentum": P["wd_momentum"]}),
    {"lr": P["lrs"], "weight_decay": P["weight_decays"]},
    P["n_runs"],
    **common,
)
both = pd.concat([mom.assign(grid="lr × momentum"), wd.assign(grid="lr × weight decay")])
n_trained, n_reused = int(both["n_trained"].sum()), int(both["n_reused"].sum())
# a cell in both grids (weight decay 0 at momentum wd_momentum) is counted once
cells = both.drop_duplicates(["lr", "momentum", "weight_decay"]).reset_index(drop=True)
n_cells = len(cells)
display(
    Markdown(
        f"{n_cells} cells × {P['n_runs']} runs on `{dev}`: {n_trained} runs trained, "
        f"{n_reused} reused from the store, "
        f"{int(cells['n_diverged'].sum())} diverged (distinct cells). Lyapunov exponents from "
        f"{P['lyap_pairs']} pairs per cell over {P['lyap_steps']} steps after "
        f"{P['lyap_warmup'] + P['lyap_transient']} steps ({P['lyap_warmup'] / (data.n_train / P['batch_size']):.1f} "
        "epochs of warm-up)."
    )
)


# %% [markdown]
# ## Phases
# A cell is called *chaotic* if $\lambda_{\max} > 2\,\mathrm{se}$, *ordered* if
# $\lambda_{\max} < -2\,\mathrm{se}$ (se: standard error over the pairs), and *edge* if it is
# consistent with zero. A cell whose network no longer depends on its input (mean Jacobian norm
# below $10^{-2}$: all ReLUs dead, accuracy at chance) is *dead*. There, $\lambda_{\max}$ is
# trivially $\le 0$. Cells where a Lyapunov pair diverged are *diverged*.


# %%
def phase_of(row) -> str:
    if row["n_pairs_ok"] < P["lyap_pairs"] or np.isnan(row["lyapunov"]):
        return "diverged"
    if row["lyapunov"] == -np.inf:  # separation collapsed to exactly 0: super-stable
        return "ordered"
    if not row["jacobian"] > 1e-2:
        return "dead"
    se = row["lyapunov_stderr"] if np.isfinite(row["lyapunov_stderr"]) else 0.0
    if row["lyapunov"] > 2 * se:
        return "chaotic"
    return "ordered" if row["lyapunov"] < -2 * se else "edge"


for frame in (mom, wd, cells):
    frame["phase"] = frame.apply(phase_of, axis=1)


def edges(values):
    """Cell boundaries on a log axis (geometric midpoints), for rectangles."""
    v = np.log(np.asarray(sorted(values), dtype=float))
    mid = (v[1:] + v[:-1]) / 2
    step = np.diff(v).mean() if len(v) > 1 else 1.0
    return dict(
        zip(
            sorted(values),
            zip(
                np.exp(np.r_[v[0] - step / 2, mid]),
                np.exp(np.r_[mid, v[-1] + step / 2]),
                strict=True,
            ),
            strict=True,
        )
    )


def heatmap(df, y, value, title, scheme, mid=None, fmt=".2f"):
    d = df.copy()
    xe, ye = (
        edges(d["lr"].unique()),
        {v: (i - 0.5, i + 0.5) for i, v in enumerate(sorted(d[y].unique()))},
    )
    d["x0"], d["x1"] = zip(*d["lr"].map(xe), strict=True)
    d["y0"], d["y1"] = zip(*d[y].map(ye), strict=True)
    d["yc"] = d[y].map({v: i for i, v in enumerate(sorted(d[y].unique()))})
    d["label"] = [f"{v:{fmt}}" if np.isfinite(v) else "n/a" for v in d[value]]
    if mid is not None:  # diverging: blue below mid (order), red above (chaos), symmetric
        m = float(np.nanmax(np.abs(d[value].replace([np.inf, -np.inf], np.nan) - mid))) or 1.0
        scale = alt.Scale(scheme=scheme, domain=[mid - m, mid + m], reverse=True)
    else:
        scale = alt.Scale(scheme=scheme)
    xscale = alt.Scale(type="log", domain=[min(d["x0"]), max(d["x1"])], nice=False)
    tips = ["lr:Q", f"{y}:Q", alt.Tooltip(f"{value}:Q", format=fmt), "phase:N", "eta_eff:Q"]
    rect = (
        alt.Chart(d)
        .mark_rect(stroke="white")
        .encode(
            x=alt.X("x0:Q", scale=xscale, title="learning rate η"),
            x2="x1:Q",
            y=alt.Y(
                "y0:Q",
                title=y,
                axis=alt.Axis(
                    values=list(range(len(ye))),
                    labelExpr="["
                    + ",".join(f"'{float(v):g}'" for v in sorted(ye))
                    + "][datum.value]",
                ),
            ),
            y2="y1:Q",
            color=alt.Color(f"{value}:Q", scale=scale, title=value),
            tooltip=tips,
        )
    )
    text = (
        alt.Chart(d)
        .mark_text(fontSize=10)
        .encode(x=alt.X("lr:Q", scale=xscale), y="yc:Q", text="label:N", tooltip=tips)
    )
    layers = [rect, text]
    if value == "lyapunov":  # the λ = 0 line: per row, the learning rate where λ changes sign
        ec = edge_contour(d, x=y, y="lr", value="lyapunov", log_y=True).dropna()
        ec["yc"] = ec[y].map({v: i for i, v in enumerate(sorted(d[y].unique()))})
        layers.append(
            alt.Chart(ec)
            .mark_line(color="black", strokeWidth=2, point=alt.OverlayMarkDef(color="black"))
            .encode(
                x="lr:Q",
                y="yc:Q",
                order="yc:Q",
                tooltip=[alt.Tooltip("lr:Q", format=".4f"), f"{y}:Q", "n_crossings:Q"],
            )
        )
    return alt.layer(*layers).properties(width=230, height=220, title=title)


# %%
alt.hconcat(
    heatmap(
        mom, "momentum", "lyapunov", "λ_max per epoch (black: λ = 0)", "redblue", mid=0.0, fmt=".1f"
    ),
    heatmap(mom, "momentum", "plateau_acc", "plateau test accuracy", "viridis"),
).resolve_scale(color="independent").configure_legend(orient="bottom")

# %%
alt.hconcat(
    heatmap(
        mom,
        "momentum",
        "fpt_mean",
        f"mean FPT to accuracy {P['target']} (epochs)",
        "viridis",
        fmt=".1f",
    ),
    heatmap(mom, "momentum", "jacobian", "mean Jacobian norm ‖∂f/∂x‖_F", "greys", fmt=".1f"),
).resolve_scale(color="independent").configure_legend(orient="bottom")

# %% [markdown]
# Cells labelled n/a in the FPT map have censored runs: at least one run did not reach the target
# within the budget, so the mean is not estimable.

# %%
edge_mom = edge_contour(mom, x="momentum", y="lr", value="lyapunov", log_y=True)
n_edge_rows = int(edge_mom["lr"].notna().sum())
counts = mom["phase"].value_counts().to_dict()
display(
    Markdown(
        "Phases in the (η, μ) grid: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        + f". The λ = 0 line crosses {n_edge_rows} of {len(edge_mom)} momentum rows"
        + (
            ": "
            + "; ".join(
                f"μ = {r.momentum:g} at η ≈ {r.lr:.3g} ({r.n_crossings} crossing(s))"
                for r in edge_mom.dropna().itertuples()
            )
            + "."
            if n_edge_rows
            else " — no sign change of λ_max inside this grid."
        )
        + f" The exponent is largest at η_eff = {mom.loc[mom['lyapunov'].idxmax(), 'eta_eff']:.3g} "
        f"({mom['lyapunov'].max():.2f} per epoch) and smallest at η_eff = "
        f"{mom.loc[mom['lyapunov'].idxmin(), 'eta_eff']:.3g} ({mom['lyapunov'].min():.2f} per epoch)."
    )
)

# %% [markdown]
# ## Accuracy at the edge and elsewhere
# The edge-of-chaos hypothesis predicts the best plateau accuracy in the *edge* cells. The table
# gives, per phase, the mean and the best plateau accuracy over the cells of both grids. The
# scatter plot shows every cell.

# %%
by_phase = (
    cells.groupby("phase")["plateau_acc"]
    .agg(cells="count", mean_acc="mean", best_acc="max")
    .reset_index()
)
display(by_phase.round(4))
best = cells.loc[cells["plateau_acc"].idxmax()]
acc_edge = cells.loc[cells["phase"] == "edge", "plateau_acc"]
acc_other = cells.loc[cells["phase"].isin(["ordered", "chaotic"]), "plateau_acc"]
display(
    Markdown(
        f"Best plateau accuracy {best.plateau_acc:.4f} ± {best.plateau_sd:.4f} (sd over runs) at "
        f"η = {best.lr:g}, μ = {best.momentum:g}, weight decay {best.weight_decay:g} "
        f"(η_eff = {best.eta_eff:.3g}), a **{best.phase}** cell with λ_max = "
        f"{best.lyapunov:.2f} ± {best.lyapunov_stderr:.2f} per epoch. "
        + (
            f"Edge cells: mean accuracy {acc_edge.mean():.4f} (best {acc_edge.max():.4f}, "
            f"{len(acc_edge)} cells); ordered or chaotic cells: mean {acc_other.mean():.4f} "
            f"(best {acc_other.max():.4f}, {len(acc_other)} cells)."
            if len(acc_edge)
            else "No cell is consistent with λ_max = 0 at this preset."
        )
    )
)
alt.Chart(cells).mark_point(filled=True, size=70).encode(
    x=alt.X("lyapunov:Q", title="λ_max per epoch"),
    y=alt.Y("plateau_acc:Q", title="plateau test accuracy", scale=alt.Scale(zero=False)),
    color="phase:N",
    shape="grid:N",
    tooltip=[
        "grid:N",
        "lr:Q",
        "momentum:Q",
        "weight_decay:Q",
        alt.Tooltip("lyapunov:Q", format=".2f"),
        alt.Tooltip("plateau_acc:Q", format=".3f"),
        "phase:N",
    ],
).properties(
    width=560, height=300, title="Accuracy against the Lyapunov exponent (all cells)"
).interactive()

# %% [markdown]
# ## Weight decay
# The second grid at momentum `wd_momentum`: does weight decay lower $\lambda_{\max}$, pushing
# the model towards order?

# %%
alt.hconcat(
    heatmap(
        wd,
        "weight_decay",
        "lyapunov",
        "λ_max per epoch (black: λ = 0)",
        "redblue",
        mid=0.0,
        fmt=".1f",
    ),
    heatmap(wd, "weight_decay", "plateau_acc", "plateau test accuracy", "viridis"),
).resolve_scale(color="independent").configure_legend(orient="bottom")

# %%
wd_sorted = wd.sort_values(["lr", "weight_decay"])
steps = wd_sorted.groupby("lr")["lyapunov"].apply(lambda s: np.diff(s.to_numpy()))
diffs = np.concatenate(steps.to_list()) if len(steps) else np.array([])
n_down = int(np.sum(diffs < 0))
lam_no_wd = wd_sorted.groupby("lr")["lyapunov"].first()
lam_max_wd = wd_sorted.groupby("lr")["lyapunov"].last()
edge_wd = edge_contour(wd, x="lr", y="weight_decay", value="lyapunov")
display(
    Markdown(
        f"Raising the weight decay one grid step lowers λ_max in {n_down} of {diffs.size} cases. "
        "From no weight decay to the largest one: "
        + "; ".join(
            f"η = {lr:g}: {lam_no_wd[lr]:.2f} → {lam_max_wd[lr]:.2f}" for lr in lam_no_wd.index
        )
        + " (per epoch). Weight decay at which λ_max first changes sign: "
        + "; ".join(
            f"η = {r.lr:g}: {r.weight_decay:.3g}"
            if np.isfinite(r.weight_decay)
            else f"η = {r.lr:g}: none in the grid"
            for r in edge_wd.itertuples()
        )
        + "."
    )
)

# %% [markdown]
# ## Scaling of the training time with the effective learning rate
# If the training time depends on $(\eta, \mu)$ only through $\eta_{\mathrm{eff}} = \eta/(1-\mu)$,
# the mean FPTs of the (η, μ) grid collapse onto one curve ({eq}`chaos-etaeff`).
# `scaling_collapse` fits $\ln T = a + b \ln \eta_{\mathrm{eff}}$ and tests it against the free
# fit in $\ln\eta$ and $\ln(1-\mu)$, separately for the cells not in the chaotic phase and for
# the chaotic cells. Cells with a censored run (mean FPT not estimable) are left out.

# %%
fits, lines = {}, []
for name, sel in (
    ("ordered or edge", mom["phase"].isin(["ordered", "edge"])),
    ("chaotic", mom["phase"] == "chaotic"),
):
    sub = mom[sel & np.isfinite(mom["fpt_mean"])]
    try:
        fit = scaling_collapse(sub, lr="lr", momentum="momentum", time="fpt_mean")
    except ValueError as err:  # too few cells, or η and μ not both varying
        lines.append(f"**{name}** ({len(sub)} cells with an estimable mean FPT): no fit — {err}.")
        continue
    fits[name] = fit
    lines.append(
        f"**{name}** ({fit.n} cells): $T \\propto \\eta_{{\\mathrm{{eff}}}}^{{b}}$ with "
        f"b = {fit.exponent:.2f} ± {fit.exponent_stderr:.2f}; free fit "
        f"b₁ = {fit.coef_lr:.2f}, b₂ = {fit.coef_one_minus_mu:.2f} (collapse: b₂ = −b₁); "
        f"R² {fit.r2_collapse:.3f} (collapse) vs {fit.r2_full:.3f} (free), F test p = "
        f"{fit.p_value:.3g}; "
        + (
            f"sd of ln T among cells with equal η_eff: {fit.within_sd:.3f} "
            f"({fit.n_tied_groups} groups)."
            if fit.n_tied_groups
            else "no two of these cells share η_eff."
        )
    )
display(Markdown("\n\n".join(lines)))
plot = mom[np.isfinite(mom["fpt_mean"])]
alt.Chart(plot).mark_point(filled=True, size=80).encode(
    x=alt.X("eta_eff:Q", scale=alt.Scale(type="log"), title="η_eff = η / (1 − μ)"),
    y=alt.Y(
        "fpt_mean:Q",
        scale=alt.Scale(type="log"),
        title=f"mean FPT to accuracy {P['target']} (epochs)",
    ),
    color=alt.Color("momentum:O", scale=alt.Scale(scheme="viridis")),
    shape="phase:N",
    tooltip=[
        "lr:Q",
        "momentum:Q",
        alt.Tooltip("eta_eff:Q", format=".3g"),
        alt.Tooltip("fpt_mean:Q", format=".2f"),
        "phase:N",
        alt.Tooltip("lyapunov:Q", format=".2f"),
    ],
).properties(
    width=560, height=300, title="Training time against the effective learning rate"
).interactive()

# %%
summary = {
    "notebook": "07_edge_of_chaos",
    "preset": preset,
    "params": P,
    "edge_momentum_grid": edge_mom.to_dict(orient="records"),
    "edge_weight_decay_grid": edge_wd.to_dict(orient="records"),
    "phase_counts": cells["phase"].value_counts().to_dict(),
    "best_cell": {
        k: (best[k].item() if hasattr(best[k], "item") else best[k])
        for k in (
            "grid",
            "lr",
            "momentum",
            "weight_decay",
            "eta_eff",
            "plateau_acc",
            "lyapunov",
            "lyapunov_stderr",
            "phase",
        )
    },
    "accuracy_by_phase": by_phase.to_dict(orient="records"),
    "weight_decay_lowers_lyapunov": {"n_down": n_down, "n_steps": int(diffs.size)},
    "scaling": {
        name: {
            k: getattr(f, k)
            for k in (
                "exponent",
                "exponent_stderr",
                "coef_lr",
                "coef_one_minus_mu",
                "r2_collapse",
                "r2_full",
                "p_value",
                "within_sd",
                "n",
            )
        }
        for name, f in fits.items()
    },
    "cells": cells.drop(columns=["fpt_times", "fpt_observed"]).to_dict(orient="records"),
    "n_runs": int(n_cells * P["n_runs"]),
    "n_trained": n_trained,
    "n_reused": n_reused,
    "device": str(dev),
    "wall_time_s": timer.elapsed,
    "provenance": report.provenance(str(dev)),
}
report.write_summary(summary_path, summary)
display(HTML(report.provenance_html(summary)))
{k: summary[k] for k in ("phase_counts", "best_cell", "wall_time_s")}
