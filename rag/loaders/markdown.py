"""Markdown: rendered by markdown-it (CommonMark and tables), then read as HTML, so headings,
code fences, lists and tables become blocks and inline marks never break a sentence.

Markdown may hold raw HTML, which markdown-it passes through: the rendered page is read within
the same bounds as an HTML file (``Budget``: a deadline and at most 200,000 elements)."""

from __future__ import annotations

from typing import Any

from rag.loaders.base import Budget, DocumentBuilder, LoadedDocument, UnreadableFile

# markdown-it stops reading at its depth of nesting (a list takes two levels, itself and its
# item, and its text two more) and drops the rest of the document without a word (at its
# default of 20, a list nested 10 deep lost everything after it). The parser is given a few
# levels more than this, so that a document it cut short always shows a token this deep: such a
# file is refused with the reason, and the sync lists it as skipped instead of indexing half.
MAX_NESTING = 100


def render(markdown: str, budget: Budget | None = None) -> str:
    """``markdown`` as HTML; past ``budget``'s deadline, ``UnreadableFile`` while parsing."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING + 4}).enable("table")
    if budget is not None:
        _check_while_parsing(md, budget)
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
    from rag.loaders.html import drop, hidden, parse, walk

    budget = budget or Budget()
    html = render(markdown, budget)
    builder = DocumentBuilder()
    root = parse(html, budget)
    drop(root, hidden)  # raw HTML that hides its text, as in an HTML page
    walk(root, builder, budget)
    return builder.build()


def _check_while_parsing(md: Any, budget: Budget) -> None:
    """A first rule, block and inline, that checks the deadline and matches nothing: markdown-it
    tries it at each line and at each run of text. Some files cost markdown-it 64 us a
    character (200 KB of "[" took 13 s here, a 4 MB file would take minutes), and the deadline
    was checked only once the whole file was parsed."""

    def block(state: Any, start: int, end: int, silent: bool) -> bool:
        budget.check()
        return False

    def inline(state: Any, silent: bool) -> bool:
        budget.check()
        return False

    md.block.ruler.before(md.block.ruler.get_all_rules()[0], "deadline", block)
    md.inline.ruler.before(md.inline.ruler.get_all_rules()[0], "deadline", inline)


def markdown_to_text(markdown: str) -> str:
    """Markdown as its reader sees it: emphasis, code marks and link targets dropped, link text
    kept, soft-wrapped lines of a paragraph joined, headings and list items on lines of their own.
    """
    return load_markdown(markdown).text
