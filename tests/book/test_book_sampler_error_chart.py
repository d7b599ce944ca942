"""fpt_core.book.sampler_error_chart: the charts leave the table alone and clip their bars."""

import doctest

import pandas as pd
import pytest
from test_book_sampler_comparison import scan

from fpt_core.book import sampler_error_chart
from fpt_core.book.sampler_error_chart import kl_chart, relative_error_chart


def test_docstring_examples_run():
    res = doctest.testmod(sampler_error_chart, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_charts_do_not_touch_the_table_and_clip_their_bars():
    df = scan([2e-3, 2e-2, 2e-1], [1e-6, 1e-4, 1e-2], se=0.9)
    before = df.copy()
    chart = kl_chart(df)
    pd.testing.assert_frame_equal(df, before)
    data = chart.layer[3].data
    assert (data["kl_lo"] == 0.05 * data["kl_coupled"]).all()  # 1 − 2·0.9 < 0.05: clipped
    assert data["kl_hi"].tolist() == pytest.approx((2.8 * data["kl_coupled"]).tolist())
    rel = relative_error_chart(df).to_dict()
    assert rel["facet"]["column"]["field"] == "quantity"
    pd.testing.assert_frame_equal(df, before)
