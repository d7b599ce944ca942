"""How a notebook reads: lines, share of prose, and how much code the rendered page shows.

    python tools/notebook_shape.py [notebooks/01_qss.py ...]

Per jupytext percent-format notebook: total lines, the share of lines inside markdown cells,
the largest code cell shown on the page (cells tagged ``hide-input``, ``remove-input`` or
``remove-cell`` are collapsed or absent), and the code lines shown in all. The targets of a
reader-first page: ≤ 250 lines, ≥ 30 % prose, no shown cell over 40 lines, ≤ 60 shown in all.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = ("hide-input", "remove-input", "remove-cell", "hide-cell")
LIMITS = {"lines": 250, "prose": 0.30, "largest_shown": 40, "shown": 60}


@dataclass(frozen=True)
class Shape:
    lines: int
    prose: float
    largest_shown: int
    shown: int

    def ok(self) -> bool:
        return (self.lines <= LIMITS["lines"] and self.prose >= LIMITS["prose"]
                and self.largest_shown <= LIMITS["largest_shown"]
                and self.shown <= LIMITS["shown"])  # fmt: skip


def shape(path: Path) -> Shape:
    """Measure one percent-format notebook (header comment block before the first cell is prose
    only if it is a markdown cell; blank lines count with their cell)."""
    lines = path.read_text().splitlines()
    cells: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("# %%"):
            cells.append((line, []))
        elif cells:
            cells[-1][1].append(line)
    md = sum(len(body) + 1 for head, body in cells if "[markdown]" in head)
    shown = []
    for head, body in cells:
        if "[markdown]" in head or any(t in head for t in HIDDEN):
            continue
        code = [b for b in body if b.strip()]
        shown.append(len(code))
    return Shape(len(lines), md / max(len(lines), 1), max(shown, default=0), sum(shown))


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("[0-9]*.py"))
    print(f"{'notebook':34s} lines  prose  largest shown  shown  ok")
    for p in paths:
        s = shape(p)
        print(
            f"{p.stem:34s} {s.lines:5d}  {s.prose:5.0%}  {s.largest_shown:13d}  {s.shown:5d}  {s.ok()}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
