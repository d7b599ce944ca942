"""Altair output that renders without a network, with a static fallback, and shared chart helpers.

:func:`use_offline_renderer` registers and enables an Altair renderer whose HTML calls
``window.vegaEmbed`` instead of loading Vega from a CDN. The book ships the JavaScript once, as a
static file built by ``vl_convert.javascript_bundle()`` (see ``book/_ext/offline_assets.py``). The
output also carries the Vega-Lite JSON, so JupyterLab renders the chart natively.

Every chart also carries a static SVG of itself, rendered by ``vl_convert`` when the notebook is
executed and embedded as an ``<img>`` inside the chart container: vega-embed empties the container
before drawing, so the image is seen only where JavaScript does not run (or Vega fails to load).

:func:`survival_histogram` links a survival curve and a first-passage-time histogram through a
shared legend selection and a time brush; :func:`trajectory_chart` draws ensemble-mean
trajectories (optionally with a band) with tooltips, a target line and x zoom/pan.
"""

from __future__ import annotations

import base64
import html
import json
import uuid
import warnings
from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

__all__ = [
    "use_offline_renderer",
    "chart_html",
    "static_svg",
    "survival_histogram",
    "trajectory_chart",
    "RENDERER",
    "MAX_FALLBACK_BYTES",
]

RENDERER = "fpt_offline"
MAX_FALLBACK_BYTES = 2_000_000
"""Largest static SVG embedded as a fallback; a larger one is replaced by a short note."""

_TEMPLATE = """<div id="{id}" class="fpt-vega-chart">{fallback}</div>
<script type="text/javascript">
(function () {{
  var spec = {spec};
  function draw() {{ window.vegaEmbed("#{id}", spec, {{"actions": false}}).catch(console.error); }}
  if (window.vegaEmbed) {{ draw(); }} else {{ window.addEventListener("load", draw); }}
}})();
</script>"""

_IMG = (
    '<img class="fpt-vega-static" alt="{alt}" width="{w}" height="{h}" '
    'style="max-width:100%;height:auto" src="data:image/svg+xml;base64,{data}">'
)


def static_svg(spec: dict[str, Any]) -> str | None:
    """The chart ``spec`` rendered to SVG by ``vl_convert``; ``None`` (with a warning) on failure."""
    try:
        import vl_convert as vlc

        return vlc.vegalite_to_svg(spec)
    except Exception as exc:  # a static image is a convenience, never a reason to fail
        warnings.warn(f"no static fallback for a chart: {exc}", stacklevel=2)
        return None


def _fallback(spec: dict[str, Any]) -> str:
    svg = static_svg(spec)
    if svg is None:
        return ""
    if len(svg) > MAX_FALLBACK_BYTES:
        return (
            '<p class="fpt-vega-static">Interactive chart (too large for a static image): '
            "enable JavaScript to see it.</p>"
        )
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    alt_text = f"Static rendering of the chart{': ' + str(title) if title else ''}"
    w, h = _svg_size(svg)
    data = base64.b64encode(svg.encode()).decode("ascii")
    return _IMG.format(alt=html.escape(alt_text, quote=True), w=w, h=h, data=data)


def _svg_size(svg: str) -> tuple[str, str]:
    head = svg[: svg.find(">")]
    out = []
    for key in ("width", "height"):
        i = head.find(f' {key}="')
        out.append(head[i + len(key) + 3 : head.find('"', i + len(key) + 3)] if i >= 0 else "")
    return out[0], out[1]


def chart_html(spec: dict[str, Any], *, fallback: bool = True) -> str:
    """HTML fragment drawing a Vega-Lite ``spec`` with the page's ``window.vegaEmbed``.

    With ``fallback``, the container holds a static SVG of the chart (``<img>``, base64 data URI)
    that vega-embed replaces when it draws.
    """
    return _TEMPLATE.format(
        id=f"vega-{uuid.uuid4().hex[:12]}",
        spec=json.dumps(spec),
        fallback=_fallback(spec) if fallback else "",
    )


def _renderer(spec: dict[str, Any], **_: Any) -> dict[str, Any]:
    mime = f"application/vnd.vegalite.v{alt.SCHEMA_VERSION.split('.')[0].lstrip('v')}+json"
    return {"text/html": chart_html(spec), mime: spec, "text/plain": "<Altair chart>"}


