"""fpt_core.book.viz: the offline HTML carries a static SVG fallback; the chart helpers' specs."""

import base64
import re
import xml.etree.ElementTree as ET

import altair as alt
import numpy as np
import pandas as pd
import pytest

from fpt_core.book import viz

SVG = "{http://www.w3.org/2000/svg}"


def _small_chart() -> alt.Chart:
    df = pd.DataFrame({"x": [0, 1, 2, 3], "y": [0.1, 0.4, 0.3, 0.8], "g": ["a", "a", "b", "b"]})
    return (
        alt.Chart(df)
        .mark_line()
        .encode(x="x:Q", y="y:Q", color="g:N")
        .properties(width=200, height=100, title="small")
    )


def _fallback_svg(html: str) -> str:
    m = re.search(
        r'<img class="fpt-vega-static"[^>]*src="data:image/svg\+xml;base64,([^"]+)"', html
    )
    assert m, html[:500]
    return base64.b64decode(m.group(1)).decode()


def test_chart_html_has_a_valid_svg_fallback_inside_the_container():
    html = viz.chart_html(_small_chart().to_dict())
    # the image is inside the chart container, which vega-embed empties before drawing
    div = re.search(r'<div id="(vega-[0-9a-f]{12})" class="fpt-vega-chart">(.*?)</div>', html, re.S)
    assert div and "fpt-vega-static" in div.group(2)
    assert f'window.vegaEmbed("#{div.group(1)}"' in html
    root = ET.fromstring(_fallback_svg(html))
    assert root.tag == f"{SVG}svg"
    width, height = float(root.get("width")), float(root.get("height"))
    assert 200 < width < 400 and 100 < height < 250  # plot size + axes, legend, title
    assert 'alt="Static rendering of the chart: small"' in html
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert "small" in texts and {"a", "b"} <= texts  # the title and the legend were drawn
    assert len(list(root.iter(f"{SVG}path"))) >= 2  # the two lines


def test_fallback_can_be_disabled_and_renderer_emits_both_mimetypes():
    assert "fpt-vega-static" not in viz.chart_html(_small_chart().to_dict(), fallback=False)
    bundle = viz._renderer(_small_chart().to_dict())
    assert "fpt-vega-static" in bundle["text/html"]
    assert any(k.startswith("application/vnd.vegalite.v") for k in bundle)


def test_unrenderable_spec_warns_and_keeps_the_interactive_chart():
    with pytest.warns(UserWarning, match="no static fallback"):
        html = viz.chart_html({"mark": "no-such-mark", "data": {"values": []}})
    assert "fpt-vega-static" not in html and "window.vegaEmbed(" in html


def _surv_fpt():
    t = np.arange(0.0, 11.0)
    surv = pd.concat(
        pd.DataFrame({"t": t, "S": np.exp(-t / s), "τ": f"τ = {s}", "source": src})
        for s in (3, 6)
        for src in ("predicted", "measured")
    )
    fpt = pd.DataFrame({"fpt": [1.0, 2.0, 2.0, 5.0, 3.0, 7.0], "τ": ["τ = 3"] * 3 + ["τ = 6"] * 3})
    return surv, fpt


def _walk(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def test_survival_histogram_links_both_views_through_shared_selections():
    surv, fpt = _surv_fpt()
    chart = viz.survival_histogram(surv, fpt, group="τ", dash="source", title="linked")
    spec = chart.to_dict()
    top, hist = spec["vconcat"]
    assert spec["resolve"]["scale"] == {"x": "independent", "color": "shared"}
    # both time axes span the same domain, from 0 to the last time of either frame
    domains = [
        e["x"]["scale"]["domain"]
        for e in _walk(spec)
        if "x" in e and isinstance(e["x"], dict) and "scale" in e["x"]
    ]
    assert domains and all(d == [0.0, 10.0] for d in domains)
    params = {p["name"]: p for p in _walk(spec) if "select" in p and "name" in p}
    assert params["pick_group"]["select"] == {"type": "point", "fields": ["τ"]}
    assert params["pick_group"]["bind"] == "legend"
    assert params["time_brush"]["select"]["type"] == "interval"
    marks = {
        (m["mark"]["type"] if isinstance(m["mark"], dict) else m["mark"])
        for m in _walk(spec)
        if "mark" in m
    }
    assert {"line", "point", "bar"} <= marks
    # the legend selection fades both views; the brush filters the survival view
    text_top, text_hist = str(top), str(hist)
    assert "'param': 'pick_group'" in text_top and "'param': 'pick_group'" in text_hist
    assert "{'filter': {'param': 'time_brush'" in text_top
    # the histogram's time column is renamed to the survival's, so the brush applies to both
    hist_data = spec["datasets"][hist["data"]["name"]]
    assert sorted(r["t"] for r in hist_data) == sorted(fpt["fpt"])
    # the whole thing compiles and renders
    root = ET.fromstring(_fallback_svg(viz.chart_html(spec)))
    assert {"linked", "τ = 3", "τ = 6"} <= {t.text for t in root.iter(f"{SVG}text")}


def test_survival_histogram_rejects_missing_columns():
    surv, fpt = _surv_fpt()
    with pytest.raises(ValueError, match=r"fpt lacks the columns \['T'\]"):
        viz.survival_histogram(surv, fpt, group="τ", fpt_time="T")


def test_trajectory_chart_layers_band_line_target_and_x_zoom():
    df = pd.DataFrame({"epoch": [0, 1, 2] * 2, "mean": [0.1, 0.5, 0.6, 0.2, 0.4, 0.7]})
    df["arm"] = ["A"] * 3 + ["B"] * 3
    df["lo"], df["hi"], df["std"] = df["mean"] - 0.05, df["mean"] + 0.05, 0.05
    spec = viz.trajectory_chart(
        df, y="mean", color="arm", band=("lo", "hi"), target=0.65, tooltip=["std"]
    ).to_dict()
    kinds = [
        layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        for layer in spec["layer"]
    ]
    assert kinds == ["area", "line", "rule"]
    zoom = [p for p in _walk(spec) if p.get("bind") == "scales"]
    assert len(zoom) == 1 and zoom[0]["select"]["encodings"] == ["x"]
    tips = [t["field"] for t in spec["layer"][1]["encoding"]["tooltip"]]
    assert tips == ["arm", "epoch", "mean", "std"]
    rule = spec["datasets"][spec["layer"][2]["data"]["name"]]
    assert rule == [{"target": 0.65}]
    plain = viz.trajectory_chart(df, y="mean", color="arm").to_dict()
    assert len(plain["layer"]) == 1


def test_ensemble_means_chart_has_one_line_per_ensemble_with_its_mean():
    import pandas as pd

    from fpt_core.book.viz import ensemble_means_chart

    class Ens:
        def __init__(self, acc):
            self.acc = acc

        def frame(self):
            return pd.DataFrame(
                [{"run": r, "epoch": e, "test_acc": a} for r, row in enumerate(self.acc)
                 for e, a in enumerate(row)]
            )  # fmt: skip

    chart = ensemble_means_chart([("a", Ens([[0.1, 0.5], [0.3, 0.7]])), ("b", Ens([[0.2, 0.2]]))],
                                 target=0.6)  # fmt: skip
    spec = chart.to_dict()
    values = [v for d in spec["datasets"].values() for v in d if "ensemble" in v]
    means = {(v["ensemble"], v["epoch"]): v["test_acc"] for v in values}
    assert means == {("a", 0): 0.2, ("a", 1): 0.6, ("b", 0): 0.2, ("b", 1): 0.2}
