"""Sphinx extension: ship Vega, Vega-Lite and vega-embed with the book (no CDN).

At build time the JavaScript bundle from ``vl_convert.javascript_bundle()`` (which defines
``window.vegaEmbed``) is written into the HTML output's ``_static`` folder and loaded on every
page, so the charts emitted by :func:`fpt_core.viz.use_offline_renderer` render offline.
"""

from __future__ import annotations

from pathlib import Path

BUNDLE = "vega-bundle.js"


def _write_bundle(app, exception):  # build-finished: _static exists and is final
    if exception is not None or app.builder.format != "html":
        return
    import vl_convert as vlc

    target = Path(app.outdir) / "_static" / BUNDLE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(vlc.javascript_bundle())


def setup(app):
    app.add_js_file(BUNDLE, priority=100)
    app.connect("build-finished", _write_bundle)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
