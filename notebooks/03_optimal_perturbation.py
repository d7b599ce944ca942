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
# (nb-optimal-perturbation)=
# # 3. Which perturbation, how often?
#
# **The claims** {cite}`meir2025firstpassage`: perturbing training every $\tau$ epochs has an
# optimal period $\tau^\ast$ for the mean first-passage time $\langle T_\tau\rangle$ to the
# target accuracy; a perturbation at $\tau$ helps iff the mean time from it to the target,
# $\langle T_p\rangle$, is shorter than a survivor's mean remaining time
# $\mathbb E[T-\tau\mid T>\tau]$ ({ref}`theory-fpt`); and a full reset to a fresh start, the
# classic restart {cite}`pal2017first`, is predicted by the unperturbed runs alone.
#
# ```{glue:md} claims_box
# :format: myst
# ```
#
# **How they are tested.** Four perturbations ({mod}`fpt_core.protocols.perturb`) in the setting of
# {ref}`nb-single-frequency`: **shrink & perturb** {cite}`ash2020warm`; a **full reset to a fresh
# draw**, exactly $\langle T_\tau\rangle = \mathbb E[\min(T,\tau)]/(1 - S(\tau))$ (not so for a reset
# to a run's own initial weights); a **partial reset** of the smallest weights; an SGDR-style **warm
# restart** {cite}`loshchilov2017sgdr`, a **learning-rate schedule effect**. For all but the reset,
# one ensemble perturbed once at $\tau_0$ gives the law of $T_p$ and the renewal form predicts
# $\langle T_\tau\rangle$ inside its premise $t_\mathrm{relax} \le \tau \le h - \tau_0$ ($h$ the
# horizon; $T_p$ independent of τ: checked for shrink & perturb, assumed for the other two). Optima
# count if *interior* beyond the bootstrap noise ({func}`~fpt_core.stats.optimum.interior_optimum`);
# speedups $\mathbb E[\min(T,h)]/\mathbb E[\min(T_{\tau^\ast},h)]$ (restricted means) have CIs, and
# protocols are ranked only where those separate ({func}`~fpt_core.stats.optimum.separated_ranking`).

# %% tags=["parameters"]
preset = "default"  # tiny | default | paper
n_runs = None  # unperturbed runs (seeds 0 … n_runs-1, notebooks 01-02's)
n_perturbed = None  # runs per perturbed ensemble
epochs = None  # horizon h of every ensemble
dataset = None
num_samples = None
model = None
hidden = None
lr = None
momentum = None
batch_size = None
target = None  # target test accuracy a*, in [0, 1]
tau0 = None  # the single perturbation of each protocol (notebook 02's τ0)
sp_taus = None  # shrink & perturb brute-force periods (notebook 02's held-out τ; reused)
reset_tau = None  # period of the brute-force check of the sharp-restart formula
sweep_targets = None  # other targets re-analysed from the same runs (no training)
sp_short_taus = None  # shrink & perturb brute force below the relaxation time (may be empty)
short_runs = None  # runs per short-period ensemble
short_horizon = None  # horizon of the short-period ensembles (epochs); all compared up to it
protocols = None  # subset of shrink_perturb, reset, partial_reset, warm_restart
lam = None  # shrink & perturb λ
sigma = None  # shrink & perturb σ
partial_f = None  # partial reset: fraction of weights re-drawn, in (0, 1]
warm_cycle = None  # warm restart: annealing cycle length (epochs)
warm_floor = None  # warm restart: learning-rate multiplier reached at the end of the cycle
alpha = 0.05  # significance level of the premise tests
min_survivors = 10  # fewest survivors at the KS reference epoch
confidence_level = 0.95
n_resamples = 999  # bootstrap resamples
chunk_size = None
data_root = None
device = None
results_dir = "results"
summary_path = "book/executed/03_optimal_perturbation.summary.json"

# %% tags=["hide-input"]
from IPython.display import HTML, Markdown, display

from fpt_core.book import perturbation_protocols as pp
from fpt_core.book import premise_report, presets, protocol_optima, report, viz
from fpt_core.book import sharp_restart_check as src
from fpt_core.book.claims import claims_box
from fpt_core.book.glued_words import glue_words
from fpt_core.book.period_curve_chart import brute_force_points, period_curve_chart
from fpt_core.book.periodic_brute_force import brute_force_periods, brute_force_texts
from fpt_core.book.perturbation_claims import perturbation_claims
from fpt_core.book.perturbation_criterion import criterion_table
from fpt_core.book.perturbation_summary import perturbation_summary
from fpt_core.book.protocol_target_sweep import target_sweep
from fpt_core.book.scan_report import period_scan_markdown
from fpt_core.book.warm_restart_timing import anneal_share
from fpt_core.stats.fpt import first_passage, mean_fpt
from fpt_core.stats.optimum import protocol_optimum
from fpt_core.stats.single_frequency import censor_at, single_frequency_test

