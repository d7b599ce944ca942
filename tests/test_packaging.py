"""The package installs and imports without the book's dependencies; licence, citation, typing."""

import subprocess
import sys

import tomllib
import yaml
from conftest import ROOT

BOOK_ONLY = ("altair", "vl_convert", "jupyter_book", "papermill", "jupytext", "myst_nb", "sphinx")


def test_core_dependencies_exclude_the_book_stack():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"]).lower()
    for name in ("altair", "vl-convert", "jupyter-book", "papermill", "jupytext", "ipykernel"):
        assert name not in core, name
        assert any(name in d for d in project["optional-dependencies"]["book"]), name
    assert project["license"] == "MIT"


def test_the_package_imports_with_the_book_stack_absent():
    """Block every book-only module, then import the training and analysis modules."""
    code = f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BOOK_ONLY!r}:
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import fpt_core
from fpt_core.book import claims
from fpt_core.train import config, engine, runner, store
from fpt_core.stats import fpt, qss, released, restart, rmst
from fpt_core.stats import logrank, single_frequency, verdicts
print(fpt_core.__version__)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]


def test_licence_citation_and_type_marker_exist():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert (ROOT / "fpt_core" / "py.typed").is_file()
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT"
    assert any("arXiv:2502.04121" in str(r) for r in cff["references"])
    import fpt_core

    assert str(cff["version"]) == fpt_core.__version__


def test_api_page_lists_every_module():
    """book/api.md has one automodule per module of each subpackage (tools/api_page.py)."""
    res = subprocess.run(
        [sys.executable, "tools/api_page.py", "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert res.returncode == 0, res.stderr
    text = (ROOT / "book" / "api.md").read_text()
    for path in (ROOT / "fpt_core").glob("*/*.py"):
        if path.stem != "__init__":
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            assert f".. automodule:: {name}\n" in text, name
