"""fpt_core.book.warm_restart_timing: first passages inside the anneal."""

import doctest
import math

import numpy as np

from fpt_core.book import warm_restart_timing as wrt
from fpt_core.stats.fpt import FirstPassage


def test_docstring_examples_run():
    res = doctest.testmod(wrt)
    assert res.attempted > 0 and res.failed == 0


def test_share_counts_survivors_only_and_the_cycle_edge():
    # before τ0 = 10: one run (not a survivor); after: at +5 (edge, inside), +6, +1; one never
    t = np.array([3.0, 15.0, 16.0, 11.0, 50.0])
    share, texts = wrt.anneal_share(FirstPassage(t, t < 50, 50.0), 10.0, 5.0)
    assert share == 2 / 3 and texts == {"warm_hit": "3 of 4", "warm_share": "67%"}


def test_no_survivor_reaches_the_target():
    t = np.array([3.0, 50.0])
    share, texts = wrt.anneal_share(FirstPassage(t, t < 50, 50.0), 10.0, 5.0)
    assert math.isnan(share) and texts["warm_hit"] == "0 of 1"
