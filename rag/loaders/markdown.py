"""Markdown: rendered by markdown-it (CommonMark and tables), then read as HTML, so headings,
code fences, lists and tables become blocks and inline marks never break a sentence."""

from __future__ import annotations

from rag.loaders.base import DocumentBuilder, LoadedDocument


def render(markdown: str) -> str:
    from markdown_it import MarkdownIt

    return str(MarkdownIt("commonmark").enable("table").render(markdown))


def load_markdown(markdown: str) -> LoadedDocument:
    from rag.loaders.html import parse, walk

    builder = DocumentBuilder()
    walk(parse(render(markdown)), builder)
    return builder.build()


def markdown_to_text(markdown: str) -> str:
    """Markdown as its reader sees it: emphasis, code marks and link targets dropped, link text
    kept, soft-wrapped lines of a paragraph joined, headings and list items on lines of their own.
    """
    return load_markdown(markdown).text
