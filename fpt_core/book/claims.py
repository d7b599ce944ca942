"""The claims ledger: one row per headline claim of a paper, with what this build measured.

Each notebook puts its own rows in its summary (``summary["claims"]``, built with :func:`claim`)
and opens with the same box (:func:`claims_box`); :func:`write_ledger` gathers every summary's
rows into ``book/executed/claims.json``, which the book's first page shows.

A verdict is one of :data:`VERDICTS` and is computed by the notebook from its own numbers:
*reproduced* (the data agree with the claim within their uncertainty), *not reproduced* (they
contradict it), *not tested at this preset* (the claim's premise does not hold, or the
experiment cannot decide).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fpt_core.train.store import atomic_write_text

__all__ = ["VERDICTS", "PAPERS", "claim", "claims_box", "read_ledger", "write_ledger"]

VERDICTS = ("reproduced", "not reproduced", "not tested at this preset")

#: Short names of the four papers (the ``paper`` field of a row) → citation key.
PAPERS = {
    "Meir et al. 2025": "meir2025firstpassage",
    "Adhikari et al. 2023": "adhikari2023machine",
    "HT-SR / TempBalance": "zhou2023temperature",
    "Edge of chaos": "zhang2021edge",
}

_FIELDS = ("paper", "claim", "measured", "verdict")


def claim(paper: str, claim: str, measured: str, verdict: str) -> dict[str, str]:
    """One ledger row, checked.

    Parameters
    ----------
    paper : one of the keys of :data:`PAPERS`.
    claim : the paper's statement, in one sentence.
    measured : what this build measured, with its CI or SE.
    verdict : one of :data:`VERDICTS`.

    Examples
    --------
    >>> claim("Meir et al. 2025", "T is heavy-tailed", "CV = 1.4 (≥ 1.2)", "reproduced")["verdict"]
    'reproduced'
    """
    if paper not in PAPERS:
        raise ValueError(f"paper must be one of {sorted(PAPERS)}, got {paper!r}")
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    for name, value in (("claim", claim), ("measured", measured)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return {"paper": paper, "claim": claim, "measured": measured, "verdict": verdict}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


_BADGE = {  # symbols every text font has (emoji fonts are missing on many offline machines)
    "reproduced": "✓ reproduced",
    "not reproduced": "✗ not reproduced",
    "not tested at this preset": "○ not tested at this preset",
}


def claims_box(
    rows: Iterable[Mapping[str, Any]],
    *,
    title: str = "Claims tested on this page",
    links: bool = False,
) -> str:
    """The claims as a MyST admonition holding a Markdown table (paper, claim, measured, verdict).

    With ``links=True`` a ``page`` column links each row to its notebook (``{doc}`` role, for the
    book's first page). Display it with ``IPython.display.Markdown`` or glue it
    (``myst_nb.glue(name, Markdown(box), display=False)`` and ``{glue:md}`` on the page).

    Examples
    --------
    >>> box = claims_box([claim("Meir et al. 2025", "x", "y", "reproduced")])
    >>> "✓ reproduced" in box and box.startswith(":::{admonition}")
    True
    """
    rows = list(rows)
    head = "| paper | claim | measured | verdict |" + (" page |" if links else "")
    rule = "|---|---|---|---|" + ("---|" if links else "")
    lines = [f":::{{admonition}} {title}", ":class: tip", "", head, rule]
    for r in rows:
        cells = [_cell(r[f]) for f in _FIELDS[:3]] + [_BADGE[r["verdict"]]]
        if links:
            cells.append(f"{{doc}}`{r['page']}`" if r.get("page") else "")
        lines.append("| " + " | ".join(cells) + " |")
    if not rows:
        lines.append("| | *no claims recorded* | | |" + (" |" if links else ""))
    lines += ["", ":::"]
    return "\n".join(lines) + "\n"


def write_ledger(
    executed: str | os.PathLike, out: str | os.PathLike | None = None
) -> list[dict[str, str]]:
    """Gather the ``claims`` of every ``<stem>.summary.json`` in ``executed`` into one list
    (each row gains ``page``: the notebook's path in the book, ``book/executed/<stem>``), check
    every row, and write it atomically to ``out`` (default ``executed/claims.json``)."""
    executed = Path(executed)
    rows: list[dict[str, str]] = []
    for path in sorted(executed.glob("*.summary.json")):
        stem = path.name.removesuffix(".summary.json")
        for r in json.loads(path.read_text()).get("claims") or []:
            row = claim(r["paper"], r["claim"], r["measured"], r["verdict"])
            row["page"] = f"/book/executed/{stem}"
            rows.append(row)
    atomic_write_text(
        out or executed / "claims.json", json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    )
    return rows


def read_ledger(path: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a ledger written by :func:`write_ledger` (an empty list if there is none)."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else []
