"""fpt_core.book.glued_words: every word is glued under its name, without display."""

from unittest import mock

from IPython.display import Markdown

from fpt_core.book import glued_words


def test_each_word_is_glued_once_without_display():
    md = Markdown("**bold**")
    with mock.patch.object(glued_words, "glue") as glue:
        glued_words.glue_words(n_runs="56", words=md)
    assert glue.call_args_list == [
        mock.call("n_runs", "56", display=False),
        mock.call("words", md, display=False),
    ]
