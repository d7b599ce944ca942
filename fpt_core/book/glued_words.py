"""Measured numbers and data-dependent phrases handed to a page's prose with myst-nb's glue.

A page's markdown names them (``{glue:text}`name``` for plain text, ``{glue:md}`name``` for
Markdown); the code cell that computes them glues them without displaying anything.
"""

from __future__ import annotations

from typing import Any

from myst_nb import glue

__all__ = ["glue_words"]


def glue_words(**words: Any) -> None:
    """Glue each ``name=value`` (``display=False``): strings for ``{glue:text}``, an
    :class:`IPython.display.Markdown` object for ``{glue:md}``.

    Examples
    --------
    Outside a notebook the glued values are only recorded by the kernel, so nothing shows:

    >>> glue_words(n_runs="56", verdict="reproduced")
    """
    for name, value in words.items():
        glue(name, value, display=False)
