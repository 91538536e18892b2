"""Markdown read within its deadline (rag/loaders/markdown.py): the deadline is checked once
the text is rendered, so a file whose rendering alone used up the time is refused before its
page is parsed and read.

Tests written for deliberate bugs a review planted in rag/loaders/markdown.py that the suite
let through."""

from __future__ import annotations

import time

import pytest

from rag.loaders import Budget, UnreadableFile
from rag.loaders.markdown import load_markdown

TEXT = "# Pumps\n\nThe relief valve opens at 4 bar.\n"


def test_markdown_rendered_past_its_deadline_is_refused() -> None:
    budget = Budget(seconds=0.001)
    time.sleep(0.01)  # the time a large file's rendering takes, here before it starts
    with pytest.raises(UnreadableFile, match=r"reading it took over 0.001 s"):
        load_markdown(TEXT, budget)
    assert load_markdown(TEXT, Budget(seconds=60)).text == (
        "Pumps\n\nThe relief valve opens at 4 bar."
    )
