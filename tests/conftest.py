import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fpt_core.train.data import load_dataset
from fpt_core.train.device import small_tensor_threads


def _skips_fail() -> bool:
    """Under CI (env ``CI`` set and non-empty) a skipped test is a failure: a dependency that is
    missing or broken on the CI machine must not pass unnoticed as a skip."""
    return bool(os.environ.get("CI"))


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, lineno, reason)
        path, lineno, reason = longrepr
        return f"{reason} ({path}:{lineno})" if lineno is not None else f"{reason} ({path})"
    return str(longrepr)


def _fail_skip(report) -> None:
    report.outcome = "failed"
    report.longrepr = (
        f"skipped under CI={os.environ.get('CI')!r} (a skip is a failure in CI): "
        f"{_skip_reason(report)}"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI, a test skipped in setup (skip marks, skipping fixtures), in its body
    (``pytest.skip``, ``pytest.importorskip``) or in teardown is reported as failed, with the
    reason of the skip. An expected failure (``xfail``) stays what it is."""
    report = yield
    if _skips_fail() and report.skipped and not hasattr(report, "wasxfail"):
        _fail_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """Under CI, a module skipped while it is collected (``pytest.importorskip`` or
    ``pytest.skip(..., allow_module_level=True)`` at module level) is a collection error."""
    report = yield
    if _skips_fail() and report.skipped:
        _fail_skip(report)
    return report


@pytest.fixture
def one_thread():
    """Small tensors: one intra-op thread (see :func:`fpt_core.train.device.small_tensor_threads`)."""
    with small_tensor_threads():
        yield


@pytest.fixture(scope="session")
def mnist1d_small():
    """A small MNIST-1D (400 train / 100 test) on the CPU."""
    return load_dataset("mnist1d", num_samples=500, device="cpu")


ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def copy_sources(dest: Path) -> Path:
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "notebooks", dest / "notebooks")
    shutil.copytree(ROOT / "data", dest / "data")
    shutil.copytree(
        ROOT / "book", dest / "book", ignore=shutil.ignore_patterns("executed", "__pycache__")
    )
    return dest


def execute_notebooks(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "execute_notebooks.py"), "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="session")
def tiny_book(tmp_path_factory):
    root = copy_sources(tmp_path_factory.mktemp("book"))
    res = execute_notebooks(root, "--preset", "tiny", "--results-dir", str(root / "results"))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-5000:]
    build = subprocess.run(
        [str(BIN / "jupyter-book"), "build", str(root), "-W", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, build.stdout[-5000:] + build.stderr[-3000:]
    return root


BOOK_MODULES = {"test_book", "test_browser", "test_links", "test_released_notebook"}


def pytest_collection_modifyitems(config, items):
    """Mark the tests that execute notebooks or build the book ``book`` (``-m "not book"`` runs the
    fast rest; ``make test`` runs everything)."""
    for item in items:
        if "tiny_book" in getattr(item, "fixturenames", ()) or item.module.__name__ in BOOK_MODULES:
            item.add_marker(pytest.mark.book)
