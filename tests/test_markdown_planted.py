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


def test_a_too_deeply_nested_file_is_refused_with_the_whole_reason() -> None:
    """The reason says what is nested, how deep is too deep and what to do about it."""
    with pytest.raises(UnreadableFile) as error:
        load_markdown("> " * 99 + "Deep.\n\nThe end.\n")
    assert str(error.value) == (
        "lists or quotes nested too deeply (past 100 levels, about 50 lists deep): the rest "
        "of the file would be lost; nest them less deeply"
    )


def test_the_deadline_is_checked_while_the_rendered_page_is_read() -> None:
    """Reading the rendered page of a long file checks the deadline too, not only rendering
    and parsing it: a file that is quick to parse but long to read still stops in time."""
    from rag.loaders.html import parse
    from rag.loaders.markdown import render

    class Counting(Budget):
        checks = 0

        def check(self) -> None:
            self.checks += 1
            super().check()

    markdown = "".join(f"- item {i} of the list\n" for i in range(3000))
    whole, rendering, parsing = Counting(), Counting(), Counting()
    assert load_markdown(markdown, whole).text.count("item ") == 3000
    parse(render(markdown, rendering), parsing)
    assert whole.checks > rendering.checks + parsing.checks
