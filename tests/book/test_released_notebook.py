"""Notebook 08 runs unchanged on any folder in the released layout, and rejects bad parameters
before any analysis."""

import json

import nbformat
import numpy as np
import pytest
from conftest import ROOT, copy_sources, execute_notebooks

from fpt_core.stats.released import discover

STEM = "08_released_runs"


def _reduced_copy(dest, column="test_ssim", epochs=100, n_runs=300):
    """The vendored runs written back in the released layout: the first ``epochs`` epochs, the
    first ``n_runs`` unperturbed runs, shrink & perturb only, the score column renamed."""
    runs = discover(ROOT / "data" / "meir2025")

    def write(folder, acc):
        folder.mkdir(parents=True)
        for i, row in enumerate(acc[:, :epochs]):
            vals = "\n".join(f"{x:.2f}" for x in row[np.isfinite(row)])
            (folder / f"test_acc_seed_{i}.csv").write_text(f"{column}\n{vals}\n")

    write(dest / "testacc_list_reg_training", runs.unperturbed.acc[:n_runs])
    for tau, log in runs.perturbed["s_and_p"].items():
        write(dest / f"testacc_list_s_and_p_reset{tau}", log.acc)
    return dest


def _failed_in_parameter_cell(executed, needle):
    cells = [c for c in nbformat.read(executed, as_version=4).cells if c.cell_type == "code"]
    status = [c.metadata["papermill"]["status"] for c in cells]
    injected = next(
        i for i, c in enumerate(cells) if "injected-parameters" in c.metadata.get("tags", [])
    )
    errors = [o for o in cells[injected + 1].outputs if o.output_type == "error"]
    assert status[injected + 1] == "failed" and set(status[injected + 2 :]) == {"pending"}, status
    assert len(errors) == 1 and needle in errors[0].evalue, errors


def test_runs_on_a_reduced_copy_with_another_score_column(tmp_path):
    root = copy_sources(tmp_path)
    data = _reduced_copy(tmp_path / "released")
    res = execute_notebooks(root, "--preset", "tiny", "--only", STEM, "-p", "data_dir",
                            json.dumps(str(data)), "-p", "column", '"test_ssim"')  # fmt: skip
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    s = json.loads((root / "book" / "executed" / f"{STEM}.summary.json").read_text())
    assert s["params"]["protocols"] == ["s_and_p"] and s["params"]["column"] == "test_ssim"
    assert s["n_runs"] == 300 + 1992 and 0 < s["censored_fraction"] < 1
    rows = {r["tau"]: r for r in s["per_tau"]}
    assert sorted(rows) == [1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50] and rows[20]["role"] == "tau0"
    assert all(r["protocol"] == "s_and_p" for r in rows.values())
    assert all(
        r["rel_error"] == pytest.approx(r["predicted"] / r["measured"] - 1) for r in rows.values()
    )
    assert all(r["in_qss"] == (r["tau"] >= s["t_relax"]) for r in rows.values())
    assert list(s["tau_star"]) == ["s_and_p"] and s["tau_star"]["s_and_p"] in rows
    assert {c["verdict"] for c in s["claims"]} <= {"reproduced", "not reproduced",
                                                   "not tested at this preset"}  # fmt: skip


def test_bad_parameters_fail_before_any_analysis(tmp_path):
    root = copy_sources(tmp_path)
    data = _reduced_copy(tmp_path / "released", column="test_ACC", n_runs=20)
    empty = tmp_path / "empty"
    empty.mkdir()
    executed = root / "book" / "executed" / f"{STEM}.ipynb"
    for params, needle in (
        (["data_dir", json.dumps(str(empty))], "data_dir="),
        (["data_dir", json.dumps(str(data)), "column", '"test_ssim"'], "column='test_ssim'"),
        (["data_dir", json.dumps(str(data)), "target", "99.5"], "target=99.5"),
        (["data_dir", json.dumps(str(data)), "tau0", "17"], "tau0=17"),
    ):
        args = [a for i in range(0, len(params), 2) for a in ("-p", params[i], params[i + 1])]
        executed.unlink(missing_ok=True)
        res = execute_notebooks(root, "--preset", "tiny", "--only", STEM, *args)
        assert res.returncode != 0 and needle in res.stdout + res.stderr, needle
        _failed_in_parameter_cell(executed, needle)
