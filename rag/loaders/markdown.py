"""Markdown: rendered by markdown-it (CommonMark and tables), then read as HTML, so headings,
code fences, lists and tables become blocks and inline marks never break a sentence.

Markdown may hold raw HTML, which markdown-it passes through: the rendered page is read within
the same bounds as an HTML file (``Budget``: a deadline and at most 200,000 elements)."""

from __future__ import annotations

from rag.loaders.base import Budget, DocumentBuilder, LoadedDocument


def render(markdown: str) -> str:
    from markdown_it import MarkdownIt

    return str(MarkdownIt("commonmark").enable("table").render(markdown))


def load_markdown(markdown: str, budget: Budget | None = None) -> LoadedDocument:
    """The document of ``markdown``; past ``budget`` (default: 60 s, 200,000 elements),
    ``UnreadableFile`` as soon as it is seen."""
    from rag.loaders.html import parse, walk

    budget = budget or Budget()
    html = render(markdown)
    budget.check()
    builder = DocumentBuilder()
    walk(parse(html, budget), builder, budget)
    return builder.build()


def markdown_to_text(markdown: str) -> str:
    """Markdown as its reader sees it: emphasis, code marks and link targets dropped, link text
    kept, soft-wrapped lines of a paragraph joined, headings and list items on lines of their own.
    """
    return load_markdown(markdown).text
