"""The benchmark script runs and writes the keys the book quotes (no timing is asserted)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_smoke(tmp_path):
    out = tmp_path / "results.json"
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_engine.py"),
            "--replicas",
            "2",
            "--epochs",
            "6",
            "--repeats",
            "2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    data = json.loads(out.read_text())
    # 5 epochs of steady-state steps at R = 2 (≈ 0.2 s) are resolved above the set-up noise
    assert data["mlp_ensemble_vs_loop"] > 0 and 0 < data["mlp_matmul_peak_fraction"]
    assert {r["model"] for r in data["rows"]} == {"mlp", "cnn"}
    assert "ratio" in res.stdout
