"""Altair output that renders without a network.

:func:`use_offline_renderer` registers and enables an Altair renderer whose HTML calls
``window.vegaEmbed`` instead of loading Vega from a CDN. The book ships the JavaScript once, as a
static file built by ``vl_convert.javascript_bundle()`` (see ``book/_ext/offline_assets.py``). The
output also carries the Vega-Lite JSON, so JupyterLab renders the chart natively.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import altair as alt

__all__ = ["use_offline_renderer", "chart_html", "RENDERER"]

RENDERER = "fpt_offline"

_TEMPLATE = """<div id="{id}" class="fpt-vega-chart"></div>
<script type="text/javascript">
(function () {{
  var spec = {spec};
  function draw() {{ window.vegaEmbed("#{id}", spec, {{"actions": false}}).catch(console.error); }}
  if (window.vegaEmbed) {{ draw(); }} else {{ window.addEventListener("load", draw); }}
}})();
</script>"""


def chart_html(spec: dict[str, Any]) -> str:
    """HTML fragment drawing a Vega-Lite ``spec`` with the page's ``window.vegaEmbed``."""
    return _TEMPLATE.format(id=f"vega-{uuid.uuid4().hex[:12]}", spec=json.dumps(spec))


def _renderer(spec: dict[str, Any], **_: Any) -> dict[str, Any]:
    mime = f"application/vnd.vegalite.v{alt.SCHEMA_VERSION.split('.')[0].lstrip('v')}+json"
    return {"text/html": chart_html(spec), mime: spec, "text/plain": "<Altair chart>"}


def use_offline_renderer() -> None:
    """Enable the offline renderer for every chart displayed afterwards; lift Altair's row cap."""
    alt.renderers.register(RENDERER, _renderer)
    alt.renderers.enable(RENDERER)
    alt.data_transformers.disable_max_rows()
