"""fpt_core.book.fluctuation_charts: each chart encodes the columns it is given."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch

from fpt_core.book import fluctuation_charts as fc


def test_charts():
    fit = fc.minimum_fit_chart(pd.DataFrame({"x": [0.0], "y": [1.0]}),
                               pd.DataFrame({"x": [0.0], "f": [0.9]})).to_dict()  # fmt: skip
    assert fit["title"] == "Training data and the network at its minimum w*"
    cmp = pd.DataFrame({"policy": ["p"], "quantity": ["Σ"], "i": [1], "j": [1], "theory": [1.0],
                        "measured": [1.1], "lo": [1.0], "hi": [1.2], "z": [1.0]})  # fmt: skip
    spec = fc.moment_chart(cmp).to_dict()
    assert spec["facet"]["column"]["field"] == "quantity" and len(spec["spec"]["layer"]) == 3
    h = pd.DataFrame({"policy": ["p"], "k": ["1-step"], "σ": [0.0], "P(σ)": [1.0]})
    assert fc.sigma_density_chart(h).to_dict()["spec"]["encoding"]["y"]["field"] == "P(σ)"
    d = pd.DataFrame({"policy": ["p"], "k": ["1-step"], "σ": [0.5], "ln P(σ)/P(−σ)": [0.4],
                      "lo": [0.3], "hi": [0.5]})  # fmt: skip
    assert fc.dft_chart(d).to_dict()["spec"]["layer"][0]["mark"]["strokeDash"] == [4, 4]


def test_bias_chart_drops_non_positive_measurements_from_the_log_scale():
    s = pd.DataFrame({"η": [1e-6, 1e-5], "ε measured": [-1e-4, 0.01], "SE": [1e-3, 1e-3],
                      "ε predicted": [1e-4, 0.01]})  # fmt: skip
    spec = fc.bias_chart(s).to_dict()
    data = next(iter(spec["datasets"].values()))
    assert data[0]["meas"] is None and data[1]["meas"] == 0.01 and data[0]["lo"] == 1e-9


def test_docstring_examples():
    import doctest

    import fpt_core.book.fluctuation_charts as module

    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_network_fit_chart_draws_the_data_and_the_prediction():
    net = SimpleNamespace(x=torch.tensor([-1.0, 1.0]), y=torch.tensor([0.5, 0.25]),
                          predict=lambda w, x: w[0] * np.asarray(x) + w[1])  # fmt: skip
    spec = fc.network_fit_chart(net, np.array([1.0, 0.5]), n_points=5).to_dict()
    data, fit = spec["datasets"].values()
    assert data == [{"x": -1.0, "y": 0.5}, {"x": 1.0, "y": 0.25}]
    assert [r["x"] for r in fit] == [-3.0, -1.5, 0.0, 1.5, 3.0] and fit[0]["f"] == -2.5