def use_offline_renderer() -> None:
    """Enable the offline renderer for every chart displayed afterwards; lift Altair's row cap."""
    alt.renderers.register(RENDERER, _renderer)
    alt.renderers.enable(RENDERER)
    alt.data_transformers.disable_max_rows()


def survival_histogram(
    surv: pd.DataFrame,
    fpt: pd.DataFrame,
    *,
    group: str,
    time: str = "t",
    survival: str = "S",
    fpt_time: str = "fpt",
    dash: str | None = None,
    time_title: str = "epoch",
    survival_title: str = "S(t) = P(T > t)",
    maxbins: int = 30,
    width: int = 560,
    height: int = 260,
    hist_height: int = 150,
    title: str | None = None,
) -> alt.VConcatChart:
    """Survival curves above a histogram of first-passage times, linked by two selections.

    Parameters
    ----------
    surv : pandas.DataFrame
        Tidy survival curves: one row per (curve, time) with columns ``time``, ``survival`` and
        ``group`` (and ``dash`` if given, e.g. predicted vs measured). Drawn as step lines.
    fpt : pandas.DataFrame
        One row per observed first passage, with columns ``fpt_time`` and ``group``.
    group : str
        Column naming the ensemble of each row; its colour legend is clickable (a point selection
        bound to the legend): the chosen groups stay opaque in both views, the others fade.
    time, survival, fpt_time, dash : str
        Column names. ``dash`` (optional) sets the stroke dash of the survival lines.
    time_title, survival_title : str
        Axis titles.
    maxbins : int
        Largest number of histogram bins.
    width, height, hist_height : int
        Size of the views.
    title : str, optional
        Title of the whole chart.

    Returns
    -------
    altair.VConcatChart
        Dragging over the histogram (an interval brush on time) marks the brushed window on the
        survival curves with points. Both time axes span the same fixed domain (the binned axis
        keeps its bin-edge ticks, so the scales are not merged); legends sit below the views.
    """
    for name, frame, cols in (
        ("surv", surv, [time, survival, group] + ([dash] if dash else [])),
        ("fpt", fpt, [fpt_time, group]),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks the columns {missing}")
    hist_data = fpt[[fpt_time, group]].rename(columns={fpt_time: time})
    values = pd.concat([surv[time], hist_data[time]]).dropna()
    lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    lo, hi = min(lo, 0.0), hi if hi > lo else lo + 1.0
    domain = alt.Scale(domain=[lo, hi], nice=False)  # the same time axis in both views
    pick = alt.selection_point(name="pick_group", fields=[group], bind="legend")
    brush = alt.selection_interval(name="time_brush", encodings=["x"], empty=False)
    colour = alt.Color(f"{group}:N", title=group, legend=alt.Legend(orient="bottom"))
    fade = alt.condition(pick, alt.value(1.0), alt.value(0.15))
    x = alt.X(f"{time}:Q", title=time_title, scale=domain)
    line_enc: dict[str, Any] = dict(
        x=x,
        y=alt.Y(f"{survival}:Q", title=survival_title, scale=alt.Scale(domain=[0, 1])),
        color=colour,
        opacity=fade,
        tooltip=[
            f"{group}:N",
            *([f"{dash}:N"] if dash else []),
            alt.Tooltip(f"{time}:Q", title=time_title),
            alt.Tooltip(f"{survival}:Q", format=".3f"),
        ],
    )
    if dash:
        line_enc["strokeDash"] = alt.StrokeDash(
            f"{dash}:N", title=dash, legend=alt.Legend(orient="bottom")
        )
    curves = alt.Chart(surv).mark_line(interpolate="step-after").encode(**line_enc).add_params(pick)
    marked = (
        alt.Chart(surv)
        .mark_point(filled=True, size=30)
        .encode(x=x, y=f"{survival}:Q", color=colour, opacity=fade)
        .transform_filter(brush)
    )
    top = alt.layer(curves, marked).properties(width=width, height=height)
    hist = (
        alt.Chart(hist_data)
        .mark_bar(opacity=0.7, binSpacing=0)
        .encode(
            x=alt.X(
                f"{time}:Q",
                bin=alt.Bin(maxbins=maxbins, extent=[lo, hi]),
                title=f"first-passage time T ({time_title})",
                scale=domain,
                axis=alt.Axis(format="~g"),
            ),
            y=alt.Y("count():Q", title="runs", stack=None),
            color=colour,
            opacity=alt.condition(pick, alt.value(0.7), alt.value(0.08)),
            tooltip=[f"{group}:N", alt.Tooltip(f"{time}:Q", bin=True, title="T"), "count():Q"],
        )
        .add_params(brush)
        .properties(width=width, height=hist_height)
    )
    chart = alt.vconcat(top, hist).resolve_scale(x="independent", color="shared")
    return chart.properties(title=title) if title else chart


def trajectory_chart(
    data: pd.DataFrame,
    *,
    y: str,
    color: str,
    x: str = "epoch",
    band: tuple[str, str] | None = None,
    target: float | None = None,
    tooltip: Sequence[str] = (),
    y_title: str = "test accuracy",
    x_title: str = "epoch",
    color_title: str | None = None,
    stroke_width: float | None = None,
    zero: bool = False,
    width: int = 560,
    height: int = 300,
    title: str | None = None,
) -> alt.LayerChart:
    """Ensemble trajectories: one line per ``color`` group, zoom/pan on x, tooltips.

    The colour legend sits below the plot.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy: one row per (group, x) with columns ``x``, ``y``, ``color`` (and the band columns).
    y, color, x : str
        Column names of the value, the group and the time.
    band : tuple of str, optional
        ``(low, high)`` columns drawn as a shaded band behind each line.
    target : float, optional
        Horizontal dashed red rule at this value (e.g. the target accuracy).
    tooltip : sequence of str
        Extra numeric columns in the tooltip (formatted ``.4f``) after group, x and ``y``.
    y_title, x_title, color_title : str
        Axis and legend titles.
    stroke_width : float, optional
        Line width (Vega-Lite's default when ``None``).
    zero : bool
        Whether the y scale includes zero.
    width, height : int
        Size of the chart.
    title : str, optional
        Chart title.
    """
    legend = alt.Legend(orient="bottom")  # below the plot, so the chart fits the page column
    colour = (
        alt.Color(f"{color}:N", title=color_title, legend=legend)
        if color_title
        else alt.Color(f"{color}:N", legend=legend)
    )
    mark = {"strokeWidth": stroke_width} if stroke_width is not None else {}
    line = (
        alt.Chart(data)
        .mark_line(**mark)
        .encode(
            x=alt.X(f"{x}:Q", title=x_title),
            y=alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(zero=zero)),
            color=colour,
            tooltip=[
                f"{color}:N",
                f"{x}:Q",
                alt.Tooltip(f"{y}:Q", format=".4f"),
                *(alt.Tooltip(f"{c}:Q", format=".4f") for c in tooltip),
            ],
        )
    )
    layers: list[alt.Chart] = [line]
    if band is not None:
        area = (
            alt.Chart(data)
            .mark_area(opacity=0.2)
            .encode(
                x=f"{x}:Q",
                y=alt.Y(f"{band[0]}:Q", title=y_title, scale=alt.Scale(zero=zero)),
                y2=f"{band[1]}:Q",
                color=colour,
            )
        )
        layers.insert(0, area)
    if target is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"target": [target]}))
            .mark_rule(color="red", strokeDash=[4, 4])
            .encode(y="target:Q")
        )
    zoom = alt.selection_interval(bind="scales", encodings=["x"])
    chart = alt.layer(*layers).add_params(zoom).properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


def ensemble_means_chart(
    ensembles: Sequence[tuple[str, Any]], *, target: float | None = None, y: str = "test_acc"
) -> alt.Chart:
    """Mean of ``y`` over the runs of each ensemble per epoch, one line per ``(label, ensemble)``
    (an :class:`fpt_core.train.runner.EnsembleResult` or anything with ``frame()``), with the target."""
    rows = []
    for label, ens in ensembles:
        d = ens.frame().groupby("epoch")[y].mean().reset_index()
        d["ensemble"] = label
        rows.append(d)
    return trajectory_chart(
        pd.concat(rows), y=y, color="ensemble", target=target, y_title=f"mean {y.replace('_', ' ')}",
        title="Ensemble-mean test accuracy (red: target; drag to pan, wheel to zoom)",
    )  # fmt: skip
