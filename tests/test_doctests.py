"""The Examples in fpt_core's docstrings run and print what they show."""

import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fpt_core"
WITH_EXAMPLES = sorted(
    ".".join(("fpt_core", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
    for p in PACKAGE.rglob("*.py")
    if ">>>" in p.read_text()
)


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    res = doctest.testmod(module, optionflags=flags, verbose=False)
    assert res.attempted > 0 and res.failed == 0, f"{res.failed} of {res.attempted} failed"


def test_examples_are_found():
    assert {"fpt_core", "fpt_core.stats.logrank", "fpt_core.stats.verdicts"} <= set(
        WITH_EXAMPLES
    ) and len(WITH_EXAMPLES) >= 10
