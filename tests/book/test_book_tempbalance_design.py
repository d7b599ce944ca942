"""fpt_core.book.tempbalance_design: parameter checks, the two arms and the design scan's row."""

import pytest

from fpt_core.book.tempbalance_design import arm_configs, check_design, scan_words

OK = dict(n_runs=8, epochs=8, plateau_epochs=3, n_spectra=3, farms_size=32, n_random=4,
          target=0.45, margin=0.005, model_kwargs={})  # fmt: skip
ARMS = dict(dataset="mnist1d", model="mlp", model_kwargs={"hidden": [8, 8, 8]}, lr=0.1,
            momentum=0.9, weight_decay=5e-4, batch_size=100, epochs=2, augment=None,
            assignment="tempbalance", exclude_first_last=True, s1=0.5, s2=1.5, mb_s=None)  # fmt: skip


@pytest.mark.parametrize(
    "change, needle",
    [(dict(n_runs=2), "n_runs=2 must be ≥ 3"), (dict(epochs=0), "epochs=0 must be an integer"),
     (dict(plateau_epochs=9), "plateau_epochs=9"), (dict(n_spectra=9, n_runs=8), "n_spectra=9"),
     (dict(target=1.0), "target=1.0"), (dict(margin=-0.1), "margin=-0.1"),
     (dict(model_kwargs=None), "model_kwargs=None")],
)  # fmt: skip
def test_check_design_names_the_broken_parameter(change, needle):
    check_design(OK)
    with pytest.raises(ValueError, match=needle):
        check_design(dict(OK, **change))


def test_arms_differ_only_in_the_protocol():
    spec, arms = arm_configs(ARMS)
    assert spec == {"kind": "tempbalance", "assignment": "tempbalance", "exclude_first_last": True,
                    "s1": 0.5, "s2": 1.5}  # fmt: skip
    sgd, tb = arms["SGD"], arms["TempBalance"]
    assert sgd.lr_schedule == tb.lr_schedule == "cosine" and sgd.lr == tb.lr == 0.1
    assert sgd.perturbation["apply"] is False
    mb, _ = arm_configs(dict(ARMS, assignment="model_balancing", mb_s=0.3))
    assert mb["s"] == 0.3 and "s1" not in mb


def test_scan_words_match_horizon_and_network():
    rows = [{"epochs": 40, "hidden": [8], "sd_paired": 0.0213, "runs": 16, "n_required": 70},
            {"epochs": 40, "hidden": [16], "sd_paired": 0.5, "runs": 16, "n_required": 1}]  # fmt: skip
    p = {"epochs": 40, "model_kwargs": {"hidden": [8]}, "n_runs": 72}
    w = scan_words(rows, p, 0.0201, 0.0047)
    assert w == ("At this horizon (40 epochs) the scan measured a paired SD of 0.0213 over 16 "
                 "seeds, hence 70 seeds for ±0.005; this build uses 72 and measured a paired SD "
                 "of 0.0201 (half-width 0.0047).")  # fmt: skip
    assert scan_words(rows, dict(p, model_kwargs={}), 0.02, 0.005) == ""


def test_scan_markdown_shows_the_table_then_this_builds_words(tmp_path):
    from fpt_core.book.tempbalance_design import scan_markdown

    md, js = tmp_path / "scan.md", tmp_path / "scan.json"
    md.write_text("| epochs | sd |")
    js.write_text('{"rows": [{"epochs": 40, "hidden": [8], "sd_paired": 0.02, "runs": 16, '
                  '"n_required": 62}]}')  # fmt: skip
    p = {"epochs": 40, "model_kwargs": {"hidden": [8]}, "n_runs": 64}
    text = scan_markdown(md, js, p, 0.019, 0.0048)
    assert text.startswith("| epochs | sd |\n\n") and "hence 62 seeds" in text
    assert "this build uses 64" in text and "(half-width 0.0048)" in text
    assert scan_markdown(md, tmp_path / "none.json", p, 0.019, 0.0048) == "| epochs | sd |\n\n"
