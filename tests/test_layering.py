"""Dependencies point one way: the statistics of first passage work on any training log and
import neither PyTorch nor the training code (nor the book's stack)."""

import subprocess
import sys

import pytest

STATISTICS = ("fpt", "qss", "restart", "rmst", "logrank", "verdicts", "single_frequency",
              "median", "bca", "optimum", "paired", "released", "claims", "progress", "cli")  # fmt: skip
FORBIDDEN = ("torch", "altair", "papermill", "fpt_core.engine", "fpt_core.runner",
             "fpt_core.cluster", "fpt_core.data", "fpt_core.models")  # fmt: skip


@pytest.mark.parametrize("module", STATISTICS)
def test_statistics_modules_import_no_training_code(module):
    code = f"import sys, fpt_core.{module}\nprint([m for m in {FORBIDDEN!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"fpt_core.{module} pulls in {out.stdout.strip()}"
