"""The GPU check runs at toy size on the CPU (``--smoke``), so it cannot rot between GPU sessions.

The grouped ResNet-18 path is forced on the CPU there (the engine uses it on CUDA only); the
smoke run checks the equivalence to separate models, the engine against ``torch.optim.SGD``, the
tiny paper run through ``run_ensemble`` and the JSON the book quotes. No timing is asserted.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "gpu_check.py"
KEYS = {"grouped_vs_loop", "images_per_s", "max_abs_diff", "paper_gpu_hours", "device"}


def _run(*args, timeout=300):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout
    )


def test_gpu_check_smoke(tmp_path):
    out = tmp_path / "gpu_results.json"
    res = _run("--device", "cpu", "--smoke", "--out", str(out))
    assert res.returncode == 0, res.stderr[-3000:]
    data = json.loads(out.read_text())
    assert KEYS <= set(data), sorted(KEYS - set(data))
    assert data["device"]["type"] == "cpu" and data["smoke"] is True
    # grouped vs 4 separate ResNet-18s (fp32): float rounding only; a wrong channel layout,
    # a mixed-up replica or a missed BatchNorm update gives differences of order 1
    eq = data["equivalence"]
    assert eq["within_test_tolerance"], eq["failures"]
    assert set(data["max_abs_diff"]) == {"logits", "loss", "eval_logits", "grads", "bn_stats"}
    assert all(0 <= v < 1e-4 for v in data["max_abs_diff"].values()), data["max_abs_diff"]
    assert data["engine_vs_solo"]["within_test_tolerance"], data["engine_vs_solo"]
    tiny = data["tiny_paper_run"]
    assert tiny["ok"], tiny
    # every configuration of the plan measured (no budget cut at smoke size), none failed
    rows = data["throughput"]
    assert rows and all("images_per_s" in r and r["images_per_s"] > 0 for r in rows), rows
    assert len(data["images_per_s"]) == len(rows)
    assert set(data["grouped_vs_loop"]) == {"R2_fp32", "R2_bf16"}
    # the smoke compiles with backend "eager": the same kernels, the same numbers
    drift = data["compile_vs_eager"]
    assert len(drift) == sum(bool(r["compile"]) for r in rows) > 0, drift
    assert all(d["param_sq_rel_diff"] < 1e-6 and d["buffer_sq_rel_diff"] < 1e-6
               for d in drift.values()), drift  # fmt: skip
    best = max(v for k, v in data["images_per_s"].items() if k.startswith("engine"))
    assert math.isclose(data["paper_gpu_hours"], 1000 * 200 * 50_000 / best / 3600, rel_tol=1e-9)
    assert "paper preset" in res.stdout and "grouped vs separate" in res.stdout


def test_gpu_check_refuses_bad_arguments(tmp_path):
    out = tmp_path / "x.json"
    if not torch.cuda.is_available():
        res = _run("--device", "cuda", "--out", str(out))
        assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
        assert "CUDA is not available" in res.stderr
    res = _run("--device", "cpu", "--out", str(out))
    assert res.returncode == 2 and "--smoke" in res.stderr
    res = _run("--device", "cpu", "--smoke", "--budget-s", "0", "--out", str(out))
    assert res.returncode == 2 and "--budget-s=0" in res.stderr
    assert not out.exists()
