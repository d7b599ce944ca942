"""Sphinx extension: serve every script the book needs from its own ``_static`` (no CDN).

- Vega, Vega-Lite and vega-embed: the bundle from ``vl_convert.javascript_bundle()`` (it defines
  ``window.vegaEmbed``) is written to ``_static/vega-bundle.js`` and loaded on every page, so the
  charts emitted by :func:`fpt_core.book.viz.use_offline_renderer` render offline.
- MathJax 3 (``tex-mml-chtml.js`` and its woff-v2 fonts), copied from the files that the PyPI
  package ``django-static-mathjax`` installs; ``mathjax_path`` points at the copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

BUNDLE = "vega-bundle.js"
MATHJAX = "mathjax/tex-mml-chtml.js"
_DEFAULT_MODE = (
    'if (!document.documentElement.dataset.mode) document.documentElement.dataset.mode = "auto";'
)


def _mathjax_source() -> Path:
    import mathjax  # django-static-mathjax

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def _configure(app, config):
    config.mathjax_path = MATHJAX


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    """Drop repeated <script> entries (sphinx-thebe's inline config is registered twice by
    Jupyter Book, which declares a ``const`` twice: a JavaScript error on every page)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        key = (
            getattr(js, "filename", js) or "",
            tuple(sorted(getattr(js, "attributes", {}).items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def _write_assets(app, exception):  # build-finished: _static exists and is final
    if exception is not None or app.builder.format != "html":
        return
    import vl_convert as vlc

    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / BUNDLE).write_text(vlc.javascript_bundle())
    src, dest = _mathjax_source(), static / "mathjax"
    dest.mkdir(exist_ok=True)
    shutil.copy2(src / "tex-mml-chtml.js", dest / "tex-mml-chtml.js")
    fonts = Path("output") / "chtml" / "fonts" / "woff-v2"
    shutil.copytree(src / fonts, dest / fonts, dirs_exist_ok=True)


def setup(app):
    app.add_js_file(BUNDLE, priority=100, type="module")  # own scope: no global name clashes
    # the theme logs a console error when the browser has no stored light/dark mode yet
    app.add_js_file(None, priority=100, body=_DEFAULT_MODE)
    app.connect("config-inited", _configure, priority=900)
    app.connect("html-page-context", _dedupe_scripts, priority=999)  # after the others
    app.connect("build-finished", _write_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "2"}
