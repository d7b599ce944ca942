"""A stored parameter scan (``book/scans/<name>.json`` and ``.md``) shown as measured.

Scans too costly for a build are run once by a tool under ``tools/`` and stored: a JSON file
whose ``meta`` holds the headline and a Markdown table beside it.
"""

from __future__ import annotations

import json
from pathlib import Path


def period_scan_markdown(path: str | Path) -> str:
    """The headline of a period scan (best τ, periods above it beyond the CIs) and its table.

    Parameters
    ----------
    path : str or Path
        The scan's JSON file; ``meta`` holds ``target``, ``horizon``, ``best_tau`` and
        ``taus_above_best_beyond_ci``; the table is the ``.md`` file of the same stem.

    Returns
    -------
    str
        Markdown; a note in italics if the scan is missing.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> meta = {"target": 0.5, "horizon": 60.0, "best_tau": 35, "taus_above_best_beyond_ci": []}
    >>> _ = (d / "s.json").write_text(json.dumps({"meta": meta}))
    >>> _ = (d / "s.md").write_text("| τ |")
    >>> print(period_scan_markdown(d / "s.json"))
    Scan at target 0.5 (horizon 60): the smallest measured restricted mean is at τ = 35; periods above it beyond the intervals: none.
    <BLANKLINE>
    | τ |
    >>> period_scan_markdown(d / "none.json")
    '*The scan table `none.md` is missing.*'
    """
    path = Path(path)
    if not path.exists():
        return f"*The scan table `{path.with_suffix('.md').name}` is missing.*"
    scan = json.loads(path.read_text())["meta"]
    head = (
        f"Scan at target {scan['target']} (horizon {scan['horizon']:g}): the smallest measured "
        f"restricted mean is at τ = {scan['best_tau']:g}; periods above it beyond the intervals: "
        + (", ".join(f"{t:g}" for t in scan["taus_above_best_beyond_ci"]) or "none")
        + "."
    )
    return head + "\n\n" + path.with_suffix(".md").read_text()


def stored_table(path: str | Path) -> str:
    """The stored Markdown table of a scan, or ``*(scan table not found)*`` if it is missing.

    Examples
    --------
    >>> stored_table("/nonexistent/scan.md")
    '*(scan table not found)*'
    """
    path = Path(path)
    return path.read_text() if path.exists() else "*(scan table not found)*"
