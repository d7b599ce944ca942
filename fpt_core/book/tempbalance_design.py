"""The design of a TempBalance experiment: its parameters checked, and its two training arms.

:func:`check_design` raises ``ValueError`` naming the parameter for a design that cannot give
its confidence intervals; :func:`arm_configs` builds the two :class:`fpt_core.train.config.TrainConfig`
arms that differ only in TempBalance: plain SGD with the measuring-only protocol (α logged,
no learning rate changed) and SGD with TempBalance's per-layer learning rates;
:func:`scan_words` compares the design scan with this build, :func:`scan_markdown` shows the
scan's stored table with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fpt_core.train.config import TrainConfig

__all__ = ["arm_configs", "check_design", "scan_markdown", "scan_words"]


def check_design(p: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` unless ``p`` is a usable paired TempBalance design.

    Counts are integers ≥ 1, with ``n_runs`` ≥ 3 and ``n_spectra``, ``n_random`` ≥ 2 (confidence
    intervals); ``plateau_epochs`` ≤ ``epochs``; ``n_spectra`` ≤ ``n_runs``; ``target`` in (0, 1);
    ``margin`` in [0, 1); ``model_kwargs`` a dict.

    Examples
    --------
    >>> ok = dict(n_runs=8, epochs=8, plateau_epochs=3, n_spectra=3, farms_size=32, n_random=4,
    ...           target=0.45, margin=0.005, model_kwargs={})
    >>> check_design(ok)
    >>> check_design(dict(ok, target=1.5))
    Traceback (most recent call last):
    ...
    ValueError: target=1.5 must lie in (0, 1)
    """
    for name in ("n_runs", "epochs", "plateau_epochs", "n_spectra", "farms_size", "n_random"):
        if not (isinstance(p[name], int) and p[name] >= 1):
            raise ValueError(f"{name}={p[name]!r} must be an integer ≥ 1")
    if p["n_runs"] < 3 or p["n_spectra"] < 2 or p["n_random"] < 2:
        raise ValueError(f"n_runs={p['n_runs']} must be ≥ 3, n_spectra={p['n_spectra']} and "
                         f"n_random={p['n_random']} ≥ 2 (confidence intervals)")  # fmt: skip
    if p["plateau_epochs"] > p["epochs"]:
        raise ValueError(
            f"plateau_epochs={p['plateau_epochs']} must lie in [1, epochs={p['epochs']}]"
        )
    if p["n_spectra"] > p["n_runs"]:
        raise ValueError(f"n_spectra={p['n_spectra']} must lie in [2, n_runs={p['n_runs']}]")
    if not (isinstance(p["target"], float | int) and 0 < p["target"] < 1):
        raise ValueError(f"target={p['target']!r} must lie in (0, 1)")
    if not (isinstance(p["margin"], float | int) and 0 <= p["margin"] < 1):
        raise ValueError(f"margin={p['margin']!r} must lie in [0, 1)")
    if not isinstance(p["model_kwargs"], dict):
        raise ValueError(f"model_kwargs={p['model_kwargs']!r} must be a dict")


def arm_configs(p: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, TrainConfig]]:
    """The TempBalance protocol spec and the two arms ``{"SGD": …, "TempBalance": …}``.

    Both arms train with a cosine schedule and the same model, data and optimiser; SGD runs the
    measuring-only form ``{"kind": "tempbalance", "apply": False}``. The spec takes ``s1``/``s2``
    for ``assignment="tempbalance"`` and ``mb_s`` for ``"model_balancing"``; the
    :class:`TrainConfig` constructors validate it (``ValueError`` naming the parameter).

    Examples
    --------
    >>> p = dict(dataset="mnist1d", model="mlp", model_kwargs={}, lr=0.1, momentum=0.9,
    ...          weight_decay=0.0, batch_size=100, epochs=2, augment=None,
    ...          assignment="tempbalance", exclude_first_last=True, s1=0.5, s2=1.5, mb_s=None)
    >>> spec, arms = arm_configs(p)
    >>> spec["s1"], spec["s2"], sorted(arms)
    (0.5, 1.5, ['SGD', 'TempBalance'])
    """
    spec: dict[str, Any] = {"kind": "tempbalance", "assignment": p["assignment"],
                            "exclude_first_last": p["exclude_first_last"]}  # fmt: skip
    if p["assignment"] == "model_balancing":
        spec["s"] = p["mb_s"]
    else:
        spec.update(s1=p["s1"], s2=p["s2"])
    keys = ("dataset", "model", "model_kwargs", "lr", "momentum", "weight_decay", "batch_size",
            "epochs", "augment")  # fmt: skip
    common = {k: p[k] for k in keys} | {"lr_schedule": "cosine"}
    return spec, {
        "SGD": TrainConfig(**common, perturbation={"kind": "tempbalance", "apply": False}),
        "TempBalance": TrainConfig(**common, perturbation=spec),
    }


def scan_words(rows: list[dict[str, Any]], p: Mapping[str, Any], sd: float,
               half_width: float) -> str:  # fmt: skip
    """The design scan's row for this horizon and network against this build's paired SD.

    ``rows`` are the rows of ``tools/scan_tempbalance.py``'s JSON (``epochs``, ``hidden``,
    ``sd_paired``, ``runs``, ``n_required``); empty string when none matches.

    Examples
    --------
    >>> rows = [{"epochs": 40, "hidden": [8], "sd_paired": 0.02, "runs": 16, "n_required": 62}]
    >>> p = {"epochs": 40, "model_kwargs": {"hidden": [8]}, "n_runs": 64}
    >>> scan_words(rows, p, 0.019, 0.0048)[:40]
    'At this horizon (40 epochs) the scan mea'
    >>> scan_words(rows, dict(p, epochs=8), 0.019, 0.0048)
    ''
    """
    match = [r for r in rows
             if r["epochs"] == p["epochs"] and r["hidden"] == p["model_kwargs"].get("hidden")]  # fmt: skip
    if not match:
        return ""
    r = match[0]
    return (f"At this horizon ({p['epochs']} epochs) the scan measured a paired SD of "
            f"{r['sd_paired']:.4f} over {r['runs']} seeds, hence {r['n_required']} seeds for "
            f"±0.005; this build uses {p['n_runs']} and measured a paired SD of {sd:.4f} "
            f"(half-width {half_width:.4f}).")  # fmt: skip


def scan_markdown(table: str | Path, rows: str | Path, p: Mapping[str, Any], sd: float,
                  half_width: float) -> str:  # fmt: skip
    """The design scan's stored Markdown table, then :func:`scan_words` for this build.

    ``table`` is ``tools/scan_tempbalance.py``'s Markdown file and ``rows`` its JSON (with a
    ``rows`` list); a missing table reads ``*(scan table not found)*``, missing rows no words.

    Examples
    --------
    >>> scan_markdown("/nonexistent.md", "/nonexistent.json", {}, 0.02, 0.005).strip()
    '*(scan table not found)*'
    """
    table, rows = Path(table), Path(rows)
    text = table.read_text() if table.exists() else "*(scan table not found)*"
    found = json.loads(rows.read_text())["rows"] if rows.exists() else []
    return f"{text}\n\n{scan_words(found, p, sd, half_width)}"
