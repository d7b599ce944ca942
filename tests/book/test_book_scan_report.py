"""fpt_core.book.scan_report: a stored scan shown as measured."""

import doctest
import json

from fpt_core.book import scan_report


def test_docstring_examples_run():
    res = doctest.testmod(scan_report, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_headline_lists_the_periods_above_the_best(tmp_path):
    meta = {"target": 0.555, "horizon": 60.0, "best_tau": 35, "taus_above_best_beyond_ci": [10, 75]}
    (tmp_path / "s.json").write_text(json.dumps({"meta": meta}))
    (tmp_path / "s.md").write_text("| a | b |\n|---|---|")
    text = scan_report.period_scan_markdown(tmp_path / "s.json")
    assert text.startswith("Scan at target 0.555 (horizon 60): the smallest measured restricted")
    assert "at τ = 35; periods above it beyond the intervals: 10, 75." in text
    assert text.endswith("| a | b |\n|---|---|")
    assert "missing" in scan_report.period_scan_markdown(tmp_path / "t.json")


def test_stored_table_reads_the_file_or_says_it_is_missing(tmp_path):
    (tmp_path / "s.md").write_text("| a |\n|---|\n| 1 |")
    assert scan_report.stored_table(tmp_path / "s.md") == "| a |\n|---|\n| 1 |"
    assert scan_report.stored_table(str(tmp_path / "t.md")) == "*(scan table not found)*"
