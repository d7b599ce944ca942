"""The claims ledger: rows are checked, gathered from summaries with their page, and rendered."""

import json

import pytest

from fpt_core.book.claims import VERDICTS, claim, claims_box, read_ledger, write_ledger


def test_claim_rejects_unknown_paper_verdict_and_empty_text():
    with pytest.raises(ValueError, match="verdict must be one of"):
        claim("Meir et al. 2025", "c", "m", "sort of")
    with pytest.raises(ValueError, match="paper must be one of"):
        claim("Someone 1999", "c", "m", "reproduced")
    with pytest.raises(ValueError, match="measured must be a non-empty string"):
        claim("Meir et al. 2025", "c", " ", "reproduced")


def test_ledger_gathers_every_summary_in_page_order_and_checks_rows(tmp_path):
    a = [claim("Meir et al. 2025", "one", "x = 1 ± 0.1", "reproduced")]
    b = [
        claim("Edge of chaos", "two", "y", "not reproduced"),
        claim("Adhikari et al. 2023", "three", "z", "not tested at this preset"),
    ]
    (tmp_path / "02_b.summary.json").write_text(json.dumps({"claims": b}))
    (tmp_path / "01_a.summary.json").write_text(json.dumps({"claims": a, "other": 1}))
    (tmp_path / "03_c.summary.json").write_text(json.dumps({"wall_time_s": 1.0}))  # no claims
    rows = write_ledger(tmp_path)
    assert [r["claim"] for r in rows] == ["one", "two", "three"]
    assert [r["page"] for r in rows] == ["/book/executed/01_a", *["/book/executed/02_b"] * 2]
    assert read_ledger(tmp_path / "claims.json") == rows
    assert read_ledger(tmp_path / "missing.json") == []
    (tmp_path / "04_d.summary.json").write_text(
        json.dumps({"claims": [{"paper": "Meir et al. 2025", "claim": "c", "measured": "m",
                                "verdict": "maybe"}]})
    )  # fmt: skip
    with pytest.raises(ValueError, match="verdict"):
        write_ledger(tmp_path)


def test_box_has_one_row_per_claim_with_its_verdict_and_escapes_pipes():
    rows = [claim("Meir et al. 2025", "a | b", "m", v) for v in VERDICTS]
    box = claims_box(rows)
    table = [line for line in box.splitlines() if line.startswith("| Meir")]
    assert len(table) == 3 and all("a \\| b" in line for line in table)
    assert [line.rsplit("|", 2)[-2].strip().split(" ", 1)[1] for line in table] == list(VERDICTS)
    linked = claims_box([{**rows[0], "page": "/book/executed/01_a"}], links=True)
    assert "{doc}`/book/executed/01_a`" in linked
    assert "no claims recorded" in claims_box([])
