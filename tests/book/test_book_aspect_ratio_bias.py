"""fpt_core.book.aspect_ratio_bias: Hill grows with the aspect ratio of a random matrix, FARMS not."""

import numpy as np
import pandas as pd
import pytest

from fpt_core.book.aspect_ratio_bias import (
    aspect_ratio_demo,
    bias_by_source,
    bias_chart,
    bias_words,
)


def test_demo_picks_the_longest_two_dimensional_layer_and_fitting_ratios():
    shapes = {"a": (32, 32), "b": (128, 32), "c": (8, 32, 3, 3)}
    w = np.random.default_rng(0).standard_normal((128, 32))
    r = aspect_ratio_demo(shapes, ["a", "b", "c"], {0: {"b.weight": w}, 1: {"b.weight": w}},
                          farms_size=16, windows_per_dim=3, n_random=3)  # fmt: skip
    assert r["layer"] == "b" and r["ratios"] == [1, 2, 4]  # 8 · 32 rows do not fit in 128
    demo = r["demo"]
    assert set(demo["source"]) == {"random", "trained b"}
    assert len(demo) == 3 * 3 + 2 * 3
    # Marchenko–Pastur: plain Hill α of i.i.d. matrices grows with Q
    rnd = demo[demo["source"] == "random"].groupby("Q")["hill"].mean()
    assert rnd.is_monotonic_increasing
    again = aspect_ratio_demo(shapes, ["a", "b"], {}, farms_size=16, windows_per_dim=3, n_random=3)
    pd.testing.assert_frame_equal(again["demo"], demo[demo["source"] == "random"])  # seeded
    none = aspect_ratio_demo({"c": (8, 32, 3, 3)}, ["c"], {}, farms_size=16, windows_per_dim=3,
                             n_random=2)  # fmt: skip
    assert none["layer"] is None and none["ratios"] == [1, 2, 4, 8]


def test_bias_by_source_pairs_draws_and_gives_a_verdict():
    d = pd.DataFrame({"source": ["random"] * 6 + ["trained x"] * 6, "draw": [0, 1, 2] * 4,
                      "Q": ([1] * 3 + [8] * 3) * 2,
                      "hill": [2.0, 2.1, 1.9, 4.0, 4.2, 4.1] * 2,
                      "farms": [2.0, 2.1, 2.0, 2.0, 2.1, 2.0] + [2.0, 2.1, 2.0, 3.0, 3.1, 3.2]})  # fmt: skip
    b = bias_by_source(d, [1, 8])
    assert b["random"]["hill_change"] == pytest.approx(2.1)
    assert b["random"]["farms_change"] == pytest.approx(0.0, abs=1e-12)
    assert (b["random"]["kind"], b["random"]["verdict"]) == ("random", "reproduced")
    assert (b["trained x"]["kind"], b["trained x"]["verdict"]) == ("trained", "not reproduced")
    assert b["random"]["n"] == 3
    w = bias_words(b, 8)
    assert "**random** (3 matrices): Hill α(Q = 8) − α(Q = 1) = +2.10" in w
    assert w.endswith("*not reproduced*.")
    assert bias_chart(d).to_dict()["facet"]["column"]["field"] == "source"
