"""Docstrings are rendered by Sphinx (the book's API page, built with -W): a bare ``|x|`` is a
reST substitution reference and fails the build. Catch it here, in seconds, with the file and
the line, instead of in the book build."""

import ast
import re

from conftest import ROOT

# |text| not inside ``literal``, `role`, :math:`…` or $…$; may wrap once onto the next line
PIPES = re.compile(r"(?<![|\w`])\|(?=\S)([^|`\n]+(?:\n[^|`\n]+)?)(?<=\S)\|(?![|\w`])")


def bare_substitutions(doc: str) -> list[str]:
    text = re.sub(r":math:`[^`]*`|``[^`]*``|`[^`]*`|\$[^$]*\$", "", doc)
    hits = []
    for m in PIPES.finditer(text):
        line = text.splitlines()[text[: m.start()].count("\n")]
        table = line.strip().startswith("|") and line.strip().endswith("|")
        if not table and ">>>" not in line:  # Markdown tables, doctest lines
            hits.append(m.group(0))
    return hits


def test_the_checker_finds_a_bare_substitution():
    assert bare_substitutions("the smallest |w| among\n") == ["|w|"]
    assert bare_substitutions("|E of the\n    quadratic part| is 0") != []
    assert bare_substitutions("``|w|`` and :math:`|x|` and $|y|$ and a | b | c") == []


def test_no_docstring_has_a_bare_substitution():
    bad = []
    for f in sorted((ROOT / "fpt_core").rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text())):
            kinds = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            doc = ast.get_docstring(node, clean=False) if isinstance(node, kinds) else None
            if doc:
                bad += [f"{f.name}:{getattr(node, 'name', '<module>')}: {h}" for h in
                        bare_substitutions(doc)]  # fmt: skip
    assert not bad, "write abs(x) or ``|x|``:\n" + "\n".join(bad)
