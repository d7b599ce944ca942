"""The package's layout rules: subpackages by layer, dependencies pointing one way, no cycles, no
module over 400 lines, and statistics that work on any training log without PyTorch."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fpt_core"
LAYERS = ("train", "protocols", "stats", "spectra", "dynamics", "langevin", "book")
TOP_MODULES = {"__init__", "__main__", "cli"}
# which layers each layer may import (besides itself); "top" is fpt_core/__init__ and the CLI
ALLOWED = {
    "stats": set(),
    "spectra": {"stats"},  # argument checks (stats.checks)
    "train": {"protocols"},  # config/runner name a protocol; the reference oracle applies one
    "protocols": {"train", "spectra", "stats"},  # act on the engine; TempBalance reads spectra
    "dynamics": {"train", "stats"},  # the SGD map reuses the engine's step and data order
    "langevin": {"train"},  # device selection only (checked below)
    "book": {"train", "stats", "spectra", "dynamics", "langevin", "protocols", "top"},
    "top": set(LAYERS),
}
# train may reach into protocols only through these (no module of them imports training code
# that imports them back: the cycle test below checks it)
TRAIN_TO_PROTOCOLS = {"fpt_core.protocols.registry", "fpt_core.protocols.plain"}


def _modules() -> dict[str, Path]:
    out = {}
    for p in PACKAGE.rglob("*.py"):
        parts = p.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(("fpt_core", *parts)).removesuffix(".__init__")
        out[name] = p
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """fpt_core modules imported anywhere in ``path`` (function bodies included, ``if
    TYPE_CHECKING:`` blocks excluded)."""
    tree = ast.parse(path.read_text())
    skip = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fpt_core"):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in modules else node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("fpt_core")}
    return out


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else "top"


MODULES = _modules()
GRAPH = {m: _imports(p, MODULES) - {m} for m, p in MODULES.items()}


def test_the_top_level_holds_only_subpackages_and_the_entry_points():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == TOP_MODULES, f"move {sorted(top - TOP_MODULES)} into a subpackage"
    assert {
        p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()
    } == set(LAYERS)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_dependencies_point_one_way(module):
    src = _layer(module)
    for dep in GRAPH[module]:
        dst = _layer(dep)
        if dst in (src, "top") and not (dst == "top" and dep != "fpt_core" and src != "top"):
            continue
        assert dst in ALLOWED[src], f"{module} ({src}) imports {dep} ({dst})"
        if src == "train" and dst == "protocols":
            assert dep in TRAIN_TO_PROTOCOLS, f"{module} imports {dep}"
        if src == "langevin":
            assert dep == "fpt_core.train.device", f"{module} imports {dep}"


def test_no_import_cycles():
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in GRAPH.get(m, ()):
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " → ".join(path[path.index(d) :] + [d]))
            if d not in state:
                visit(d, path + [d])
        state[m] = 2

    for m in GRAPH:
        if m not in state:
            visit(m, [m])


def test_no_module_over_400_lines():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > 400}
    assert not long, f"over 400 lines (split by concept): {long}"


STATISTICS = sorted(m for m in MODULES if _layer(m) == "stats") + [
    "fpt_core.book.claims", "fpt_core.train.progress", "fpt_core.cli"]  # fmt: skip
FORBIDDEN = ("torch", "altair", "papermill", "fpt_core.train.engine", "fpt_core.train.runner",
             "fpt_core.train.cluster", "fpt_core.train.data", "fpt_core.train.models")  # fmt: skip


@pytest.mark.parametrize("module", STATISTICS)
def test_statistics_modules_import_no_training_code(module):
    code = f"import sys, {module}\nprint([m for m in {FORBIDDEN!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"{module} pulls in {out.stdout.strip()}"
