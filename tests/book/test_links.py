"""No broken internal link in the built book; the repository button's URL comes from the
environment (book/_ext/repository_link.py)."""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import repository_link  # noqa: E402

_EXTERNAL = ("http", "https", "mailto", "data", "javascript", "tel", "ftp")
_URL_ATTRS = {"href", "src"}


class _Page(HTMLParser):
    """The ids / names a page defines and the (tag, attribute, URL) links it holds."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: set[str] = set()
        self.links: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag in ("a", "map")):
                self.anchors.add(value)
            elif name in _URL_ATTRS:
                self.links.append((tag, name, value))

    handle_startendtag = handle_starttag


def _parse(path: Path, cache: dict[Path, _Page]) -> _Page:
    if path not in cache:
        page = _Page()
        page.feed(path.read_text(errors="replace"))
        cache[path] = page
    return cache[path]


def broken_links(html_root: Path) -> list[str]:
    """Every relative href/src of every page that names a missing file or a missing anchor."""
    html_root = html_root.resolve()
    cache: dict[Path, _Page] = {}
    problems: list[str] = []
    for page_path in sorted(html_root.rglob("*.html")):
        rel_page = page_path.relative_to(html_root).as_posix()
        if rel_page.startswith(("_", ".")):  # theme templates (_static/*.html), caches
            continue
        for tag, attr, url in _parse(page_path, cache).links:
            parts = urlsplit(url)
            if parts.scheme in _EXTERNAL or url.startswith("//"):
                continue
            if parts.scheme or parts.netloc:
                problems.append(f"{rel_page}: <{tag} {attr}={url!r}> unknown scheme")
                continue
            path = unquote(parts.path)
            if not path:
                target = page_path
            else:
                target = (page_path.parent / path).resolve()
                if path.endswith("/") or target.is_dir():
                    target = target / "index.html"
            if not target.is_relative_to(html_root):
                problems.append(f"{rel_page}: <{tag} {attr}={url!r}> leaves the built book")
                continue
            if not target.is_file():
                problems.append(f"{rel_page}: <{tag} {attr}={url!r}> no such file")
                continue
            anchor = unquote(parts.fragment)
            if anchor and target.suffix == ".html":
                if anchor not in _parse(target, cache).anchors:
                    where = "" if target == page_path else f" in {target.relative_to(html_root)}"
                    problems.append(
                        f"{rel_page}: <{tag} {attr}={url!r}> no anchor #{anchor}{where}"
                    )
    return problems


def test_no_broken_internal_link(tiny_book):
    html = tiny_book / "_build" / "html"
    pages = list(html.rglob("*.html"))
    assert len(pages) >= 10
    problems = broken_links(html)
    assert not problems, f"{len(problems)} broken links:\n" + "\n".join(problems[:50])


def test_checker_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "x.css").write_text("")
    (tmp_path / "a.html").write_text(
        '<html><head><link href="_static/x.css?v=1" rel="stylesheet"></head><body>'
        '<h1 id="top">A</h1><a href="#top">ok</a><a href="#nowhere">bad</a>'
        '<a href="sub/b.html#sec">ok</a><a href="sub/b.html#gone">bad</a>'
        '<img src="missing.png"><a href="https://example.org/#x">external</a>'
        '<a href="mailto:a@b.c">mail</a><img src="data:image/png;base64,AAAA"></body></html>'
    )
    (tmp_path / "sub" / "b.html").write_text(
        '<a name="sec"></a><a href="../a.html#top">ok</a><a href="../../out.html">out</a>'
    )
    problems = broken_links(tmp_path)
    assert len(problems) == 4, problems
    assert any("a.html" in p and "#nowhere" in p for p in problems)
    assert any("sub/b.html#gone" in p and "no anchor #gone" in p for p in problems)
    assert any("missing.png" in p and "no such file" in p for p in problems)
    assert any(p.startswith("sub/b.html") and "leaves the built book" in p for p in problems)


@pytest.mark.parametrize(
    "remote, url",
    [
        ("https://github.com/org/fpt-book.git", "https://github.com/org/fpt-book"),
        ("https://user:secret@github.com/org/fpt-book/", "https://github.com/org/fpt-book"),
        ("git@github.com:org/fpt-book.git", "https://github.com/org/fpt-book"),
        ("ssh://git@gitlab.com:2222/group/sub/repo.git", "https://gitlab.com/group/sub/repo"),
        ("https://gitlab.example.org:8443/g/r", "https://gitlab.example.org:8443/g/r"),
        ("/srv/git/fpt-book.git", None),
        ("file:///srv/git/fpt-book.git", None),
        ("https://github.com/org", None),
        ("", None),
    ],
)
def test_remote_urls_become_https_without_credentials(remote, url):
    assert repository_link.https_url(remote) == url


def _no_origin(srcdir):
    return None


def test_repository_url_precedence():
    gh = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/fpt-book"}
    origin = "git@gitlab.com:me/fork.git"

    def url(env, remote=origin):
        return repository_link.repository_url(env, "/nowhere", origin=lambda d: remote)

    assert url({"FPT_REPOSITORY_URL": "https://bitbucket.org/x/y.git", **gh}) == (
        "https://bitbucket.org/x/y"
    )
    assert url({"FPT_REPOSITORY_URL": "none", **gh}) is None  # explicitly off
    assert url(gh) == "https://github.com/acme/fpt-book"  # GitHub Actions
    assert url({"GITHUB_SERVER_URL": "https://github.com"}) == "https://gitlab.com/me/fork"
    assert url({}) == "https://gitlab.com/me/fork"  # the checkout's origin
    assert url({}, remote=None) is None  # no remote: no button
    assert url({"FPT_REPOSITORY_URL": "  "}, remote=None) is None


def test_theme_options_only_for_known_providers():
    assert repository_link.theme_options(None) == {}
    assert repository_link.theme_options("https://git.example.org/a/b") == {}
    assert repository_link.theme_options("https://github.com/a/b") == {
        "repository_url": "https://github.com/a/b",
        "use_repository_button": True,
    }


def test_built_book_has_the_button_only_with_a_url(tiny_book):
    # the session build runs in a temporary copy (no git checkout); it has a button only when
    # the environment names a repository (GitHub Actions, FPT_REPOSITORY_URL)
    expected = repository_link.theme_options(
        repository_link.repository_url(srcdir=tiny_book, origin=_no_origin)
    )
    page = (tiny_book / "_build" / "html" / "book" / "executed" / "01_qss.html").read_text()
    if expected:
        assert f'href="{expected["repository_url"]}"' in page
    else:
        assert "source-repository-button" not in page
