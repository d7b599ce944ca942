"""Sphinx extension: the theme's "Repository" button, pointing at wherever the book is built from.

The URL is not written in ``_config.yml`` (forks and mirrors build the same sources). It is, in
order: ``$FPT_REPOSITORY_URL``; ``$GITHUB_SERVER_URL/$GITHUB_REPOSITORY`` (set by GitHub
Actions, so the Pages build links to its own repository); the ``origin`` remote of the git
checkout holding the sources, as an ``https://`` URL without credentials; otherwise nothing, and
the book has no repository button (never a broken link). Set ``FPT_REPOSITORY_URL=none`` to
switch the button off.

sphinx-book-theme only knows GitHub, GitLab and Bitbucket URLs (the provider names the icon);
another host gets no button.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROVIDERS = ("github", "gitlab", "bitbucket")
_SCP = re.compile(r"^(?:[\w.+-]+@)?([\w.-]+):(?!//)(.+)$")  # git@github.com:org/repo.git


def https_url(remote: str) -> str | None:
    """``remote`` (https, ssh, ``git@host:org/repo.git``) as ``https://host/org/repo``, or None.

    Credentials, ports of ssh remotes, a trailing ``.git`` and slashes are dropped; a URL whose
    path is not at least ``org/repo`` (or a local path) gives None.
    """
    remote = remote.strip()
    if not remote:
        return None
    m = _SCP.match(remote)
    if m and "://" not in remote:
        host, path = m.group(1), m.group(2)
    else:
        parts = urlsplit(remote)
        if parts.scheme not in ("http", "https", "ssh", "git", "git+ssh") or not parts.hostname:
            return None
        host = parts.hostname
        if parts.scheme in ("http", "https") and parts.port:
            host = f"{host}:{parts.port}"
        path = parts.path
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    if len([p for p in path.split("/") if p]) < 2:
        return None
    return urlunsplit(("https", host, "/" + path, "", ""))


def _origin(srcdir: Path) -> str | None:
    try:
        res = subprocess.run(
            ["git", "-C", str(srcdir), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() if res.returncode == 0 else None


def repository_url(
    env: Mapping[str, str] | None = None,
    srcdir: Path | str = ".",
    origin: Callable[[Path], str | None] = _origin,
) -> str | None:
    """The repository's ``https`` URL from the environment or the git checkout (None if none).

    ``origin(srcdir)`` returns the checkout's ``origin`` remote (``git remote get-url origin``
    by default); tests pass a stub.
    """
    env = os.environ if env is None else env
    explicit = env.get("FPT_REPOSITORY_URL", "").strip()
    if explicit:
        return None if explicit.lower() in ("none", "off", "no", "0") else https_url(explicit)
    server, repo = env.get("GITHUB_SERVER_URL", "").strip(), env.get("GITHUB_REPOSITORY", "")
    if server and repo.strip():
        return https_url(f"{server.rstrip('/')}/{repo.strip()}")
    remote = origin(Path(srcdir))
    return https_url(remote) if remote else None


def theme_options(url: str | None) -> dict[str, object]:
    """sphinx-book-theme options showing a repository button for ``url`` (empty: no button)."""
    if not url:
        return {}
    host = urlsplit(url).hostname or ""
    if not any(p in host.lower() for p in PROVIDERS):
        return {}
    return {"repository_url": url, "use_repository_button": True}


def _configure(app, config):
    options = theme_options(repository_url(srcdir=app.srcdir))
    if options:
        config.html_theme_options = {**(config.html_theme_options or {}), **options}


def setup(app):
    app.connect("config-inited", _configure, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
