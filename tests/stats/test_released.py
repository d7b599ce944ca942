"""Reading released runs: layout discovery, the compact form and its checksum, the converter."""

import json
import subprocess
import sys
import tarfile
import time

import numpy as np
import pytest
from conftest import ROOT

from fpt_core.stats.released import (
    COMPACT_NAME,
    compact_checksum,
    content_checksum,
    discover,
    read_compact,
    write_compact,
)


def _write_run(folder, name, scores, column="test_ACC"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(column + "\n" + "\n".join(f"{x:.2f}" for x in scores) + "\n")


def _layout(root, column="test_ACC"):
    rng = np.random.default_rng(0)
    for seed in (0, 1, 2, 10):  # natural order: 10 after 2
        _write_run(root / "testacc_list_reg_training", f"test_acc_No_reset_seed_{seed}.csv",
                   50 + seed + rng.integers(0, 100, 6) / 100, column)  # fmt: skip
    _write_run(root / "testacc_list_s_and_p_reset3", "seed_0.csv", [60.0] * 4, column)
    _write_run(root / "testacc_list_s_and_p_reset3", "seed_1.csv", [61.25] * 6, column)  # longer
    _write_run(root / "partial_reset10", "seed_0.csv", [70.5] * 6, column)  # no prefix
    (root / "notes_reset5").mkdir()  # matches the pattern but holds no runs: ignored
    sr = root / "SR_frac_of_smallest_w"
    sr.mkdir()
    (sr / "fpt72_reset2.csv").write_text("fpt_list\n11\n13\n")
    (sr / "fpt72_reset10.csv").write_text("fpt_list\n30\n")
    return root


def test_discover_reads_every_ensemble_of_the_layout(tmp_path):
    runs = discover(_layout(tmp_path))
    u = runs.unperturbed
    assert u.acc.shape == (4, 6) and np.array_equal(u.times, np.arange(1, 7))
    assert u.acc[3, 0] == pytest.approx(60, abs=1)  # seed 10 is the last run
    assert runs.protocols == ["partial", "s_and_p"]
    assert list(runs.perturbed["s_and_p"]) == [3] and list(runs.perturbed["partial"]) == [10]
    sp = runs.perturbed["s_and_p"][3].acc
    assert sp.shape == (2, 6) and np.isnan(sp[0, 4:]).all() and sp[1, 5] == 61.25
    assert list(runs.fpt_only) == [2, 10] and runs.fpt_target == 72.0
    assert np.array_equal(runs.fpt_only[2], [11, 13])
    only = discover(tmp_path, protocols=["partial"])
    assert only.protocols == ["partial"]


def test_discover_fails_naming_the_parameter(tmp_path):
    with pytest.raises(ValueError, match="data_dir=.*reg_training"):
        discover(tmp_path)
    _layout(tmp_path)
    with pytest.raises(ValueError, match="column='test_ssim'"):
        discover(tmp_path, column="test_ssim")
    with pytest.raises(ValueError, match="protocols=.*warm"):
        discover(tmp_path, protocols=["warm"])
    with pytest.raises(ValueError, match="data_dir=.*not a folder"):
        discover(tmp_path / "nope")


def test_another_score_column_is_read(tmp_path):
    runs = discover(_layout(tmp_path, column="test_ssim"), column="test_ssim")
    assert runs.column == "test_ssim" and runs.unperturbed.acc.shape == (4, 6)


def test_compact_form_round_trips_exactly_and_its_checksum_is_the_content(tmp_path):
    runs = discover(_layout(tmp_path / "src"))
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    c1 = write_compact(runs, tmp_path / "a" / COMPACT_NAME)
    time.sleep(1.1)  # a zip written a second later has other timestamps, same content
    c2 = write_compact(runs, tmp_path / "b" / COMPACT_NAME)
    assert c1 == c2 == compact_checksum(tmp_path / "a" / COMPACT_NAME)
    back = discover(tmp_path / "a")
    np.testing.assert_array_equal(back.unperturbed.acc, runs.unperturbed.acc)
    np.testing.assert_array_equal(
        back.perturbed["s_and_p"][3].acc, runs.perturbed["s_and_p"][3].acc
    )
    assert back.fpt_target == 72.0 and np.array_equal(back.fpt_only[10], [30.0])
    with pytest.raises(ValueError, match="column='test_ssim'"):
        discover(tmp_path / "a", column="test_ssim")
    changed = {"x": np.arange(3)}
    assert content_checksum(changed) != content_checksum({"x": np.arange(1, 4)})
    assert read_compact(tmp_path / "a" / COMPACT_NAME).protocols == ["partial", "s_and_p"]


def test_converter_writes_a_manifest_whose_checksum_verifies(tmp_path):
    src = _layout(tmp_path / "Figures_data")
    tarball = tmp_path / "figs.tar.xz"
    with tarfile.open(tarball, "w:xz") as tar:
        tar.add(src, arcname="Figures_data")
    out = tmp_path / "vendored"
    tool = [sys.executable, str(ROOT / "tools" / "vendor_meir2025.py")]
    subprocess.run([*tool, "--tarball", str(tarball), "--out", str(out)], check=True)
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["content_sha256"] == compact_checksum(out / COMPACT_NAME)
    assert manifest["unperturbed"] == [4, 6] and manifest["perturbed"]["s_and_p"] == {"3": [2, 6]}
    assert subprocess.run([*tool, "--check", "--out", str(out)]).returncode == 0
    with np.load(out / COMPACT_NAME) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["unperturbed"][0, 0] += 1  # one score changed by 0.01
    np.savez_compressed(out / COMPACT_NAME, **arrays)
    assert subprocess.run([*tool, "--check", "--out", str(out)]).returncode == 1


def test_vendored_runs_match_their_manifest_and_load_fast():
    folder = ROOT / "data" / "meir2025"
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    assert compact_checksum(folder / COMPACT_NAME) == manifest["content_sha256"]
    t0 = time.process_time()  # CPU time: a busy machine does not make it fail
    runs = discover(folder)
    assert time.process_time() - t0 < 2.0
    assert runs.unperturbed.acc.shape == (1000, 200) and runs.protocols == ["partial", "s_and_p"]
    assert sorted(runs.perturbed["s_and_p"]) == [1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 100]