viz.use_offline_renderer()
timer = report.Timer()
PRESETS = presets.load("03_optimal_perturbation")  # notebooks/presets.yml: knob = parameter
P = presets.resolve(PRESETS, preset, **{k: globals()[k] for k in PRESETS.get(preset, {})})
base, SPECS = pp.configs(P, alpha=alpha, confidence_level=confidence_level,  # checks every value
                         min_survivors=min_survivors, n_resamples=n_resamples)  # fmt: skip
P

# %% [markdown]
# ## The ensembles
# The unperturbed runs (notebooks 01–02's) give $S$ and $\mathbb E[\min(T,\tau)]$, for the reset
# everything; each other protocol is perturbed **once** at $\tau_0$, with the same seeds (common
# random numbers; {func}`~fpt_core.book.perturbation_protocols.train_protocols`). Brute force:
# notebook 02's shrink & perturb every τ, short periods `sp_short_taus`, a reset every `reset_tau`.

# %% tags=["hide-input"]
runs = pp.train_protocols(base, SPECS, P, store=results_dir, chunk_size=P["chunk_size"],
                          device=device, data_root=data_root)  # seeds: see its docstring  # fmt: skip
ens0 = runs.unperturbed
times, acc0 = ens0.matrix("test_acc")
horizon, n_p, sp_periods = float(times[-1]), P["n_perturbed"], [P["tau0"], *P["sp_taus"]]
counts = report.ensemble_counts(runs.all)
glue_words(**{"n_ens": len(runs.all), "n_unperturbed": ens0.n_runs, **counts, **P})
acc_once = {n: e.matrix("test_acc")[1] for n, e in runs.once.items()}
acc_sp = {tau: e.matrix("test_acc")[1] for tau, e in runs.periodic.items()}
kw = dict(confidence_level=confidence_level, n_resamples=n_resamples)
fp0 = first_passage(acc0, P["target"], times)
fps_once = {n: first_passage(a, P["target"], times) for n, a in acc_once.items()}
viz.ensemble_means_chart(runs.labelled(P["reset_tau"]), target=P["target"])

# %% [markdown]
# {glue:text}`n_ens` ensembles ({glue:text}`n_unperturbed` unperturbed runs, {glue:text}`n_perturbed`
# per perturbed ensemble, {glue:text}`short_runs` per short-period one): {glue:text}`n_trained`
# trained, {glue:text}`n_reused` reused, {glue:text}`n_diverged` diverged. Shrink & perturb:
# $\theta \leftarrow \lambda\theta + \sigma\theta_\mathrm{fresh}$, λ = {glue:text}`lam`, σ =
# {glue:text}`sigma`, momentum reset (the paper's released code); partial reset: the fraction
# {glue:text}`partial_f` of weights of smallest $|w|$ re-drawn from their layers' initial law; warm
# restart: η annealed on a cosine to {glue:text}`warm_floor`·η over {glue:text}`warm_cycle` epochs.
#
# ## The premise
# The checks of {ref}`nb-single-frequency`, rerun on the same runs, give the relaxation time,
# the lower end of the periods allowed for the protocols predicted from one perturbation.

# %%
sf = single_frequency_test(acc0, acc_once["shrink_perturb"], acc_sp, times, target=P["target"],
                           tau0=P["tau0"], alpha=alpha, min_survivors=min_survivors, rng=0, **kw)  # fmt: skip
m0, t_relax = sf.unperturbed, sf.t_relax
glue_words(**premise_report.premise_texts(sf, horizon))

# %% [markdown]
# At $a^*$ = {glue:text}`target`, {glue:text}`reached` unperturbed runs arrive within
# {glue:text}`horizon` epochs: $\mathbb E[\min(T,h)]$ = {glue:text}`m0`, {glue:text}`m0_kind`.
# Relaxation time {glue:text}`t_relax` epochs; **{glue:text}`premise`** ({glue:text}`premise_why`).
#
# ## Full reset: the sharp-restart formula against brute force
# Predicted from the unperturbed runs alone ({func}`fpt_core.stats.restart.sharp_restart_mean`),
# measured on an ensemble reset every `reset_tau` epochs (set near the predicted optimum when
# the preset was chosen); restricted means, compared by {func}`fpt_core.stats.verdicts.agreement`.

# %%
reset_check = None
if runs.reset is not None:
    fp_reset = first_passage(runs.reset.matrix("test_acc")[1], P["target"], times)
    reset_check = src.sharp_restart_check(fp0, fp_reset, P["reset_tau"], horizon, **kw)
glue_words(**src.sharp_restart_texts(reset_check, n_p, confidence_level))

# %% [markdown]
# Reset every {glue:text}`reset_tau` epochs: predicted {glue:text}`reset_pred`, measured
# {glue:text}`reset_meas` ({glue:text}`reset_censored` censored), relative error
# {glue:text}`reset_rel`, **{glue:text}`reset_agree`** at the {glue:text}`reset_level` level
# (resolution {glue:text}`reset_resolution`). {glue:text}`reset_caveat`
#
# ## Predicted ⟨T_τ⟩, optimal period and speedup per protocol
# Solid on the allowed grid, dashed outside; bands: bootstrap CIs; diamonds: τ*; black: brute
# force; gray: the unperturbed restricted mean. Table: τ* and its CI, interior or `edge`, the rise
# to each end of the grid, the speedup and its CI, the share `unreached` at $h$ (where 0, the
# speedup also bounds ⟨T⟩/⟨T_τ*⟩ from below) and the ranking.

