"""Under CI (env ``CI`` set and non-empty, as ``.ci/run`` sets it) a skipped test is a failure:
the hooks in ``tests/conftest.py``, run on small test modules with ``pytester``, and the browser
test itself on a ``PATH`` without Chromium."""

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT

pytest_plugins = ["pytester"]

SKIPPING = """
import pytest


@pytest.fixture
def skipping_fixture():
    pytest.skip("the fixture skipped")


def test_passes():
    pass


def test_skip_in_body():
    pytest.skip("the body skipped")


def test_importorskip_in_body():
    pytest.importorskip("fpt_no_such_module")


@pytest.mark.skip(reason="the mark skipped")
def test_skip_mark():
    pass


@pytest.mark.skipif(True, reason="the skipif mark skipped")
def test_skipif_mark():
    pass


def test_skip_in_fixture(skipping_fixture):
    pass


@pytest.mark.xfail(reason="expected to fail")
def test_xfail():
    assert False
"""


@pytest.fixture
def with_ci_hooks(pytester):
    """A pytester folder whose conftest takes the two hooks from this project's conftest."""
    pytester.makeconftest(
        textwrap.dedent(f"""
            import importlib.util

            spec = importlib.util.spec_from_file_location(
                "fpt_tests_conftest", {str(ROOT / "tests" / "conftest.py")!r}
            )
            hooks = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(hooks)
            pytest_runtest_makereport = hooks.pytest_runtest_makereport
            pytest_make_collect_report = hooks.pytest_make_collect_report
        """)
    )
    return pytester


@pytest.mark.parametrize("ci", ["1", "true"])
def test_under_ci_every_skip_fails_and_names_its_reason(with_ci_hooks, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with_ci_hooks.makepyfile(test_skipping=SKIPPING)
    result = with_ci_hooks.runpytest("-rA")
    # skipped in the test body: failed; skipped in setup (marks, fixtures): error at setup
    result.assert_outcomes(passed=1, failed=2, errors=3, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    prefix = f"skipped under CI={ci!r} (a skip is a failure in CI): Skipped:"
    result.stdout.fnmatch_lines(
        [
            f"ERROR test_skipping.py::test_skip_mark - {prefix} the mark skipped *",
            f"ERROR test_skipping.py::test_skipif_mark - {prefix} the skipif mark skipped *",
            f"ERROR test_skipping.py::test_skip_in_fixture - {prefix} the fixture skipped *",
            f"FAILED test_skipping.py::test_skip_in_body - {prefix} the body skipped *",
            f"FAILED test_skipping.py::test_importorskip_in_body - {prefix} could not import "
            "'fpt_no_such_module'*",
        ],
        consecutive=False,
    )


@pytest.mark.parametrize("ci", [None, ""])
def test_without_ci_skips_stay_skips(with_ci_hooks, monkeypatch, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with_ci_hooks.makepyfile(test_skipping=SKIPPING)
    result = with_ci_hooks.runpytest("-rA")
    result.assert_outcomes(passed=1, skipped=5, xfailed=1)
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.parametrize("ci", ["1", ""])
def test_module_skipped_at_collection_is_an_error_under_ci(with_ci_hooks, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with_ci_hooks.makepyfile(
        test_optional="""
        import pytest

        pytest.importorskip("fpt_no_such_module")


        def test_never_collected():
            pass
        """
    )
    result = with_ci_hooks.runpytest("-rA")
    if ci:
        result.assert_outcomes(errors=1)
        assert result.ret == pytest.ExitCode.INTERRUPTED
        result.stdout.fnmatch_lines(
            ["ERROR test_optional.py - skipped under CI='1'*could not import 'fpt_no_such_module'*"]
        )
    else:
        result.assert_outcomes(skipped=1)
        assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


@pytest.mark.parametrize("ci", ["1", ""])
def test_browser_test_fails_under_ci_when_chromium_is_not_on_path(tmp_path, ci):
    """The browser test itself, in a subprocess whose ``PATH`` is an empty folder: under CI it
    fails (before the book is built), otherwise it skips."""
    node = "tests/book/test_browser.py::test_static_fallback_is_shown_without_javascript"
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", node],
        cwd=ROOT,
        env={**os.environ, "PATH": str(tmp_path), "CI": ci},
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = res.stdout + res.stderr
    assert "chromium is not on PATH" in out, out[-3000:]
    if ci:
        assert res.returncode == pytest.ExitCode.TESTS_FAILED, out[-3000:]
        assert "1 error" in out and "skipped under CI='1'" in out, out[-3000:]
    else:
        assert res.returncode == pytest.ExitCode.OK, out[-3000:]
        assert "1 skipped" in out, out[-3000:]
