"""Every page of the built book, opened in headless Chromium from a localhost server: each chart
container is drawn by vega-embed itself (the container gets vega-embed's class and a Vega
``svg.marks``/``canvas.marks``, and the static fallback image is gone), no JavaScript error is
logged, no request leaves localhost. With JavaScript off, the static fallback of every chart is
shown instead. A screenshot of every page is saved next to the built HTML.

Without Chromium on ``PATH`` both browser tests skip, before the book is built; under CI (env
``CI`` set, as ``.ci/run`` does) that skip is a failure (``tests/conftest.py``; checked in
``tests/test_ci.py``)."""

import functools
import http.server
import shutil
import threading
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def chromium():
    """Path of Debian's Chromium; skips (a failure under CI) if it is not on ``PATH``.

    Session-scoped and requested before ``server``, so that it is set up before ``tiny_book``
    (pytest sets up fixtures of a wider scope first): a missing browser is reported at once,
    not after the book is built.
    """
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("chromium is not on PATH: apt-get install chromium (.ci/run does, as root)")
    return path


@pytest.fixture(scope="module")
def server(tiny_book):
    html = tiny_book / "_build" / "html"
    handler = functools.partial(_QuietHandler, directory=str(html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield html, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_every_page_renders_offline_in_chromium(chromium, server):
    html, base = server
    shots = html.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    pages = sorted(
        p.relative_to(html).as_posix()
        for p in html.rglob("*.html")
        if not p.relative_to(html).parts[0].startswith(("_", "."))  # theme templates, caches
    )
    problems: list[str] = []
    n_charts = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=FLAGS)
        for rel in pages:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            remote: list[str] = []
            page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))

            def route(r, remote=remote):
                if urlparse(r.request.url).hostname in ("127.0.0.1", "localhost", None):
                    r.continue_()
                else:
                    remote.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.goto(f"{base}/{rel}", wait_until="networkidle")
            charts = page.locator(".fpt-vega-chart")
            for i in range(charts.count()):
                # drawn by Vega (its marks), inside the element vega-embed took over
                charts.nth(i).locator("svg.marks, canvas.marks").first.wait_for(timeout=15_000)
            n_charts += charts.count()
            n_embedded = page.locator(".fpt-vega-chart.vega-embed").count()
            if n_embedded != charts.count():
                problems.append(f"{rel}: {n_embedded} of {charts.count()} charts embedded")
            if page.locator(".fpt-vega-chart .fpt-vega-static").count():
                problems.append(f"{rel}: a static fallback is still shown next to vega-embed")
            page.screenshot(path=str(shots / (rel.replace("/", "__") + ".png")), full_page=True)
            if errors:
                problems.append(f"{rel}: JavaScript errors {errors}")
            if remote:
                problems.append(f"{rel}: requests left localhost {remote}")
            page.close()
        browser.close()
    assert not problems, "\n".join(problems)
    assert n_charts >= 4, f"only {n_charts} charts found"


def test_static_fallback_is_shown_without_javascript(chromium, server):
    html, base = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=FLAGS)
        context = browser.new_context(
            java_script_enabled=False, viewport={"width": 1200, "height": 900}
        )
        page = context.new_page()
        page.goto(f"{base}/book/executed/02_single_frequency.html", wait_until="load")
        charts = page.locator(".fpt-vega-chart")
        n = charts.count()
        assert n >= 3
        for i in range(n):
            img = charts.nth(i).locator("img.fpt-vega-static")
            assert img.count() == 1, f"chart {i} has no static fallback"
            img.scroll_into_view_if_needed()
            size = img.evaluate("e => [e.complete, e.naturalWidth, e.naturalHeight]")
            assert size[0] and size[1] > 100 and size[2] > 50, f"chart {i}: {size}"
            assert img.is_visible()
        assert page.locator(".fpt-vega-chart.vega-embed").count() == 0
        shots = html.parent / "screenshots"
        shots.mkdir(exist_ok=True)
        page.screenshot(path=str(shots / "nojs__02_single_frequency.png"), full_page=True)
        browser.close()