# %%
results = {name: protocol_optimum(fp0, t_relax=t_relax, rng=1, **kw, **(
               {} if name == "reset" else dict(perturbed=fps_once[name], tau0=P["tau0"])))
           for name in P["protocols"]}  # fmt: skip
table = protocol_optima.protocol_table(results, pp.EFFECT, P["tau0"])
beats, best = protocol_optima.rank_protocols(table, confidence_level)

# %% tags=["remove-input"]
in_cycle, warm = anneal_share(fps_once.get("warm_restart"), P["tau0"], P["warm_cycle"])  # fmt: skip
glue_words(**warm)
display(period_curve_chart(results, brute_force_points(sf.periods, reset_check), m0.mean))
display(table.round(3), Markdown(protocol_optima.protocol_findings(table, beats, best)))

# %% [markdown]
# Of the warm restart's survivors at $\tau_0$, {glue:text}`warm_hit` reach the target after it,
# {glue:text}`warm_share` of them within the anneal, while η is below its base value.
#
# ## When does perturbing help?
# Iff $\mathbb E[\min(T_p,\tau)]/\Pr[T_p\le\tau] < \mathbb E[T-\tau\mid T>\tau]$
# ({ref}`theory-fpt`). Censoring leaves only a lower bound of the right side, so a gain can be
# predicted but not a loss; checked against notebook 02's ensembles perturbed every τ.

# %%
crit = criterion_table(fp0, fps_once["shrink_perturb"], P["tau0"], sp_periods, sf.periods, m0,
                       confidence_level)  # fmt: skip
crit.round(3)

# %% [markdown]
# ## Is there an optimal period? Brute force
# Below $t_\mathrm{relax}$ only brute force speaks. All ensembles perturbed every τ are cut at
# `short_horizon` and compared by restricted means; τ* is interior when a shorter and a longer
# period are slower beyond the intervals ({func}`fpt_core.stats.optimum.measured_optimum`).

# %%
hs = float(P["short_horizon"])
short_acc = {t: e.matrix("test_acc")[1] for t, e in runs.short.items()}
bf, bf_opt = brute_force_periods(short_acc, acc_sp, times, P["target"], hs, **kw)
glue_words(**brute_force_texts(bf, bf_opt, mean_fpt(censor_at(fp0, hs), rng=19, **kw), hs))
bf.round(3)

# %% [markdown]
# Cut at {glue:text}`bf_horizon` epochs, the smallest restricted mean is at τ =
# {glue:text}`bf_best`; slower beyond the intervals at shorter τ {glue:text}`bf_left`, longer τ
# {glue:text}`bf_right`: **{glue:text}`bf_interior`**; tied with it: {glue:text}`bf_tied`;
# unperturbed: {glue:text}`bf_unperturbed`.
#
# ## Other targets, and below the relaxation time
# The same runs at other targets (no training; 199 resamples): relaxation time, premise, per
# protocol τ* and speedup. Then a stored scan (`tools/scan_optimal_perturbation.py`, too costly at
# `default`): shrink & perturb every τ, down to short periods, at a common horizon.

# %% tags=["hide-input"]
sweep = target_sweep(acc0, acc_once, acc_sp, times, [P["target"], *P["sweep_targets"]],
                     P["protocols"], tau0=P["tau0"], alpha=alpha, min_survivors=min_survivors,
                     **kw)  # fmt: skip
display(sweep[[c for c in sweep.columns if not c.endswith("_interior")]].round(4))
display(Markdown(period_scan_markdown("book/scans/optimal_perturbation.json")))

# %% [markdown]
# ## Summary
# Four perturbations: predicted ⟨T_τ⟩ against τ, its optimum and speedup; the sharp-restart formula
# and the criterion against brute force; shrink & perturb's optimal period by brute force. The
# verdicts (as in the box at the top) follow. An optimum on the lower edge of a predicted protocol's
# grid lies at or before $t_\mathrm{relax}$, outside the premise: *not tested*, not refuted;
# $h(\tau^\ast) = 1/\langle T_p\rangle$ ({ref}`theory-fpt`) is not tested here.

# %% tags=["hide-input"]
claims = perturbation_claims(table, bf, bf_opt, hs, crit, m0, sf.premise, reset_check)
display(Markdown("\n".join(f"- *{c['claim']}* — {c['measured']}: **{c['verdict']}**." for c in claims)))  # fmt: skip
glue_words(claims_box=Markdown(claims_box(claims)))
summary = perturbation_summary(
    "03_optimal_perturbation", preset, P, sf=sf, horizon=horizon, table=table, ranking=beats,
    best=best, reset_check=reset_check, criterion=crit, warm_share=in_cycle, sweep=sweep,
    brute_force=bf, brute_force_optimum=bf_opt, brute_force_horizon=hs, specs=SPECS,
    claims=claims, counts=counts, device=ens0.device, wall_time_s=timer.elapsed)  # fmt: skip
report.write_summary(summary_path, summary)
display(HTML(report.provenance_html(summary)))
