"""Compare two builds' notebook summaries: is every number the book showed still the same?

    python tools/compare_summaries.py OLD_DIR NEW_DIR [--rtol 1e-9]

For every ``<stem>.summary.json`` in OLD_DIR, walks the JSON tree of the same file in NEW_DIR and
lists each path whose value changed (numbers within ``--rtol``; NaN equals NaN), is missing, or
is new. Keys that record the machine rather than the science (``wall_time_s``, ``cpu_time_s``,
``provenance``, ``git_commit``, ``peak_memory_mb``, and whether runs were trained or reused) are skipped. Exit status 1 when anything differs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

SKIP = {
    "wall_time_s",
    "cpu_time_s",
    "provenance",
    "git_commit",
    "peak_memory_mb",
    "n_trained",
    "n_reused",
}


def diff(a, b, path: str = "", rtol: float = 1e-9) -> list[str]:
    """Paths where the JSON values ``a`` (old) and ``b`` (new) differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if k in SKIP:
                continue
            p = f"{path}.{k}" if path else str(k)
            if k not in b:
                out.append(f"{p}: missing in new")
            elif k not in a:
                out.append(f"{p}: new")
            else:
                out += diff(a[k], b[k], p, rtol)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} → {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in diff(x, y, f"{path}[{i}]", rtol)
        ]
    num = (int, float)
    if (
        isinstance(a, num)
        and isinstance(b, num)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        if (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol, abs_tol=rtol):
            return []
        return [f"{path}: {a!r} → {b!r}"]
    return [] if a == b else [f"{path}: {str(a)[:80]!r} → {str(b)[:80]!r}"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--rtol", type=float, default=1e-9)
    ap.add_argument("--only", nargs="*", help="stems to compare (default: all in OLD)")
    args = ap.parse_args(argv)
    bad = 0
    for f in sorted(args.old.glob("*.summary.json")):
        stem = f.name.removesuffix(".summary.json")
        if args.only and stem not in args.only:
            continue
        g = args.new / f.name
        if not g.exists():
            print(f"{stem}: missing in {args.new}")
            bad += 1
            continue
        d = diff(json.loads(f.read_text()), json.loads(g.read_text()), rtol=args.rtol)
        print(f"{stem}: {'unchanged' if not d else f'{len(d)} differences'}")
        for line in d[:40]:
            print("   ", line)
        bad += bool(d)
    return int(bad > 0)


if __name__ == "__main__":
    sys.exit(main())
