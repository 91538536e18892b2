"""Markdown: rendered by markdown-it (CommonMark and tables), then read as HTML, so headings,
code fences, lists and tables become blocks and inline marks never break a sentence.

Markdown may hold raw HTML, which markdown-it passes through: the rendered page is read within
the same bounds as an HTML file (``Budget``: a deadline and at most 200,000 elements)."""

from __future__ import annotations

from rag.loaders.base import Budget, DocumentBuilder, LoadedDocument, UnreadableFile

# markdown-it stops reading at its depth of nesting (a list takes two levels, itself and its
# item, and its text two more) and drops the rest of the document without a word (at its
# default of 20, a list nested 10 deep lost everything after it). The parser is given a few
# levels more than this, so that a document it cut short always shows a token this deep: such a
# file is refused with the reason, and the sync lists it as skipped instead of indexing half.
MAX_NESTING = 100


def render(markdown: str) -> str:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING + 4}).enable("table")
    env: dict[str, object] = {}
    tokens = md.parse(markdown, env)
    if max((token.level for token in tokens), default=0) >= MAX_NESTING:
        raise UnreadableFile(
            f"lists or quotes nested too deeply (past {MAX_NESTING} levels, about 50 lists "
            "deep): the rest of the file would be lost; nest them less deeply"
        )
    return str(md.renderer.render(tokens, md.options, env))


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
