"""Regenerate the module lists of the API page (book/api.md) from the package tree.

Each ``## … (`fpt_core.<sub>`)`` section of the page keeps its heading and prose; its
``{eval-rst}`` block is rewritten to hold one ``automodule`` per module of the subpackage, in
alphabetical order, so a module added or split never goes missing from the reference. The top
of the page and the command-line section are left alone.

    python tools/api_page.py          # rewrite book/api.md
    python tools/api_page.py --check  # exit 1 if the page is out of date (used by the tests)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "api.md"
SECTION = re.compile(r"^## .*\(`fpt_core\.(\w+)`\)\n", re.M)
BLOCK = re.compile(r"```\{eval-rst\}\n.*?```\n", re.S)


def modules(sub: str) -> list[str]:
    """Dotted names of the modules of ``fpt_core.<sub>`` (no ``__init__``)."""
    folder = ROOT / "fpt_core" / sub
    return sorted(f"fpt_core.{sub}.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__")


def render(text: str) -> str:
    """The page with each subpackage section's module block regenerated."""
    out, pos = [], 0
    for m in SECTION.finditer(text):
        sub = m.group(1)
        if not (ROOT / "fpt_core" / sub).is_dir():
            continue
        block = BLOCK.search(text, m.end())
        if block is None:
            raise ValueError(f"section fpt_core.{sub} has no eval-rst block")
        body = "\n".join(f".. automodule:: {name}\n   :members:\n" for name in modules(sub))
        out += [text[pos : block.start()], "```{eval-rst}\n", body, "```\n"]
        pos = block.end()
    return "".join(out) + text[pos:]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check; exit 1 if out of date")
    args = ap.parse_args(argv)
    text = PAGE.read_text()
    new = render(text)
    if args.check:
        if new != text:
            print(f"{PAGE} is out of date: run python tools/api_page.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
