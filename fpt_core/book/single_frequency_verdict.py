"""The single-frequency test in words: its premise checks, its verdict and its claims-ledger rows.

:func:`premise_phrases` and :func:`verdict_phrases` give short texts (name → text) that a page
glues into its prose, each holding only measured numbers or words decided by them;
:func:`single_frequency_claims` gives the three rows of the claims ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fpt_core.book.claims import claim
from fpt_core.stats.fpt import MeanFPT
from fpt_core.stats.single_frequency import SingleFrequencyTest

from .qss_evidence import reference_text

__all__ = [
    "cv_claim",
    "premise_phrases",
    "single_frequency_claims",
    "summary_fields",
    "verdict_phrases",
]


def premise_phrases(sf: SingleFrequencyTest) -> dict[str, str]:
    """The premise checks of ``sf`` with their numbers.

    Returns
    -------
    dict of str
        ``target``, ``horizon``, ``n_reached`` and ``n_unperturbed`` (unperturbed runs that reach
        the target, of all), ``mean_T`` (``"= <mean>"``, or ``"≥ <mean> (restricted mean)"``
        under censoring), ``cv_bound`` and ``cv_bound_low``, ``t_relax_refs``, ``refs_stable``
        (``"stable"`` or ``"not stable"``), ``refs_spread``, ``survivors_t_relax``,
        ``survivors_source``, ``tail_shares``, ``tail_pvalue``, ``tp_window``, ``tp_chi2``,
        ``tp_dof``, ``tp_pvalue``, ``premise_word`` (``"holds"`` or ``"fails"``) and
        ``premise_detail`` (the relaxation time against τ0, or the failed checks).

    Examples
    --------
    >>> import numpy as np
    >>> from fpt_core.stats.single_frequency import single_frequency_test
    >>> rng = np.random.default_rng(0)
    >>> times = np.arange(0.0, 41)
    >>> def acc(n):
    ...     return np.minimum(0.5 + 0.02 * rng.standard_normal((n, times.size)), times / 20)
    >>> sf = single_frequency_test(acc(40), acc(40), {10.0: acc(40), 15.0: acc(40)}, times,
    ...                            target=0.52, tau0=10.0, n_resamples=19)
    >>> p = premise_phrases(sf)
    >>> p["target"], p["n_unperturbed"], p["premise_word"] == ("holds" if sf.premise else "fails")
    ('0.52', '40', True)
    """
    m0, rel = sf.unperturbed, sf.relaxation
    mean = f"= {m0.mean:.1f}" if m0.estimable else f"≥ {m0.mean:.1f} (restricted mean)"
    detail = (
        f"QSS from epoch {sf.t_relax:g} ≤ τ0 = {sf.tau0:g}" if sf.premise else "; ".join(sf.reasons)
    )
    return {
        "target": f"{sf.target:g}",
        "horizon": f"{sf.horizon:g}",
        "n_reached": str(m0.n - m0.n_censored),
        "n_unperturbed": str(m0.n),
        "mean_T": mean,
        "cv_bound": f"{m0.cv_lower_bound:.2f}",
        "cv_bound_low": f"{m0.cv_lower_bound_low:.2f}",
        "t_relax_refs": reference_text(rel),
        "refs_stable": "stable" if rel.robust else "not stable",
        "refs_spread": f"±{rel.spread:.0%}",
        "survivors_t_relax": f"{sf.survivors_t_relax:g}",
        "survivors_source": sf.survivors_source,
        "tail_shares": " → ".join(f"{v:.3f}" for v in sf.tail.share),
        "tail_pvalue": f"{sf.tail.pvalue:.2g}",
        "tp_window": f"{sf.tp_window:g}",
        "tp_chi2": f"{sf.tp_logrank.statistic:.2f}",
        "tp_dof": str(sf.tp_logrank.dof),
        "tp_pvalue": f"{sf.tp_logrank.pvalue:.2g}",
        "premise_word": "holds" if sf.premise else "fails",
        "premise_detail": detail,
    }


def verdict_phrases(
    sf: SingleFrequencyTest, sweep: Mapping[float, SingleFrequencyTest]
) -> dict[str, str]:
    """The verdict of ``sf`` and of each target of ``sweep``, in words.

    Returns
    -------
    dict of str
        ``verdict``, ``n_consistent`` and ``n_held_out`` (held-out periods where the renewal
        prediction is consistent with brute force, of all), ``sweep_verdicts`` (``"a* = <target>:
        <verdict>"`` per target) and ``sweep_premise`` (the targets where the premise fails, or
        that it holds at all of them).

    Examples
    --------
    >>> import numpy as np
    >>> from fpt_core.stats.single_frequency import single_frequency_test
    >>> rng = np.random.default_rng(0)
    >>> times = np.arange(0.0, 41)
    >>> def acc(n):
    ...     return np.minimum(0.5 + 0.02 * rng.standard_normal((n, times.size)), times / 20)
    >>> sf = single_frequency_test(acc(40), acc(40), {10.0: acc(40), 15.0: acc(40)}, times,
    ...                            target=0.52, tau0=10.0, n_resamples=19)
    >>> v = verdict_phrases(sf, {0.52: sf})
    >>> v["n_held_out"], v["sweep_verdicts"] == f"a* = 0.52: {sf.verdict}"
    ('1', True)
    """
    held = [p for p in sf.periods if p.held_out]
    fails = [a for a, r in sweep.items() if not r.premise]
    return {
        "verdict": sf.verdict,
        "n_consistent": str(sum(p.agreement.consistent for p in held)),
        "n_held_out": str(len(held)),
        "sweep_verdicts": "; ".join(f"a* = {a:g}: {r.verdict}" for a, r in sweep.items()),
        "sweep_premise": (
            f"The premise fails at a* = {', '.join(f'{a:g}' for a in fails)}."
            if fails
            else "The premise holds at every target of the sweep."
        ),
    }


def cv_claim(m0: MeanFPT) -> tuple[str, str]:
    """What the unperturbed ensemble says about CV > 1, and the verdict.

    With every run observed, the CV and its CI decide: *reproduced* if the CI lies above 1,
    *not reproduced* if below, else *not tested at this preset*. Under censoring only a lower
    bound is known, which can establish CV > 1 (its lower end above 1) but never refute it.

    Examples
    --------
    >>> from fpt_core.stats.fpt import MeanFPT
    >>> m = MeanFPT(28.6, 27.0, 30.0, False, float("nan"), float("nan"), float("nan"),
    ...             float("nan"), 0.86, 0.76, 120.0, 256, 16, 0.95)
    >>> cv_claim(m)
    ('6.2% of runs censored: CV ≥ 0.86 (95 % lower end 0.76)', 'not tested at this preset')
    """
    if m0.estimable:
        text = f"CV = {m0.cv:.2f} (95 % CI {m0.cv_low:.2f}–{m0.cv_high:.2f})"
        if m0.cv_low > 1:
            return text, "reproduced"
        return text, "not reproduced" if m0.cv_high < 1 else "not tested at this preset"
    text = (
        f"{m0.n_censored / m0.n:.1%} of runs censored: CV ≥ {m0.cv_lower_bound:.2f} "
        f"(95 % lower end {m0.cv_lower_bound_low:.2f})"
    )
    return text, "reproduced" if m0.cv_lower_bound_low > 1 else "not tested at this preset"


def single_frequency_claims(sf: SingleFrequencyTest, *, alpha: float) -> list[dict[str, str]]:
    """The three claims-ledger rows of the single-frequency test: the prediction from one period,
    the law of T_p independent of the period (log-rank at level ``alpha``) and CV > 1
    (:func:`cv_claim`).

    Examples
    --------
    >>> import numpy as np
    >>> from fpt_core.stats.single_frequency import single_frequency_test
    >>> rng = np.random.default_rng(0)
    >>> times = np.arange(0.0, 41)
    >>> def acc(n):
    ...     return np.minimum(0.5 + 0.02 * rng.standard_normal((n, times.size)), times / 20)
    >>> sf = single_frequency_test(acc(40), acc(40), {10.0: acc(40), 15.0: acc(40)}, times,
    ...                            target=0.52, tau0=10.0, n_resamples=19)
    >>> rows = single_frequency_claims(sf, alpha=0.05)
    >>> len(rows), rows[0]["verdict"] == sf.verdict
    (3, True)
    """
    held = [p for p in sf.periods if p.held_out]
    n_ok = sum(p.agreement.consistent for p in held)
    errors = ", ".join(f"{p.agreement.relative_error:+.1%}" for p in held)
    taus = ", ".join(f"{p.tau:g}" for p in held)
    lr = sf.tp_logrank
    cv_text, cv_verdict = cv_claim(sf.unperturbed)
    return [
        claim(
            "Meir et al. 2025",
            "Once the survivors are in a quasi-steady state, the response to a perturbation at "
            "one period predicts the mean first-passage time at other periods.",
            f"premise {'holds' if sf.premise else 'fails'}; held-out relative errors {errors} "
            f"at τ = {taus} ({n_ok} of {len(held)} within the 95 % interval)",
            sf.verdict,
        ),
        claim(
            "Meir et al. 2025",
            "In the quasi-steady state the time from a perturbation to the target, T_p, does "
            "not depend on when the perturbation comes.",
            f"log-rank across periods: χ² = {lr.statistic:.2f}, p = {lr.pvalue:.2g}",
            "reproduced" if lr.pvalue >= alpha else "not reproduced",
        ),
        claim(
            "Meir et al. 2025",
            "The unperturbed first-passage time is broad (CV > 1), so perturbing at a small "
            "rate speeds training up.",
            cv_text,
            cv_verdict,
        ),
    ]


def summary_fields(sf: SingleFrequencyTest) -> dict[str, Any]:
    """What a page's summary records of ``sf``: the premise checks, the unperturbed mean and CV
    bounds, the T_p log-rank test, the censoring, the per-period table and the verdict.

    Returns
    -------
    dict
        Keys ``t_relax``, ``t_relax_source``, ``t_relax_survivors``, ``t_relax_by_reference``,
        ``t_relax_robust``, ``tail_pvalue``, ``premise``, ``premise_failures``,
        ``unperturbed_mean_fpt``, ``unperturbed_mean_estimable``, ``unperturbed_cv`` (``None``
        unless estimable), ``cv_lower_bound``, ``cv_lower_bound_low``, ``unperturbed_censored``,
        ``perturbed_censored_max``, ``tp_logrank_statistic``, ``tp_logrank_pvalue``, ``per_tau``
        (records of :meth:`~fpt_core.stats.single_frequency.SingleFrequencyTest.table`), ``verdict``.

    Examples
    --------
    >>> import numpy as np
    >>> from fpt_core.stats.single_frequency import single_frequency_test
    >>> rng = np.random.default_rng(0)
    >>> times = np.arange(0.0, 41)
    >>> def acc(n):
    ...     return np.minimum(0.5 + 0.02 * rng.standard_normal((n, times.size)), times / 20)
    >>> sf = single_frequency_test(acc(40), acc(40), {10.0: acc(40), 15.0: acc(40)}, times,
    ...                            target=0.52, tau0=10.0, n_resamples=19)
    >>> s = summary_fields(sf)
    >>> [r["tau"] for r in s["per_tau"]], s["premise"] == (not s["premise_failures"])
    ([10.0, 15.0], True)
    """
    m0 = sf.unperturbed
    return {
        "t_relax": sf.t_relax,
        "t_relax_source": sf.survivors_source,
        "t_relax_survivors": sf.survivors_t_relax,
        "t_relax_by_reference": {f"{e:g}": t for e, t in sf.relaxation.t_relax.items()},
        "t_relax_robust": sf.relaxation.robust,
        "tail_pvalue": sf.tail.pvalue,
        "premise": sf.premise,
        "premise_failures": sf.reasons,
        "unperturbed_mean_fpt": m0.mean,
        "unperturbed_mean_estimable": m0.estimable,
        "unperturbed_cv": m0.cv if m0.estimable else None,
        "cv_lower_bound": m0.cv_lower_bound,
        "cv_lower_bound_low": m0.cv_lower_bound_low,
        "unperturbed_censored": m0.n_censored / m0.n,
        "perturbed_censored_max": max(p.censored for p in sf.periods),
        "tp_logrank_statistic": sf.tp_logrank.statistic,
        "tp_logrank_pvalue": sf.tp_logrank.pvalue,
        "per_tau": sf.table().to_dict(orient="records"),
        "verdict": sf.verdict,
    }
